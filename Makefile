# candlekeep — one Makefile: make, make test, make demo, make bench, make fuzz.
# Sources are found by wildcard: src/*.c is the program (src/main.c holds main),
# tools/fakex/*.c the fake exchange, tests/unit/test_*.c and tests/fakex/test_*.c
# cmocka tests (each linked with every src object but main.o), tests/e2e/t*.sh scenarios.

CC      ?= cc
PKGS    := libcurl sqlite3 jansson inih libmicrohttpd libzstd libcrypto libsystemd libarchive libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# -Wno-format-truncation: snprintf truncating into a bounded buffer is the intended, safe
# behaviour for messages; gcc flags every such call.
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral \
	$(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
CFLAGS  ?= -O2 -g
# Test hooks (src/fault.c, armed by CANDLEKEEP_FAULT_* variables) are compiled into the
# build/ trees that the tests use; `make install` builds without them (FAULTS=).
FAULTS  ?= -DCK_FAULT_INJECTION
# The version candlekeep_build_info reports.
VERSION ?= 0.1.0
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DCK_VERSION='"$(VERSION)"' $(FAULTS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -iquote src $(PKG_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lm -lpthread

B ?= build
SRC      := $(wildcard src/*.c)
OBJ      := $(SRC:src/%.c=$(B)/obj/%.o)
LIBOBJ   := $(filter-out $(B)/obj/main.o,$(OBJ))
FAKEX_SRC := $(wildcard tools/fakex/*.c)
FAKEX_OBJ := $(FAKEX_SRC:tools/fakex/%.c=$(B)/fakex-obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c) $(wildcard tests/fakex/test_*.c)
UNIT_BIN := $(patsubst %.c,$(B)/tests/%,$(notdir $(UNIT_SRC)))
# The recorded Binance data (testdata/binance, zstd-compressed, provenance in SOURCES.md),
# decompressed once into build/testdata for fakex, the tests and the demo.
TESTDATA_ZST := $(wildcard testdata/binance/*.zst testdata/binance/spot/*.zst)
TESTDATA := $(TESTDATA_ZST:testdata/%.zst=build/testdata/%)

.PHONY: format all deps deps-test test test-one demo bench fuzz fuzz-bins clean install uninstall release asan testdata check-paths man
all: $(B)/candlekeep $(B)/fakex $(UNIT_BIN) testdata

testdata: $(TESTDATA)
build/testdata/%: testdata/%.zst
	@mkdir -p $(@D)
	@zstd -dqf -o $@.tmp $< && mv -f $@.tmp $@

# The house style (.clang-format) on every tracked C file; t0002 fails on any that differs.
format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

# Every tracked file stays inside the repository (no path of a developer's machine).
check-paths:
	@sh scripts/check-paths.sh

deps:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test

$(B)/obj/%.o: src/%.c $(wildcard src/*.h) Makefile | $(B)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/fakex-obj/%.o: tools/fakex/%.c $(wildcard tools/fakex/*.h) | $(B)/fakex-obj
	$(CC) $(ALL_CFLAGS) -iquote tools/fakex -c -o $@ $<
$(B)/candlekeep: $(OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJ) $(LDLIBS)
$(B)/fakex: $(FAKEX_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $(FAKEX_OBJ) $(LDLIBS)
$(B)/tests/test_%: tests/unit/test_%.c $(LIBOBJ) $(wildcard tests/unit/*.h) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -iquote tests/unit -o $@ $< $(LIBOBJ) $(LDLIBS) $(CMOCKA_LIBS)
$(B)/tests/test_%: tests/fakex/test_%.c $(LIBOBJ) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS) $(CMOCKA_LIBS)
$(B)/obj $(B)/fakex-obj $(B)/tests:
	mkdir -p $@

# The sanitizer build: same sources, ASan+UBSan, into build/asan, compiled with clang so
# that `make test` builds every file with both gcc (build/) and clang (build/asan/).
SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_CC ?= clang
asan:
	@$(MAKE) --no-print-directory B=build/asan CC=$(SAN_CC) CFLAGS="$(SAN)" all

# make test: dependencies, both builds, the whole suite in each; the last line is the total.
test: deps-test
	@$(MAKE) --no-print-directory -j$$(nproc) all
	@$(MAKE) --no-print-directory -j$$(nproc) asan
	@bash tests/run.sh build build/asan

# One build dir only, for quick iteration: make test-one [B=build]
test-one: all
	@bash tests/run.sh $(B)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

# Fuzz targets: fuzz/fuzz_*.c, each a libFuzzer LLVMFuzzerTestOneInput, built with clang
# into build/fuzz and run for FUZZ_SECONDS each with its dictionary fuzz/NAME.dict.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
fuzz: deps
	@$(MAKE) --no-print-directory B=build/fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" fuzz-bins
	@for f in $(FUZZ_SRC:fuzz/%.c=%); do mkdir -p build/fuzz/corpus/$$f; \
		d=; [ -f fuzz/$$f.dict ] && d=-dict=fuzz/$$f.dict; \
		c=; [ -d fuzz/corpus/$$f ] && c=fuzz/corpus/$$f; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		build/fuzz/$$f $$d -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$f $$c \
			>build/fuzz/$$f.log 2>&1 || { tail -40 build/fuzz/$$f.log; exit 1; }; \
		tail -1 build/fuzz/$$f.log; done
fuzz-bins: $(FUZZ_SRC:fuzz/%.c=$(B)/%)
$(B)/fuzz_%: fuzz/fuzz_%.c $(LIBOBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBOBJ) $(LDLIBS)

clean:
	rm -rf build

# make man: regenerates the generated blocks of docs/candlekeep.1 (synopsis, global and
# per-command options from the command tables, configuration keys from the key table)
# with scripts/gen-man.sh; the prose around them is kept. t6006 checks it is up to date.
man: $(B)/candlekeep
	scripts/gen-man.sh $(B)/candlekeep docs/candlekeep.1 >docs/candlekeep.1.tmp
	mv docs/candlekeep.1.tmp docs/candlekeep.1

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, the systemd
# units (ExecStart pointed at BINDIR), the Prometheus rules and their tests, the
# Alertmanager and Grafana examples, the crontab example, the example configuration
# and the operator docs. make uninstall removes what install put there.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/candlekeep
DOCDIR  ?= $(PREFIX)/share/doc/candlekeep
UNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS   := $(wildcard deploy/systemd/*.service deploy/systemd/*.timer)
DOCS    := docs/operations.md docs/runbook.md docs/runbook.pt-BR.md docs/candlekeep.example.ini deploy/crontab.example
# The installed binary is built without the test hooks (FAULTS=), into build/release.
RELEASE_B ?= build/release
release:
	@$(MAKE) --no-print-directory B=$(RELEASE_B) FAULTS= $(RELEASE_B)/candlekeep
install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR)/alertmanager \
		$(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DOCDIR)
	install -m 0755 $(RELEASE_B)/candlekeep $(DESTDIR)$(BINDIR)/candlekeep
	install -m 0644 docs/candlekeep.1 $(DESTDIR)$(MANDIR)/man1/candlekeep.1
	for u in $(UNITS); do \
		sed 's#/usr/local/bin/candlekeep#$(BINDIR)/candlekeep#' $$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	install -m 0644 deploy/prometheus/*.yml $(DESTDIR)$(DATADIR)/prometheus/
	install -m 0644 deploy/alertmanager/*.yml $(DESTDIR)$(DATADIR)/alertmanager/
	install -m 0644 deploy/grafana/*.json $(DESTDIR)$(DATADIR)/grafana/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/candlekeep $(DESTDIR)$(MANDIR)/man1/candlekeep.1
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u##*/}; done
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
.PHONY: uninstall
