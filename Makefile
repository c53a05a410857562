# seam: the commands people type. CMake builds; this file strings the stages
# together. What `make check` runs is described in docs/architecture.md.
#
#   make            same as make build
#   make deps       install missing Debian 12 packages (scripts/deps.sh)
#   make build      configure and build build/release
#   make check      everything a change must pass (see below)
#   make demo       build, then scripts/demo.sh
#   make bench      build, then bench/run.sh
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make format     apply clang-format to every C file
#   make clean      remove build/
#
# Stages of check, also usable alone: test (ctest on build/release), asan
# (ASan+UBSan build in build/asan and its ctest), format-check, layers (the include
# graph of src/, scripts/layers.py), spec (WebAssembly conformance through
# scripts/spec.sh), interop (tests/interop/run.sh), interop-sync (tests/interop/syncevo.sh),
# console (tests/console/console_test.py), fuzz.
#
# Knobs: CC (compiler for release and asan), FUZZ_CC (default clang),
# BUILD_TYPE (default RelWithDebInfo), JOBS (default 2: build jobs, unit tests and fuzz
# targets at once), FUZZ_SECONDS (default 20), CTEST_FLAGS (extra ctest arguments).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
# Stages print in order and share build directories: never run them in parallel.
.NOTPARALLEL:

BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
FUZZ_SECONDS ?= 20
# make demo CONSOLE=1: end the demo with the operator's console, running until Ctrl-C
CONSOLE ?= 0
FUZZ_CC ?= clang
CTEST_FLAGS ?=

RELEASE_DIR := build/release
ASAN_DIR := build/asan
FUZZ_DIR := build/fuzz
FORMAT_DIRS := $(wildcard src include tests fuzz bench apps)
START_TIME := $(shell date +%s)
# cmake's own make gets -j$(JOBS) and none of this make's flags or jobserver.
CMAKE_BUILD := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build

# $(call banner,TEXT): one visible line per stage.
banner = @printf '\n==== %s ====\n' '$(1)'
# $(call seam_binary,DIR): the seam command built in DIR.
seam_binary = $$(if [ -x $(1)/seam ]; then echo $(1)/seam; else echo $(1)/src/cli/seam; fi)
# The C files clang-format owns (build directories excluded).
format_files = find -L $(FORMAT_DIRS) -type d -name 'build*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sort

.PHONY: all deps build test asan-build asan format-check layers spec interop interop-sync console fuzz-build \
	fuzz check \
	demo bench format clean

all: build

deps:
	$(call banner,deps: Debian 12 packages)
	scripts/deps.sh

build:
	$(call banner,build: $(RELEASE_DIR) ($(BUILD_TYPE)))
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_C_COMPILER=$(CC)
	$(CMAKE_BUILD) $(RELEASE_DIR) -j$(JOBS)

test: build
	$(call banner,test: unit tests on $(RELEASE_DIR))
	ctest --test-dir $(RELEASE_DIR) --output-on-failure -j$(JOBS) $(CTEST_FLAGS)

asan-build:
	$(call banner,asan: build $(ASAN_DIR) with AddressSanitizer and UBSan)
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_C_COMPILER=$(CC) \
		-DSEAM_SANITIZE=ON
	$(CMAKE_BUILD) $(ASAN_DIR) -j$(JOBS)

asan: asan-build
	$(call banner,asan: unit tests on $(ASAN_DIR))
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j$(JOBS) $(CTEST_FLAGS)

format-check:
	$(call banner,format-check: clang-format --dry-run --Werror)
	@files=$$($(format_files)); \
	if [ -n "$$files" ] && ! clang-format --dry-run --Werror $$files; then \
		echo "some files are not formatted: run make format"; exit 1; \
	fi; \
	echo "$$(echo $$files | wc -w) files are formatted"

# Every #include of src/ and include/seam/ points the way the layers, and the card's
# folders, allow (docs/architecture.md, docs/card.md "Structure").
layers:
	$(call banner,layers: the include graph of src/)
	scripts/layers.py

