#!/usr/bin/env bash
# Checks that keep the tree's wiring honest, run as CTests (label meta,
# tests/CMakeLists.txt), TAP on stdout:
#
#   check-tree.sh tests-wired SOURCE-DIR BUILD-DIR
#       every test program under tests/ (test-*.c, test-*.sh; tests/lib/
#       holds helpers) is a source of a test's program or a test's command,
#       so a test file cannot be dropped from the build without a failure.
#       Test programs count when registered with iopgt_add_test() or
#       iopgt_add_test_command(), which index them (BUILD/tests/index.tsv).
#   check-tree.sh readme-deps SOURCE-DIR
#       the README's first lines name exactly the packages scripts/deps.sh
#       installs, for the demo and for the test suite.
set -euo pipefail
what=$1
src=$2
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

tests_wired() {
	local build=$1 wired f
	wired=$({
		cut -f4 "$build/tests/index.tsv" | tr ',' '\n'
		ctest --test-dir "$build" -N -V |
			sed -n 's/^[0-9]*: Test command: //p' | tr ' ' '\n' |
			tr -d '"'
	} | sort -u)
	while IFS= read -r f; do
		if grep -qxF -- "$f" <<<"$wired"; then
			ok "${f#"$src"/} is built into a test"
		else
			not_ok "${f#"$src"/} is built into no test (register it" \
			       "with iopgt_add_test)"
		fi
	done < <(find "$src/tests" -path "$src/tests/lib" -prune -o -type f \
		 \( -name 'test-*.c' -o -name 'test-*.sh' \) -print | sort)
}

# The words of the first `...` after PHRASE in the README's top section.
readme_list() {	# PHRASE
	sed -n '1,/^## /p' "$src/README.md" | tr '\n' ' ' |
		sed -n "s/.*$1 \`\([^\`]*\)\`.*/\1/p" | tr ' ' '\n' |
		sed '/^$/d' | sort
}

words() { tr '\n' ' ' <<<"$1" | sed 's/ $//'; }

readme_deps() {
	local want have
	# shellcheck source=scripts/deps.sh
	. "$src/scripts/deps.sh"
	want=$(printf '%s\n' "${IOPGT_DEPS_BUILD[@]}" | sort)
	have=$(readme_list "The first needs")
	if [ "$want" = "$have" ]; then
		ok "README lists the demo's packages: $(words "$want")"
	else
		not_ok "README lists '$(words "$have")' for the demo;" \
		       "scripts/deps.sh installs '$(words "$want")'"
	fi
	want=$(printf '%s\n' "${IOPGT_DEPS_TEST[@]}" | sort)
	have=$(readme_list "the second also")
	if [ "$want" = "$have" ]; then
		ok "README lists the test suite's packages: $(words "$want")"
	else
		not_ok "README lists '$(words "$have")' for the test suite;" \
		       "scripts/deps.sh installs '$(words "$want")'"
	fi
}

case $what in
tests-wired) tests_wired "$3" ;;
readme-deps) readme_deps ;;
*) echo "usage: $0 tests-wired SRC BUILD | readme-deps SRC" >&2; exit 2 ;;
esac
echo "1..$n"
exit "$fail"
