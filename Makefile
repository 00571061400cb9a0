# The two set-up commands (`make run`, `make test`) and the build steps behind them.
BUILD_DIR ?= build
TEST_DIR ?= build-asan
JOBS ?= $(shell nproc)
DATA_DIR ?= $(CURDIR)/data
GEN = -G Ninja
# ccache and precompiled headers work together only with these relaxations.
export CCACHE_SLOPPINESS = pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: bootstrap build panel run run-worker test panel-test e2e unit integration bench format tidy clean

bootstrap:
	scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(GEN) -DCMAKE_BUILD_TYPE=Release -DCOMFYDIST_TESTS=OFF

build: bootstrap $(BUILD_DIR)/build.ninja panel
	cmake --build $(BUILD_DIR) -j $(JOBS) --target comfydist

# The web panel (web/dist), which the master serves at /. Rebuilt when a source, the lock file or
# an example workflow (built into it) changed; bootstrap has installed its npm packages.
PANEL_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package-lock.json $(wildcard examples/*.json)
panel: bootstrap web/dist/index.html

web/dist/index.html: $(PANEL_SOURCES)
	cd web && npm run build

# The master on 127.0.0.1:8188; it starts its local workers (one per GPU, or one CPU worker).
run: build
	$(BUILD_DIR)/comfydist serve --data-dir $(DATA_DIR)

# A lone native worker on 127.0.0.1:8189.
run-worker: build
	$(BUILD_DIR)/comfydist worker --port 8189 --data-dir $(DATA_DIR)/worker

$(TEST_DIR)/build.ninja:
	cmake -S . -B $(TEST_DIR) $(GEN) -DCMAKE_BUILD_TYPE=Debug -DCOMFYDIST_SANITIZE=ON -DCOMFYDIST_TESTS=ON

test: bootstrap $(TEST_DIR)/build.ninja panel
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory panel-test
	$(MAKE) --no-print-directory e2e

# The panel's unit tests (Vitest, no server).
panel-test: panel
	cd web && npm run --silent test

# The panel's end-to-end tests (tests/e2e): Debian's Chromium, driven by playwright-core, against
# the real master and native workers of the test build, on free loopback ports.
e2e: panel
	cd web && COMFYDIST_BINARY=$(abspath $(TEST_DIR))/comfydist npm run --silent e2e

bench: build
	cmake -S . -B $(BUILD_DIR) -DCOMFYDIST_BENCH=ON
	cmake --build $(BUILD_DIR) -j $(JOBS)
	bench/run_all.sh $(BUILD_DIR)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# clang-tidy cannot read g++'s precompiled headers: it uses a configure-only tree without them.
tidy: bootstrap
	cmake -S . -B build-tidy $(GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON -DCOMFYDIST_TESTS=OFF > /dev/null
	git ls-files 'src/*.cpp' | xargs -P $(JOBS) -n 8 clang-tidy -p build-tidy --quiet

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR) web/dist
