#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The charts of docs/performance.md, from one run of iopgt-bench --json.
#
#   bench/chart.sh [BUILD_DIR] [OUT_DIR] [iopgt-bench options...]
#   e.g. bench/chart.sh build docs/images --runs 7
#
# Writes to OUT_DIR (default docs/images next to this script):
#   perf-bench.json  the benchmark's own output, kept with the charts
#   perf-ops.dat     page size, ns per page and per byte, map and unmap,
#                    single pages and batches of 512 (CPU time, medians)
#   perf-scale.dat   the scale run: bytes mapped, map CPU time, floor
#   perf-ops.png     ns per mapped page and per byte against page size
#   perf-scale.png   time against size for the scale run
# Needs gnuplot (Debian package gnuplot-nox) and jq.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
out=${1:-$here/../docs/images}
[ $# -gt 0 ] && shift

for tool in gnuplot jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "chart.sh: needs $tool (apt-get install gnuplot-nox jq)" >&2
		exit 2
	fi
done
bench=$build/bin/iopgt-bench
if [ ! -x "$bench" ]; then
	echo "chart.sh: no $bench (build first, or give the build dir)" >&2
	exit 2
fi
mkdir -p "$out"

# Stage 1, 4K/16K/64K granules: every map and unmap row, and the scale run.
"$bench" --json --scale --format s1 --format s1-16k --format s1-64k \
	--only 's1-*map-*' --only 's1-scale-*' "$@" >"$out/perf-bench.json"

# pgsize label, bytes, map x1, map x512, unmap x1, unmap x512 (ns/page)
jq -r '
def bytes: {"4k": 4096, "16k": 16384, "64k": 65536, "2m": 2097152,
	    "32m": 33554432, "512m": 536870912, "1g": 1073741824}[.];
[.sections[] | select(.name == "operations") | .rows[]
 | (.row | capture("(?<kind>unmap|map)-(?<pg>[0-9]+[km]|1g)(?<x>-x512)?$"))
   as $m
 | {pg: $m.pg, key: ($m.kind + (if $m.x then "-x512" else "" end)),
    ns: .cpu_ns_median}]
| group_by(.pg) | sort_by(.[0].pg | bytes)[]
| (map({(.key): .ns}) | add) as $r
| [.[0].pg, (.[0].pg | bytes), $r["map"], $r["map-x512"], $r["unmap"],
   $r["unmap-x512"]] | @tsv' "$out/perf-bench.json" >"$out/perf-ops.dat"

# case, page size, batched, bytes mapped, map CPU s, floor (4K pages) s
jq -r '
[.sections[] | select(.name == "scale")][0] as $s
| $s.rows[]
| .row as $r
| ($r | capture("-(?<pg>4k|2m|1g)(?<x>-x512)?$")) as $m
| [$r, $m.pg, (if $m.x then "x512" else "x1" end),
   $s.values[$r + "-bytes"].value, $s.values[$r + "-map-cpu"].value,
   $s.values[$r + "-floor-4k"].value] | @tsv' \
	"$out/perf-bench.json" >"$out/perf-scale.dat"

cd "$out"
gnuplot <<'EOF'
set terminal pngcairo size 1100,460 font "sans,10"
set output "perf-ops.png"
set datafile separator "\t"
set multiplot layout 1,2 title "arm-64-lpae-s1 through libiopgt-host: CPU time per mapped page (median)"
set logscale xy
set grid
set key top right
set xrange [2500:2.5e9]
set yrange [0.1:100]
set xlabel "page size"
set xtics font ",8" ("4K" 4096, "16K" 16384, "64K" 65536, "2M" 2097152, "32M" 33554432, "512M" 536870912, "1G" 1073741824)
set ylabel "ns per page"
plot "perf-ops.dat" using 2:3 with linespoints lw 2 pt 7 title "map, 1 page a call", \
     "" using 2:4 with linespoints lw 2 pt 5 title "map, 512 a call", \
     "" using 2:5 with linespoints lw 2 pt 6 dt 2 title "unmap, 1 page a call", \
     "" using 2:6 with linespoints lw 2 pt 4 dt 2 title "unmap, 512 a call"
set ylabel "ns per byte mapped"
set format y "10^{%L}"
set yrange [*:*]
set key top right
plot "perf-ops.dat" using 2:($3/$2) with linespoints lw 2 pt 7 title "map, 1 page a call", \
     "" using 2:($4/$2) with linespoints lw 2 pt 5 title "map, 512 a call", \
     "" using 2:($5/$2) with linespoints lw 2 pt 6 dt 2 title "unmap, 1 page a call", \
     "" using 2:($6/$2) with linespoints lw 2 pt 4 dt 2 title "unmap, 512 a call"
unset multiplot

set terminal pngcairo size 800,500 font "sans,10"
set output "perf-scale.png"
set xrange [*:*]
set yrange [*:*]
set title "Scale: map CPU time against size mapped (fresh host each; one run)"
set logscale xy
set grid
set format y "%g"
set key bottom right
set xlabel "bytes mapped"
set ylabel "seconds (CPU)"
set xtics ("4G" 2**32, "16G" 2**34, "64G" 2**36, "256G" 2**38, "1T" 2**40, "4T" 2**42, "16T" 2**44, "64T" 2**46, "256T" 2**48)
plot "perf-scale.dat" using (strcol(2) eq "4k" && strcol(3) eq "x1" ? $4 : NaN):5 with linespoints lw 2 pt 7 title "4K pages, 1 a call", \
     "" using (strcol(2) eq "4k" && strcol(3) eq "x512" ? $4 : NaN):5 with linespoints lw 2 pt 5 title "4K pages, 512 a call", \
     "" using (strcol(2) eq "4k" && strcol(3) eq "x1" ? $4 : NaN):6 with linespoints lw 1 pt 1 dt 2 lc rgb "black" title "floor: the 4K tables' bytes written to fresh memory", \
     "" using (strcol(2) eq "2m" && strcol(3) eq "x1" ? $4 : NaN):5 with linespoints lw 2 pt 9 title "2M blocks, 1 a call", \
     "" using (strcol(2) eq "2m" && strcol(3) eq "x512" ? $4 : NaN):5 with points pt 11 ps 1.5 title "2M blocks, 512 a call", \
     "" using (strcol(2) eq "1g" && strcol(3) eq "x1" ? $4 : NaN):5 with linespoints lw 2 pt 13 title "1G blocks, 1 a call", \
     "" using (strcol(2) eq "1g" && strcol(3) eq "x512" ? $4 : NaN):5 with points pt 15 ps 1.5 title "1G blocks, 512 a call"
EOF
echo "chart.sh: wrote $out/perf-ops.png and $out/perf-scale.png"
