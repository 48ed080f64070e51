# Lianxin — build, run, test, bench, clean. `make run` and `make test` are the contract.
#
# Objects go to $(BUILD) (build/ by default). The sanitizer build is the same rules with
# BUILD=build/asan SAN=1, so both can live side by side.

BUILD ?= build
SAN ?= 0
CC ?= cc

PKGS := libmicrohttpd jansson libsodium libpq
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

CFLAGS_STD := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -pthread -g
ifeq ($(SAN),1)
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
OPT := -O2
endif
CFLAGS := $(CFLAGS_STD) $(OPT) $(shell pkg-config --cflags $(PKGS) check libcurl 2>/dev/null) \
          -DLX_VERSION='"$(VERSION)"' -MMD -MP
LDFLAGS := $(OPT) -pthread
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs check libcurl 2>/dev/null) $(LIBS)

CHAIN_SRC := $(wildcard chain/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c)) $(BUILD)/gen/migrations.c
MODULE_SRC := $(wildcard modules/*.c modules/*/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integ/test_*.c)
INTEG_LIB_SRC := $(filter-out $(INTEG_SRC),$(wildcard tests/integ/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(BUILD)/%,%,$(1)))

LIBCHAIN := $(BUILD)/libchain.a
LIBSERVER := $(BUILD)/libserver.a
LIBMODULES := $(BUILD)/libmodules.a
ALL_LIBS := -Wl,--start-group $(LIBMODULES) $(LIBSERVER) $(LIBCHAIN) -Wl,--end-group

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BINS := $(patsubst tests/integ/%.c,$(BUILD)/tests/integ/%,$(INTEG_SRC))

.PHONY: all tests run test e2e bench clean format format-check asan bootstrap bootstrap-test \
        fuzz stress bootstrap-stress FORCE
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/lianxind $(BUILD)/lianxin web/vendor/qrcode.mjs web/vendor/noble-hashes/sha2.js

# Third-party browser libraries: vendor/package.json with its lock file, installed by npm ci
# under build/npm and copied into web/vendor/ (not committed). Without npm the page that uses
# one says so (the certificate then prints its link instead of a QR code).
web/vendor/qrcode.mjs: vendor/package.json vendor/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		mkdir -p build/npm web/vendor && cp vendor/package.json vendor/package-lock.json build/npm/ && \
		(cd build/npm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) && \
		cp build/npm/node_modules/qrcode-generator/dist/qrcode.mjs $@; \
	else echo "npm not found: $@ is not installed (no QR code on printed certificates)"; fi

# Incremental SHA-256 for the evidence pages (WebCrypto hashes only whole buffers): the pure-JS
# ES modules of @noble/hashes (WebAssembly would need 'wasm-unsafe-eval' in our CSP), from the
# same npm ci as above (so this runs after it).
NOBLE := build/npm/node_modules/@noble/hashes
web/vendor/noble-hashes/sha2.js: web/vendor/qrcode.mjs
	@if [ -f $(NOBLE)/sha2.js ]; then mkdir -p $(dir $@) && \
		cp $(NOBLE)/sha2.js $(NOBLE)/_md.js $(NOBLE)/_u64.js $(NOBLE)/utils.js $(NOBLE)/LICENSE $(dir $@); \
	else echo "@noble/hashes not installed: $@ is missing (the evidence pages cannot hash files)"; fi

tests: $(UNIT_BINS) $(INTEG_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CFLAGS) -I$(BUILD)/gen -Iserver -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(CFLAGS) -Iserver -c $< -o $@

