#!/usr/bin/env bash
# The gateway's TCP relay (a Gateway server with protocol TCP and a VirtualService tcp[]
# route, what TLS passthrough also runs on) against haproxy in `mode tcp` (`nbthread 1`) and
# the direct path, then the same relay behind TLS termination (a server with protocol TLS,
# mode SIMPLE) against stunnel and haproxy terminating with the same certificate, in the
# same run on one local cluster:
#
#   backend - iperf3 -s in a Deployment in namespace "bench" (not in the mesh), port 5201;
#   weft    - the walkthrough's global-ingress gateway pod, Gateway server 5201/TCP routed by
#             a VirtualService tcp[] rule to the backend's Service; 5443/TLS SIMPLE the same;
#   haproxy - in the gateway pod's network namespace on 5202, straight to the backend pod;
#             5445 with `bind ... ssl`;
#   stunnel - in the gateway pod's network namespace on 5444 (TLS only), to the backend pod;
#   direct  - iperf3 -c to the backend pod, no proxy (the ceiling).
# The TLS client is a stunnel in client mode in the client pod's namespace (iperf3 has no
# TLS), one local port per terminating proxy; it runs on CPU 0 with iperf3, so the TLS rows'
# throughput is bounded by the client side: compare their CPU per GiB.
# Two loads from a client pod's namespace, each after a 1 s warm-up:
#   bulk:   iperf3 -t 5, one stream (the default 128 KiB writes): Gbit/s at the receiver;
#   small:  iperf3 -t 5 -P 8 -l 1K, eight streams of 1 KiB writes: many small reads and
#           writes, where a relay's per-operation cost shows.
# CPU: the proxy process's utime+stime over the run, per GiB moved. Pinning (2 cores):
# proxies on CPU 1, iperf3 client and server on CPU 0.
#
# With SYSCALLS=1, each proxy's system calls are also counted during each run (perf stat on
# the syscalls tracepoints): sends, receives and event waits per GiB, which show how much
# each proxy gathers per call.
#
# Usage: [SYSCALLS=1] tcp_relay_bench.sh BIN_DIR SAMPLES_DIR   (as root; traffic stays in the cluster's namespaces)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
samples=$(realpath "$2")
weft="$bin/weft"
export WEFT_HOME=$(mktemp -d /tmp/weft-tcpbench.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="tcb$$"
work=$(mktemp -d /tmp/weft-tcpbench-work.XXXXXX)
haproxy_pid=
stunnel_pid=
client_stunnel_pid=
cleanup() {
  for pid in "$haproxy_pid" "$stunnel_pid" "$client_stunnel_pid"; do [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; done
  "$weft" cluster delete --name "$name" >/dev/null 2>&1 || true
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM
cd "$work"
die() { echo "tcp_relay_bench: $*" >&2; exit 1; }
source "$here/lib.sh"

"$weft" cluster create --name "$name" >/dev/null
"$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod >/dev/null
"$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod >/dev/null
"$weft" create namespace bench >/dev/null
# One certificate for every terminating proxy (RSA 2048, TLS 1.3 with the library's default
# AES-256-GCM everywhere: the same OpenSSL does the bulk work in all three).
openssl req -x509 -sha256 -nodes -days 1 -newkey rsa:2048 -subj '/CN=bench.example.com' -addext 'subjectAltName=DNS:bench.example.com' \
  -keyout tls.key -out tls.crt 2>/dev/null
cat tls.crt tls.key >tls.pem
"$weft" create -n istio-system secret tls bench-tls --key=tls.key --cert=tls.crt >/dev/null
cat <<YAML | "$weft" apply -n bench -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{name: tcp, port: 5201, targetPort: 5201}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend}
spec:
  replicas: 1
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers:
      - name: iperf3
        image: networkstatic/iperf3
        command: [iperf3, -s, -p, "5201"]
        ports: [{containerPort: 5201}]
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
      containers: [{name: client, image: curlimages/curl}]
YAML
cat <<YAML | "$weft" apply -n istio-system -f - >/dev/null
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tcp-bench}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 5201, name: tcp, protocol: TCP}
    hosts: ["*"]
  - port: {number: 5443, name: tls, protocol: TLS}
    tls: {mode: SIMPLE, credentialName: bench-tls}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-bench}
spec:
  hosts: ["*"]
  gateways: [tcp-bench]
  tcp:
  - route:
    - destination: {host: backend.bench.svc.cluster.local, port: {number: 5201}}
YAML
wait_until 60 ready bench backend || die "the backend did not become ready"
wait_until 60 ready bench client || die "the client pod did not become ready"
wait_until 60 gw_running || die "the gateway pod is not running"

