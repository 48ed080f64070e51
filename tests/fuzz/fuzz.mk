# tests/fuzz/fuzz.mk — builds the libFuzzer targets (scripts/fuzz runs them; see README.md).
#
# Every source the targets reach is compiled again here with clang and the fuzzer's coverage
# instrumentation plus ASan and UBSan: the code under test must carry the instrumentation, so
# the gcc-built libraries of the main Makefile cannot be reused. The objects form one archive;
# each target links only what it references from it.
#
#   make -f tests/fuzz/fuzz.mk [FUZZ_BUILD=build/fuzz] -j2

FUZZ_BUILD ?= build/fuzz
CLANG ?= clang

PKGS := libmicrohttpd jansson libsodium libpq
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS := -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -pthread -g -O1 $(SAN) \
          -fsanitize=fuzzer-no-link $(shell pkg-config --cflags $(PKGS)) \
          -DLX_VERSION='"fuzz"' -MMD -MP
LIBS := $(shell pkg-config --libs $(PKGS)) -pthread

SRC := $(wildcard chain/*.c) $(filter-out server/main.c,$(wildcard server/*.c)) \
       $(wildcard modules/*.c modules/*/*.c)
GEN := $(FUZZ_BUILD)/gen/migrations.c
OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(SRC)) $(FUZZ_BUILD)/obj/gen/migrations.o
LIB := $(FUZZ_BUILD)/libfuzzed.a
TARGETS := $(patsubst tests/fuzz/fuzz_%.c,$(FUZZ_BUILD)/bin/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all
.SECONDARY:
all: $(TARGETS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG $<"; $(CLANG) $(CFLAGS) -Iserver -c $< -o $@

# The targets themselves must be warning-free; the code under test keeps its gcc -Werror gate.
$(FUZZ_BUILD)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	@echo "  CLANG $<"; $(CLANG) $(CFLAGS) -Werror -Iserver -c $< -o $@

$(GEN): $(wildcard sql/*.sql) scripts/embed-sql
	@mkdir -p $(dir $@)
	@scripts/embed-sql $@ $(wildcard sql/*.sql)

$(FUZZ_BUILD)/obj/gen/migrations.o: $(GEN)
	@mkdir -p $(dir $@)
	@echo "  CLANG $<"; $(CLANG) $(CFLAGS) -Iserver -c $< -o $@

$(LIB): $(OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_BUILD)/bin/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK $@"; $(CLANG) $(SAN) -fsanitize=fuzzer -o $@ $< $(LIB) $(LIBS)

# The seed generator (tests/fuzz/seedgen.c) is built only on request: its output is committed.
$(FUZZ_BUILD)/bin/seedgen: $(FUZZ_BUILD)/obj/tests/fuzz/seedgen.o $(LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN) -o $@ $< $(LIB) $(LIBS)

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
