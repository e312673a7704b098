#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Instructions per operation for every iopgt-bench workload.
#
#   bench/callgrind.sh [BUILD_DIR] [iopgt-bench options...]
#   e.g. bench/callgrind.sh build --direct --host
#
# Runs `iopgt-bench --callgrind` under valgrind --tool=callgrind, reads the
# inclusive cost of each bench_* function from callgrind_annotate and
# divides it by the unit count the program printed.  The raw files stay in
# $CG_DIR (default: a new temporary directory) for a closer look:
#   callgrind_annotate --inclusive=yes $CG_DIR/cg.out | grep bench_
set -eu

build=${1:-build}
[ $# -gt 0 ] && shift
bench=$build/bin/iopgt-bench
if [ ! -x "$bench" ]; then
	echo "callgrind.sh: no $bench (build first, or give the build dir)" >&2
	exit 2
fi
dir=${CG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/iopgt-cg.XXXXXX")}
mkdir -p "$dir"

valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
	"$bench" --callgrind "$@" >"$dir/units.txt" 2>"$dir/valgrind.log" || {
	echo "callgrind.sh: iopgt-bench failed, see $dir/valgrind.log" >&2
	exit 1
}
callgrind_annotate --inclusive=yes --threshold=100 --auto=no \
	"$dir/cg.out" >"$dir/annotate.txt"

# units.txt:    FUNCTION UNITS UNIT [BUDGET LINUX]
# annotate.txt: IR (PCT)  FILE:FUNCTION [OBJECT]
awk '
NR == FNR {
	if ($1 ~ /^bench_/) {
		units[$1] = $2; unit[$1] = $3; budget[$1] = $4; linux[$1] = $5
		order[++n] = $1
	}
	next
}
{
	for (i = 1; i <= NF; i++) {
		if ($i ~ /:bench_[a-z0-9_]+$/) {
			fn = $i; sub(/.*:/, "", fn)
			ir = $1; gsub(/,/, "", ir)
			cost[fn] = ir
		}
	}
}
END {
	printf "%-34s %7s %-6s %12s %10s %7s %7s  %s\n", "function", "units",
	       "unit", "Ir", "Ir/unit", "budget", "linux", "status"
	for (k = 1; k <= n; k++) {
		f = order[k]
		if (!(f in cost)) {
			printf "%-34s %7s %-6s %12s\n", f, units[f], unit[f], "?"
			continue
		}
		per = cost[f] / units[f]
		status = ""
		if (budget[f] != "")
			status = per <= budget[f] ? "met" : "MISSED"
		printf "%-34s %7d %-6s %12d %10.1f %7s %7s  %s\n", f, units[f],
		       unit[f], cost[f], per, budget[f], linux[f], status
	}
}' "$dir/units.txt" "$dir/annotate.txt"
echo "(files in $dir)"
