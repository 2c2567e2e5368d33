/* fuzz_binance_json.c — libFuzzer target for the exchange's small JSON documents:
 * binance_parse_exchange_info, binance_parse_time and binance_parse_error. The input is
 * a response body. Invariants: no crash or leak; a failure leaves the info empty and a
 * NUL-terminated message; every parsed symbol name is NUL-terminated within its field;
 * binance_info_find finds each parsed symbol. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct binance_info info;
	struct ck_err err;
	int64_t ms = 0;
	int code = 0;
	char msg[64];
	size_t i;

	memset(&err, 0, sizeof(err));
	if (binance_parse_exchange_info((const char *)data, size, &info, &err) == 0) {
		for (i = 0; i < info.nsymbols; i++) {
			if (!memchr(info.symbols[i].symbol, '\0', sizeof(info.symbols[i].symbol)))
				abort();
			if (!binance_info_find(&info, info.symbols[i].symbol))
				abort();
		}
	} else if (info.symbols || info.nsymbols || !memchr(err.msg, '\0', sizeof(err.msg))) {
		abort();
	}
	binance_info_release(&info);
	if (binance_parse_time((const char *)data, size, &ms, &err) == 0 && ms <= 0)
		abort();
	if (binance_parse_error((const char *)data, size, &code, msg, sizeof(msg)) == 0 &&
	    !memchr(msg, '\0', sizeof(msg)))
		abort();
	return 0;
}
