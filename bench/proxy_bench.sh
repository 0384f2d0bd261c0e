#!/usr/bin/env bash
# The L7 proxy's cost: weft-proxy (the ingress gateway, one io thread) against haproxy
# (`nbthread 1`) and nginx (`worker_processes 1`), each a reverse proxy with the same Host
# routing (Host bench.local -> the backend, anything else 404) to the same backend, in the
# same run on one local cluster.
#
#   backend - nginx serving a static 1 KiB file, as a container command in a Deployment in
#             namespace "bench" (not in the mesh), port 8080;
#   weft    - the walkthrough's global-ingress gateway pod (weft install), a Gateway for
#             bench.local on port 80 and a VirtualService to the backend's Service: the
#             proxy listens on the pod's 8080 (the Service's targetPort);
#   haproxy - in the gateway pod's network namespace on 8081, straight to the backend pod;
#   nginx   - in the same namespace on 8082, the same.
# All three keep upstream connections alive and add X-Forwarded-For. None of them logs
# requests (weft-proxy follows meshConfig.accessLogFile, empty by default as in Istio).
#
# The load side's ceiling is measured too: the same wrk straight to the backend, no proxy.
# Load from a client pod's namespace (namespace "bench", not in the mesh) to the gateway
# pod's IP, so all three paths cross the same veths and bridge:
#   throughput/latency: wrk -t1 -c64 -d10s --latency -H 'Host: bench.local' (after 2 s warm-up)
#   CPU per request:    the proxy process's utime+stime (/proc/PID/stat, all threads; nginx:
#                       the worker) over the wrk run / requests wrk completed; and of it utime
#                       alone (the process's own code: the rest is the kernel's, system calls
#                       and the network stack they run, the same for every proxy here)
#   upstream reuse:     connections the backend accepted during the wrk run (its nginx
#                       stub_status on :8090), per 1,000 requests
#   memory:             h2load --h1 -c10 --rps 100 (1,000 requests/s in all) for 10 s, first,
#                       then VmRSS and VmHWM of the same process
# Pinning (2 cores): every proxy on CPU 1; wrk, h2load and the backend on CPU 0. Nothing else
# is pinned (the cluster's runtime, weftd, ztunnels, and anything else on the machine float).
# The measured processes (the three proxies, the backend, wrk, h2load) run at nice -10
# (PROXY_BENCH_NICE) so that other work on a shared machine (a compiler at nice 0) takes
# what they leave rather than half of their core. The "busy" columns say how much of its
# core the proxy used and how busy each core was, so a run limited by the load side (CPU 0)
# or by something else on CPU 1 shows.
#
# Usage: proxy_bench.sh BIN_DIR SAMPLES_DIR   (as root; all traffic stays in the cluster's
#        namespaces). PROXY_BENCH_DURATION (default 10s) and PROXY_BENCH_CONNECTIONS (64)
#        change the wrk runs;
#        PROXY_BENCH_SYSCALLS=1 also counts each proxy's system calls per request (strace -c -f
#        on the process during a 3 s wrk run: strace slows it, the counts per request hold);
#        PROXY_BENCH_PERF=PREFIX also records each proxy under the same wrk load
#        (perf record -g for 5 s) into PREFIX.NAME.data, PREFIX.NAME.full.txt (perf report
#        --no-children), PREFIX.NAME.txt (its first 80 lines), PREFIX.NAME.flat.txt (by
#        symbol, no call graph) and PREFIX.NAME.wrk (the load's own summary), NAME being
#        weft, haproxy and nginx. PROXY_BENCH_PERF_CALLGRAPH=dwarf gives callers through
#        code built without frame pointers (larger files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
samples=$(realpath "$2")
weft="$bin/weft"
duration=${PROXY_BENCH_DURATION:-10s}
nice=${PROXY_BENCH_NICE:--10}
conns=${PROXY_BENCH_CONNECTIONS:-64}
export WEFT_HOME=$(mktemp -d /tmp/weft-proxybench.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="pxb$$"
work=$(mktemp -d /tmp/weft-proxybench-work.XXXXXX)
chmod 755 "$work"
front_pids=()
cleanup() {
  for p in "${front_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$weft" cluster delete --name "$name" >/dev/null 2>&1 || true
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM
cd "$work"
die() { echo "proxy_bench: $*" >&2; exit 1; }
source "$here/lib.sh"

# --- the backend: nginx, a static 1 KiB file ------------------------------------------------
mkdir -p backend/html backend/logs
head -c 1024 /dev/zero | tr '\0' 'x' >backend/html/index.html
cat >backend/nginx.conf <<CONF
user root;
worker_processes 1;
daemon off;
pid $work/backend/nginx.pid;
error_log $work/backend/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/backend/tmp;
  proxy_temp_path $work/backend/tmp;
  fastcgi_temp_path $work/backend/tmp;
  uwsgi_temp_path $work/backend/tmp;
  scgi_temp_path $work/backend/tmp;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  open_file_cache max=16 inactive=1h;
  open_file_cache_valid 1h;
  sendfile on;
  tcp_nopush on;
  server {
    listen 8080;
    root $work/backend/html;
    default_type text/plain;
  }
  server {
    listen 8090;
    location = /status { stub_status; }
  }
}
CONF

# --- cluster, control plane, gateway, backend, client ------------------------------------------
"$weft" cluster create --name "$name" >/dev/null
"$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod >/dev/null
"$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod >/dev/null
"$weft" create namespace bench >/dev/null
cat <<YAML | "$weft" apply -n bench -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: 8080}]
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
      - name: nginx
        image: nginx
        command: [nginx, -p, "$work/backend", -c, "$work/backend/nginx.conf", -e, "$work/backend/logs/error.log"]
        ports: [{containerPort: 8080}]
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
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: bench-gateway}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [bench.local]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: bench}
spec:
  hosts: [bench.local]
  gateways: [bench-gateway]
  http:
  - route:
    - destination: {host: backend.bench.svc.cluster.local, port: {number: 80}}
