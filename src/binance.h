/* binance.h — what candlekeep knows of the Binance USD-M futures REST API: endpoint
 * URLs, request weights, how a response is classified (retryable or not, rate limit,
 * ban), and the parsers for /fapi/v1/time, /fapi/v1/exchangeInfo and error bodies.
 * Pure functions except where noted; no I/O. */
#ifndef CK_BINANCE_H
#define CK_BINANCE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"

#define BINANCE_LIMIT_MAX 1500

/* A market of the exchange: um (USD-M futures), cm (COIN-M futures), spot. The path
 * prefix follows the market; [main] base_url gives only the host. */
struct binance_market {
	const char *name;    /* "um", "cm", "spot" */
	const char *prefix;  /* "/fapi/v1", "/dapi/v1", "/api/v3" */
	const char *host;    /* its production base URL */
	int64_t limit_max;   /* klines limit: 1500, 1500, 1000 */
	int spot;            /* klines weigh 2 whatever the limit; exchangeInfo lacks
			      * contractType and onboardDate */
	const char *archive; /* its path in the public archive: "futures/um", ... */
};
/* The market of that name, or NULL. */
const struct binance_market *binance_market_find(const char *name);
/* The market every URL, weight and limit below is about from now on (the process works
 * on one: [main] market, set once the configuration is read); um until then. 0, or
 * CK_EUSAGE for an unknown name. */
int binance_market_use(const char *name);
const struct binance_market *binance_market(void);
/* The largest klines limit of the market (BINANCE_LIMIT_MAX for the futures). */
int64_t binance_limit_max(void);
/* base + the market's prefix + "/" + endpoint ("time", "exchangeInfo"). 0 or CK_EUSAGE. */
int binance_url(char *buf, size_t size, const char *base, const char *endpoint);
#define BINANCE_WEIGHT_DEFAULT 2400
/* Bounds on a REQUEST_WEIGHT per minute limit taken from exchangeInfo: above the
 * ceiling it is not believed (spot's 6000 is the largest Binance has), below the floor
 * one page of the largest weight (10) would not fit in the budget. */
#define BINANCE_WEIGHT_CEILING 6000
#define BINANCE_WEIGHT_FLOOR 20

/* What a completed request means for the caller. */
enum bn_class {
	BN_OK,     /* 2xx with a body to parse */
	BN_NET,    /* no response: connect/read failure, timeout, truncated body */
	BN_5XX,    /* server error: retry with back-off */
	BN_429,    /* rate limited: wait Retry-After, then retry */
	BN_418,    /* IP banned: stop every request until Retry-After */
	BN_GEO,    /* 451: restricted location; not retried */
	BN_WAF,    /* 403: blocked by the WAF; not retried */
	BN_BADREQ, /* other 4xx, e.g. -1121 invalid symbol; not retried */
};
enum bn_class binance_classify(const struct http_req *r);
const char *binance_class_name(enum bn_class c);

/* Request weight of GET klines with this limit (futures: 1-99: 1, 100-499: 2,
 * 500-1000: 5, above: 10; spot: 2). */
int binance_kline_weight(int64_t limit);

/* Writes the klines URL; start/end 0 = omitted. Returns 0 or CK_EUSAGE if it doesn't fit. */
int binance_klines_url(char *buf, size_t size, const char *base, const char *symbol,
		       const char *interval, int64_t start, int64_t end, int64_t limit);

/* The URL asking for the very first candle the exchange has of symbol/interval
 * (startTime=0, limit=1): where its listing starts. 0 or CK_EUSAGE. */
int binance_first_kline_url(char *buf, size_t size, const char *base, const char *symbol,
			    const char *interval);

/* {"serverTime": N} → *ms. */
int binance_parse_time(const char *body, size_t len, int64_t *ms, struct ck_err *err);

/* {"code": -1121, "msg": "Invalid symbol."} → code and msg (msg may be truncated);
 * returns -1 when the body is not such an object. */
int binance_parse_error(const char *body, size_t len, int *code, char *msg, size_t size);

struct binance_symbol {
	char symbol[24];
	char status[24];        /* TRADING, SETTLING, BREAK, ... */
	char contract_type[24]; /* PERPETUAL, CURRENT_QUARTER, ... */
	char quote_asset[16];
	int64_t onboard_date; /* ms */
};
struct binance_info {
	int64_t server_time;
	int64_t weight_limit;           /* REQUEST_WEIGHT per minute, 0 if absent, -1 if
					 * reported but not a positive integer */
	struct binance_symbol *symbols; /* malloc'd; binance_info_release */
	size_t nsymbols;
};
int binance_parse_exchange_info(const char *body, size_t len, struct binance_info *out,
				struct ck_err *err);
void binance_info_release(struct binance_info *info);
/* The per-minute weight limit a run works with: the exchange's reported limit
 * (info.weight_limit, 0 = absent, -1 = unusable) bounded above by the configured one
 * (0 = none configured: BINANCE_WEIGHT_CEILING), so a larger report never raises the
 * budget, and below by BINANCE_WEIGHT_FLOOR (unless the configured one is lower), so
 * an absurdly low report cannot stall the run. Absent: the configured limit, else
 * BINANCE_WEIGHT_DEFAULT. *why is set to a reason to warn, or "" (why may be NULL). */
int64_t binance_weight_limit(int64_t configured, int64_t reported, const char **why);

/* The entry for name, or NULL. */
const struct binance_symbol *binance_info_find(const struct binance_info *info, const char *name);
/* How many symbols info lists as TRADING (0 for an empty answer: not to be trusted as
 * "nothing trades"). */
size_t binance_info_trading(const struct binance_info *info);

#endif
