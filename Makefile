# fleet-handshake - build, test and run.
#
#   make            build the four binaries (build/rel/bin)
#   make asan       the same with ASan+UBSan (build/asan/bin)
#   make check      install missing packages, build both, run every test
#   make demo       emulator + Fleet simulation + operator, end to end
#   make run        the operator against the cluster in $KUBECONFIG
#   make bench      throughput/latency benchmark (BENCH_N=1000 by default)
#   make test-chart the Helm chart and Dockerfile tests (tests/helm)
#   make chart      package the Helm chart as a Helm repository in dist/
#
# Sources are discovered: every .c under common/ kube/ proto/ supervisor/
# worker/ watcher/ elector/ except the four main.c files goes into its
# folder's static archive; each binary links its main.c against them. Unit tests are
# tests/unit/test_*.c; a test may list linker --wrap symbols, one per line, in
# tests/unit/test_*.wrap.

VARIANT ?= rel
BUILD   := build/$(VARIANT)
PYTHON  ?= /usr/bin/python3

PKGS    := libcurl msgpack libcjson yaml-0.1 libzmq openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC      ?= cc
CFLAGS_BASE := -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) \
               -fno-strict-aliasing -MMD -MP
ifeq ($(VARIANT),asan)
CFLAGS_V := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS_V := -fsanitize=address,undefined,float-cast-overflow
else
CFLAGS_V := -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS_V := -Wl,-z,relro,-z,now
endif
ALL_CFLAGS := $(CFLAGS_BASE) $(CFLAGS_V) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm

SRC_DIRS := common kube proto supervisor worker watcher elector
MAIN_SRCS := supervisor/main.c watcher/main.c worker/main.c elector/main.c
LIB_SRCS := $(filter-out $(MAIN_SRCS),$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# One archive per source folder, linked dependents-first.
dir_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(MAIN_SRCS),$(wildcard $(1)/*.c)))
libs_of  = $(foreach d,$(1),$(BUILD)/lib$(d).a)
# archives reference each other (common/chan.c uses proto/), so link them as a group
link_group = -Wl,--start-group $(call libs_of,$(1)) -Wl,--end-group
# the supervisor links elector/ only for lease_timing_check (flag validation)
BIN_DIRS_supervisor := supervisor elector proto common
BIN_DIRS_watcher    := watcher kube proto common
BIN_DIRS_worker     := worker kube proto common
BIN_DIRS_elector    := elector kube proto common

BINS := $(foreach b,supervisor watcher worker elector,$(if $(wildcard $(b)/main.c),$(BUILD)/bin/fh-$(b)))

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all asan deps unit unit-all valgrind test-emulator e2e e2e-all check demo run bench clean chart test-chart

all: $(BINS)

asan:
	$(MAKE) VARIANT=asan all

deps:
	@bash scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

define dir_lib_rule
$(BUILD)/lib$(1).a: $(call dir_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach d,$(SRC_DIRS),$(eval $(call dir_lib_rule,$(d))))

# main.o is only reached through the pattern rule below; keep it, or make
# deletes it as an intermediate file and recompiles it on the next run.
.SECONDARY: $(MAIN_SRCS:%.c=$(BUILD)/obj/%.o)

.SECONDEXPANSION:
$(BUILD)/bin/fh-%: $(BUILD)/obj/%/main.o $$(call libs_of,$$(BIN_DIRS_$$*))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_V) $(LDFLAGS) -o $@ $< $(call link_group,$(BIN_DIRS_$*)) $(LDLIBS_ALL)

# A test links the folders named in tests/unit/test_X.deps (default: all of them).
test_dirs = $(or $(shell cat tests/unit/test_$(1).deps 2>/dev/null),$(SRC_DIRS))
$(BUILD)/tests/test_%: tests/unit/test_%.c $$(call libs_of,$$(call test_dirs,$$*))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS_V) $(LDFLAGS) -o $@ $< \
	    $(call link_group,$(call test_dirs,$*)) \
	    $(foreach s,$(shell cat tests/unit/test_$*.wrap 2>/dev/null),-Wl,--wrap=$(s)) \
	    $(LDLIBS_ALL) -lcmocka

# Unit tests of one variant; each suite prints cmocka's summary.
unit: $(TEST_BINS)
	@FH_TEST_DATA=tests/unit/data $(PYTHON) tests/run_suites.py --label "unit/$(VARIANT)" $(TEST_BINS)

unit-all:
	$(MAKE) VARIANT=rel unit
	$(MAKE) VARIANT=asan unit

# valgrind over the unit tests of the normal build: any leak or error fails.
valgrind: $(TEST_BINS)
	@FH_TEST_DATA=tests/unit/data $(PYTHON) tests/run_suites.py --label "valgrind" \
	    --wrapper "valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	    $(TEST_BINS)

test-emulator:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/kube-emulator/tests

e2e: all
	FH_BIN_DIR=$(abspath $(BUILD)/bin) $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

e2e-all:
	$(MAKE) VARIANT=rel e2e
	$(MAKE) VARIANT=asan e2e


# Chart and image tests (tests/helm): the chart is rendered by a
# Helm-compatible renderer, Go text/template + sprig built in GOPATH mode
# from Debian's Go library packages; the Dockerfile is checked against the
# Makefile, scripts/install-deps.sh and ldd/dpkg of the built binaries.
HELM_RENDER := build/helm-render
$(HELM_RENDER): tests/helm/render/main.go
	@mkdir -p $(dir $@)
	cd tests/helm/render && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
	    GOCACHE=$(abspath build/go-cache) go build -o $(abspath $@) .

test-chart: $(HELM_RENDER)
	HELM_RENDER=$(abspath $(HELM_RENDER)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/helm

# The chart as a static Helm repository: dist/fleet-handshake-VERSION.tgz
# and dist/index.yaml (CHART_REPO_URL=https://... for absolute urls).
chart:
	bash scripts/package-chart.sh helm/fleet-handshake dist

check: deps
	$(MAKE) VARIANT=rel all
	$(MAKE) VARIANT=asan all
	$(MAKE) VARIANT=rel unit
	$(MAKE) VARIANT=asan unit
	$(MAKE) VARIANT=rel valgrind
	$(MAKE) test-emulator
	$(MAKE) test-chart
	$(MAKE) VARIANT=rel e2e
	$(MAKE) VARIANT=asan e2e
	@echo "check: all stages passed"

demo: deps all
	$(PYTHON) tests/e2e/demo.py --bin-dir $(abspath $(BUILD)/bin)

run: all
	$(BUILD)/bin/fh-supervisor $(if $(KUBECONFIG),--kubeconfig $(firstword $(subst :, ,$(KUBECONFIG)))) $(RUN_ARGS)

bench: deps all
	$(PYTHON) tests/bench/bench.py --bin-dir $(abspath $(BUILD)/bin) --n $(or $(BENCH_N),1000)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/supervisor/main.d $(BUILD)/obj/watcher/main.d $(BUILD)/obj/worker/main.d \
         $(BUILD)/obj/elector/main.d $(TEST_BINS:=.d)
