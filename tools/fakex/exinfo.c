/* exinfo.c — see exinfo.h. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"
#include "exinfo.h"

static void step(char *out, size_t n, int places)
{
	if (places <= 0)
		snprintf(out, n, "1");
	else
		snprintf(out, n, "0.%0*d", places, 1);
}

static json_t *symbol_json(const struct symbol *s)
{
	char base[SYMBOL_MAX + 1], tick[16], lot[16];
	size_t n = strlen(s->name);
	snprintf(base, sizeof(base), "%.*s",
		 (int)(n > 4 && !strcmp(s->name + n - 4, "USDT") ? n - 4 : n), s->name);
	step(tick, sizeof(tick), s->price_prec);
	step(lot, sizeof(lot), s->qty_prec);
	return json_pack(
		"{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:s,s:[],s:i,"
		"s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},"
		"{s:i,s:s},{s:i,s:s},{s:s,s:s},{s:s,s:s,s:s,s:s}],s:[sssssss],s:[ssss]}",
		"symbol", s->name, "pair", s->name, "contractType", "PERPETUAL", "deliveryDate",
		(json_int_t)4133404800000LL, "onboardDate", (json_int_t)s->onboard, "status",
		s->status, "maintMarginPercent", "2.5000", "requiredMarginPercent", "5.0000",
		"baseAsset", base, "quoteAsset", "USDT", "marginAsset", "USDT", "pricePrecision",
		s->price_prec, "quantityPrecision", s->qty_prec, "baseAssetPrecision", 8,
		"quotePrecision", 8, "underlyingType", "COIN", "underlyingSubType", "settlePlan", 0,
		"triggerProtect", "0.0500", "liquidationFee", "0.012500", "marketTakeBound", "0.05",
		"filters", "minPrice", tick, "maxPrice", "1000000", "filterType", "PRICE_FILTER",
		"tickSize", tick, "stepSize", lot, "filterType", "LOT_SIZE", "maxQty", "1000000",
		"minQty", lot, "stepSize", lot, "filterType", "MARKET_LOT_SIZE", "maxQty", "100000",
		"minQty", lot, "limit", 200, "filterType", "MAX_NUM_ORDERS", "limit", 10,
		"filterType", "MAX_NUM_ALGO_ORDERS", "notional", "5", "filterType", "MIN_NOTIONAL",
		"multiplierDown", "0.9500", "multiplierUp", "1.0500", "multiplierDecimal", "4",
		"filterType", "PERCENT_PRICE", "orderTypes", "LIMIT", "MARKET", "STOP",
		"STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET",
		"timeInForce", "GTC", "IOC", "FOK", "GTX");
}

/* A spot symbol: spot's exchangeInfo has neither contractType nor onboardDate. */
static json_t *spot_json(const struct symbol *s)
{
	char base[SYMBOL_MAX + 1];
	size_t n = strlen(s->name);
	snprintf(base, sizeof(base), "%.*s",
		 (int)(n > 4 && !strcmp(s->name + n - 4, "USDT") ? n - 4 : n), s->name);
	return json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:b,s:[]}", "symbol", s->name, "status",
			 s->status, "baseAsset", base, "baseAssetPrecision", 8, "quoteAsset",
			 "USDT", "quotePrecision", 8, "isSpotTradingAllowed", 1, "filters");
}

/* A COIN-M perpetual: SYNnnnUSD_PERP of the pair SYNnnnUSD, margined in the base. */
static json_t *cm_json(const struct symbol *s)
{
	char pair[SYMBOL_MAX + 1], base[SYMBOL_MAX + 1];
	size_t n = strlen(s->name);
	snprintf(pair, sizeof(pair), "%.*s", (int)(n - 5), s->name);
	snprintf(base, sizeof(base), "%.*s", (int)(n - 8), s->name);
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:[]}", "symbol",
			 s->name, "pair", pair, "contractType", "PERPETUAL", "deliveryDate",
			 (json_int_t)4133404800000LL, "onboardDate", (json_int_t)s->onboard,
			 "contractStatus", s->status, "status", s->status, "baseAsset", base,
			 "quoteAsset", "USD", "pricePrecision", s->price_prec, "quantityPrecision",
			 s->qty_prec, "contractSize", 10, "filters");
}

char *exinfo_build(const struct market *m, enum fx_market mk, int64_t now, int64_t weight_limit,
		   bool empty, size_t *len)
{
	json_t *syms = json_array();
	json_t *root = json_pack(
		"{s:s,s:I,s:s,s:[{s:s,s:s,s:i,s:I},{s:s,s:s,s:i,s:i},{s:s,s:s,s:i,s:i}],s:[],"
		"s:[{s:s,s:b,s:s},{s:s,s:b,s:s},{s:s,s:b,s:s},{s:s,s:b,s:s}],s:o}",
		"timezone", "UTC", "serverTime", (json_int_t)now, "futuresType", "U_MARGINED",
		"rateLimits", "rateLimitType", "REQUEST_WEIGHT", "interval", "MINUTE",
		"intervalNum", 1, "limit", (json_int_t)weight_limit, "rateLimitType", "ORDERS",
		"interval", "MINUTE", "intervalNum", 1, "limit", 1200, "rateLimitType", "ORDERS",
		"interval", "SECOND", "intervalNum", 10, "limit", 300, "exchangeFilters", "assets",
		"asset", "USDT", "marginAvailable", 1, "autoAssetExchange", "-10000", "asset",
		"BTC", "marginAvailable", 1, "autoAssetExchange", "-0.00100000", "asset", "BNB",
		"marginAvailable", 1, "autoAssetExchange", "-10", "asset", "ETH", "marginAvailable",
		1, "autoAssetExchange", "-5", "symbols", syms);
	if (!root)
		return NULL;
	/* COIN-M says so; spot's exchangeInfo has no futuresType */
	if (mk == FX_CM)
		json_object_set_new(root, "futuresType", json_string("COIN_MARGINED"));
	else if (mk == FX_SPOT)
		json_object_del(root, "futuresType");
	for (size_t i = 0; i < (empty ? 0 : m->n); i++) {
		const struct symbol *s = &m->syms[i];
		if (s->removed || s->omitted || s->onboard > now || !market_serves(s, mk))
			continue;
		if (json_array_append_new(syms, mk == FX_SPOT ? spot_json(s)
						: mk == FX_CM ? cm_json(s)
							      : symbol_json(s))) {
			json_decref(root);
			return NULL;
		}
	}
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text)
		*len = strlen(text);
	return text;
}