YAML
wait_until 60 ready bench backend || die "the backend did not become ready: $(cat backend/logs/error.log 2>/dev/null)"
wait_until 60 ready bench client || die "the client pod did not become ready"
wait_until 60 gw_running || die "the gateway pod is not running"

gw_ns="weft-$name.istio-system.$(pod_name istio-system istio=ingressgateway)"
client_ns="weft-$name.bench.$(pod_name bench app=client)"
backend_ns="weft-$name.bench.$(pod_name bench app=backend)"
gw_ip=$(pod_ip istio-system istio=ingressgateway)
backend_ip=$(pod_ip bench app=backend)
in_client() { ip netns exec "$client_ns" "$@"; }
code() { in_client curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 3 -H "Host: $1" "http://$gw_ip:$2/"; }
wait_until 60 bash -c "[ \"\$(ip netns exec '$client_ns' curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Host: bench.local' http://$gw_ip:8080/)\" = 200 ]" ||
  die "weft-proxy does not route bench.local to the backend: $(code bench.local 8080)"

# The processes: weft-proxy is the gateway pod's; the backend's nginx master and worker.
pids_named() {  # NETNS COMM
  local p
  for p in $(ip netns pids "$1"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"; done
  return 0
}
weft_pid=$(pids_named "$gw_ns" weft-proxy | sed -n 1p)
[ -n "$weft_pid" ] || die "no weft-proxy process in $gw_ns"
prioritize() {  # PID: every thread (renice -p changes one thread)
  local t
  for t in /proc/"$1"/task/*; do renice -n "$nice" -p "${t##*/}" >/dev/null; done
}
taskset -a -cp 1 "$weft_pid" >/dev/null
prioritize "$weft_pid"
for p in $(ip netns pids "$backend_ns"); do taskset -a -cp 0 "$p" >/dev/null; prioritize "$p"; done

# --- haproxy and nginx as reverse proxies, in the gateway pod's namespace -----------------------
cat >haproxy.cfg <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 300s
frontend bench
  bind 0.0.0.0:8081
  acl bench req.hdr(host),field(1,:),lower -m str bench.local
  http-request return status 404 content-type text/plain string "no route" unless bench
  use_backend backend if bench
backend backend
  server b1 $backend_ip:8080
CONF
haproxy -q -c -f haproxy.cfg || die "haproxy.cfg: $(haproxy -c -f haproxy.cfg 2>&1)"
ip netns exec "$gw_ns" nice -n "$nice" taskset -c 1 haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
haproxy_pid=$!
front_pids+=("$haproxy_pid")

