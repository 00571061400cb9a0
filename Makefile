# The two set-up commands (`make run`, `make test`) and the build steps behind them.
BUILD_DIR ?= build
TEST_DIR ?= build-asan
JOBS ?= $(shell nproc)
DATA_DIR ?= $(CURDIR)/data
GEN = -G Ninja
# ccache and precompiled headers work together only with these relaxations.
export CCACHE_SLOPPINESS = pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: bootstrap build run run-worker test unit integration bench format tidy clean

bootstrap:
	scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(GEN) -DCMAKE_BUILD_TYPE=Release -DCOMFYDIST_TESTS=OFF

build: bootstrap $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS) --target comfydist

# The master on 127.0.0.1:8188; it starts its local workers (one per GPU, or one CPU worker).
run: build
	$(BUILD_DIR)/comfydist serve --data-dir $(DATA_DIR)

# A lone native worker on 127.0.0.1:8189.
run-worker: build
	$(BUILD_DIR)/comfydist worker --port 8189 --data-dir $(DATA_DIR)/worker

$(TEST_DIR)/build.ninja:
	cmake -S . -B $(TEST_DIR) $(GEN) -DCMAKE_BUILD_TYPE=Debug -DCOMFYDIST_SANITIZE=ON -DCOMFYDIST_TESTS=ON

test: bootstrap $(TEST_DIR)/build.ninja
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

bench: build
	cmake -S . -B $(BUILD_DIR) -DCOMFYDIST_BENCH=ON
	cmake --build $(BUILD_DIR) -j $(JOBS)
	bench/run_all.sh $(BUILD_DIR)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# clang-tidy cannot read g++'s precompiled headers: it uses a configure-only tree without them.
tidy: bootstrap
	cmake -S . -B build-tidy $(GEN) -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON -DCOMFYDIST_TESTS=OFF > /dev/null
	git ls-files 'src/*.cpp' | xargs -P $(JOBS) -n 8 clang-tidy -p build-tidy --quiet

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR)
