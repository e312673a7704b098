#!/usr/bin/env bash
# The whole test suite: a normal build (each single-threaded test also under
# valgrind memcheck), an AddressSanitizer+UBSan build and a ThreadSanitizer
# build of the threaded tests, each run with CTest.
# Then a short run of each fuzz target (scripts/fuzz.sh).  Long soak and
# fuzz runs are opt-in (ctest -L soak; docs/testing.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The host refuses plugin files and dirs writable by group or others
# (docs/security.md): build them 0755 whatever the caller's umask.
umask 022
. "$root/scripts/deps.sh"
iopgt_install_deps
jobs=$(nproc)
wrap=()

run_suite() {	# NAME CMAKE-ARGS... [-- CTEST-ARGS...]
	local name=$1; shift
	local cargs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do cargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	echo "=== $name"
	cmake -S "$root" -B "$root/build-$name" "${cargs[@]}" >/dev/null
	cmake --build "$root/build-$name" -j"$jobs" >/dev/null
	"${wrap[@]}" ctest --test-dir "$root/build-$name" -j"$jobs" \
		--output-on-failure -LE soak "$@"
}

run_suite normal -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOPGT_VALGRIND=ON
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run_suite asan -DCMAKE_BUILD_TYPE=Debug -DIOPGT_SANITIZE=address,undefined
# TSan wants a fixed address-space layout on kernels with high ASLR entropy.
if setarch "$(uname -m)" -R true 2>/dev/null; then
	wrap=(setarch "$(uname -m)" -R)
fi
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	run_suite tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOPGT_SANITIZE=thread \
	-- -L threads
# Each libFuzzer target briefly, over its seed corpus (docs/testing.md
# "Fuzzing" says how to run them long).
IOPGT_FUZZ_SECONDS=${IOPGT_FUZZ_SECONDS:-15} bash "$root/scripts/fuzz.sh"
echo "=== all suites passed"
