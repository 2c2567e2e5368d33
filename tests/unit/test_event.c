/* test_event.c — the table of event kinds: every kind has a name, names are distinct and
 * round-trip through event_kind_parse, the stored names never change (they are in users'
 * databases), and event_kind_parse refuses what is not in the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "event.h"
#include "banned.h"

static void test_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < EV_NKINDS; i++) {
		enum event_kind k = EV_NKINDS;
		const char *name = event_kind_name((enum event_kind)i);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_int_equal(event_kind_parse(name, &k), 0);
		assert_int_equal(k, i);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, event_kind_name((enum event_kind)j));
	}
}

/* The names as databases hold them: renaming one would orphan every stored row. */
static void test_stored_names(void **state)
{
	static const struct {
		enum event_kind k;
		const char *name;
	} pinned[] = {
		{EV_CANDLE_COUNT, "candle_count"},
		{EV_SYNC_SKIPPED, "sync_skipped"},
		{EV_INTEGRITY_CHECK, "integrity_check"},
		{EV_CORRUPTION_DETECTED, "corruption_detected"},
		{EV_HEALTH, "health"},
		{EV_RESTORE_DRILL, "restore_drill"},
		{EV_CLOCK_SKEW, "clock_skew"},
		{EV_ALERT_SENT, "alert_sent"},
		{EV_ALERT_FAILED, "alert_failed"},
		{EV_RECOVER, "recover"},
	};
	(void)state;
	assert_int_equal(sizeof(pinned) / sizeof(pinned[0]), EV_NKINDS);
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
		assert_string_equal(event_kind_name(pinned[i].k), pinned[i].name);
}

static void test_parse_refuses(void **state)
{
	static const char *const bad[] = {"",       "candle",       "candle_count ", " health",
					  "HEALTH", "Candle_Count", "integrity",     "quick_check",
					  "alert",  "recovered",    "healthz"};
	enum event_kind k = EV_HEALTH;
	(void)state;
	assert_int_equal(event_kind_parse(NULL, &k), CK_EVALIDATE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(event_kind_parse(bad[i], &k), CK_EVALIDATE);
		assert_int_equal(k, EV_HEALTH); /* untouched on refusal */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stored_names),
		cmocka_unit_test(test_parse_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