# The list of migration files, rewritten only when it changes: a file removed or renamed leaves
# every remaining one older than migrations.c, so the list is what tells make to embed again.
SQL_FILES := $(sort $(wildcard sql/*.sql))
$(BUILD)/gen/sql.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SQL_FILES)' | cmp -s - $@ || echo '$(SQL_FILES)' > $@

$(BUILD)/gen/migrations.c: $(SQL_FILES) $(BUILD)/gen/sql.list scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $@ $(SQL_FILES)

FORCE:

$(LIBCHAIN): $(call obj,$(CHAIN_SRC))
	@rm -f $@
	ar rcs $@ $^

$(LIBSERVER): $(call obj,$(SERVER_SRC))
	@rm -f $@
	ar rcs $@ $^

$(LIBMODULES): $(call obj,$(MODULE_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/lianxind: $(call obj,server/main.c) $(LIBMODULES) $(LIBSERVER) $(LIBCHAIN)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LIBS)

# ---- cli: the lianxin client tool. cli/*.c but main.c form libcli.a, which the unit tests
# named test_cli_* link with libchain (a pattern with a longer prefix wins over tests/unit/%).
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
LIBCLI := $(BUILD)/libcli.a
CLI_LIBS := $(shell pkg-config --libs jansson libsodium libcurl 2>/dev/null)

$(LIBCLI): $(call obj,$(CLI_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/lianxin: $(call obj,cli/main.c) $(LIBCLI) $(LIBCHAIN)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBCHAIN) $(CLI_LIBS)

$(BUILD)/tests/unit/test_cli_%: $(call obj,tests/unit/test_cli_%.c) $(LIBCLI) $(LIBCHAIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBCHAIN) $(TEST_LIBS)

$(BUILD)/tests/unit/%: $(call obj,tests/unit/%.c) $(LIBMODULES) $(LIBSERVER) $(LIBCHAIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(TEST_LIBS)

$(BUILD)/tests/integ/%: $(call obj,tests/integ/%.c) $(call obj,$(INTEG_LIB_SRC)) $(LIBMODULES) $(LIBSERVER) $(LIBCHAIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(call obj,$(INTEG_LIB_SRC)) $(ALL_LIBS) $(TEST_LIBS)

asan:
	$(MAKE) BUILD=build/asan SAN=1 all tests

# Load generator and machine limits for `make bench` (tests/bench/).
$(BUILD)/bench/loadgen: $(call obj,tests/bench/loadgen.c) $(LIBCHAIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCHAIN) $(shell pkg-config --libs jansson libsodium 2>/dev/null)

$(BUILD)/bench/verifybench: $(call obj,tests/bench/verifybench.c) $(LIBCLI) $(LIBCHAIN)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBCHAIN) $(CLI_LIBS)

$(BUILD)/bench/limits: $(call obj,tests/bench/limits.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS)

# The benchmark table (docs/BENCHMARKS.md explains it): about 10 minutes, throwaway database.
bench: bootstrap
	@$(MAKE) --no-print-directory all $(BUILD)/bench/loadgen $(BUILD)/bench/limits \
		$(BUILD)/bench/verifybench
	@scripts/bench

bootstrap:
	@scripts/bootstrap

# What the browser tests need besides: Debian's Chromium and a CJK font (node and npm too,
# when missing).
bootstrap-test:
	@scripts/bootstrap --test

# Everything a fresh Debian machine needs, then the server on http://127.0.0.1:8080.
run: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/run

# Every test: format, unit and integration (plain and under ASan+UBSan), then the browser
# tests in Chromium, on a throwaway PostgreSQL cluster that is removed afterwards whatever
# happens.
test: bootstrap-test
	@$(MAKE) --no-print-directory all tests
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory format-check
	@scripts/test

# libFuzzer targets (tests/fuzz), 30 s each; `make stress` runs them 10 minutes each.
fuzz: bootstrap-test
	@scripts/fuzz 30

# The long forms (docs/RELIABILITY.md): 200 SIGKILL cycles of lianxind, every fuzz target for
# 10 minutes, the unit tests under valgrind. Hours, not minutes; ends "stress: N passed, M failed".
stress: bootstrap-stress
	@$(MAKE) --no-print-directory all tests
	@scripts/stress

bootstrap-stress:
	@scripts/bootstrap --stress

# Only the browser tests (tests/e2e), on their own throwaway cluster.
e2e: bootstrap-test
	@$(MAKE) --no-print-directory all
	@scripts/test e2e

C_SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find chain server cli modules tests -name '*.[ch]')

format:
	clang-format -i $(C_SOURCES)

format-check:
	@clang-format --dry-run -Werror $(C_SOURCES) && echo "format: clean"

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
