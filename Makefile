# Weft's two front doors: `make demo` and `make test`. Both install dependencies first, so
# each works on a fresh Debian 12 machine as root.

PRESET ?= debug
JOBS ?= $(shell nproc)

.PHONY: deps build release test demo bench fuzz clean

deps:
	bash scripts/bootstrap.sh

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET) -j $(JOBS)

release:
	$(MAKE) build PRESET=release

# Unit tests, fuzz-corpus replays and end-to-end tests, all through ctest, under
# AddressSanitizer and UndefinedBehaviorSanitizer.
test: build
	ctest --preset $(PRESET) -j $(JOBS)

demo: deps release
	bash scripts/demo.sh build/release

bench: deps release
	bash bench/run_all.sh build/release

# Coverage-guided fuzzing with libFuzzer (clang). FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	bash fuzz/run_fuzzers.sh build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
