#!/usr/bin/env bash
# Progress for long builds, sourced by demo.sh and test.sh: the user sees
# that something is happening, without CMake's hundreds of lines.
#
# iopgt_quiet_build LOG CMD...: runs CMD (a `cmake --build`) with its output
# in LOG.  On a terminal, stderr shows one line that follows CMake's
# "[ NN%] ..." lines; elsewhere (CI logs) a line at every 25%.  On failure
# the end of LOG goes to stderr and the status is CMD's.
iopgt_quiet_build() {
	local log=$1; shift
	local tty=0 next=25 line pct width=${COLUMNS:-80} errexit=0 rc
	[ -t 2 ] && tty=1
	case $- in *e*) errexit=1 ;; esac
	: >"$log"
	set +e
	"$@" 2>&1 | while IFS= read -r line; do
		printf '%s\n' "$line" >>"$log"
		case $line in
		"["*"%]"*) ;;
		*) continue ;;
		esac
		if [ "$tty" -eq 1 ]; then
			printf '\r\033[K  %s' "${line:0:$((width - 3))}" >&2
			continue
		fi
		pct=${line#[}
		pct=${pct%%%*}
		pct=${pct// /}
		case $pct in ''|*[!0-9]*) continue ;; esac
		while [ "$pct" -ge "$next" ] && [ "$next" -le 100 ]; do
			printf '  built %d%%\n' "$next" >&2
			next=$((next + 25))
		done
	done
	rc=${PIPESTATUS[0]}
	[ "$errexit" -eq 1 ] && set -e
	[ "$tty" -eq 1 ] && printf '\r\033[K' >&2
	if [ "$rc" -ne 0 ]; then
		echo "build failed ($*); the end of $log:" >&2
		tail -n 40 "$log" >&2
	fi
	return "$rc"
}
