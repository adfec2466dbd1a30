#!/usr/bin/env bash
# Builds a real llama-server (llama.cpp v0.5.0) once and caches it outside the
# repository, for the end-to-end tests against a real runner. The source ships in
# the npm package node-llama-cpp@3.22.1 as a git bundle; building it on a 2-core
# machine takes about 10 minutes, so the result is kept in the cache directory
# and reused by every later run (and by every checkout on this machine).
#
# It also keeps the two vocab-only GGUF files of the source tree (models/), which
# the tests' GGUF writer copies tokenizers from to make tiny models.
#
# Prints the path of the binary on stdout. Set LLAMA_SERVER to use another binary.
set -euo pipefail
if [ -n "${LLAMA_SERVER:-}" ]; then echo "$LLAMA_SERVER"; exit 0; fi

version=v0.5.0
package=node-llama-cpp@3.22.1
cache="${RUNNER_METRICS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runner-metrics}"
dest="$cache/llama-server-$version"
binary="$dest/bin/llama-server"
vocabs=(ggml-vocab-llama-spm.gguf ggml-vocab-bert-bge.gguf)
built() { [ -x "$binary" ] && [ -f "$dest/models/${vocabs[1]}" ]; }
built && { echo "$binary"; exit 0; }

mkdir -p "$cache"
# One build at a time, even when two test processes ask together.
exec 9>"$cache/llama-server.lock"
flock 9
built && { echo "$binary"; exit 0; }

# A build that failed is not retried by every test file: remove the marker (or set
# LLAMA_SERVER_REBUILD=1) to try again.
failed="$dest.failed"
if [ -f "$failed" ] && [ -z "${LLAMA_SERVER_REBUILD:-}" ]; then
  echo "an earlier llama-server build failed (see $failed; delete it to retry)" >&2
  exit 1
fi

for tool in git cmake g++ make; do
  command -v "$tool" >/dev/null || { echo "building llama-server needs $tool" >&2; exit 1; }
done
rm -rf "$dest.tmp"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "building llama-server $version from $package (about 10 minutes, once; cached in $dest)" >&2
if ! (
  # (set -e does not apply inside an `if` condition: each step says how it fails.)
  cd "$work" || exit 1
  npm pack --silent "$package" >/dev/null || { echo "npm pack $package failed"; exit 1; }
  tar -xzf node-llama-cpp-*.tgz package/llama/gitRelease.bundle || exit 1
  git -c advice.detachedHead=false clone --quiet package/llama/gitRelease.bundle llama.cpp || exit 1
  cd llama.cpp || exit 1
  mkdir -p "$dest.tmp/models" || exit 1
  for vocab in "${vocabs[@]}"; do cp "models/$vocab" "$dest.tmp/models/" || exit 1; done
  if [ -x "$binary" ]; then mkdir -p "$dest.tmp/bin"; cp "$binary" "$dest.tmp/bin/"; exit 0; fi
  cmake -B build -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release >build.log 2>&1 \
    || { tail -30 build.log; exit 1; }
  cmake --build build --target llama-server -j"$(nproc)" >>build.log 2>&1 \
    || { tail -30 build.log; exit 1; }
  mkdir -p "$dest.tmp/bin" && cp build/bin/llama-server "$dest.tmp/bin/" || exit 1
) >"$work/out.log" 2>&1; then
  tail -30 "$work/out.log" | tee "$failed" >&2
  exit 1
fi
rm -f "$failed"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
"$binary" --version >&2 2>&1 || true
echo "$binary"
