#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The SDK as a plugin author gets it: install this build tree into a
# temporary prefix, build examples/out-of-tree-plugin against the installed
# files only (CMake find_package, pkg-config + cc, the example's Makefile),
# and run each resulting simple-2l.so with the installed iopgt-host against
# golden output.  Speaks TAP; exit status 0 only if every test passed.
#
# Environment (set by tests/install/CMakeLists.txt):
#   IOPGT_BUILD_DIR IOPGT_SOURCE_DIR   the tree under test
#   IOPGT_BINDIR IOPGT_LIBDIR IOPGT_INCLUDEDIR IOPGT_DATADIR IOPGT_MANDIR
#   IOPGT_DOCDIR IOPGT_PLUGIN_SUBDIR IOPGT_DATA_SUBDIR IOPGT_CMAKE_DIR
#                                      install layout, relative to the prefix
#   CMAKE CTEST CC                     the tools the build used
#   IOPGT_SANITIZE                     the build's -fsanitize= list, or empty
#   IOPGT_KEEP_TMP=1                   keep the temporary tree for debugging
set -u
umask 022

: "${IOPGT_BUILD_DIR:?}" "${IOPGT_SOURCE_DIR:?}" "${IOPGT_BINDIR:=bin}"
: "${IOPGT_LIBDIR:=lib}" "${IOPGT_INCLUDEDIR:=include}"
: "${IOPGT_DATADIR:=share}" "${IOPGT_MANDIR:=$IOPGT_DATADIR/man}"
: "${IOPGT_DOCDIR:=$IOPGT_DATADIR/doc/iopgt}"
: "${IOPGT_PLUGIN_SUBDIR:=$IOPGT_LIBDIR/iopgt/plugins}"
: "${IOPGT_DATA_SUBDIR:=$IOPGT_DATADIR/iopgt}"
: "${IOPGT_CMAKE_DIR:=$IOPGT_LIBDIR/cmake/iopgt}"
: "${CMAKE:=cmake}" "${CTEST:=ctest}" "${CC:=cc}" "${IOPGT_SANITIZE:=}"
# Nothing from the caller's environment may add plugins or change logs.
unset IOPGT_PLUGIN_PATH IOPGT_LOG PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH

