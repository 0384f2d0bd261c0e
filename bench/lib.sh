# Shared by the benchmarks that run on a local cluster (sourced; $weft is the CLI).

wait_until() {  # SECONDS COMMAND...: polls every 0.2 s
  local deadline=$((SECONDS + $1)); shift
  while ((SECONDS < deadline)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
ready() { [ "$("$weft" get deploy "$2" -n "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }  # NS DEPLOYMENT
gw_running() { "$weft" get pods -n istio-system -l istio=ingressgateway --no-headers | grep -q ' Running '; }
pod_name() { "$weft" get pods -n "$1" -l "$2" -o jsonpath='{.items[0].metadata.name}'; }  # NS SELECTOR
pod_ip() { "$weft" get pods -n "$1" -l "$2" -o jsonpath='{.items[0].status.podIP}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # PID: utime + stime, all threads
