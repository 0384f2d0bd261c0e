#!/usr/bin/env bash
# Runs every benchmark against its peer and prints the figures docs/PERFORMANCE.md keeps.
# Usage: run_all.sh BUILD_DIR (a release build)
set -euo pipefail
build=$(realpath "${1:?usage: run_all.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)

echo "## CA issuance (Google Benchmark, $(nproc) cores, $(date -u +%Y-%m-%d))"
json=$(mktemp)
"$build/bench/ca_issue_bench" --benchmark_min_time=0.5 --benchmark_format=json --benchmark_out="$json" \
  --benchmark_out_format=json >/dev/null
echo "| benchmark | certs/s | us/cert | vs direct sign |"
echo "|---|---|---|---|"
jq -r '
  ([.benchmarks[] | select(.name | startswith("BM_DirectSignFloor")) | {key: .label, value: .real_time}] | from_entries) as $floor
  | .benchmarks[]
  | (.label | split(" ")[0]) as $ca
  | "| \(.name | split("/")[0]) \(.label) | \(.items_per_second | floor) | \(.real_time * 100 | floor / 100) | \(if $floor[$ca] then "\((.real_time / $floor[$ca]) * 100 | floor / 100)x" else "-" end) |"' "$json"
rm -f "$json"
echo
echo "## Offline signing, whole process"
bash "$here/ca_sign_vs_openssl.sh" "$build/bin/weft" 40
echo
echo "## Store: validate and apply, re-apply, get, analyze"
bash "$here/store_apply_bench.sh" "$build/bin/weft" 10000
echo
echo "## Local cluster: create, 50 pods ready, delete (as root)"
bash "$here/local_cluster_bench.sh" "$build/bin" 50
echo
echo "## httpbin sample vs nginx (wrk)"
bash "$here/httpbin_vs_nginx.sh" "$build/bin"
echo
echo "## weftd discovery (10,000 pods, 1,000 Services, 100 clients, 20 changes; needs ~8 GB of memory)"
"$build/bench/weftd_discovery_bench" --pods 10000 --services 1000 --clients 100 --changes 20
echo
echo "## weft-ztunnel vs stunnel vs the direct path (as root)"
bash "$here/ztunnel_bench.sh" "$build/bin" "$here/../samples"
echo
echo "## weft-proxy vs haproxy vs nginx as the L7 reverse proxy (as root)"
bash "$here/proxy_bench.sh" "$build/bin" "$here/../samples"
echo
echo "## weft-proxy's TCP route vs haproxy mode tcp vs the direct path (as root)"
bash "$here/tcp_relay_bench.sh" "$build/bin" "$here/../samples"