example=$IOPGT_SOURCE_DIR/examples/out-of-tree-plugin
expected=$IOPGT_SOURCE_DIR/tests/install/expected
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iopgt-install.XXXXXX") || exit 1
cleanup() {
	if [ "${IOPGT_KEEP_TMP:-}" = 1 ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 0700 "$tmp"
prefix=$tmp/prefix
host=$prefix/$IOPGT_BINDIR/iopgt-host
# The CLI's probe cache goes under $XDG_CACHE_HOME: keep it in here.
export XDG_CACHE_HOME=$tmp/cache
export PKG_CONFIG_PATH=$prefix/$IOPGT_LIBDIR/pkgconfig

san_flags=()
zdefs=-Wl,-z,defs
if [ -n "$IOPGT_SANITIZE" ]; then
	# libiopgt-host.so is instrumented: its users must be too.
	san_flags=(-fsanitize="$IOPGT_SANITIZE" -fno-omit-frame-pointer)
	# clang puts sanitizer runtimes in executables only: a module's
	# __asan_* references stay undefined until it is loaded.
	if "$CC" --version 2>/dev/null | grep -q clang; then
		zdefs=
	fi
fi

n=0
failed=0
log=$tmp/log
# ok DESCRIPTION COMMAND...: one TAP test; the command's output is shown
# as diagnostics on failure.
ok() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$log" 2>&1; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		sed 's/^/# /' "$log"
		failed=$((failed + 1))
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# ---- the install tree ----------------------------------------------------------

ok "cmake --install into a temporary prefix" \
	"$CMAKE" --install "$IOPGT_BUILD_DIR" --prefix "$prefix"
if [ "$failed" -ne 0 ]; then
	echo "Bail out! nothing to test without an install tree"
	exit 1
fi

check_layout() {
	local f missing=0

	for f in "$IOPGT_BINDIR/iopgt-host" \
		 "$IOPGT_LIBDIR/libiopgt-host.so" \
		 "$IOPGT_LIBDIR/pkgconfig/iopgt-plugin.pc" \
		 "$IOPGT_LIBDIR/pkgconfig/iopgt-host.pc" \
		 "$IOPGT_CMAKE_DIR/iopgtConfig.cmake" \
		 "$IOPGT_CMAKE_DIR/iopgtConfigVersion.cmake" \
		 "$IOPGT_CMAKE_DIR/iopgtTargets.cmake" \
		 "$IOPGT_CMAKE_DIR/IopgtPluginHelpers.cmake" \
		 "$IOPGT_INCLUDEDIR"/iopgt/{plugin,pgtable,host-services}.h \
		 "$IOPGT_INCLUDEDIR"/iopgt/{bits,host}.h \
		 "$IOPGT_PLUGIN_SUBDIR/io-pgtable-arm.so" \
		 "$IOPGT_PLUGIN_SUBDIR/io-pgtable-arm-v7s.so" \
		 "$IOPGT_DATA_SUBDIR/iopgt.conf" \
		 "$IOPGT_MANDIR/man1/iopgt-host.1" \
		 "$IOPGT_DATADIR/bash-completion/completions/iopgt-host" \
		 "$IOPGT_DOCDIR/writing-a-format.md" \
		 "$IOPGT_DOCDIR/examples/out-of-tree-plugin/simple-2l.c"; do
		if [ ! -e "$prefix/$f" ]; then
			echo "missing: $f"
			missing=1
		fi
	done
	return $missing
}
ok "the install tree has the SDK, the CLI, plugins, man page, completion" \
	check_layout

# Text files must not name the build or source tree (relocatable).
no_build_paths() {
	! grep -rIl -e "$IOPGT_BUILD_DIR" -e "$IOPGT_SOURCE_DIR" "$prefix"
}
ok "no installed text file names the build or source tree" no_build_paths

check_pkgconfig() {
	local v

	v=$(pkg-config --variable=plugindir iopgt-plugin) || return 1
	[ "$v" = "$prefix/$IOPGT_PLUGIN_SUBDIR" ] ||
		{ echo "plugindir: '$v'"; return 1; }
	v=$(pkg-config --variable=plugindir iopgt-host) || return 1
	[ "$v" = "$prefix/$IOPGT_PLUGIN_SUBDIR" ] ||
		{ echo "iopgt-host plugindir: '$v'"; return 1; }
	v=$(pkg-config --variable=manifest iopgt-host) || return 1
	[ "$v" = "$prefix/$IOPGT_DATA_SUBDIR/iopgt.conf" ] && [ -f "$v" ] ||
		{ echo "manifest: '$v'"; return 1; }
	v=$(pkg-config --cflags iopgt-plugin) || return 1
	v=${v%% }
	[ "$v" = "-I$prefix/$IOPGT_INCLUDEDIR" ] || { echo "cflags: '$v'"; return 1; }
	v=$(pkg-config --libs iopgt-host) || return 1
	case "$v" in
	"-L$prefix/$IOPGT_LIBDIR -liopgt-host "*glib-2.0*) ;;
	*) echo "libs: '$v'"; return 1 ;;
	esac
}
ok "pkg-config: plugindir, manifest, cflags of iopgt-plugin, libs of iopgt-host" \
	check_pkgconfig

# ---- build 1: CMake, find_package(iopgt) ---------------------------------------

cm=$tmp/build-cmake
ok "example configures with find_package(iopgt) via CMAKE_PREFIX_PATH" \
	"$CMAKE" -S "$example" -B "$cm" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_FLAGS="${san_flags[*]}" \
		-DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}" \
		-DCMAKE_MODULE_LINKER_FLAGS="${san_flags[*]}"
ok "example builds with CMake (-Wall -Wextra -Werror)" \
	"$CMAKE" --build "$cm"
only_descriptor_exported() {
	local syms

	syms=$(nm -D --defined-only "$1" | awk '{ print $3 }' |
	       grep -v -e '^_init$' -e '^_fini$' -e '^__asan' -e '^__ubsan' \
		   -e '^__odr_asan')
	[ "$syms" = iopgt_plugin_desc ] || { echo "exports: $syms"; return 1; }
}
ok "the CMake-built module exports only iopgt_plugin_desc" \
	only_descriptor_exported "$cm/plugins/simple-2l.so"
ok "example's own tests pass (ctest: demo script, GLib test on iopgt::host)" \
	"$CTEST" --test-dir "$cm" --output-on-failure

