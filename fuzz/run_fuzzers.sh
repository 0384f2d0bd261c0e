#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from its seed corpus.
# New inputs go to a scratch directory; copy interesting ones into fuzz/corpus/ by hand.
set -euo pipefail
build=${1:?usage: run_fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
for corpus in "$here"/corpus/*/; do
  name=$(basename "$corpus")
  scratch=$(mktemp -d "/tmp/weft-fuzz-$name.XXXXXX")
  echo "== $name for ${seconds}s"
  "$build/fuzz/$name" -max_total_time="$seconds" -max_len=16384 "$scratch" "$corpus"
  rm -rf "$scratch"
done
