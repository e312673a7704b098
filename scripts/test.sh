#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): six stages, each a build
# with -Werror (IOPGT_WERROR=ON) and a CTest run, then a short run of each
# fuzz target.  docs/testing.md ("The CI matrix") says what each stage is
# for; the soak and long fuzz runs are opt-in and never run here.
#
#   IOPGT_CI_STAGES   the stages to run, in order (default: all of them):
#                     gcc-release clang-release clang-asan gcc-debian tsan
#                     fuzz
#
# Build directories are build-STAGE (build-fuzz for fuzz) in the source
# tree, kept between runs so a second run only rebuilds what changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The host refuses plugin files and dirs writable by group or others
# (docs/security.md): build them 0755 whatever the caller's umask.
umask 022
. "$root/scripts/deps.sh"
. "$root/scripts/progress.sh"
iopgt_install_deps
cd "$root"
jobs=$(nproc)
all_stages="gcc-release clang-release clang-asan gcc-debian tsan fuzz"
stages=${IOPGT_CI_STAGES:-$all_stages}
for s in $stages; do
	case " $all_stages " in
	*" $s "*) ;;
	*) echo "test.sh: unknown stage '$s' (known: $all_stages)" >&2
	   exit 2 ;;
	esac
done
timings=()

failed_mark() { [ "$1" -eq 0 ] || echo "  FAILED"; }

# stage NAME CMAKE-ARGS... [-- CTEST-ARGS...]
# Configures build-NAME (with -Werror), builds it, runs CTest with
# CTEST-ARGS.  With ONLY_THREADED=1 it builds only the programs of the tests
# labelled threads (and what they depend on); CTEST_WRAP, if set, runs
# CTest under that command.
stage() {
	local name=$1; shift
	local dir=$root/build-$name cargs=() targets=() t0 t1 rc=0
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do cargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	echo "=== $name: configure and build (build-$name/)"
	t0=$SECONDS
	mkdir -p "$dir"
	if ! cmake -S "$root" -B "$dir" -DIOPGT_WERROR=ON "${cargs[@]}" \
		>"$dir/ci-configure.log" 2>&1; then
		tail -n 40 "$dir/ci-configure.log" >&2
		timings+=("$(printf '%-14s configure FAILED' "$name")")
		return 1
	fi
	if [ "${ONLY_THREADED:-0}" = 1 ]; then
		mapfile -t targets < <(threaded_targets "$dir")
		[ ${#targets[@]} -gt 0 ] && targets=(--target "${targets[@]}")
	fi
	if ! iopgt_quiet_build "$dir/ci-build.log" \
		cmake --build "$dir" -j"$jobs" "${targets[@]}"; then
		timings+=("$(printf '%-14s build FAILED after %ds' "$name" \
			$((SECONDS - t0)))")
		return 1
	fi
	t1=$SECONDS
	echo "=== $name: ctest $*"
	${CTEST_WRAP:-} ctest --test-dir "$dir" -j"$jobs" --output-on-failure \
		"$@" || rc=1
	timings+=("$(printf '%-14s build %4ds  tests %4ds%s' "$name" \
		$((t1 - t0)) $((SECONDS - t1)) "$(failed_mark "$rc")")")
	return "$rc"
}

# The programs of the tests labelled threads, from the index CMake writes
# (cmake/IopgtTesting.cmake).  Nothing (so: build all) if a threads test
# is missing from the index, i.e. was registered without iopgt_add_test.
threaded_targets() {	# BUILD-DIR
	local dir=$1 want have
	want=$(ctest --test-dir "$dir" -N -L threads -LE soak |
	       sed -n 's/^Total Tests: //p')
	have=$(awk -F'\t' '$3 ~ /(^|,)threads(,|$)/ &&
			  $3 !~ /(^|,)soak(,|$)/' "$dir/tests/index.tsv" |
	       wc -l)
	[ "$want" = "$have" ] || return 0
	awk -F'\t' '$3 ~ /(^|,)threads(,|$)/ && $3 !~ /(^|,)soak(,|$)/ \
		{ print $2 }' "$dir/tests/index.tsv" | sort -u
}

run_stage() {
	case $1 in
	gcc-release)
		# -O3 -DNDEBUG; the one stage with valgrind: the memcheck
		# twins (label valgrind) and perf-budgets (label perf, which
		# skips itself in the other stages' builds).
		stage gcc-release -DCMAKE_C_COMPILER=gcc \
			-DCMAKE_BUILD_TYPE=Release -DIOPGT_VALGRIND=ON \
			-- -LE soak
		;;
	clang-release)
		stage clang-release -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=Release -- -LE 'soak|valgrind'
		;;
	clang-asan)
		ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		stage clang-asan -DCMAKE_C_COMPILER=clang \
			-DCMAKE_BUILD_TYPE=Debug \
			-DIOPGT_SANITIZE=address,undefined \
			-- -LE 'soak|valgrind'
		;;
	gcc-debian)
		# What a Debian package build passes (build type None: all
		# flags are dpkg-buildflags'), run from the source root as
		# dpkg-buildpackage is, for -ffile-prefix-map.
		stage gcc-debian -DCMAKE_C_COMPILER=gcc \
			-DCMAKE_BUILD_TYPE=None \
			-DCMAKE_C_FLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
			-DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" \
			-DCMAKE_SHARED_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" \
			-DCMAKE_MODULE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" \
			-- -LE 'soak|valgrind'
		;;
	tsan)
		# Only the tests labelled threads, so only their programs are
		# built.  TSan wants a fixed address-space layout on kernels
		# with high ASLR entropy: setarch -R.
		wrap=""
		if setarch "$(uname -m)" -R true 2>/dev/null; then
			wrap="setarch $(uname -m) -R"
		fi
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		ONLY_THREADED=1 CTEST_WRAP=$wrap \
		stage tsan -DCMAKE_C_COMPILER=gcc \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DIOPGT_SANITIZE=thread -- -L threads -LE soak
		;;
	fuzz)
		# Each libFuzzer target briefly over its seed corpus
		# (docs/testing.md, "Fuzzing"); configured here first so the
		# cached IOPGT_WERROR=ON holds when fuzz.sh configures again.
		local t0=$SECONDS rc=0
		cmake -S "$root" -B "$root/build-fuzz" -DIOPGT_WERROR=ON \
			-DCMAKE_C_COMPILER=clang -DIOPGT_FUZZ=ON \
			-DIOPGT_BUILD_TESTS=OFF >/dev/null &&
		IOPGT_FUZZ_SECONDS=${IOPGT_FUZZ_SECONDS:-15} \
		IOPGT_FUZZ_TARGETS=${IOPGT_FUZZ_TARGETS:-"fuzz-manifest \
			fuzz-script fuzz-pgtable fuzz-foreign"} \
			bash "$root/scripts/fuzz.sh" || rc=1
		timings+=("$(printf '%-14s total %4ds%s' fuzz \
			$((SECONDS - t0)) "$(failed_mark "$rc")")")
		return "$rc"
		;;
	esac
}

# Every stage runs even if an earlier one failed, so one run shows all
# that is broken; the exit status says whether any failed.
start=$SECONDS
failed=()
for s in $stages; do
	run_stage "$s" || failed+=("$s")
done
echo "=== stage times (total $((SECONDS - start)) s)"
printf '  %s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "=== FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "=== all stages passed"
