# WSMS build. `make` configures itself on a fresh clone (autoreconf +
# ./configure), then builds build/release/wsmsd. `make check` builds the
# ASan+UBSan variant and runs the whole test suite (t/run).

# `make dist` works on a bare checkout: no configure run for it
ifneq ($(MAKECMDGOALS),dist)
-include config.mk
endif

BUILD     ?= build
DESTDIR   ?=
prefix    ?= /usr/local
VARIANT   ?= release
VERSION   := $(shell sed -n 's/^AC_INIT.\[wsms\], *\[\([^]]*\)\].*/\1/p' configure.ac)

# src/<layer>/<module>.c, include/<layer>/<module>.h (see README "Layout")
LAYERS    := core http data outbound auth domain api server
SRCS      := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c src/$(l)/*/*.c))
EMBED     := $(sort $(wildcard schema/*/*/*.sql)) src/openapi.json
PKG_CFLAGS = $(CJSON_CFLAGS) $(ODBC_CFLAGS) $(JWT_CFLAGS) $(OPENSSL_CFLAGS) $(CURL_CFLAGS)
LIBS       = $(FCGI_LIBS) $(CJSON_LIBS) $(ODBC_LIBS) $(JWT_LIBS) $(CURL_LIBS) $(OPENSSL_LIBS)

WARN      := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
             -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(VARIANT),asan)
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined -DWSMS_TESTING
LDOPT     := -fsanitize=address,undefined
else
OPT       := -O2 -g
LDOPT     :=
endif
CFLAGS_ALL = $(WARN) $(OPT) -Iinclude -I$(BUILD)/$(VARIANT)/gen $(PKG_CFLAGS) \
             -DODBC_DRIVER_DIR='"$(ODBC_DRIVER_DIR)"' $(EXTRA_CFLAGS)

OUT       := $(BUILD)/$(VARIANT)
OBJS      := $(patsubst src/%.c,$(OUT)/obj/%.o,$(SRCS)) $(OUT)/obj/embedded.o
UNIT_SRCS := $(wildcard t/unit/test_*.c t/unit/*/test_*.c t/unit/*/*/test_*.c)
UNIT_BINS := $(addprefix $(OUT)/t/,$(basename $(notdir $(UNIT_SRCS))))
ITEST_SRCS:= $(wildcard t/integration/test_*.c)
ITEST_BINS:= $(patsubst t/integration/%.c,$(OUT)/t/%,$(ITEST_SRCS))
TLIB_SRCS := $(wildcard t/lib/*.c)

.PHONY: all release asan tests check layers-check unit run stop bench bench-soak bench-scheduler fuzz install clean format format-check \
        distclean dist
all: $(OUT)/wsmsd

config.mk: configure.ac config.mk.in
	@command -v autoreconf >/dev/null || { echo "autoreconf missing: apt-get install autoconf automake pkg-config" >&2; exit 1; }
	autoreconf -fi && ./configure

$(OUT)/obj/%.o: src/%.c config.mk | $(OUT)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(OUT)/gen/embedded.c: $(EMBED) src/core/embed.sh | $(OUT)/obj
	@mkdir -p $(OUT)/gen
	sh src/core/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

$(OUT)/obj/embedded.o: $(OUT)/gen/embedded.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c $< -o $@

$(OUT)/wsmsd: $(OUT)/obj/main.o $(OBJS)
	$(CC) $(LDOPT) -o $@ $^ $(LIBS)

$(OUT)/obj:
	@mkdir -p $@ $(OUT)/t

# unit tests mirror src/: t/unit/<layer>/test_<module>.c -> $(OUT)/t/test_<module>
define unit_rule
$(OUT)/t/$(basename $(notdir $(1))): $(1) $$(OBJS) $$(TLIB_SRCS) | $(OUT)/obj
	$$(CC) $$(CFLAGS_ALL) $$(CHECK_CFLAGS) -It/lib -Wno-missing-prototypes -o $$@ $$< $$(TLIB_SRCS) \
	    $$(OBJS) $$(LDOPT) $$(LIBS) $$(CHECK_LIBS)
endef
$(foreach u,$(UNIT_SRCS),$(eval $(call unit_rule,$(u))))

$(OUT)/t/%: t/integration/%.c $(TLIB_SRCS) $(OBJS) | $(OUT)/obj
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -It/lib -Wno-missing-prototypes -o $@ $< $(TLIB_SRCS) \
	    $(OBJS) $(LDOPT) $(LIBS) $(CHECK_LIBS)

$(OUT)/bench/hello: t/bench/hello.c | $(OUT)/obj
	@mkdir -p $(OUT)/bench
	$(CC) $(WARN) -O2 -o $@ $< $(FCGI_LIBS)

$(OUT)/bench/latency_proxy: t/bench/latency_proxy.c | $(OUT)/obj
	@mkdir -p $(OUT)/bench
	$(CC) $(WARN) -O2 -pthread -o $@ $<

# Entra-shaped tokens signed with the bench's test key
$(OUT)/bench/mint: t/bench/mint.c t/lib/tokens.c src/core/util.c | $(OUT)/obj
	@mkdir -p $(OUT)/bench
	$(CC) $(WARN) -O2 -g -Iinclude -It/lib $(CJSON_CFLAGS) $(OPENSSL_CFLAGS) -o $@ $^ \
	    $(CJSON_LIBS) $(OPENSSL_LIBS)

# parallel jobs of the builds make check starts (one per core)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# test binaries of the current variant
tests: $(OUT)/wsmsd $(UNIT_BINS) $(ITEST_BINS)

asan:
	$(MAKE) -j$(JOBS) VARIANT=asan tests

# The README's test command: the whole suite, under ASan + UBSan.
# Under CI (CI=true) it also fuzzes every target for 10 s first (the suite runs on three databases
# within CI's 15-minute budget; `make fuzz` fuzzes longer).
check: config.mk layers-check
	$(MAKE) -j$(JOBS) VARIANT=asan tests
	$(MAKE) -j$(JOBS) VARIANT=release all
	if [ "$${CI:-}" = true ]; then FUZZ_SECONDS=$${FUZZ_SECONDS:-10} sh t/fuzz/run.sh; fi
	sh t/run

# a module may include only headers of its own layer or a lower one
layers-check:
	sh t/lib/layers.sh $(LAYERS)

unit: config.mk
	$(MAKE) VARIANT=asan tests
	sh t/run unit

run: config.mk all
	sh t/dev/run.sh

stop:
	sh t/dev/run.sh stop

bench: config.mk all $(OUT)/bench/hello $(OUT)/bench/latency_proxy $(OUT)/bench/mint
	sh t/bench/bench.sh

bench-soak: config.mk all
	sh t/bench/soak.sh

bench-scheduler: config.mk all
	sh t/bench/bench-scheduler.sh

fuzz: config.mk
	sh t/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(prefix)/sbin $(DESTDIR)$(prefix)/share/wsms/nginx \
	    $(DESTDIR)$(prefix)/share/wsms/systemd
	install -m 0755 $(OUT)/wsmsd $(DESTDIR)$(prefix)/sbin/wsmsd
	install -m 0644 nginx/*.conf $(DESTDIR)$(prefix)/share/wsms/nginx/
	if ls systemd/* >/dev/null 2>&1; then install -m 0644 systemd/* $(DESTDIR)$(prefix)/share/wsms/systemd/; fi
	docs=$$(sh t/lib/swagger.sh install) && install -d $(DESTDIR)$(prefix)/share/wsms/docs && \
	    install -m 0644 $$docs/index.html $$docs/swagger-ui.css $$docs/swagger-ui-bundle.js \
	        $(DESTDIR)$(prefix)/share/wsms/docs/

FORMAT_FILES = src/*.c src/*/*.c src/*/*/*.c include/*/*.h include/*/*/*.h t/unit/*.c \
               t/unit/*/*.c t/unit/*/*/*.c t/integration/*.c t/lib/*.c t/lib/*.h t/bench/*.c \
               t/fuzz/*.c
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

# release tarball of the committed tree (HEAD), for machines without git
dist:
	@command -v git >/dev/null || { echo "make dist needs git (apt-get install git)" >&2; exit 1; }
	@mkdir -p $(BUILD)
	git archive --format=tar.gz --prefix=wsms-$(VERSION)/ -o $(BUILD)/wsms-$(VERSION).tar.gz HEAD
	@echo "$(BUILD)/wsms-$(VERSION).tar.gz"

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4

-include $(wildcard $(OUT)/obj/*.d $(OUT)/obj/*/*.d $(OUT)/obj/*/*/*.d)