mkdir -p front/logs front/tmp
cat >front/nginx.conf <<CONF
user root;
worker_processes 1;
daemon off;
pid $work/front/nginx.pid;
error_log $work/front/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/front/tmp;
  proxy_temp_path $work/front/tmp;
  fastcgi_temp_path $work/front/tmp;
  uwsgi_temp_path $work/front/tmp;
  scgi_temp_path $work/front/tmp;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream backend {
    server $backend_ip:8080;
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 8082 default_server;
    return 404 "no route";
  }
  server {
    listen 8082;
    server_name bench.local;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_buffering on;
    }
  }
}
CONF
ip netns exec "$gw_ns" nice -n "$nice" taskset -c 1 nginx -p "$work/front" -c "$work/front/nginx.conf" -e "$work/front/logs/error.log" &
nginx_master=$!
front_pids+=("$nginx_master")
nginx_worker_pid() { pgrep -P "$nginx_master" | sed -n 1p; }
wait_until 10 bash -c "[ -n \"\$(pgrep -P $nginx_master)\" ]" || die "nginx did not start: $(cat front/logs/error.log)"
nginx_pid=$(nginx_worker_pid)

for port in 8080 8081 8082; do
  wait_until 10 bash -c "[ \"\$(ip netns exec '$client_ns' curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Host: bench.local' http://$gw_ip:$port/)\" = 200 ]" ||
    die "port $port does not answer 200 for bench.local: $(code bench.local "$port"); $(cat haproxy.log front/logs/error.log)"
  [ "$(code bench.local $port)" = "200 1024" ] || die "port $port: bench.local gave $(code bench.local $port), not 200 with 1024 bytes"
  [ "$(code other.local $port)" = "404 8" ] || die "port $port: other.local gave $(code other.local $port), not 404 'no route'"
done

# --- measuring ------------------------------------------------------------------------------------
ticks=$(getconf CLK_TCK)
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }
cores_busy() {  # "busy total softirq" for CPU 0, then CPU 1, in jiffies
  awk '/^cpu[01] / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $8}' /proc/stat | tr '\n' ' '
}
to_us() {  # wrk's "510.00us" / "2.10ms" / "1.02s" -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /s$/) m = 1e6; else m = 1; printf "%.0f", n * m }'
}
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

backend_accepts() { in_client curl -s --max-time 3 "http://$backend_ip:8090/status" | awk 'NR == 3 {print $1}'; }
declare -A upstream rps p50 p99 cpu_us user_us rss hwm lowrps proxy_busy load_busy errors
measure() {  # NAME PORT PID
  local label=$1 port=$2 pid=$3 url="http://$gw_ip:$2/" out before after c0 c1 reqs
  # 1. memory at 1,000 requests/s (10 connections x 100/s), before anything heavier.
  out=$(in_client timeout 30 nice -n "$nice" taskset -c 0 h2load --h1 -c 10 --rps 100 -D 10 -H ':authority: bench.local' "$url")
  lowrps[$label]=$(awk '/^finished in/ {gsub(",", ""); print int($4)}' <<<"$out")
  grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' <<<"$out" || echo "note: $label under h2load: $(grep '^status codes' <<<"$out")" >&2
  rss[$label]=$(status_kb "$pid" VmRSS)
  hwm[$label]=$(status_kb "$pid" VmHWM)
  # 2. warm-up, then the measured wrk run with the CPU counters around it.
  in_client timeout 30 nice -n "$nice" taskset -c 0 wrk -t1 -c"$conns" -d2s -H 'Host: bench.local' "$url" >/dev/null
  accepts0=$(backend_accepts)
  before=$(cpu_ticks "$pid"); user_before=$(user_ticks "$pid"); c0=$(cores_busy)
  out=$(in_client timeout 60 nice -n "$nice" taskset -c 0 wrk -t1 -c"$conns" -d"$duration" --latency -H 'Host: bench.local' "$url")
  after=$(cpu_ticks "$pid"); user_after=$(user_ticks "$pid"); c1=$(cores_busy)
  accepts1=$(backend_accepts)
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps[$label]=$(awk '/^Requests\/sec:/ {print int($2)}' <<<"$out")
  p50[$label]=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99[$label]=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  upstream[$label]=$(awk -v c=$((accepts1 - accepts0 - 1)) -v n="$reqs" 'BEGIN { printf "%d (%.1f)", c, 1000 * c / n }')
  errors[$label]=$(awk '/Non-2xx|Socket errors/ {printf "%s%s", sep, $0; sep="; "}' <<<"$out")
  cpu_us[$label]=$(awk -v t=$((after - before)) -v hz="$ticks" -v n="$reqs" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  user_us[$label]=$(awk -v t=$((user_after - user_before)) -v hz="$ticks" -v n="$reqs" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  read -r b0 t0 q0 b1 t1 r0 <<<"$c0"; read -r a0 s0 q1 a1 s1 r1 <<<"$c1"
  load_busy[$label]=$(awk -v b=$((a0 - b0)) -v t=$((s0 - t0)) 'BEGIN { printf "%d%%", 100 * b / t }')
  proxy_busy[$label]=$(awk -v t=$((after - before)) -v hz="$ticks" -v d="${duration%s}" 'BEGIN { printf "%d%%", 100 * t / hz / d }')
  proxy_core=$(awk -v b=$((a1 - b1)) -v t=$((s1 - t1)) -v q=$((r1 - r0)) 'BEGIN { printf "%d%%, softirq %d%%", 100 * b / t, 100 * q / t }')
  proxy_busy[$label]="${proxy_busy[$label]} (CPU 1 ${proxy_core})"
}
# The load side's ceiling: the same wrk straight to the backend (no proxy), both on CPU 0.
out=$(in_client timeout 60 nice -n "$nice" taskset -c 0 wrk -t1 -c"$conns" -d"$duration" --latency "http://$backend_ip:8080/")
direct="$(awk '/^Requests\/sec:/ {print int($2)}' <<<"$out") requests/s, p50 $(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")") us, p99 $(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")") us"
measure weft 8080 "$weft_pid"
measure haproxy 8081 "$haproxy_pid"
measure nginx 8082 "$nginx_pid"

