/* test_listing.c — the stored listing behind symbols = all (listing.c) over a real store
 * (SQLite in a temporary directory): trading symbols added with their listing date and
 * first sighting, a new listing told from the first set, a symbol that stops trading or
 * vanishes (twice: one partial answer delists nothing) kept with its status, trading again,
 * quarterly contracts and bad names left out, the trust rule (a failed or empty answer changes
 * nothing), per market, and the stored text read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "listing.h"
#include "store.h"
#include "banned.h"
#include "test_tmp.h"

#define T1 1767225600000LL
#define T2 (T1 + 3600000LL)
#define T3 (T2 + 3600000LL)
#define T4 (T3 + 3600000LL)

struct fixture {
	char dir[64];
	char db[128];
	struct store *st;
	struct ck_err err;
	struct binance_symbol sym[8];
	struct binance_info info;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_tmp_template(fx->dir, sizeof(fx->dir), "ck-test-listing");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/c.db", fx->dir);
	assert_int_equal(store_open(&fx->st, fx->db, 0, &fx->err), 0);
	assert_int_equal(binance_market_use("um"), 0);
	fx->info.symbols = fx->sym;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];
	store_close(fx->st);
	binance_market_use("um");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* The exchange's answer: symbols "NAME:STATUS[:TYPE]" (TYPE PERPETUAL unless given). */
static void answer(struct fixture *fx, const char *list)
{
	char buf[256], *tok, *save = NULL;
	snprintf(buf, sizeof(buf), "%s", list);
	fx->info.nsymbols = 0;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct binance_symbol *b = &fx->sym[fx->info.nsymbols++];
		char *st = strchr(tok, ':'), *ty;
		memset(b, 0, sizeof(*b));
		*st++ = 0;
		ty = strchr(st, ':');
		if (ty)
			*ty++ = 0;
		snprintf(b->symbol, sizeof(b->symbol), "%s", tok);
		snprintf(b->status, sizeof(b->status), "%s", st);
		snprintf(b->contract_type, sizeof(b->contract_type), "%s", ty ? ty : "PERPETUAL");
		b->onboard_date = T1 - 86400000LL * (long long)fx->info.nsymbols;
	}
}

/* "NAME:STATUS ..." of the listing, in order. */
static const char *show(const struct listing *l)
{
	static char out[256];
	out[0] = 0;
	for (size_t i = 0; i < l->n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s:%s", i ? " " : "",
			 l->e[i].symbol, l->e[i].status);
	return out;
}

static void observe(struct fixture *fx, struct listing *l, int64_t now, int want_applied,
		    int want_changed)
{
	int changed = -1;
	assert_int_equal(listing_observe(l, &fx->info, now, &changed, &fx->err), want_applied);
	assert_int_equal(changed, want_changed);
}