spec: build asan-build
	$(call banner,spec: WebAssembly conformance)
	@if [ -x scripts/spec.sh ]; then \
		for seam in $(call seam_binary,$(RELEASE_DIR)) $(call seam_binary,$(ASAN_DIR)); do \
			printf -- '-- scripts/spec.sh %s\n' "$$seam"; \
			scripts/spec.sh "$$seam"; \
		done; \
	else \
		echo "scripts/spec.sh does not exist yet: skipped"; \
	fi

fuzz-build:
	$(call banner,fuzz: build $(FUZZ_DIR) with $(FUZZ_CC))
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_C_COMPILER=$(FUZZ_CC) \
		-DSEAM_FUZZ=ON
	$(CMAKE_BUILD) $(FUZZ_DIR) -j$(JOBS)

# Each target fuzzes a scratch copy of fuzz/corpus/<name>/ (the checked-in
# corpus stays as it is); crashes land in $(FUZZ_DIR)/run/<name>/artifacts/.
# JOBS targets run at once (scripts/fuzz_run.sh), each for FUZZ_SECONDS.
fuzz: fuzz-build
	$(call banner,fuzz: every target for $(FUZZ_SECONDS) s; $(JOBS) at a time)
	@fuzzers=$$(find $(FUZZ_DIR) -maxdepth 2 -type f -name 'seam-fuzz-*' -perm -u+x | sort); \
	if [ -z "$$fuzzers" ]; then echo "no seam-fuzz-* targets in $(FUZZ_DIR)"; exit 1; fi; \
	if ! printf '%s\n' $$fuzzers | xargs -P $(JOBS) -n 1 scripts/fuzz_run.sh $(FUZZ_DIR) $(FUZZ_SECONDS); then \
		echo "fuzz: some targets failed (FAILED above)"; exit 1; \
	fi

# The card served through pcscd's vpcd driver to opensc-tool and a pyscard SCP03 host.
interop: build
	$(call banner,interop: pcscd + vpcd + opensc-tool + pyscard)
	tests/interop/run.sh $(call seam_binary,$(RELEASE_DIR))

# OMA DS both ways with SyncEvolution 2.0: its client against seam server, seam's client against
# syncevo-http-server (docs/sync.md "OMA DS over HTTP").
interop-sync: build
	$(call banner,interop-sync: SyncEvolution <-> seam server and seam terminal over OMA DS)
	tests/interop/syncevo.sh $(call seam_binary,$(RELEASE_DIR)) $(RELEASE_DIR)/tests/server/omads_tool

# The operator's console in headless Chromium, then the same checks in headless Firefox, each
# against a real seam server and seam fleet (issue 16, docs/console.md); screenshots of every
# view in $(RELEASE_DIR)/console-test and $(RELEASE_DIR)/console-test-firefox.
console: build
	$(call banner,console: the operator console in headless Chromium and Firefox)
	python3 tests/console/console_test.py $(call seam_binary,$(RELEASE_DIR)) $(RELEASE_DIR)/apps $(RELEASE_DIR)/console-test chromium
	python3 tests/console/console_test.py $(call seam_binary,$(RELEASE_DIR)) $(RELEASE_DIR)/apps $(RELEASE_DIR)/console-test-firefox firefox

check: deps build test asan format-check layers spec interop interop-sync console fuzz
	@printf '\n==== check: all stages passed in %s s ====\n' "$$(( $$(date +%s) - $(START_TIME) ))"

demo: deps build
	$(call banner,demo)
	@if [ -e scripts/demo.sh ]; then \
		CONSOLE=$(CONSOLE) SEAM=$(call seam_binary,$(RELEASE_DIR)) scripts/demo.sh; \
	else \
		echo "scripts/demo.sh does not exist yet; the build is in $(RELEASE_DIR)."; \
	fi

bench: deps build
	$(call banner,bench)
	@if [ -e bench/run.sh ]; then \
		SEAM=$(call seam_binary,$(RELEASE_DIR)) bench/run.sh; \
	else \
		echo "bench/run.sh does not exist yet: nothing to run."; \
	fi

format:
	$(call banner,format: clang-format -i)
	@files=$$($(format_files)); \
	if [ -n "$$files" ]; then clang-format -i $$files; fi; \
	echo "$$(echo $$files | wc -w) files formatted"

clean:
	rm -rf build