gw_ns="weft-$name.istio-system.$(pod_name istio-system istio=ingressgateway)"
client_ns="weft-$name.bench.$(pod_name bench app=client)"
backend_ns="weft-$name.bench.$(pod_name bench app=backend)"
gw_ip=$(pod_ip istio-system istio=ingressgateway)
backend_ip=$(pod_ip bench app=backend)
in_client() { ip netns exec "$client_ns" "$@"; }
reachable() { in_client timeout 5 iperf3 -c "$1" -p "$2" -t 1 >/dev/null; }
wait_until 60 reachable "$gw_ip" 5201 || die "the gateway does not relay 5201 to the backend"

weft_pid=
for p in $(ip netns pids "$gw_ns"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = weft-proxy ] && weft_pid=$p; done
[ -n "$weft_pid" ] || die "no weft-proxy process in $gw_ns"
taskset -a -cp 1 "$weft_pid" >/dev/null
for p in $(ip netns pids "$backend_ns"); do taskset -a -cp 0 "$p" >/dev/null; done

cat >haproxy.cfg <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 0.0.0.0:5202
  default_backend backend
frontend bench-tls
  bind 0.0.0.0:5445 ssl crt $work/tls.pem
  default_backend backend
backend backend
  server b1 $backend_ip:5201
CONF
ip netns exec "$gw_ns" taskset -c 1 haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
haproxy_pid=$!
wait_until 10 reachable "$gw_ip" 5202 || die "haproxy does not relay 5202: $(cat haproxy.log)"

cat >stunnel.conf <<CONF
foreground = yes
pid =
debug = 3
[bench]
accept = 0.0.0.0:5444
connect = $backend_ip:5201
cert = $work/tls.crt
key = $work/tls.key
CONF
ip netns exec "$gw_ns" taskset -c 1 stunnel stunnel.conf >stunnel.log 2>&1 &
stunnel_pid=$!
cat >client-stunnel.conf <<CONF
foreground = yes
pid =
debug = 3
client = yes
sni = bench.example.com
[weft]
accept = 127.0.0.1:6443
connect = $gw_ip:5443
[stunnel]
accept = 127.0.0.1:6444
connect = $gw_ip:5444
[haproxy]
accept = 127.0.0.1:6445
connect = $gw_ip:5445
CONF
ip netns exec "$client_ns" taskset -c 0 stunnel client-stunnel.conf >client-stunnel.log 2>&1 &
client_stunnel_pid=$!
for port in 6443 6444 6445; do
  wait_until 30 reachable 127.0.0.1 "$port" || die "no TLS relay through 127.0.0.1:$port: $(cat stunnel.log client-stunnel.log haproxy.log)"
done

