#!/usr/bin/env bash
# The L4 data plane's cost, measured three ways in the same run between the same two pods'
# namespaces on one local cluster:
#   direct  - plain TCP across the bridge (namespace "plain", not in the mesh);
#   stunnel - the peer: a TLS 1.3 mutual-TLS tunnel per connection made by stunnel in each
#             pod's namespace (client side and server side), the classic way to add mTLS;
#   weft    - the same pods' traffic captured by weft-ztunnel and carried over HBONE
#             (namespace "mesh", labelled istio.io/rev=prod).
# Throughput with iperf3 (one stream, 5 s), latency with wrk (1 connection, keep-alive),
# and new-connection rate with wrk (Connection: close, 4 connections), each bounded.
# Usage: ztunnel_bench.sh BIN_DIR SAMPLES_DIR   (as root; all traffic stays in namespaces)
set -euo pipefail
bin=$(realpath "$1")
samples=$(realpath "$2")
weft="$bin/weft"
export WEFT_HOME=$(mktemp -d /tmp/weft-ztbench.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="ztb$$"
work=$(mktemp -d /tmp/weft-ztbench-work.XXXXXX)
stunnel_pids=()
cleanup() {
  for p in "${stunnel_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$weft" cluster delete --name "$name" >/dev/null 2>&1 || true
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

"$weft" cluster create --name "$name" >/dev/null
"$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod >/dev/null
for ns in plain mesh; do
  "$weft" create namespace "$ns" >/dev/null
  cat <<YAML | "$weft" apply -n "$ns" -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: server}
spec:
  selector: {app: server}
  ports: [{name: iperf, port: 5201}, {name: http, port: 8000, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: server}
spec:
  replicas: 1
  selector: {matchLabels: {app: server}}
  template:
    metadata: {labels: {app: server}}
    spec:
      nodeName: $name-worker
      containers:
      - {name: iperf, image: networkstatic/iperf3, command: [iperf3, -s, -p, "5201"], ports: [{containerPort: 5201}]}
      - {name: http, image: mccutchen/go-httpbin, ports: [{containerPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client}
spec:
  replicas: 1
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      nodeName: $name-control-plane
      containers: [{name: client, image: curlimages/curl}]
YAML
done
"$weft" label namespace mesh istio.io/rev=prod >/dev/null
ready() { [ "$("$weft" get deploy "$2" -n "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for i in $(seq 300); do ready plain server && ready plain client && ready mesh server && ready mesh client && break; sleep 0.2; done
enrolled() { "$weft" ztunnel-config workloads --node "$name-worker" -o json | jq -e '.[] | select(.namespace=="mesh" and (.name|startswith("server"))) | .tunnel_protocol=="HBONE"' >/dev/null; }
for i in $(seq 150); do enrolled && "$weft" exec -n mesh deploy/client -- curl -s -m 2 -o /dev/null http://server:8000/status/200 && break; sleep 0.2; done

pod_netns() { echo "weft-$name.$1.$("$weft" get pods -n "$1" -l app="$2" -o jsonpath='{.items[0].metadata.name}')"; }
server_ip=$("$weft" get pods -n plain -l app=server -o jsonpath='{.items[0].status.podIP}')

# stunnel: mutual TLS 1.3 with certificates from a throwaway CA, as the mesh would have.
"$weft" ca root --org Bench --cn "Bench Root" --out ca >/dev/null
"$weft" ca intermediate bench --org Bench --cn "Bench Intermediate" --root ca --out ca >/dev/null
for side in client server; do
  "$weft" ca sign --ca-dir ca/bench --trust-domain cluster.local --namespace plain --service-account "$side" --out-cert "$side.pem" --out-key "$side.key" >/dev/null
done
cat ca/root-cert.pem ca/bench/ca-cert.pem >trust.pem
cat >server.conf <<CONF
foreground = yes
pid =
[tls]
accept = $server_ip:9443
connect = 127.0.0.1:5201
cert = server.pem
key = server.key
CAfile = trust.pem
verifyChain = yes
sslVersionMin = TLSv1.3
[tlshttp]
accept = $server_ip:9444
connect = 127.0.0.1:8080
cert = server.pem
key = server.key
CAfile = trust.pem
verifyChain = yes
sslVersionMin = TLSv1.3
CONF
cat >client.conf <<CONF
foreground = yes
pid =
client = yes
[tls]
accept = 127.0.0.1:15201
connect = $server_ip:9443
cert = client.pem
key = client.key
CAfile = trust.pem
verifyChain = yes
sslVersionMin = TLSv1.3
[tlshttp]
accept = 127.0.0.1:18080
connect = $server_ip:9444
cert = client.pem
key = client.key
CAfile = trust.pem
verifyChain = yes
sslVersionMin = TLSv1.3
CONF
ip netns exec "$(pod_netns plain server)" stunnel server.conf >stunnel-server.log 2>&1 &
stunnel_pids+=($!)
ip netns exec "$(pod_netns plain client)" stunnel client.conf >stunnel-client.log 2>&1 &
stunnel_pids+=($!)
sleep 1

iperf() {  # NS HOST PORT -> Gbit/s
  "$weft" exec -n "$1" deploy/client -- iperf3 -c "$2" -p "$3" -t 5 -J | jq '.end.sum_received.bits_per_second / 1e9 * 100 | floor / 100'
}
latency() {  # NS URL -> "p50 p99" in ms
  "$weft" exec -n "$1" deploy/client -- wrk -t1 -c1 -d5s --latency "$2" |
    awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print p50, p99}'
}
conn_rate() {  # NS URL -> requests/s with a new connection each
  "$weft" exec -n "$1" deploy/client -- wrk -t1 -c4 -d5s -H 'Connection: close' "$2" | awk '/Requests\/sec/ {print int($2)}'
}

d_tp=$(iperf plain "$server_ip" 5201); s_tp=$(iperf plain 127.0.0.1 15201); w_tp=$(iperf mesh server 5201)
d_lat=$(latency plain "http://$server_ip:8080/status/200"); s_lat=$(latency plain "http://127.0.0.1:18080/status/200")
w_lat=$(latency mesh "http://server:8000/status/200")
d_cr=$(conn_rate plain "http://$server_ip:8080/status/200"); s_cr=$(conn_rate plain "http://127.0.0.1:18080/status/200")
w_cr=$(conn_rate mesh "http://server:8000/status/200")

ratio() { echo "scale=2; $1 / $2" | bc; }
echo "Client and server pods on different nodes; $(nproc) cores; $(date -u +%Y-%m-%d)."
echo
echo "| path | iperf3 Gbit/s | wrk p50 / p99 latency | new connections/s |"
echo "|---|---|---|---|"
echo "| direct (plain TCP) | $d_tp | ${d_lat% *} / ${d_lat#* } | $d_cr |"
echo "| stunnel mTLS (peer) | $s_tp | ${s_lat% *} / ${s_lat#* } | $s_cr |"
echo "| weft-ztunnel HBONE | $w_tp | ${w_lat% *} / ${w_lat#* } | $w_cr |"
echo
echo "weft vs stunnel: throughput $(ratio "$w_tp" "$s_tp")x, new connections $(ratio "$w_cr" "$s_cr")x"
echo "weft vs direct:  throughput $(ratio "$w_tp" "$d_tp")x, new connections $(ratio "$w_cr" "$d_cr")x"
