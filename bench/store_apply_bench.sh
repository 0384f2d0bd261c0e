#!/usr/bin/env bash
# Validating and applying 10,000 objects in one `weft apply`, re-applying them unchanged,
# and analyzing them, against two floors measured in the same run: reading the file
# (cat) and parsing it without any validation (PyYAML's C loader).
# Usage: store_apply_bench.sh WEFT_BINARY [COUNT]
set -euo pipefail
weft=$(realpath "$1")
count=${2:-10000}
work=$(mktemp -d /tmp/weft-bench-apply.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$(dirname "$0")/gen_objects.py" "$count" > "$work/objects.yaml"
objects=$(grep -c '^kind:' "$work/objects.yaml")

# time_of LABEL COMMAND...: prints seconds and peak RSS (MiB) of one run. Exit 79 is
# analyze reporting findings, which is what it is being timed doing.
time_of() {
  local label=$1 rc=0; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 79 ]; then cat "$work/stderr" >&2; exit 1; fi
  read -r secs kb < <(tail -n 1 "$work/time")  # time prepends a line for a non-zero exit
  printf '%s %s %s\n' "$label" "$secs" "$((kb / 1024))"
}

{
  time_of cat cat "$work/objects.yaml"
  time_of pyyaml python3 -c 'import sys, yaml; list(yaml.load_all(open(sys.argv[1]), Loader=yaml.CSafeLoader))' "$work/objects.yaml"
  time_of apply "$weft" apply -f "$work/objects.yaml" --store "$work/store"
  time_of reapply "$weft" apply -f "$work/objects.yaml" --store "$work/store"
  time_of get "$weft" get vs -A --store "$work/store"
  time_of analyze-files "$weft" analyze -A --use-kube=false "$work/objects.yaml"
  time_of analyze-store "$weft" analyze -A --store "$work/store"
} > "$work/results"
stored=$(find "$work/store/objects" -name '*.yaml' | wc -l)

echo "| step ($objects objects, $stored stored files) | seconds | peak RSS MiB | vs PyYAML parse only |"
echo "|---|---|---|---|"
pyyaml=$(awk '$1 == "pyyaml" { print $2 }' "$work/results")
while read -r label secs mib; do
  ratio=$(awk -v a="$secs" -v b="$pyyaml" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
  echo "| $label | $secs | $mib | $ratio |"
done < "$work/results"
