#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Thread scaling, as medians over rounds: each round runs
#   iopgt-bench --threads --only '*-threads*' --runs RUNS --json
# once per build directory given (alternately, so an A/B comparison sees
# the same machine load), and the script prints, per build and format,
# the median, min and max over the rounds of the round's three speed-ups:
# median (its median 1-thread wall time over its median 2-thread wall
# time), best (fastest run over fastest run) and cpu (twice one thread's
# CPU time per page over the two threads' total: 2x when the threads
# share nothing, read only from rounds where they ran at once).
#
#   bench/threads.sh [-r ROUNDS] [-n RUNS] BUILD_DIR [BUILD_DIR...] [-- OPTS]
#   e.g. bench/threads.sh -r 9 build
#        bench/threads.sh -r 9 build-before build-after -- --v7s-size 1G
#
# The load average before and after is printed too: wall-clock speed-ups
# mean something only on a quiet machine (docs/performance.md, Threads).
# Needs jq.  Exit status 1 when a run of the bench failed.
set -eu

rounds=7
runs=11
while getopts r:n: opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	n) runs=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
builds=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	builds="$builds $1"
	shift
done
[ $# -gt 0 ] && shift
if [ -z "$builds" ]; then
	echo "usage: $0 [-r ROUNDS] [-n RUNS] BUILD_DIR... [-- OPTS]" >&2
	exit 2
fi
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iopgt-threads.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$rounds" ]; do
	for b in $builds; do
		"$b/bin/iopgt-bench" --threads --only '*-threads*' \
			--runs "$runs" --json "$@" >"$tmp/out.json" 2>/dev/null || {
			echo "$0: $b/bin/iopgt-bench failed" >&2
			exit 1
		}
		jq -r --arg b "$b" '.sections[] | select(.name == "threads")
			| .values | to_entries[]
			| select(.key | test("speedup-(median|best|cpu)$"))
			| "\($b) \(.key) \(.value.value // .value)"' \
			"$tmp/out.json" >>"$tmp/all.txt"
	done
	i=$((i + 1))
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-28s %-30s %6s %8s %8s %8s\n' build figure rounds median min max
sort -k1,1 -k2,2 -k3,3g "$tmp/all.txt" | awk '
function flush() {
	if (n == 0)
		return
	med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	printf "%-28s %-30s %6d %7.2fx %7.2fx %7.2fx\n", pb, pk, n, med,
	       v[1], v[n]
}
{
	if ($1 != pb || $2 != pk) {
		flush()
		n = 0
		pb = $1
		pk = $2
	}
	v[++n] = $3
}
END { flush() }'