declare -A syscalls
count_syscalls() {  # NAME PORT PID: "N per request (name n, ...)" from strace's summary
  local out="$work/strace.$1" reqs
  strace -c -f -p "$3" -o "$out" 2>/dev/null &
  local strace_pid=$!
  sleep 0.5
  reqs=$(in_client timeout 30 nice -n "$nice" taskset -c 0 wrk -t1 -c"$conns" -d3s -H 'Host: bench.local' "http://$gw_ip:$2/" | awk '/requests in/ {print $1}')
  kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
  syscalls[$1]=$(awk -v n="$reqs" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls = $4; name = $NF; total += calls; if (calls / n >= 0.05) { list = list sprintf("%s%s %.2f", sep, name, calls / n); sep = ", " } }
                                   END { printf "%.2f per request (%s)", total / n, list }' "$out")
}
if [ -n "${PROXY_BENCH_SYSCALLS:-}" ]; then
  count_syscalls weft 8080 "$weft_pid"
  count_syscalls haproxy 8081 "$haproxy_pid"
  count_syscalls nginx 8082 "$nginx_pid"
fi

record_perf() {  # NAME PORT PID: perf record -g of one proxy under the wrk load
  local prefix="$PROXY_BENCH_PERF.$1"
  command -v perf >/dev/null || { echo "proxy_bench: perf is not installed: no profile of $1" >&2; return 0; }
  in_client timeout 30 nice -n "$nice" taskset -c 0 wrk -t1 -c"$conns" -d8s -H 'Host: bench.local' "http://$gw_ip:$2/" >"$prefix.wrk" &
  local wrk_pid=$!
  sleep 1
  # cpu-clock, so that a sample stands for time whatever counters the CPU has.
  if ! perf record -e cpu-clock --call-graph "${PROXY_BENCH_PERF_CALLGRAPH:-fp}" -o "$prefix.data" -p "$3" -- sleep 5 >/dev/null 2>&1; then
    echo "proxy_bench: perf record of $1 failed: no profile" >&2
    wait "$wrk_pid" || true
    return 0
  fi
  wait "$wrk_pid" || true
  perf report -i "$prefix.data" --no-children --stdio >"$prefix.full.txt" 2>/dev/null || true
  sed -n 1,80p "$prefix.full.txt" >"$prefix.txt"
  # Flat, by symbol: what to set against the peer's (the same load, so the shares compare).
  perf report -i "$prefix.data" --no-children --stdio -g none --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' >"$prefix.flat.txt" || true
  # Per request, from the samples: the kernel's share (system calls and the network stack
  # they run) and the rest (the process's own code and its libraries). cpu-clock samples
  # count nanoseconds; the requests are wrk's rate over the 5 s recorded.
  local total kernel rate
  # (awk reads to the end: leaving early would cut perf off with SIGPIPE, which pipefail
  # turns into the script's end.)
  total=$({ perf report -i "$prefix.data" --no-children --stdio -g none --sort dso 2>/dev/null || true; } |
    awk '/^# Event count/ && v == "" {v = $NF} END {print v}')
  kernel=$({ perf report -i "$prefix.data" --no-children --stdio -g none --sort dso 2>/dev/null || true; } |
    awk '/\[kernel.kallsyms\]/ && v == "" {v = $1; sub("%", "", v)} END {print v}')
  rate=$(awk '/^Requests\/sec:/ {print $2}' "$prefix.wrk")
  perf_split[$1]=$(awk -v t="${total:-0}" -v k="${kernel:-0}" -v r="${rate:-0}" 'BEGIN { if (r == 0) { print "n/a"; exit }
    us = t / 1000 / (r * 5); printf "%.1f us/request: kernel %.1f, user %.1f", us, us * k / 100, us * (100 - k) / 100 }')
}
declare -A perf_split
if [ -n "${PROXY_BENCH_PERF:-}" ]; then
  record_perf weft 8080 "$weft_pid"
  record_perf haproxy 8081 "$haproxy_pid"
  record_perf nginx 8082 "$nginx_pid"