# ---- build 2: pkg-config and cc ------------------------------------------------

pc=$tmp/build-pc
mkdir -p "$pc"
build_with_cc() {
	# The one-liner the docs give, nothing else.
	# shellcheck disable=SC2046
	"$CC" -std=c11 -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
		"${san_flags[@]}" $(pkg-config --cflags iopgt-plugin) \
		-shared $zdefs -o "$pc/simple-2l.so" "$example/simple-2l.c"
}
ok "example builds with cc and pkg-config --cflags iopgt-plugin" build_with_cc
build_pedantic() {
	# The installed headers need no GNU mode: ISO C11, pedantic, as errors.
	# shellcheck disable=SC2046
	"$CC" -std=c11 -Wpedantic -fPIC -Wall -Wextra -Werror \
		$(pkg-config --cflags iopgt-plugin) \
		-c -o "$pc/simple-2l-pedantic.o" "$example/simple-2l.c"
}
ok "example builds as ISO C11 with -Wpedantic -Werror" build_pedantic
ok "the cc-built module exports only iopgt_plugin_desc" \
	only_descriptor_exported "$pc/simple-2l.so"

# ---- build 3: the example's Makefile ---------------------------------------------

mk=$tmp/build-make
mkdir -p "$mk"
ok "example's Makefile builds and passes 'make check' (iopgt-host.pc)" \
	make -s -C "$mk" -f "$example/Makefile" CC="$CC" \
		CFLAGS="-O2 -g ${san_flags[*]}" LDFLAGS="${san_flags[*]}" \
		PLUGIN_LDFLAGS="-shared $zdefs" all check

# ---- each module, from a fresh plugin dir, with the installed CLI ------------------

# run_demo NAME SO: the demo script's exact stdout, nothing on stderr.
run_demo() {
	local dir=$tmp/plugins-$1 out=$tmp/demo-$1.out err=$tmp/demo-$1.err

	mkdir -m 0755 "$dir" && install -m 0644 "$2" "$dir/" || return 1
	(cd "$example" && "$host" --plugin-dir "$dir" --no-manifest \
		run demo.iopgt) >"$out" 2>"$err" || {
		echo "exit status $?"; cat "$err"; return 1; }
	diff -u "$expected/simple-2l-demo.out" "$out" || return 1
	[ ! -s "$err" ] || { echo "stderr:"; cat "$err"; return 1; }
}

# run_info NAME: `info simple-2l`, with the plugin dir as @PLUGINDIR@.
run_info() {
	local dir=$tmp/plugins-$1 out=$tmp/info-$1.out

	"$host" --plugin-dir "$dir" --no-manifest info simple-2l >"$out" ||
		return 1
	# the ABI minor moves with the SDK; other tests pin its value
	sed -e "s|$dir|@PLUGINDIR@|" \
	    -e "s|^file abi:    [0-9]*\.[0-9]*\$|file abi:    @ABI@|" "$out" |
		diff -u "$expected/simple-2l-info.out" -
}

