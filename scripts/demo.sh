#!/usr/bin/env bash
# The main job: build iopgt and run the host on the bundled plugins and
# manifest with the demo script (examples/demo.iopgt).
#
# Progress goes to stderr, one line per step (and CMake's progress on a
# terminal), so stdout is the demo's output alone.  Built without -Werror
# (IOPGT_WERROR stays off): a user's newer compiler may warn where ours
# does not, and that must not stop the demo; CI builds with it on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The host refuses plugin files and dirs writable by group or others
# (docs/security.md): build them 0755 whatever the caller's umask.
umask 022
. "$root/scripts/deps.sh"
. "$root/scripts/progress.sh"
iopgt_install_deps build
build=$root/build
echo "demo: configuring $build (cmake)" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the demo runs; `cmake --build build` builds the rest (tests,
# benchmark) when you want them.
echo "demo: building the iopgt-host CLI, libiopgt-host and the two" \
     "format plugins" >&2
iopgt_quiet_build "$build/demo-build.log" \
	cmake --build "$build" -j"$(nproc)" --target iopgt-host-cli \
	io-pgtable-arm io-pgtable-arm-v7s
echo "demo: running examples/demo.iopgt" >&2
cd "$root"
exec ./build/bin/iopgt-host run examples/demo.iopgt "$@"