fi

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "wrk -t1 -c$conns -d$duration --latency, 1 KiB responses; $(nproc) cores (proxies on CPU 1, wrk/h2load/backend on CPU 0);" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d)."
echo
echo "| proxy | requests/s | p50 | p99 | CPU us/request | of which user | RSS at 1000 rps (peak) MiB | upstream connections opened (per 1000 requests) | proxy CPU busy | CPU 0 busy |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for p in weft haproxy nginx; do
  case $p in weft) what="weft-proxy (1 io thread)";; haproxy) what="haproxy $(haproxy -v | awk 'NR==1 {print $3}') nbthread 1";;
    nginx) what="nginx $(nginx -v 2>&1 | sed 's|.*/||') 1 worker";; esac
  echo "| $what | ${rps[$p]} | ${p50[$p]} us | ${p99[$p]} us | ${cpu_us[$p]} | ${user_us[$p]} | $(mib "${rss[$p]}") ($(mib "${hwm[$p]}")) at ${lowrps[$p]} rps | ${upstream[$p]} | ${proxy_busy[$p]} | ${load_busy[$p]} |"
done
echo
echo "direct to the backend, no proxy (the load side's ceiling, all on CPU 0): $direct"
echo "weft/haproxy: requests/s $(ratio "${rps[weft]}" "${rps[haproxy]}")x, p99 $(ratio "${p99[weft]}" "${p99[haproxy]}")x, CPU/request $(ratio "${cpu_us[weft]}" "${cpu_us[haproxy]}")x"
echo "weft/nginx:   requests/s $(ratio "${rps[weft]}" "${rps[nginx]}")x, p99 $(ratio "${p99[weft]}" "${p99[nginx]}")x, CPU/request $(ratio "${cpu_us[weft]}" "${cpu_us[nginx]}")x"
for p in weft haproxy nginx; do [ -z "${syscalls[$p]:-}" ] || echo "system calls ($p): ${syscalls[$p]}"; done
for p in weft haproxy nginx; do [ -z "${perf_split[$p]:-}" ] || echo "perf ($p): ${perf_split[$p]}"; done
for p in weft haproxy nginx; do [ -z "${errors[$p]}" ] || echo "wrk errors ($p): ${errors[$p]}"; done
met() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }
echo "targets: requests/s >= 1.2x haproxy: $(met "${rps[weft]} >= 1.2 * ${rps[haproxy]}");" \
  "p99 <= haproxy's: $(met "${p99[weft]} <= ${p99[haproxy]}");" \
  "<= 15 us CPU/request: $(met "${cpu_us[weft]} <= 15");" \
  "<= 30 MB RSS at 1000 rps: $(met "${rss[weft]} * 1024 <= 30e6")"