static void test_new_listing_and_delisting(void **state)
{
	struct fixture *fx = *state;
	struct listing l;

	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_int_equal(l.started, 0);
	answer(fx, "BTCUSDT:TRADING ETHUSDT:TRADING BTCUSDT_260327:TRADING:CURRENT_QUARTER "
		   "XRPUSDT:PENDING_TRADING");
	observe(fx, &l, T1, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:TRADING");
	assert_int_equal(l.started, T1);
	assert_false(listing_is_new(&l, listing_find(&l, "ETHUSDT")));
	assert_int_equal(listing_find(&l, "ETHUSDT")->onboard, T1 - 2 * 86400000LL);
	/* the same answer again changes nothing */
	observe(fx, &l, T2, 1, 0);

	/* SOLUSDT listed, ETHUSDT settling (taken at its word), BTCUSDT left out of the
	 * answer: noted, still trading */
	answer(fx, "ETHUSDT:SETTLING SOLUSDT:TRADING");
	observe(fx, &l, T3, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:SETTLING SOLUSDT:TRADING");
	assert_int_equal(listing_find(&l, "BTCUSDT")->missing_since, T3);
	assert_int_equal(listing_find(&l, "BTCUSDT")->since, T1);
	assert_true(listing_is_new(&l, listing_find(&l, "SOLUSDT")));
	assert_int_equal(listing_find(&l, "SOLUSDT")->first_seen, T3);
	assert_int_equal(listing_find(&l, "ETHUSDT")->since, T3);
	/* the same answer seen again at the same time is the same observation */
	observe(fx, &l, T3, 1, 0);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:SETTLING SOLUSDT:TRADING");
	/* the note is kept in the stored listing */
	assert_int_equal(listing_save(fx->st, &l, &fx->err), 0);
	listing_release(&l);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_int_equal(listing_find(&l, "BTCUSDT")->missing_since, T3);
	/* a later answer that leaves it out too: gone */
	observe(fx, &l, T4, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:GONE ETHUSDT:SETTLING SOLUSDT:TRADING");
	assert_int_equal(listing_find(&l, "BTCUSDT")->since, T4);
	assert_int_equal(listing_find(&l, "BTCUSDT")->missing_since, 0);
	assert_int_equal(listing_count(&l, 1), 1);
	assert_int_equal(listing_count(&l, 0), 2);

	/* stored and read back */
	assert_int_equal(listing_save(fx->st, &l, &fx->err), 0);
	listing_release(&l);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_string_equal(show(&l), "BTCUSDT:GONE ETHUSDT:SETTLING SOLUSDT:TRADING");
	assert_int_equal(l.started, T1);
	assert_true(listing_is_new(&l, listing_find(&l, "SOLUSDT")));
	assert_false(listing_trading(listing_find(&l, "BTCUSDT")));

	/* BTCUSDT trading again: the same entry, not a new listing; ETHUSDT (not trading)
	 * left out: gone at once */
	answer(fx, "BTCUSDT:TRADING SOLUSDT:TRADING");
	observe(fx, &l, T4 + 1, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:GONE SOLUSDT:TRADING");
	assert_false(listing_is_new(&l, listing_find(&l, "BTCUSDT")));
	listing_release(&l);
}

/* One partial answer (a trading symbol left out once, then listed again) delists
 * nothing; a listing stored before the note was kept (five fields) still reads. */
static void test_partial_answer_once(void **state)
{
	struct fixture *fx = *state;
	struct listing l;

	assert_int_equal(
		store_state_set(fx->st, "listing.um",
				"started 1\nBTCUSDT TRADING 0 1 1\nETHUSDT TRADING 0 1 1\n",
				&fx->err),
		0);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:TRADING");
	assert_int_equal(listing_find(&l, "ETHUSDT")->missing_since, 0);
	answer(fx, "BTCUSDT:TRADING");
	observe(fx, &l, T1, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:TRADING");
	assert_int_equal(listing_count(&l, 1), 2);
	answer(fx, "BTCUSDT:TRADING ETHUSDT:TRADING");
	observe(fx, &l, T2, 1, 1);
	assert_int_equal(listing_find(&l, "ETHUSDT")->missing_since, 0);
	/* left out again later: a first observation again, not the second */
	answer(fx, "BTCUSDT:TRADING");
	observe(fx, &l, T3, 1, 1);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:TRADING");
	assert_int_equal(listing_find(&l, "ETHUSDT")->since, 1);
	listing_release(&l);
}

/* One failed or empty answer is not every symbol delisted. */
static void test_untrusted_answer_changes_nothing(void **state)
{
	struct fixture *fx = *state;
	struct listing l;
	int changed = -1;

	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	answer(fx, "BTCUSDT:TRADING ETHUSDT:TRADING");
	observe(fx, &l, T1, 1, 1);
	assert_int_equal(listing_observe(&l, NULL, T2, &changed, &fx->err), 0);
	assert_int_equal(changed, 0);
	answer(fx, "");
	observe(fx, &l, T2, 0, 0);
	/* nothing of the market trading (a quarterly only, a settling one): not trusted */
	answer(fx, "BTCUSDT_260327:TRADING:CURRENT_QUARTER ETHUSDT:SETTLING");
	observe(fx, &l, T2, 0, 0);
	assert_string_equal(show(&l), "BTCUSDT:TRADING ETHUSDT:TRADING");
	assert_int_equal(l.started, T1);
	listing_release(&l);
	/* nothing stored yet and nothing trusted: still empty */
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	observe(fx, &l, T2, 0, 0);
	assert_int_equal(l.started, 0);
	assert_int_equal(l.n, 0);
	listing_release(&l);
}

/* Each market keeps its own listing; spot has no contract type. */
static void test_per_market(void **state)
{
	struct fixture *fx = *state;
	struct listing l;

	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	answer(fx, "BTCUSDT:TRADING");
	observe(fx, &l, T1, 1, 1);
	assert_int_equal(listing_save(fx->st, &l, &fx->err), 0);
	listing_release(&l);

	assert_int_equal(binance_market_use("spot"), 0);
	assert_int_equal(store_market_set(fx->st, "spot", &fx->err), 0);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_int_equal(l.n, 0);
	answer(fx, "ETHBTC:TRADING:");
	observe(fx, &l, T2, 1, 1);
	assert_string_equal(show(&l), "ETHBTC:TRADING");
	assert_int_equal(listing_save(fx->st, &l, &fx->err), 0);
	listing_release(&l);

	assert_int_equal(binance_market_use("um"), 0);
	assert_int_equal(store_market_set(fx->st, "um", &fx->err), 0);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), 0);
	assert_string_equal(show(&l), "BTCUSDT:TRADING");
	listing_release(&l);
}

/* A stored listing that does not read is an error naming the key, not a guess. */
static void test_unreadable(void **state)
{
	struct fixture *fx = *state;
	struct listing l;

	assert_int_equal(
		store_state_set(fx->st, "listing.um", "started 1\nBTCUSDT TRADING x\n", &fx->err),
		0);
	assert_int_equal(listing_load(fx->st, &l, &fx->err), CK_ECORRUPT);
	assert_non_null(strstr(fx->err.msg, "listing.um"));
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_listing_and_delisting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_answer_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partial_answer_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_market, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
