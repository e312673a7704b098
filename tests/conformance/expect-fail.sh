#!/bin/sh
# expect-fail.sh TOOL PLUGIN_DIR FORMAT CHECK
#
# Run iopgt-conformance on FORMAT (a fixture with one defect) and pass only
# if it exits 1 and CHECK is the first check that fails.  Later checks may
# see the same defect again (the random workload meets most of them): the
# first failure is the one that names it.  An empty CHECK means the
# fixture has no defect and every check must pass (exit 0).
set -u
tool=$1 dir=$2 format=$3 check=$4
out=$("$tool" --plugin-dir "$dir" --ops 1500 "$format")
rc=$?
printf '%s\n' "$out"
failed=$(printf '%s\n' "$out" |
	sed -n 's/^not ok [0-9]* - \([a-z0-9-]*\):.*/\1/p' | head -n 1)
if [ -z "$check" ]; then
	[ "$rc" -eq 0 ] && [ -z "$failed" ] && exit 0
	echo "FAIL: $format has no defect but exited $rc, failing: $failed"
	exit 1
fi
if [ "$rc" -ne 1 ]; then
	echo "FAIL: $format: exit status $rc, not 1"
	exit 1
fi
if [ "$failed" != "$check" ]; then
	echo "FAIL: $format: the first failing check is '$failed', not '$check'"
	exit 1
fi
exit 0
