#!/usr/bin/env bash
# The local cluster end to end, as root: create, bad inputs, httpbin and curl pods,
# Service names and VIPs, load spreading, restarts, logs, port-forward, NodePort and
# LoadBalancer Services on the host's loopback, unknown images,
# and a delete that leaves nothing behind (also after a runtime that crashed).
# Usage: local_cluster_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-lc-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="lc$$"
other="lc$$-b"
work=$(mktemp -d /tmp/weft-lc-work.XXXXXX)
cleanup() {
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  "$weft" cluster delete --name "$other" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT


nothing_left() {
  local n=$1
  ! ip netns list | grep -qE "^weft-$n( |\.|$)" && [ ! -e "$WEFT_HOME/clusters/$n" ] && ! ls /etc/netns 2>/dev/null | grep -qE "^weft-$n(\.|$)"
}

# --- bad input: each a clear error, nothing half-made --------------------------------
check_fails "a bad cluster name is refused" 'invalid cluster name "Bad_Name"' "$weft" cluster create --name Bad_Name
check_fails "a range outside 198.18.0.0/15 is refused" "--pod-cidr 10.0.0.0/16 is outside 198.18.0.0/15" \
  "$weft" cluster create --name "$name" --pod-cidr 10.0.0.0/16
check_fails "a pod range that is not a network address is refused" "is not a network address" \
  "$weft" cluster create --name "$name" --pod-cidr 198.18.0.1/16
check_fails "not running as root is refused" "must run as root" \
  setpriv --reuid 65534 --regid 65534 --clear-groups "$weft" cluster create --name "$name"
mkdir -p "$work/bin" && ln -s "$(command -v ip)" "$work/bin/ip"
check_fails "a missing iptables is named" "iptables-restore not found in PATH" env PATH="$work/bin" "$weft" cluster create --name "$name"
check "nothing was left by the refused creates" nothing_left "$name"

# --- create ----------------------------------------------------------------------------
out=$("$weft" cluster create --name "$name" 2>&1)
check_contains "cluster create reports the network" "$out" "Network namespace weft-$name (bridge weft0, pods 198.18.0.0/16, services 198.19.0.0/16)"
check_contains "cluster create names the nodes" "$out" "Nodes $name-control-plane, $name-worker"
bridge_mac=$(ip -n "weft-$name" link show weft0 | awk '/ether/ {print $2}')
check_fails "a taken name is refused" "cluster \"$name\" already exists" "$weft" cluster create --name "$name"
check_fails "an overlapping second cluster is refused" "198.18.0.0/16 overlaps 198.18.0.0/16 of cluster \"$name\"" \
  "$weft" cluster create --name "$other"
check "the refused second cluster left nothing" nothing_left "$other"
check "the cluster namespace exists" bash -c "ip netns list | grep -q '^weft-$name'"
check "IP forwarding is on inside the cluster only" bash -c \
  "[ \"\$(ip netns exec weft-$name cat /proc/sys/net/ipv4/ip_forward)\" = 1 ] && [ \"\$(cat /proc/sys/net/ipv4/ip_forward)\" = '$(cat /proc/sys/net/ipv4/ip_forward)' ]"
check "the cluster has no route out of 198.18.0.0/15" bash -c "! ip -n weft-$name route | grep -q default"
list=$("$weft" cluster list)
check_contains "cluster list shows it as current" "$list" "*"
nodes=$("$weft" get nodes)
check_contains "nodes are registered" "$nodes" "$name-worker"
check_contains "istio-system exists for the plug-in CA secret" "$("$weft" get ns)" "istio-system"

# --- httpbin and curl ------------------------------------------------------------------
check "apply httpbin.yaml (the walkthrough's)" "$weft" apply -f "$samples/walkthrough/httpbin.yaml"
check "apply the curl sample" "$weft" apply -f "$samples/curl/curl.yaml"
pods_running() { [ "$("$weft" get pods --no-headers 2>/dev/null | grep -c ' Running ')" -ge "$1" ]; }
wait_for "httpbin and curl pods are Running" 30 pods_running 2
ready_endpoints() { "$weft" get endpoints httpbin -o json | jq -en "input | [.subsets[]?.addresses[]?] | length == $1"; }
wait_for "httpbin's Endpoints list its ready pod" 30 ready_endpoints 1
get=$("$weft" exec deploy/curl -- curl -s --max-time 5 http://httpbin:8000/get)
check "GET http://httpbin:8000/get answers go-httpbin JSON" jq -en 'input | .url == "http://httpbin:8000/get" and (.headers.Host[0] == "httpbin:8000") and (.origin | test("^198\\.18\\."))' <<<"$get"
code=$("$weft" exec deploy/curl -- curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://httpbin.default.svc.cluster.local:8000/headers)
check_contains "the full Service name answers 200" "$code" "200"
headers=$("$weft" exec deploy/curl -- curl -s --max-time 5 http://httpbin.default.svc.cluster.local:8000/headers)
check "/headers echoes the Host" jq -en 'input | .headers.Host[0] == "httpbin.default.svc.cluster.local:8000"' <<<"$headers"
check_contains "the pod's hostname is its name" "$("$weft" exec deploy/curl -- hostname)" "curl-"
check "exec passes the exit code through" bash -c "! '$weft' exec deploy/curl -- sh -c 'exit 3'"
wide=$("$weft" get pods -o wide)
check_contains "get pods -o wide shows the IP and NODE columns" "$wide" "IP           NODE"
check "every pod has an address from the pod range" bash -c "'$weft' get pods -o json | jq -en 'input | [.items[].status.podIP | startswith(\"198.18.\")] | all'"
vip=$("$weft" get svc httpbin -o jsonpath='{.spec.clusterIP}')
check "the Service got a ClusterIP from the Service range" grep -q '^198\.19\.' <<<"$vip"

# --- two replicas share the traffic ------------------------------------------------------
sed 's/replicas: 1/replicas: 2/' "$samples/walkthrough/httpbin.yaml" >"$work/httpbin2.yaml"
check "scale httpbin to two replicas" "$weft" apply -f "$work/httpbin2.yaml"
wait_for "both httpbin replicas are ready endpoints" 30 ready_endpoints 2
"$weft" exec deploy/curl -- sh -c 'for i in $(seq 40); do curl -s -o /dev/null --max-time 5 http://httpbin:8000/get; done'
spread=$(for p in $("$weft" get pods -o name | grep httpbin); do "$weft" logs "${p#pod/}" | grep -c 'GET /get'; done)
check "both replicas received requests ($(echo $spread))" bash -c "[ \$(grep -c '^[1-9]' <<<'$spread') -eq 2 ]"

# --- a killed container restarts ---------------------------------------------------------
pod=$("$weft" get pods -o name | grep httpbin | head -1); pod=${pod#pod/}
pid=$("$weft" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}'); pid=${pid#weft://}
check "the container's process is known" kill -0 "$pid"
kill -9 "$pid"
restarted() { "$weft" get pod "$pod" | grep -qE ' Running +1 \('; }
wait_for "the killed container restarts and RESTARTS counts it" 30 restarted
check_contains "logs --previous shows the run before the kill" "$("$weft" logs --previous "$pod")" "GET /get"
check_contains "the restart is recorded as a termination" "$("$weft" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')" "137"

# --- logs -f follows new lines ------------------------------------------------------------
"$weft" logs -f "$pod" >"$work/follow.log" 2>&1 &
follower=$!
sleep 0.3
ip=$("$weft" get pod "$pod" -o jsonpath='{.status.podIP}')
"$weft" exec deploy/curl -- curl -s -o /dev/null --max-time 5 "http://$ip:8080/get?follow=1" || true
followed() { grep -q 'follow=1' "$work/follow.log"; }
wait_for "logs -f shows a request made after it started" 10 followed
kill "$follower" 2>/dev/null; wait "$follower" 2>/dev/null

# --- port-forward ------------------------------------------------------------------------
port=$((20000 + $$ % 20000))
"$weft" port-forward svc/httpbin "$port:8000" >"$work/pf.log" 2>&1 &
pf=$!
forwarded() { curl -s --max-time 2 "http://127.0.0.1:$port/get" | jq -en 'input | .url'; }
wait_for "port-forward relays 127.0.0.1:$port to httpbin" 10 forwarded
check_contains "port-forward says what it forwards" "$(cat "$work/pf.log")" "Forwarding from 127.0.0.1:$port -> 8000"
kill "$pf" 2>/dev/null; wait "$pf" 2>/dev/null

# --- an unknown image says so --------------------------------------------------------------
cat >"$work/unknown.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: mystery}
spec:
  selector: {matchLabels: {app: mystery}}
  template:
    metadata: {labels: {app: mystery}}
    spec:
      containers: [{name: mystery, image: "example.com/mystery:1.0"}]
YAML
check "apply a Deployment with an unknown image" "$weft" apply -f "$work/unknown.yaml"
err_image() { "$weft" get pods | grep mystery | grep -q ErrImagePull; }
wait_for "its pod shows ErrImagePull" 20 err_image
msg=$("$weft" get pods -l app=mystery -o json 2>/dev/null || "$weft" get pods -o json)
check_contains "the pod's status explains why" "$msg" 'cannot run on the local cluster'

# --- NodePort and LoadBalancer Services on the host's loopback ----------------------------
cat >"$work/lb.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: httpbin-lb}
spec:
  type: LoadBalancer
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: httpbin-np}
spec:
  type: NodePort
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080, nodePort: 30080}]
YAML
check "apply a LoadBalancer and a NodePort Service for httpbin" "$weft" apply -f "$work/lb.yaml"
lb_published() { "$weft" get svc httpbin-lb | grep -qE '^httpbin-lb +LoadBalancer +198\.19\.[0-9.]+ +127\.0\.0\.1 +8000:3[0-9]{4}/TCP '; }
wait_for "get svc shows EXTERNAL-IP 127.0.0.1 and PORT(S) 8000:<nodePort>/TCP" 20 lb_published
check "get svc has kubectl's columns" bash -c "'$weft' get svc httpbin-lb | head -1 | grep -qE '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE\$'"
np=$("$weft" get svc httpbin-lb -o jsonpath='{.spec.ports[0].nodePort}')
check "the nodePort is written into the Service ($np)" bash -c "[ '$np' -ge 30000 ] && [ '$np' -le 32767 ]"
check_contains "the NodePort Service keeps the nodePort it asked for" "$("$weft" get svc httpbin-np)" "8000:30080/TCP"
check_contains "a NodePort Service has no EXTERNAL-IP" "$("$weft" get svc httpbin-np)" "<none>"
lb_answers() { curl -s --max-time 3 "http://127.0.0.1:$np/get" | jq -en "input | .url == \"http://127.0.0.1:$np/get\""; }
wait_for "curl http://127.0.0.1:$np/get from the host reaches httpbin" 20 lb_answers
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$np/headers")
check_contains "the LoadBalancer's node port answers 200 with any Host" "$code" "200"
post=$(head -c 300000 /dev/zero | tr '\0' x | curl -s --max-time 10 --data-binary @- -H 'Content-Type: text/plain' "http://127.0.0.1:$np/post")
check "a 300 KB request body is relayed whole" jq -en 'input | (.data | length) == 300000' <<<"$post"
np_answers() { curl -s --max-time 3 http://127.0.0.1:30080/get | jq -en 'input | .url'; }
wait_for "the NodePort Service answers on 127.0.0.1:30080" 20 np_answers
listeners=$(ss -ltnH "( sport = :$np or sport = :30080 )")
check_contains "the node port listens on the host's loopback" "$listeners" "127.0.0.1:$np"
check "no node port listens on any other address" bash -c "! grep -vE '127\.0\.0\.1:($np|30080) ' <<<'$listeners' | grep -q ."
check "the node ports listen in the host's namespace, not the cluster's" bash -c \
  "! ip netns exec weft-$name ss -ltnH | grep -qE ':($np|30080) '"
cat >"$work/rival.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: rival}
spec:
  type: NodePort
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080, nodePort: 30080}]
YAML
check "apply a second Service asking for node port 30080" "$weft" apply -f "$work/rival.yaml"
refused() { grep -q 'service default/rival port 8000/TCP: nodePort 30080 is already allocated to service default/httpbin-np' "$WEFT_HOME/clusters/$name/runtime.log"; }
wait_for "the runtime log says 30080 is taken" 10 refused
check "30080 still reaches httpbin-np's endpoints" np_answers
check "delete the LoadBalancer Service" "$weft" delete svc httpbin-lb
lb_closed() { ! curl -s --max-time 2 "http://127.0.0.1:$np/get" >/dev/null && ! ss -ltnH "sport = :$np" | grep -q .; }
wait_for "deleting the Service closes 127.0.0.1:$np" 10 lb_closed

# --- delete leaves nothing -----------------------------------------------------------------
# This cluster's processes only (other clusters may run httpbin too).
httpbin_pids=$(for ns in $(ip netns list | awk '{print $1}' | grep "^weft-$name\."); do ip netns pids "$ns"; done | tr '\n' ' ')
# Pods came and went above: the bridge (every pod's gateway) kept its MAC, so no pod's ARP
# entry went stale under an established connection.
check "the bridge's MAC never changed while pods came and went" bash -c \
  "[ \"\$(ip -n weft-$name link show weft0 | awk '/ether/ {print \$2}')\" = '$bridge_mac' ]"
out=$("$weft" cluster delete --name "$name" 2>&1)
check_contains "cluster delete reports" "$out" "Deleting cluster \"$name\""
check "no namespace, /etc/netns entry or state is left" nothing_left "$name"
check "nothing listens on the node port 30080 any more" bash -c "! ss -ltnH 'sport = :30080' | grep -q ."
# A zombie has exited; reaping it is up to the host's init, which is not ours.
check "no pod process is left ($(wc -w <<<"$httpbin_pids") were running)" bash -c "for p in $httpbin_pids; do s=\$(ps -o stat= -p \$p); [ -n \"\$s\" ] && [ \"\${s:0:1}\" != Z ] && ps -o pid,stat,cmd -p \$p && exit 1; done; true"
check "delete is idempotent" "$weft" cluster delete --name "$name"
check_fails "commands without a cluster say so" "no local cluster" "$weft" exec curl -- true

# --- a crashed runtime is cleaned up too ---------------------------------------------------
check "create a second cluster" "$weft" cluster create --name "$other" --nodes 1
check "apply the curl sample there" "$weft" apply -f "$samples/curl/curl.yaml"
wait_for "its curl pod runs" 30 pods_running 1
runtime=$(cat "$WEFT_HOME/clusters/$other/runtime.pid")
kill -9 "$runtime"
check "delete after the runtime crashed" "$weft" cluster delete --name "$other"
check "nothing is left of the crashed cluster" nothing_left "$other"
check "no process is left in its namespaces" bash -c "! pgrep -f 'sleep infinity' -a | grep -q . || ! ip netns identify \$(pgrep -f 'sleep infinity' | head -1) 2>/dev/null | grep -q weft-$other"

finish
