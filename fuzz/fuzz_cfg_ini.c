/* fuzz_cfg_ini.c — libFuzzer target: arbitrary bytes as an INI config through
 * cfg_load_string, then cfg_finish, cfg_print and cfg_symbols_list on whatever loaded.
 * Nothing may crash, leak, read out of bounds or hang (secret "@/path" values open
 * files O_NONBLOCK and read only regular ones, so a fuzzed "@/dev/stdin" cannot block). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "err.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_err err;
	struct cfg c;
	char **list;
	size_t n;
	FILE *devnull;

	if (cfg_init(&c, &err))
		return 0;
	if (cfg_load_string(&c, (const char *)data, size, "fuzz.ini", &err) == 0 &&
	    cfg_finish(&c, &err) == 0) {
		devnull = fopen("/dev/null", "w");
		if (devnull) {
			cfg_print(&c, devnull);
			fclose(devnull);
		}
		if (cfg_symbols_list(&c, &list, &n, &err) == 0)
			cfg_symbols_free(list, n);
	}
	cfg_release(&c);
	return 0;
}