for variant in cmake:"$cm/plugins/simple-2l.so" cc:"$pc/simple-2l.so"; do
	name=${variant%%:*}
	so=${variant#*:}
	ok "$name-built plugin: run demo.iopgt matches the golden output" \
		run_demo "$name" "$so"
	ok "$name-built plugin: info simple-2l matches the golden output" \
		run_info "$name"
done

# The installed conformance tool passes the example's format.
ok "installed iopgt-conformance passes every check on simple-2l" \
	"$prefix/$IOPGT_BINDIR/iopgt-conformance" --plugin-dir \
	"$tmp/plugins-cmake" simple-2l

# The embedding example (docs/embedding.md): built with its Makefile
# against the installed SDK, run on the installed plugins: an LPAE table in
# a memfd at "guest physical" 0x80000000, its leaf read back through the
# program's own mapping.
embed_example() {
	local out=$tmp/embed.out

	make -s -C "$tmp" -f "$prefix/$IOPGT_DOCDIR/examples/embedding/Makefile" \
		CC="$CC" CFLAGS="-O2 -g -Wall -Wextra -Werror ${san_flags[*]}" \
		LDFLAGS="${san_flags[*]} -Wl,-rpath,$prefix/$IOPGT_LIBDIR" \
		embed || return 1
	"$tmp/embed" "$prefix/$IOPGT_PLUGIN_SUBDIR" >"$out" || return 1
	grep -qx "root 0x80000000" "$out" &&
	grep -q "^leaf for iova 0x40201000 at PA 0x800" "$out" &&
	grep -qx "output address 0x12345000" "$out" || { cat "$out"; return 1; }
}
ok "the embedding example builds from the SDK and puts a table in its memfd" \
	embed_example

# The bundled plugins still load from the installed default dir.
check_default_dir() {
	"$host" list | grep -q '^io-pgtable-arm  *loaded .*arm-64-lpae-s1'
}
ok "installed iopgt-host finds the installed plugins and manifest" \
	check_default_dir

# ---- the guide -----------------------------------------------------------------

# Every block after "<!-- excerpt: PATH -->" in the installed guide is
# verbatim in the installed copy of PATH, so the guide can't drift.
check_excerpts() {
	local docdir=$prefix/$IOPGT_DOCDIR f path text block count=0 bad=0

	awk -v out="$tmp/excerpt" '
		/^<!-- excerpt: .* -->$/ { path = $3; next }
		path != "" && /^```/ && !inblock { inblock = 1; n++
			file = out "." n; print path > file; next }
		inblock && /^```$/ { inblock = 0; path = ""; close(file); next }
		inblock { print > file }
	' "$docdir/writing-a-format.md" || return 1
	for f in "$tmp"/excerpt.*; do
		[ -e "$f" ] || break
		count=$((count + 1))
		path=$(head -n 1 "$f")
		block=$(tail -n +2 "$f")
		text=$(cat "$docdir/$path") || { bad=1; continue; }
		if [[ $text != *"$block"* ]]; then
			echo "not verbatim in $path:"
			echo "$block" | head -n 5
			bad=1
		fi
	done
	[ "$count" -ge 10 ] || { echo "only $count excerpts found"; return 1; }
	return $bad
}
ok "every excerpt in writing-a-format.md is verbatim in the example" \
	check_excerpts

# ---- the man page and the completion -------------------------------------------------

man_page=$prefix/$IOPGT_MANDIR/man1/iopgt-host.1
lint_man() {
	local warnings

	warnings=$(groff -man -Tutf8 -ww -z "$man_page" 2>&1) || return 1
	[ -z "$warnings" ] || { echo "$warnings"; return 1; }
}
man_has_options() {
	local opt text missing=0

	text=$(groff -man -Tascii -P-cbou "$man_page") || return 1
	for opt in plugin-dir manifest no-manifest json mem verbose version \
		   help allow-insecure no-probe probe-timeout cache no-cache \
		   trusted-plugin-dir; do
		grep -q -e "--$opt\b" <<<"$text" ||
			{ echo "man page lacks --$opt"; missing=1; }
	done
	return $missing
}
if command -v groff >/dev/null; then
	ok "the man page renders without groff warnings" lint_man
	ok "the man page documents every option" man_has_options
else
	skip "the man page renders without groff warnings" "no groff"
	skip "the man page documents every option" "no groff"
fi

completion=$prefix/$IOPGT_DATADIR/bash-completion/completions/iopgt-host
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_iopgt_host iopgt-host "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@"
}
expect_completion() {	# WANT WORDS...
	local want=$1 got

	shift
	got=$(PATH="$prefix/$IOPGT_BINDIR:$PATH" complete_words "$@") ||
		return 1
	printf '%s\n' "$got" | grep -qx -- "$want" ||
		{ echo "offered: $got"; return 1; }
}
ok "completion offers the commands" \
	expect_completion plan iopgt-host ""
ok "completion offers the options" \
	expect_completion --no-manifest iopgt-host --no-m
ok "completion offers plugin names for info, honouring --plugin-dir" \
	expect_completion simple-2l iopgt-host --plugin-dir \
		"$tmp/plugins-cmake" --no-manifest info s
names_of() {	# KIND WANT
	local got

	got=$(bash --norc --noprofile -c 'source "$1"; shift
		_iopgt_host_names "$@"' _ "$completion" "$1" "$host" \
		--plugin-dir "$tmp/plugins-cmake" --no-manifest) || return 1
	[ "$got" = "$2" ] || { echo "got: $got"; return 1; }
}
ok "completion helper reads format names from list --json" \
	names_of formats simple-2l

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n failed"
	exit 1
fi
