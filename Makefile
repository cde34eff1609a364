# k8s for Lua: build, test and demo.
#   make            build libk8s and the Lua C module for Lua 5.4 and LuaJIT
#   make test       deps + build + control plane + C tests + busted (5.4, LuaJIT)
#   make demo       run examples/quickstart.lua against the local control plane
#   make check-memory   C tests under ASan/UBSan and valgrind

CC      ?= gcc
BUILD   ?= build
WARN     = -Wall -Wextra -Werror -Wshadow
CSTD     = -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -fPIC -fvisibility=hidden -Iinclude -Isrc $(CFLAGS)
LIBS     = -lcurl -ljansson -lyaml -lhttp_parser -lz -lssl -lcrypto -lpthread -lm

LUA54_INC  ?= /usr/include/lua5.4
LUAJIT_INC ?= /usr/include/luajit-2.1

CORE_SRC = $(filter-out src/lua/%,$(wildcard src/*.c))
CORE_OBJ = $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
LUA_SRC  = $(wildcard src/lua/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
TESTS    = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# helpers the specs run (a fake server for faults the real one won't produce)
HELPERS  = $(BUILD)/tests/fakewatch
# fuzz targets (fuzz/<name>.c; fuzz/lua_*.c are built for Lua 5.4 and LuaJIT).
# FUZZ_ENGINE=replay links fuzz/replay.c (gcc, corpus replay);
# FUZZ_ENGINE=libfuzzer links clang's libFuzzer (tools/fuzz.sh sets both).
FUZZ_ENGINE ?= replay
FUZZ_ALL   = $(filter-out fuzz/replay.c,$(wildcard fuzz/*.c))
FUZZ_LUA   = $(filter fuzz/lua_%,$(FUZZ_ALL))
FUZZ_C     = $(filter-out $(FUZZ_LUA),$(FUZZ_ALL))
FUZZ_BINS  = $(FUZZ_C:fuzz/%.c=$(BUILD)/fuzz/%) \
             $(FUZZ_LUA:fuzz/%.c=$(BUILD)/fuzz/%-lua5.4) $(FUZZ_LUA:fuzz/%.c=$(BUILD)/fuzz/%-luajit)
FUZZ_MAIN  = $(if $(filter libfuzzer,$(FUZZ_ENGINE)),-fsanitize=fuzzer,fuzz/replay.c)


.PHONY: install check-install all deps lib lua tests test test-c test-lua demo check-memory bench bench-memory soak fuzz fuzz-bins fuzz-replay clean control-plane-start control-plane-stop
all: lib lua

tests: $(TESTS) $(HELPERS)

deps:
	@tools/deps.sh

lib: $(BUILD)/libk8s.a $(BUILD)/libk8s.so

$(BUILD)/obj/%.o: src/%.c $(wildcard include/*.h include/k8s/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# The installed static library exports the public API only, as libk8s.so
# does: the core is linked into one relocatable object whose hidden symbols
# (-fvisibility=hidden: every k8s__ internal) are then made local, so they
# cannot clash with a program's own symbols nor be called from outside. The
# tests, the fuzz targets and the allocation-failure copy call the internals
# (and some fuzz targets replace whole objects of the core), so they link
# libk8s-internal.a instead: the plain objects, never installed.
$(BUILD)/libk8s.a: $(CORE_OBJ)
	ld -r -o $(BUILD)/obj/k8s-all.o $^ && objcopy --localize-hidden $(BUILD)/obj/k8s-all.o && \
	rm -f $@ && ar rcs $@ $(BUILD)/obj/k8s-all.o

$(BUILD)/libk8s-internal.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libk8s.so: $(CORE_OBJ)
	$(CC) -shared -o $@.tmp $^ $(LIBS) && mv -f $@.tmp $@

# The Lua C module (one source for Lua 5.4 and LuaJIT), with the core linked in.
lua: $(BUILD)/lua5.4/k8s/core.so $(BUILD)/luajit/k8s/core.so

$(BUILD)/lua5.4/k8s/core.so: $(LUA_SRC) $(CORE_OBJ) $(wildcard src/lua/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(LUA54_INC) -shared -o $@.tmp $(LUA_SRC) $(CORE_OBJ) $(LIBS) && mv -f $@.tmp $@

$(BUILD)/luajit/k8s/core.so: $(LUA_SRC) $(CORE_OBJ) $(wildcard src/lua/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(LUAJIT_INC) -shared -o $@.tmp $(LUA_SRC) $(CORE_OBJ) $(LIBS) && mv -f $@.tmp $@

$(BUILD)/tests/%: tests/%.c $(BUILD)/libk8s-internal.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(BUILD)/libk8s-internal.a $(LIBS)

# The allocation-failure ("torture") test links a copy of the core whose
# calls to the allocators (malloc, calloc, realloc, curl_slist_append...) are
# renamed to the test's counting wrappers (tests/alloc_fail.h); nothing else
# in the binary (the test, libcurl, OpenSSL) is affected.
$(BUILD)/libk8s-fa.a: $(BUILD)/libk8s-internal.a tests/alloc_fail.syms
	objcopy --redefine-syms=tests/alloc_fail.syms $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/tests/test_alloc_fail: tests/test_alloc_fail.c $(BUILD)/libk8s-fa.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< -o $@ $(BUILD)/libk8s-fa.a $(LIBS)

# The Lua binding torture test: Lua 5.4 with a failing lua_Alloc, and the
# binding's own C allocations renamed like the core's (one relocatable
# object, so that both kinds of failure can be injected).
$(BUILD)/fa/lua-binding.o: $(LUA_SRC) $(wildcard src/lua/*.h) tests/alloc_fail.syms
	@mkdir -p $(dir $@)
	for f in $(LUA_SRC); do $(CC) $(CFLAGS_ALL) -I$(LUA54_INC) -c $$f -o $(BUILD)/fa/lua-$$(basename $$f .c).o || exit 1; done
	ld -r -o $@.tmp $(LUA_SRC:src/lua/%.c=$(BUILD)/fa/lua-%.o) && objcopy --redefine-syms=tests/alloc_fail.syms $@.tmp $@ && rm -f $@.tmp

$(BUILD)/tests/test_lua_alloc_fail: tests/test_lua_alloc_fail.c $(BUILD)/fa/lua-binding.o $(BUILD)/libk8s-fa.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(LUA54_INC) -DK8S_LUA_DIR='"$(CURDIR)/lua"' $< $(BUILD)/fa/lua-binding.o -o $@ \
		$(BUILD)/libk8s-fa.a -llua5.4 $(LIBS) -ldl

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libk8s-internal.a $(wildcard fuzz/*.h) fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $< $(FUZZ_MAIN) -o $@ $(BUILD)/libk8s-internal.a $(LIBS)

$(BUILD)/fuzz/lua_%-lua5.4: fuzz/lua_%.c src/lua/json.c src/lua/yaml.c src/lua/codec.c src/lua/protobuf.c $(wildcard src/lua/*.h) $(BUILD)/libk8s-internal.a $(wildcard fuzz/*.h) fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(LUA54_INC) -Isrc/lua $< src/lua/json.c src/lua/yaml.c src/lua/codec.c src/lua/protobuf.c $(FUZZ_MAIN) -o $@ $(BUILD)/libk8s-internal.a -llua5.4 $(LIBS) -ldl

$(BUILD)/fuzz/lua_%-luajit: fuzz/lua_%.c src/lua/json.c src/lua/yaml.c src/lua/codec.c src/lua/protobuf.c $(wildcard src/lua/*.h) $(BUILD)/libk8s-internal.a $(wildcard fuzz/*.h) fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -I$(LUAJIT_INC) -Isrc/lua $< src/lua/json.c src/lua/yaml.c src/lua/codec.c src/lua/protobuf.c $(FUZZ_MAIN) -o $@ $(BUILD)/libk8s-internal.a -lluajit-5.1 $(LIBS) -ldl

# every committed corpus and regression input, under gcc ASan+UBSan (seconds)
fuzz-replay:
	@tools/fuzz.sh replay

# coverage-guided fuzzing with clang-14's libFuzzer: FUZZ_SECONDS per target
# (default 60), two targets at a time; fails on any crash or violated property
FUZZ_SECONDS ?= 60
fuzz: deps
	@tools/fuzz.sh run $(FUZZ_SECONDS)

test: deps
	@tools/run-tests.sh

# the targets below that talk to the server use the running control plane
# (its env in the environment) or start a private one for their run
test-c: lib $(TESTS)
	@tools/with-control-plane.sh tools/run-c-tests.sh $(TESTS)

test-lua: lua
	@tools/with-control-plane.sh tools/run-specs.sh

# the fault-matrix rows that stop, kill or restart control-plane components
# or need API server flags, on a second control plane of their own
.PHONY: test-faults
test-faults: lua
	@SPEC_BUILD=$(BUILD) tools/run-fault-specs.sh

check-memory:
	@tools/with-control-plane.sh tools/check-memory.sh

demo: deps
	@$(MAKE) -s all
	@tools/demo.sh

# informer soak: 600 s per interpreter, flat Lua and C heap
soak: all
	@tools/with-control-plane.sh tools/soak.sh 600 200

bench: deps
	@$(MAKE) -s all
	@tools/bench.sh; rc=$$?; tools/bench-memory.sh || rc=1; exit $$rc

# the memory budget alone: dhat figures against bench/memory-baseline.json
# (fails on a figure > 110 % of its baseline; tools/bench-memory.sh --update
# rewrites the baseline, on purpose only)
bench-memory: deps
	@tools/bench-memory.sh

# make install PREFIX=/usr/local (DESTDIR too): libk8s.so, libk8s.a, the
# headers and k8s.pc for pkg-config
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
K8S_LIB_VERSION = $(shell sed -n 's/^#define K8S_VERSION_STRING "\(.*\)"/\1/p' src/global.c)
install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/k8s
	install -m 644 $(BUILD)/libk8s.a $(DESTDIR)$(LIBDIR)/libk8s.a
	install -m 755 $(BUILD)/libk8s.so $(DESTDIR)$(LIBDIR)/libk8s.so
	install -m 644 include/k8s.h $(DESTDIR)$(INCLUDEDIR)/k8s.h
	install -m 644 include/k8s/*.h $(DESTDIR)$(INCLUDEDIR)/k8s/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(K8S_LIB_VERSION)|' \
	    k8s.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/k8s.pc

# make install into a temporary prefix, examples/c built with pkg-config and run
check-install:
	@tools/with-control-plane.sh tools/check-install.sh

clean:
	rm -rf $(BUILD)