ticks=$(getconf CLK_TCK)
proxy_ticks() { if [ -z "$1" ]; then echo 0; else cpu_ticks "$1"; fi; }  # PID or "" (the direct path)
declare -A gbps cpu calls
sends="syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_write,syscalls:sys_enter_writev"
receives="syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg,syscalls:sys_enter_read,syscalls:sys_enter_readv"
waits="syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll"
count_calls() {  # PID SECONDS FILE: perf stat's CSV of the three groups, for SECONDS
  timeout -s INT "$2" perf stat -x, -e "$sends,$receives,$waits" -p "$1" -o "$3" >/dev/null 2>&1 || true
}
per_gib() {  # FILE BYTES -> "sends/receives/waits" in thousands per GiB
  awk -F, -v b="$2" -v s="$sends" -v r="$receives" -v w="$waits" '
    BEGIN { n = split(s, a, ","); for (i = 1; i <= n; i++) group[a[i]] = 1
            n = split(r, a, ","); for (i = 1; i <= n; i++) group[a[i]] = 2
            n = split(w, a, ","); for (i = 1; i <= n; i++) group[a[i]] = 3 }
    $3 in group { c[group[$3]] += $1 }
    END { g = b / 1073741824; printf "%.0fk / %.0fk / %.0fk", c[1] / g / 1000, c[2] / g / 1000, c[3] / g / 1000 }' "$1"
}
measure() {  # LABEL HOST PORT PID LOAD (bulk|small)
  local label=$1 host=$2 port=$3 pid=$4 args=(-t 5) out before after bytes counter=
  [ "$5" = small ] && args=(-t 5 -P 8 -l 1K)
  in_client taskset -c 0 iperf3 -c "$host" -p "$port" -t 1 >/dev/null
  before=$(proxy_ticks "$pid")
  # The count runs a little past iperf3's 5 s, so it holds the whole run (and a few idle calls).
  if [ -n "${SYSCALLS:-}" ] && [ -n "$pid" ]; then count_calls "$pid" 6 "calls.$label.$5" & counter=$!; fi
  out=$(in_client timeout 30 taskset -c 0 iperf3 -c "$host" -p "$port" "${args[@]}" -J) || die "iperf3 to $label ($host:$port, $5): $(jq -r '.error // empty' <<<"$out")"
  after=$(proxy_ticks "$pid")
  [ -z "$counter" ] || wait "$counter"
  bytes=$(jq '.end.sum_received.bytes' <<<"$out")
  [ -z "$counter" ] || calls[$label.$5]=$(per_gib "calls.$label.$5" "$bytes")
  gbps[$label.$5]=$(jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100' <<<"$out")
  cpu[$label.$5]=$(awk -v t=$((after - before)) -v hz="$ticks" -v b="$bytes" 'BEGIN { if (b > 0) printf "%.2f", t / hz / (b / 1073741824); else print "-" }')
}
for load in bulk small; do
  measure direct "$backend_ip" 5201 "" "$load"
  measure weft "$gw_ip" 5201 "$weft_pid" "$load"
  measure haproxy "$gw_ip" 5202 "$haproxy_pid" "$load"
  measure weft-tls 127.0.0.1 6443 "$weft_pid" "$load"
  measure stunnel-tls 127.0.0.1 6444 "$stunnel_pid" "$load"
  measure haproxy-tls 127.0.0.1 6445 "$haproxy_pid" "$load"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "iperf3 through each path; $(nproc) cores (proxies on CPU 1, iperf3 on CPU 0); load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
echo
echo "| path | bulk Gbit/s | bulk CPU s/GiB | 8 streams of 1 KiB writes, Gbit/s | CPU s/GiB |"
echo "|---|---|---|---|---|"
echo "| direct (no proxy) | ${gbps[direct.bulk]} | - | ${gbps[direct.small]} | - |"
echo "| weft-proxy TCP route (1 io thread) | ${gbps[weft.bulk]} | ${cpu[weft.bulk]} | ${gbps[weft.small]} | ${cpu[weft.small]} |"
echo "| haproxy $(haproxy -v | awk 'NR==1 {print $3}') mode tcp, nbthread 1 | ${gbps[haproxy.bulk]} | ${cpu[haproxy.bulk]} | ${gbps[haproxy.small]} | ${cpu[haproxy.small]} |"
echo
echo "weft/haproxy: bulk $(ratio "${gbps[weft.bulk]}" "${gbps[haproxy.bulk]}")x throughput, $(ratio "${cpu[weft.bulk]}" "${cpu[haproxy.bulk]}")x CPU/GiB;" \
  "small writes $(ratio "${gbps[weft.small]}" "${gbps[haproxy.small]}")x throughput, $(ratio "${cpu[weft.small]}" "${cpu[haproxy.small]}")x CPU/GiB"
echo
echo "TLS terminated, then relayed (the client's TLS is a stunnel on CPU 0, beside iperf3):"
echo
echo "| terminating proxy | bulk Gbit/s | bulk CPU s/GiB | 8 streams of 1 KiB writes, Gbit/s | CPU s/GiB |"
echo "|---|---|---|---|---|"
echo "| weft-proxy TLS SIMPLE + tcp[] (1 io thread) | ${gbps[weft-tls.bulk]} | ${cpu[weft-tls.bulk]} | ${gbps[weft-tls.small]} | ${cpu[weft-tls.small]} |"
echo "| stunnel $(stunnel -version 2>&1 | awk '/^stunnel / {print $2; exit}') | ${gbps[stunnel-tls.bulk]} | ${cpu[stunnel-tls.bulk]} | ${gbps[stunnel-tls.small]} | ${cpu[stunnel-tls.small]} |"
echo "| haproxy \`bind ... ssl\`, nbthread 1 | ${gbps[haproxy-tls.bulk]} | ${cpu[haproxy-tls.bulk]} | ${gbps[haproxy-tls.small]} | ${cpu[haproxy-tls.small]} |"
echo
echo "TLS: weft/stunnel $(ratio "${cpu[weft-tls.bulk]}" "${cpu[stunnel-tls.bulk]}")x bulk CPU/GiB, $(ratio "${cpu[weft-tls.small]}" "${cpu[stunnel-tls.small]}")x small;" \
  "weft/haproxy $(ratio "${cpu[weft-tls.bulk]}" "${cpu[haproxy-tls.bulk]}")x bulk CPU/GiB, $(ratio "${cpu[weft-tls.small]}" "${cpu[haproxy-tls.small]}")x small"
if [ -n "${SYSCALLS:-}" ]; then
  echo
  echo "System calls per GiB moved (thousands: sends / receives / event waits):"
  echo
  echo "| path | bulk | 8 streams of 1 KiB writes |"
  echo "|---|---|---|"
  for label in weft haproxy weft-tls stunnel-tls haproxy-tls; do echo "| $label | ${calls[$label.bulk]} | ${calls[$label.small]} |"; done
fi
