#!/usr/bin/env bash
# Builds the backend: scripts/build.sh release|asan  → backend/build/<kind>/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
case $kind in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DSANITIZE=OFF) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=ON) ;;
  *) echo "usage: build.sh release|asan" >&2; exit 2 ;;
esac
dir=$root/backend/build/$kind
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f "$dir/CMakeCache.txt" ] || cmake -S "$root/backend" -B "$dir" "${generator[@]}" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
