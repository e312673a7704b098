#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/, docs/testing.md "Fuzzing") with clang
# and run each one for a bounded time; any crash, sanitizer report, broken
# invariant, leak or hang fails the script.  CI runs it from test.sh.
#
#   IOPGT_FUZZ_SECONDS   seconds per target (default 20)
#   IOPGT_FUZZ_TARGETS   which targets (default: fuzz-manifest fuzz-script
#                        fuzz-pgtable fuzz-foreign)
#   IOPGT_FUZZ_BUILD     build directory (default build-fuzz)
#   IOPGT_FUZZ_ARGS      more libFuzzer flags, e.g. "-jobs=2 -workers=2"
#
# Each target runs over a fresh temporary directory (first, so new units
# land there) plus the repository's seed corpus fuzz/corpus/TARGET (read
# only: CI never grows it).  Crash inputs go to BUILD/fuzz-artifacts/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/deps.sh"
iopgt_install_deps

secs=${IOPGT_FUZZ_SECONDS:-20}
targets=${IOPGT_FUZZ_TARGETS:-fuzz-manifest fuzz-script fuzz-pgtable fuzz-foreign}
build=${IOPGT_FUZZ_BUILD:-$root/build-fuzz}
extra=${IOPGT_FUZZ_ARGS:-}
artifacts=$build/fuzz-artifacts

# The fuzz build needs clang; a build dir configured with another compiler
# is not reused.
if [ -f "$build/CMakeCache.txt" ] &&
   ! grep -q '^CMAKE_C_COMPILER:.*clang' "$build/CMakeCache.txt"; then
	echo "fuzz: $build was configured without clang; remove it" >&2
	exit 1
fi
echo "=== fuzz: building in $build"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DIOPGT_FUZZ=ON \
	-DIOPGT_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets >/dev/null
mkdir -p "$artifacts"

# Leaks fail a run; GLib allocates with plain malloc so LSan sees it all;
# UBSan stops at the first report (the build has -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_SLICE=always-malloc
unset IOPGT_FUZZ_VERBOSE

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary=()
failed=0
for t in $targets; do
	corpus=$root/fuzz/corpus/$t
	dict=$root/fuzz/$t.dict
	log=$work/$t.log
	mkdir -p "$work/$t"
	args=(-max_total_time="$secs" -timeout=10 -print_final_stats=1
	      -artifact_prefix="$artifacts/$t-")
	[ -f "$dict" ] && args+=(-dict="$dict")
	echo "=== fuzz: $t for ${secs}s"
	# shellcheck disable=SC2086
	if ! "$build/bin/$t" "${args[@]}" $extra "$work/$t" "$corpus" \
		>"$log" 2>&1; then
		echo "fuzz: $t FAILED; the end of its log:" >&2
		tail -n 60 "$log" >&2
		for a in $(grep -o "Test unit written to [^ ]*" "$log" |
			   awk '{print $NF}'); do
			echo "fuzz: reproduce with: $build/bin/$t $a" >&2
		done
		failed=1
	fi
	execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" |
		tail -n 1)
	rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" |
	       tail -n 1)
	added=$(awk '/stat::new_units_added/ {print $2}' "$log" | tail -n 1)
	summary+=("$(printf '%-14s %4ss %10s execs %7s/s %6s new units' \
		"$t" "$secs" "${execs:-?}" "${rate:-?}" "${added:-?}")")
done
echo "=== fuzz: summary"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
	echo "=== fuzz: FAILED (inputs in $artifacts)" >&2
	exit 1
fi
echo "=== fuzz: no crash, no sanitizer report"
