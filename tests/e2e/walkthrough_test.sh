#!/usr/bin/env bash
# The walkthrough as `make demo` runs it (scripts/demo.sh), on a cluster of its own that is
# deleted afterwards, pass or fail. The demo's own checks decide: it exits non-zero when
# any "what must be seen" fails.
# Usage: walkthrough_test.sh BUILD_DIR
set -uo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
export WEFT_HOME=$(mktemp -d /tmp/weft-walk-e2e.XXXXXX)
export WEFT_DEMO_CLUSTER="walk$$"
export WEFT_DEMO_DIR=$(mktemp -d /tmp/weft-walk-work.XXXXXX)
cleanup() {
  "$build/bin/weft" cluster delete --name "$WEFT_DEMO_CLUSTER" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$WEFT_DEMO_DIR"
}
trap cleanup EXIT
bash "$here/../../scripts/demo.sh" "$build"
