/* binance.c — Binance REST API knowledge (USD-M and COIN-M futures, spot): URLs, weights,
 * response classes and the small JSON documents (time, exchangeInfo, error bodies). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "binance.h"
#include "banned.h"

enum bn_class binance_classify(const struct http_req *r)
{
	if (r->curl_code != 0 || r->status == 0)
		return BN_NET;
	if (r->status >= 200 && r->status < 300)
		return BN_OK;
	if (r->status == 429)
		return BN_429;
	if (r->status == 418)
		return BN_418;
	if (r->status == 451)
		return BN_GEO;
	if (r->status == 403)
		return BN_WAF;
	if (r->status >= 500)
		return BN_5XX;
	return BN_BADREQ;
}

static const struct binance_market markets[] = {
	{"um", "/fapi/v1", "https://fapi.binance.com", 1500, 0, "futures/um"},
	{"cm", "/dapi/v1", "https://dapi.binance.com", 1500, 0, "futures/cm"},
	{"spot", "/api/v3", "https://api.binance.com", 1000, 1, "spot"},
};
static const struct binance_market *current = &markets[0];

const struct binance_market *binance_market_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(markets) / sizeof(markets[0]); i++)
		if (!strcmp(markets[i].name, name))
			return &markets[i];
	return NULL;
}

int binance_market_use(const char *name)
{
	const struct binance_market *m = binance_market_find(name);

	if (!m)
		return CK_EUSAGE;
	current = m;
	return 0;
}

const struct binance_market *binance_market(void)
{
	return current;
}

int64_t binance_limit_max(void)
{
	return current->limit_max;
}

int binance_url(char *buf, size_t size, const char *base, const char *endpoint)
{
	int n = snprintf(buf, size, "%s%s/%s", base, current->prefix, endpoint);
	return n < 0 || (size_t)n >= size ? CK_EUSAGE : 0;
}

const char *binance_class_name(enum bn_class c)
{
	static const char *const n[] = {"ok", "network", "5xx", "429", "418", "451", "403", "4xx"};
	return (unsigned)c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}

int binance_kline_weight(int64_t limit)
{
	if (current->spot)
		return 2;
	if (limit < 100)
		return 1;
	if (limit < 500)
		return 2;
	if (limit <= 1000)
		return 5;
	return 10;
}

int binance_klines_url(char *buf, size_t size, const char *base, const char *symbol,
		       const char *interval, int64_t start, int64_t end, int64_t limit)
{
	int n = snprintf(buf, size, "%s%s/klines?symbol=%s&interval=%s", base, current->prefix,
			 symbol, interval);
	if (n > 0 && (size_t)n < size && start)
		n += snprintf(buf + n, size - (size_t)n, "&startTime=%lld", (long long)start);
	if (n > 0 && (size_t)n < size && end)
		n += snprintf(buf + n, size - (size_t)n, "&endTime=%lld", (long long)end);
	if (n > 0 && (size_t)n < size && limit)
		n += snprintf(buf + n, size - (size_t)n, "&limit=%lld", (long long)limit);
	if (n < 0 || (size_t)n >= size)
		return CK_EUSAGE;
	return 0;
}

int binance_first_kline_url(char *buf, size_t size, const char *base, const char *symbol,
			    const char *interval)
{
	int n = snprintf(buf, size, "%s%s/klines?symbol=%s&interval=%s&startTime=0&limit=1", base,
			 current->prefix, symbol, interval);
	return n < 0 || (size_t)n >= size ? CK_EUSAGE : 0;
}

static json_t *load(const char *body, size_t len, const char *what, struct ck_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		ck_err_set(err, CK_EVALIDATE, "%s: malformed JSON at line %d column %d: %s", what,
			   je.line, je.column, je.text);
	return j;
}

int binance_parse_time(const char *body, size_t len, int64_t *ms, struct ck_err *err)
{
	json_t *j = load(body, len, "/fapi/v1/time", err), *t;
	if (!j)
		return CK_EVALIDATE;
	t = json_object_get(j, "serverTime");
	if (!json_is_integer(t) || json_integer_value(t) <= 0) {
		json_decref(j);
		return ck_err_set(err, CK_EVALIDATE,
				  "/fapi/v1/time: no serverTime in the response");
	}
	*ms = json_integer_value(t);
	json_decref(j);
	return 0;
}

int binance_parse_error(const char *body, size_t len, int *code, char *msg, size_t size)
{
	json_error_t je;
	json_t *j, *c, *m;

	if (!body || !len)
		return -1;
	j = json_loadb(body, len, 0, &je);
	if (!j)
		return -1;
	c = json_object_get(j, "code");
	m = json_object_get(j, "msg");
	if (!json_is_integer(c)) {
		json_decref(j);
		return -1;
	}
	*code = (int)json_integer_value(c);
	snprintf(msg, size, "%s", json_is_string(m) ? json_string_value(m) : "");
	json_decref(j);
	return 0;
}

static void copy_str(char *dst, size_t size, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int binance_parse_exchange_info(const char *body, size_t len, struct binance_info *out,
				struct ck_err *err)
{
	json_t *j = load(body, len, "/fapi/v1/exchangeInfo", err), *syms, *rl, *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!j)
		return CK_EVALIDATE;
	syms = json_object_get(j, "symbols");
	if (!json_is_array(syms)) {
		json_decref(j);
		return ck_err_set(err, CK_EVALIDATE, "/fapi/v1/exchangeInfo: no symbols array");
	}
	v = json_object_get(j, "serverTime");
	out->server_time = json_is_integer(v) ? json_integer_value(v) : 0;
	rl = json_object_get(j, "rateLimits");
	json_array_foreach(rl, i, v)
	{
		json_t *t = json_object_get(v, "rateLimitType"),
		       *iv = json_object_get(v, "interval"),
		       *num = json_object_get(v, "intervalNum"), *lim = json_object_get(v, "limit");
		if (json_is_string(t) && !strcmp(json_string_value(t), "REQUEST_WEIGHT") &&
		    json_is_string(iv) && !strcmp(json_string_value(iv), "MINUTE") &&
		    (!num || json_integer_value(num) == 1))
			out->weight_limit = json_is_integer(lim) && json_integer_value(lim) > 0
						    ? json_integer_value(lim)
						    : -1;
	}
	out->symbols = calloc(json_array_size(syms) + 1, sizeof(*out->symbols));
	if (!out->symbols) {
		json_decref(j);
		return ck_err_set(err, CK_ENOMEM, "/fapi/v1/exchangeInfo: out of memory");
	}
	json_array_foreach(syms, i, v)
	{
		struct binance_symbol *s = &out->symbols[out->nsymbols];
		json_t *od = json_object_get(v, "onboardDate");
		copy_str(s->symbol, sizeof(s->symbol), v, "symbol");
		if (!s->symbol[0])
			continue;
		copy_str(s->status, sizeof(s->status), v, "status");
		copy_str(s->contract_type, sizeof(s->contract_type), v, "contractType");
		copy_str(s->quote_asset, sizeof(s->quote_asset), v, "quoteAsset");
		s->onboard_date = json_is_integer(od) ? json_integer_value(od) : 0;
		out->nsymbols++;
	}
	json_decref(j);
	return 0;
}

void binance_info_release(struct binance_info *info)
{
	if (!info)
		return;
	free(info->symbols);
	info->symbols = NULL;
	info->nsymbols = 0;
}

int64_t binance_weight_limit(int64_t configured, int64_t reported, const char **why)
{
	int64_t cap = configured > 0 ? configured : BINANCE_WEIGHT_CEILING, lim;
	const char *w = "";

	if (reported == 0) {
		lim = configured > 0 ? configured : BINANCE_WEIGHT_DEFAULT;
	} else if (reported < BINANCE_WEIGHT_FLOOR) {
		w = "implausibly low (or not a number): a floor is used so the run can proceed";
		lim = BINANCE_WEIGHT_FLOOR < cap ? BINANCE_WEIGHT_FLOOR : cap;
	} else if (reported > cap) {
		if (configured <= 0)
			w = "above the largest limit Binance has: not believed";
		lim = cap;
	} else {
		lim = reported;
	}
	if (why)
		*why = w;
	return lim;
}

size_t binance_info_trading(const struct binance_info *info)
{
	size_t i, n = 0;
	for (i = 0; info && i < info->nsymbols; i++)
		n += !strcmp(info->symbols[i].status, "TRADING");
	return n;
}

const struct binance_symbol *binance_info_find(const struct binance_info *info, const char *name)
{
	size_t i;
	for (i = 0; info && i < info->nsymbols; i++)
		if (!strcmp(info->symbols[i].symbol, name))
			return &info->symbols[i];
	return NULL;
}
