#!/usr/bin/env bash
# Install what building and testing iopgt needs, from Debian packages, only
# when something is missing.  Sourced by demo.sh, test.sh and fuzz.sh.
# The README's first lines list exactly these packages: change both.

# Building and running iopgt (scripts/demo.sh).  graphviz renders
# `dump ID dot`.
IOPGT_DEPS_BUILD=(cmake make gcc pkg-config libglib2.0-dev libjson-glib-dev
		  graphviz)
# The CI matrix on top (scripts/test.sh): valgrind for the memcheck twins,
# clang and its sanitizer/libFuzzer runtimes, dpkg-buildflags (dpkg-dev)
# for the Debian packaging flags build; gnuplot-nox and jq for the
# benchmark's charts (bench/chart.sh).
IOPGT_DEPS_TEST=(valgrind clang libclang-rt-14-dev dpkg-dev gnuplot-nox jq)

# iopgt_install_deps [build]: all of them, or with `build` only those the
# demo needs (a fresh machine then gets its first result without clang).
iopgt_install_deps() {
	local pkgs=("${IOPGT_DEPS_BUILD[@]}")
	[ "${1:-}" = build ] || pkgs+=("${IOPGT_DEPS_TEST[@]}")
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "iopgt: installing ${missing[*]} (apt-get)" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		"${missing[@]}" >/dev/null
	echo "iopgt: installed" >&2
}
