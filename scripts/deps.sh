#!/usr/bin/env bash
# Install what building and testing iopgt needs, from Debian packages, only
# when something is missing.  Sourced by demo.sh and test.sh.
iopgt_install_deps() {
	local pkgs=(cmake make gcc pkg-config libglib2.0-dev libjson-glib-dev
		    graphviz valgrind clang libclang-rt-14-dev)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "iopgt: installing ${missing[*]}" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		"${missing[@]}" >/dev/null
}
