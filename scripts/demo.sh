#!/usr/bin/env bash
# The main job: build iopgt and run the host on the bundled plugins and
# manifest with the demo script (examples/demo.iopgt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The host refuses plugin files and dirs writable by group or others
# (docs/security.md): build them 0755 whatever the caller's umask.
umask 022
. "$root/scripts/deps.sh"
iopgt_install_deps
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" >/dev/null
cd "$root"
exec ./build/bin/iopgt-host run examples/demo.iopgt "$@"
