# The two commands of README.md: `make run` and `make test`.
.PHONY: run test test-unit test-blackbox test-asan build build-asan deps bench format lint clean

run:
	@scripts/stack.sh

# what the tests need (runtime + compilers, linters, chromium, docker-compose)
deps:
	scripts/deps.sh test

# the build needs only the runtime set (make bench must not pull in chromium)
build:
	scripts/deps.sh runtime
	scripts/build.sh release

build-asan: deps
	scripts/build.sh asan

test-unit: deps build
	cd backend/build/release && ctest --output-on-failure

test-blackbox: deps build
	BACKEND_BIN=$(CURDIR)/backend/build/release/catalog-backend node --test --test-concurrency=1 tests/

# every test: unit tests, then the black-box suite against the real stack
test: lint test-unit test-blackbox

# the whole suite once more under AddressSanitizer + UBSan (CI runs it too)
test-asan: build-asan
	cd backend/build/asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure
	BACKEND_BIN=$(CURDIR)/backend/build/asan/catalog-backend SANITIZED=1 \
	  ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  node --test --test-concurrency=1 tests/

bench: build
	scripts/deps.sh bench
	bench/run.sh

format:
	clang-format -i backend/src/*.[ch] backend/src/*/*.[ch] backend/tests/unit/*.[ch]

lint:
	@command -v clang-format >/dev/null || scripts/deps.sh test
	clang-format --dry-run -Werror backend/src/*.[ch] backend/src/*/*.[ch] backend/tests/unit/*.[ch]

clean:
	rm -rf backend/build
