#!/usr/bin/env bash
# Weft's RateLimitPolicy on the ingress gateway (docs/proxy.md, "Rate limits"):
#
# 1. local: a policy of N requests per minute keyed by client address on the walkthrough's
#    Gateway; N+3 requests from the host to the gateway Service's node port on 127.0.0.1:
#    exactly N get 200, the rest 429 with RateLimit-* headers, Retry-After,
#    x-envoy-ratelimited, the access log's RL flag and weft_ratelimit_limited_total. A
#    malformed policy is refused by `weft apply` with its field path and changes nothing.
# 2. global: redis-server runs in a pod of the cluster (pods cannot reach the host, see
#    docs/localcluster.md), the gateway is scaled to 2 replicas and a global policy of M
#    per minute keyed by a header is applied; M+3 requests alternating between the two
#    gateway pods: exactly M succeed in total, so the count is shared.
# 3. fail open: with Redis gone, requests over the limit are allowed, counted in
#    weft_ratelimit_redis_errors_total / weft_ratelimit_failure_mode_allowed_total, and the
#    gateway logs a warning.
# Usage: ratelimit_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-ratelimit-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="rl$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-ratelimit-work.XXXXXX)
cleanup() {
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

N=5  # local: requests per minute per client address
M=4  # global: requests per minute per x-user, shared by both replicas

in_cluster() { ip netns exec "$netns" "$@"; }
gw_ips() { "$weft" get pods -n istio-system -l istio=ingressgateway -o json | jq -r '.items[] | select(.status.phase == "Running") | .status.podIP // empty'; }
gw_pods() { "$weft" get pods -n istio-system -l istio=ingressgateway -o json | jq -r '.items[] | select(.status.phase == "Running") | .metadata.name'; }
# The minute windows of global limits are the wall clock's: start a burst early in a minute.
avoid_minute_end() { local s=$((10#$(date +%S))); if ((s >= 45)); then sleep $((62 - s)); fi; }

mesh_cluster "$name" "$samples"

# --- the gateway, httpbin, and a route to it ------------------------------------------------------
out=$("$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod 2>&1)
check_contains "the ingress gateway is installed" "$out" "✔ Ingress gateways installed"
one_running() { [ "$(gw_ips | wc -l)" = 1 ]; }
wait_for "a global-ingress pod is Running" 30 one_running
gw_ip=$(gw_ips)
gw_pod=$(gw_pods)
"$weft" apply -f "$samples/walkthrough/httpbin.yaml" >/dev/null
ready() { [ "$("$weft" get deploy "$1" -n "${2:-default}" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = "${3:-1}" ]; }
wait_for "httpbin ready" 30 ready httpbin

check "apply the walkthrough's Gateway" "$weft" apply -f "$samples/walkthrough/istio-gateway.yaml" -n istio-system
cat >vs.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: traffic-rules, namespace: istio-system}
spec:
  hosts: [example.com]
  gateways: [my-gateway]
  http:
  - route:
    - destination: {host: httpbin.default.svc.cluster.local, port: {number: 8000}}
YAML
check "apply a VirtualService from example.com to httpbin" "$weft" apply -f vs.yaml
routed() { [ "$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' "http://$1:8080/get")" = 200 ]; }
wait_for "the gateway routes example.com to httpbin" 30 routed "$gw_ip"
node_port=$("$weft" get svc global-ingress -n istio-system -o json | jq -r '.spec.ports[] | select(.port == 80) | .nodePort // empty')
check "the gateway Service has a node port for port 80" test -n "$node_port"
from_host() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$node_port/get")" = 200 ]; }
wait_for "the host reaches the gateway on 127.0.0.1:$node_port" 30 from_host

# --- 1. local ---------------------------------------------------------------------------------------
cat >local.yaml <<YAML
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: per-client, namespace: istio-system}
spec:
  targetRefs: [{group: networking.istio.io, kind: Gateway, name: my-gateway}]
  mode: local
  rules:
  - name: per-ip
    key: {clientAddress: {}}
    limit: {requests: $N, unit: minute}
YAML
check "apply a local RateLimitPolicy of $N/minute per client address" "$weft" apply -f local.yaml
# Probed from the cluster's own address (pod IP), not the node address the node port's
# relay connects from, so the probe spends none of the host's tokens.
limited_here() { in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' "http://$1:8080/get" | grep -qi "^ratelimit-limit: $2"; }
wait_for "the gateway applies it (RateLimit-Limit: $N on its answers)" 30 limited_here "$gw_ip" "$N"

ok=0 limited=0 last429=""
for i in $(seq 1 $((N + 3))); do
  resp=$(curl -s -D - -o body.txt --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$node_port/get")
  status=$(head -1 <<<"$resp" | awk '{print $2}')
  case "$status" in
    200) ok=$((ok + 1)) ;;
    429) limited=$((limited + 1)); last429=$(tr 'A-Z' 'a-z' <<<"$resp"); cp body.txt body429.txt ;;
    *) echo "       request $i: unexpected status $status" ;;
  esac
done
check_contains "exactly $N of $((N + 3)) requests from the host get 200" "$ok" "$N"
check_contains "the other 3 get 429" "$limited" "3"
check_contains "429 carries RateLimit-Limit" "$last429" "ratelimit-limit: $N"
check_contains "and RateLimit-Remaining: 0" "$last429" "ratelimit-remaining: 0"
check_contains "and RateLimit-Reset" "$last429" "ratelimit-reset: "
check_contains "and Retry-After (a token every $((60 / N)) s)" "$last429" "retry-after: $((60 / N))"
check_contains "and x-envoy-ratelimited: true" "$last429" "x-envoy-ratelimited: true"
check_contains "with Envoy's local rate limit body" "$(cat body429.txt 2>/dev/null)" "local_rate_limited"
allowed_headers=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' "http://$gw_ip:8080/get" | tr 'A-Z' 'a-z')
check_contains "another client address has tokens of its own (200)" "$allowed_headers" "http/1.1 200"
check_contains "and allowed answers carry RateLimit-Remaining too" "$allowed_headers" "ratelimit-remaining: "
log=$("$weft" logs -n istio-system "$gw_pod")
check_contains "access log: 429 with response flag RL" "$log" '" 429 RL '
metrics=$(in_cluster curl -s --max-time 5 "http://$gw_ip:15020/stats/prometheus")
check_contains "weft_ratelimit_limited_total counts the 3" "$metrics" \
  'weft_ratelimit_limited_total{policy="istio-system/per-client",rule="per-ip",mode="local"} 3'

# Bad input: refused with the field path, and the policy in force is unchanged.
sed 's/unit: minute/unit: fortnight/' local.yaml >bad.yaml
check_fails "a policy with unit fortnight is refused with its field path" "spec.rules[0].limit.unit" "$weft" apply -f bad.yaml
sed 's/kind: Gateway, name: my-gateway/kind: Deployment, name: my-gateway/' local.yaml >bad-target.yaml
check_fails "a policy targeting a Deployment is refused with its field path" "spec.targetRefs[0]" "$weft" apply -f bad-target.yaml
check_contains "the stored policy still says minute" "$("$weft" get ratelimitpolicy per-client -n istio-system -o jsonpath='{.spec.rules[0].limit.unit}')" "minute"
code_from_host() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$node_port/get"; }
check_contains "and the host is still limited" "$(code_from_host)" "429"
check "delete the local policy" "$weft" delete -f local.yaml
unlimited() { [ "$(code_from_host)" = 200 ] && ! curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$node_port/get" | grep -qi '^ratelimit-limit'; }
wait_for "without it the host is served again, without RateLimit headers" 30 unlimited

# --- 2. global: Redis in a pod, two gateway replicas ---------------------------------------------------
cat >redis.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis, namespace: istio-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
      - name: redis
        image: redis:7
        command: [/usr/bin/redis-server, --port, "6379", --bind, 0.0.0.0, --protected-mode, "no", --save, "", --appendonly, "no", --dir, /tmp]
        ports: [{containerPort: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: istio-system}
spec:
  selector: {app: redis}
  ports: [{name: tcp-redis, port: 6379}]
YAML
check "apply redis-server as a Deployment and Service in istio-system" "$weft" apply -f redis.yaml
wait_for "redis ready" 30 ready redis istio-system
check "redis answers PING from the cluster" bash -c "ip netns exec $netns redis-cli -h \$('$weft' get svc redis -n istio-system -o jsonpath='{.spec.clusterIP}') ping | grep -q PONG"

"$weft" get deploy global-ingress -n istio-system -o json | jq '.spec.replicas = 2' >gateway-2.json
check "scale the gateway to 2 replicas" "$weft" apply -f gateway-2.json
two_running() { [ "$(gw_ips | wc -l)" = 2 ]; }
wait_for "two gateway pods Running" 60 two_running
mapfile -t ips < <(gw_ips)
mapfile -t pods < <(gw_pods)
for ip in "${ips[@]}"; do wait_for "gateway $ip routes" 30 routed "$ip"; done

cat >global.yaml <<YAML
apiVersion: policy.weft.dev/v1alpha1
kind: RateLimitPolicy
metadata: {name: shared, namespace: istio-system}
spec:
  targetRefs: [{group: networking.istio.io, kind: Gateway, name: my-gateway}]
  mode: global
  redis: {address: "redis.istio-system.svc.cluster.local:6379"}
  rules:
  - name: per-user
    key: {header: {name: x-user}}
    limit: {requests: $M, unit: minute}
YAML
check "apply a global RateLimitPolicy of $M/minute per x-user" "$weft" apply -f global.yaml
limited_as() { in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' -H "X-User: $3" "http://$1:8080/get" | grep -qi "^ratelimit-limit: $2"; }
for ip in "${ips[@]}"; do wait_for "gateway $ip applies it (probed as x-user probe)" 30 limited_as "$ip" "$M" probe; done

avoid_minute_end
ok=0 limited=0 okA=0 okB=0 last429=""
for i in $(seq 0 $((M + 2))); do
  ip=${ips[$((i % 2))]}
  resp=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' -H 'X-User: alice' "http://$ip:8080/get")
  status=$(head -1 <<<"$resp" | awk '{print $2}')
  case "$status" in
    200) ok=$((ok + 1)); if ((i % 2 == 0)); then okA=$((okA + 1)); else okB=$((okB + 1)); fi ;;
    429) limited=$((limited + 1)); last429=$(tr 'A-Z' 'a-z' <<<"$resp") ;;
    *) echo "       request $i to $ip: unexpected status $status" ;;
  esac
done
echo "       successes: ${ips[0]} $okA, ${ips[1]} $okB"
check_contains "exactly $M of $((M + 3)) requests succeed across both replicas" "$ok" "$M"
check_contains "the other 3 get 429" "$limited" "3"
check "both replicas served some of the allowed requests" test "$okA" -gt 0 -a "$okB" -gt 0
check_contains "the global 429 carries RateLimit-Limit" "$last429" "ratelimit-limit: $M"
check_contains "and Retry-After" "$last429" "retry-after: "
check_contains "and x-envoy-ratelimited: true" "$last429" "x-envoy-ratelimited: true"
other=$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' -H 'X-User: bob' "http://${ips[0]}:8080/get")
check_contains "another x-user has a count of its own" "$other" "200"
no_header=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: example.com' "http://${ips[1]}:8080/get")
check_contains "a request without x-user is not limited by the rule" "$no_header" " 200"
counted=$(in_cluster redis-cli -h "$("$weft" get svc redis -n istio-system -o jsonpath='{.spec.clusterIP}')" --scan --pattern 'weft:rl:istio-system/shared:per-user:60:*:alice')
check_contains "Redis holds alice's counter for the window" "$counted" "weft:rl:istio-system/shared:per-user:60:"
for pod in "${pods[@]}"; do
  check_contains "access log of $pod: a 429 RL" "$("$weft" logs -n istio-system "$pod")" '" 429 RL '
done

# --- 3. fail open --------------------------------------------------------------------------------------
check "delete redis" "$weft" delete -f redis.yaml
redis_gone() { ! ip netns exec "$netns" redis-cli -h "$("$weft" get svc redis -n istio-system -o jsonpath='{.spec.clusterIP}' 2>/dev/null || echo 198.19.255.254)" ping 2>/dev/null | grep -q PONG; }
wait_for "redis is gone" 30 redis_gone
ok=0
for i in $(seq 1 $((M + 3))); do
  code=$(in_cluster curl -s -o /dev/null -w '%{http_code} %{time_total}s' --max-time 5 -H 'Host: example.com' -H 'X-User: carol' "http://${ips[0]}:8080/get")
  if [ "${code%% *}" = 200 ]; then ok=$((ok + 1)); else echo "       request $i with Redis gone: $code"; fi
done
check_contains "with Redis gone every one of $((M + 3)) requests is allowed (fail open)" "$ok" "$((M + 3))"
metrics=$(in_cluster curl -s --max-time 5 "http://${ips[0]}:15020/stats/prometheus")
check_contains "weft_ratelimit_redis_errors_total counts the failures" "$metrics" 'weft_ratelimit_redis_errors_total{address="redis.istio-system.svc.cluster.local:6379",reason='
check_contains "weft_ratelimit_failure_mode_allowed_total counts the allowed requests" "$metrics" \
  'weft_ratelimit_failure_mode_allowed_total{address="redis.istio-system.svc.cluster.local:6379"}'
check_contains "the gateway logs a warning" "$("$weft" logs -n istio-system "${pods[0]}")" "requests are allowed while it fails"

for pod in "${pods[@]}"; do
  check "no sanitizer report in $pod's log" bash -c "! '$weft' logs -n istio-system '$pod' | grep -E 'AddressSanitizer|runtime error:'"
done

finish
