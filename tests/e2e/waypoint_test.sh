#!/usr/bin/env bash
# The waypoint end to end on a local cluster, made as a user following Istio's docs makes
# it: `weft waypoint apply -n default --wait` writes the Gateway (class istio-waypoint), weftd's
# gateway deployer gives it its ServiceAccount, Service and Deployment, and the pod gets a
# certificate of its own service account (waypoint) and stays out of ztunnel's capture.
# `weft waypoint apply -n default --enroll-namespace` then labels namespace default
# istio.io/use-waypoint=waypoint, which makes the ztunnels carry curl's connections to hb
# over HBONE to the waypoint pod (weft-proxy waypoint), which routes them with a mesh
# VirtualService (x-version: v2 -> httpbin-v2, else httpbin-v1), enforces an
# AuthorizationPolicy attached to the Service by targetRefs (403), and reports the request
# with curl's principal. An HTTPRoute whose parent is Service hb (GAMMA) takes over from the
# VirtualService at the waypoint. gRPC (samples/grpc-echo, real gRPC C++ at both ends) goes
# through the waypoint as HTTP/2 inside HBONE, and a GRPCRoute on its Service picks versions.
# TCP (samples/tcp-echo) goes through it as bytes, routed by a VirtualService's tcp[] rules
# and checked by a targetRefs policy with a connection's fields only; a port that declares no
# protocol is served as HTTP or relayed by its first bytes; TLS on a port named tls is routed
# by a VirtualService's tls[] rule on the ClientHello's SNI.
# `weft waypoint list` shows it Programmed; removing the
# label sends traffic straight to the pods again, and `weft waypoint delete` removes the
# Gateway and, through the deployer, everything made for it.
# Usage: waypoint_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-waypoint-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="wp$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-waypoint-work.XXXXXX)
waypoint_pod() { "$weft" get pods -l gateway.networking.k8s.io/gateway-name=waypoint -o jsonpath='{.items[0].metadata.name}'; }
cleanup() {
  [ -n "${WEFT_E2E_DUMP:-}" ] && "$weft" logs "$(waypoint_pod)" >"$WEFT_E2E_DUMP" 2>&1
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

mesh_cluster "$name" "$samples"
check "label namespace default istio.io/rev=prod" "$weft" label namespace default istio.io/rev=prod

cat >apps.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb}
spec:
  host: hb
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hb}
spec:
  hosts: [hb]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: hb, subset: v2}}]
  - route: [{destination: {host: hb, subset: v1}}]
YAML
check "apply httpbin v1 and v2 behind hb (samples/versions)" "$weft" apply -f "$samples/versions/httpbin-v1-v2.yaml"
check "apply hb's DestinationRule and mesh VirtualService" "$weft" apply -f apps.yaml
"$weft" apply -f "$samples/curl/curl.yaml" >/dev/null
applied=$("$weft" waypoint apply -n default --wait 2>&1)
check_contains "weft waypoint apply -n default --wait: the Gateway is written" "$applied" "✅ waypoint default/waypoint applied"
check_contains "and weftd programs it (its Service has an address)" "$applied" "✅ waypoint default/waypoint is ready!"
ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for d in httpbin-v1 httpbin-v2 curl waypoint; do
  wait_for "$d ready" 60 ready "$d"
done

# --- what the gateway deployer made for the Gateway --------------------------------------------------------------------
check_contains "the deployer's ServiceAccount waypoint" "$("$weft" get serviceaccount waypoint -o jsonpath='{.metadata.name}' 2>&1)" "waypoint"
check_contains "the deployer's Service waypoint: HBONE on 15008" "$("$weft" get service waypoint -o jsonpath='{.spec.ports[0].port}' 2>&1)" "15008"
pod_field() { "$weft" get pods -l gateway.networking.k8s.io/gateway-name=waypoint -o jsonpath="$1" 2>&1; }
check_contains "the waypoint pod runs as service account waypoint" "$(pod_field '{.items[0].spec.serviceAccountName}')" "waypoint"
check_contains "the waypoint pod is not captured by ztunnel (istio.io/dataplane-mode: none)" \
  "$(pod_field '{.items[0].metadata.labels.istio\.io/dataplane-mode}')" "none"
check_contains "the waypoint pod runs weft-proxy waypoint" "$(pod_field '{.items[0].spec.containers[0].args[0]}')" "waypoint"
programmed() { "$weft" waypoint list -n default | grep -qE '^waypoint +default +none +True$'; }
wait_for "weft waypoint list: waypoint Programmed (True)" 30 programmed
check_contains "weft waypoint list has istioctl's header" "$("$weft" waypoint list -n default)" "NAME         REVISION     TRAFFIC TYPE     PROGRAMMED"
check_contains "weft waypoint list -A adds the namespace" "$("$weft" waypoint list -A)" "default       waypoint     default      none             True"
wp_ip=$("$weft" get pods -l gateway.networking.k8s.io/gateway-name=waypoint -o jsonpath='{.items[0].status.podIP}')
wp_log() { "$weft" logs "$(waypoint_pod)"; }
check_contains "the waypoint holds a certificate of its own service account" "$(wp_log)" \
  "HBONE on :15008 as spiffe://acmellc.local/ns/default/sa/waypoint"

host_of() { "$weft" exec deploy/curl -- curl -s --max-time 5 "$@" http://hb:8000/hostname | jq -r '.hostname // "none"' 2>/dev/null; }
code() { "$weft" exec deploy/curl -- curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
wp_requests() {
  ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus" |
    awk '/^istio_requests_total\{reporter="waypoint"/ {s += $NF} END {print s + 0}'
}

# --- direct first: without the label, L4 round robin over both versions ----------------------------------------------
direct_v2=0
for i in $(seq 10); do case $(host_of -H 'x-version: v1') in httpbin-v2-*) direct_v2=$((direct_v2 + 1)) ;; esac; done
check "without a waypoint, x-version is ignored: some of 10 reach v2 ($direct_v2)" test "$direct_v2" -ge 1
check_contains "and the waypoint saw none of them" "$(wp_requests)" "0"

# --- through the waypoint ---------------------------------------------------------------------------------------------------
enroll=$("$weft" waypoint apply -n default --enroll-namespace 2>&1)
check_contains "weft waypoint apply -n default --enroll-namespace: applied again" "$enroll" "✅ waypoint default/waypoint applied"
check_contains "and namespace default labelled" "$enroll" '✅ namespace default labeled with "istio.io/use-waypoint: waypoint"'
check_contains "istio.io/use-waypoint=waypoint on namespace default" \
  "$("$weft" get namespace default -o jsonpath='{.metadata.labels.istio\.io/use-waypoint}')" "waypoint"
check_contains "applying again with the label there warns, as istioctl does" "$("$weft" waypoint apply -n default --enroll-namespace 2>&1)" \
  "already has an enrolled Waypoint"
via_waypoint() { [ "$(wp_requests)" -gt 0 ] || { host_of >/dev/null; false; }; }
wait_for "curl -> hb:8000 now goes through the waypoint" 30 via_waypoint
v1=0 v2=0
for i in $(seq 10); do
  case $(host_of -H 'x-version: v2') in httpbin-v2-*) v2=$((v2 + 1)) ;; esac
  case $(host_of) in httpbin-v1-*) v1=$((v1 + 1)) ;; esac
done
check_contains "x-version: v2 -> httpbin-v2, 10 of 10 (mesh VirtualService at the waypoint)" "$v2" "10"
check_contains "without it -> httpbin-v1, 10 of 10" "$v1" "10"
check_contains "curl gets httpbin's answer through the waypoint (200)" "$(code http://hb:8000/get)" "200"
h2_host() { "$weft" exec deploy/curl -- curl -s --max-time 5 --http2-prior-knowledge "$@" http://hb:8000/hostname | jq -r '.hostname // "none"' 2>/dev/null; }
check_contains "h2c (prior knowledge) through the waypoint: x-version: v2 -> httpbin-v2" "$(h2_host -H 'x-version: v2')" "httpbin-v2-"
check_contains "h2c without it -> httpbin-v1" "$(h2_host)" "httpbin-v1-"
check_contains "the waypoint logs those requests as HTTP/2" "$(wp_log)" '"GET /hostname HTTP/2" 200'

metrics=$(ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus")
check_contains "the waypoint's metrics name curl's principal from the HBONE peer certificate" "$metrics" \
  'istio_requests_total{reporter="waypoint",source_workload="unknown",source_workload_namespace="default",source_principal="spiffe://acmellc.local/ns/default/sa/curl"'
check_contains "with hb as the destination service" "$metrics" 'destination_service="hb.default.svc.cluster.local"'
check_contains "the waypoint's access log has the requests" "$(wp_log)" '"GET /hostname HTTP/1.1" 200'

# --- waypoint -> endpoints over HBONE: httpbin's ztunnel sees the waypoint's identity ------------------------------------
hb_node=$("$weft" get pods -l app=hb,version=v1 -o jsonpath='{.items[0].spec.nodeName}')
hb_ztunnel_ip=$("$weft" get pods -n istio-system -l app=ztunnel -o json |
  jq -r ".items[] | select(.spec.nodeName==\"$hb_node\") | .status.podIP")
check_contains "httpbin-v1's ztunnel took the waypoint's requests over HBONE, as the waypoint's identity" \
  "$(ip netns exec "$netns" curl -s --max-time 5 "http://$hb_ztunnel_ip:15020/stats/prometheus")" \
  'istio_tcp_connections_opened_total{reporter="destination",source_workload="waypoint",source_workload_namespace="default",source_principal="spiffe://acmellc.local/ns/default/sa/waypoint"'
cat >strict.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict}
spec: {mtls: {mode: STRICT}}
YAML
hb_v1_ip=$("$weft" get pods -l app=hb,version=v1 -o jsonpath='{.items[0].status.podIP}')
# The waypoint's pod is outside the mesh: plain curl from it is plaintext to httpbin-v1.
plain_to_pod() { "$weft" exec deploy/waypoint -- curl -s --max-time 3 -o /dev/null "http://$hb_v1_ip:8080/get"; }
check "PERMISSIVE: plaintext from outside the mesh (the waypoint's pod) to httpbin-v1 is accepted" plain_to_pod
check "apply PeerAuthentication STRICT in namespace default" "$weft" apply -f strict.yaml
plain_refused() { ! plain_to_pod; }
wait_for "STRICT: that plaintext is now refused" 20 plain_refused
v1=0 v2=0
for i in $(seq 5); do
  case $(host_of -H 'x-version: v2') in httpbin-v2-*) v2=$((v2 + 1)) ;; esac
  case $(host_of) in httpbin-v1-*) v1=$((v1 + 1)) ;; esac
done
check_contains "STRICT: through the waypoint to v2 still works, 5 of 5 (mTLS all the way)" "$v2" "5"
check_contains "STRICT: and to v1, 5 of 5" "$v1" "5"
check "remove the PeerAuthentication" "$weft" delete -f strict.yaml

# --- L7 AuthorizationPolicy attached to the Service -------------------------------------------------------------------------
cat >deny.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: hb-no-headers}
spec:
  targetRefs: [{kind: Service, group: "", name: hb}]
  action: DENY
  rules: [{to: [{operation: {paths: ["/headers"]}}]}]
YAML
check "apply a DENY policy on /headers with targetRefs to Service hb" "$weft" apply -f deny.yaml
denied() { [ "$(code http://hb:8000/headers)" = 403 ]; }
wait_for "GET /headers through the waypoint -> 403" 20 denied
check_contains "with Envoy's RBAC body" "$("$weft" exec deploy/curl -- curl -s --max-time 5 http://hb:8000/headers)" "RBAC: access denied"
check_contains "other paths still 200" "$(code http://hb:8000/get)" "200"

# --- GAMMA: an HTTPRoute attached to Service hb, served by hb's waypoint ---------------------------------------------------
cat >gamma.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: httpbin-v1}
spec:
  selector: {app: hb, version: v1}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: httpbin-v2}
spec:
  selector: {app: hb, version: v2}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hb-versions}
spec:
  parentRefs: [{group: "", kind: Service, name: hb, port: 8000}]
  rules:
  - matches: [{headers: [{name: x-version, value: v2}]}]
    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-routed-by, value: httproute}]}}]
    backendRefs: [{name: httpbin-v2, port: 8000}]
  - filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-routed-by, value: httproute}]}}]
    backendRefs: [{name: httpbin-v1, port: 8000}]
YAML
routed_by() { "$weft" exec deploy/curl -- curl -s -o /dev/null -D - --max-time 5 "$@" http://hb:8000/get | tr -d '\r' | awk -F': ' 'tolower($1) == "x-routed-by" {print $2}'; }
by_vs() { [ -z "$(routed_by)" ] && [ "$(code http://hb:8000/get)" = 200 ]; }
check "before the HTTPRoute, the VirtualService routes (200, no x-routed-by)" by_vs
check "apply Services httpbin-v1, httpbin-v2 and an HTTPRoute with parentRef Service hb" "$weft" apply -f gamma.yaml
by_httproute() { [ "$(routed_by)" = httproute ]; }
wait_for "the HTTPRoute takes over from the VirtualService at the waypoint" 30 by_httproute
v1=0 v2=0
for i in $(seq 10); do
  case $(host_of -H 'x-version: v2') in httpbin-v2-*) v2=$((v2 + 1)) ;; esac
  case $(host_of) in httpbin-v1-*) v1=$((v1 + 1)) ;; esac
done
check_contains "HTTPRoute: x-version: v2 -> Service httpbin-v2, 10 of 10" "$v2" "10"
check_contains "HTTPRoute: without it -> Service httpbin-v1, 10 of 10" "$v1" "10"
check_contains "the targetRefs policy still applies under the HTTPRoute (403)" "$(code http://hb:8000/headers)" "403"
check "delete the HTTPRoute" "$weft" delete -f gamma.yaml
wait_for "without it the VirtualService routes again" 30 by_vs

# --- gRPC through the waypoint: HTTP/2 inside HBONE both ways, then a GRPCRoute (GAMMA) ---------------------------------
check "apply grpc-echo v1 and v2 behind grpc-echo:9000 (samples/grpc-echo)" "$weft" apply -f "$samples/grpc-echo/grpc-echo.yaml"
for d in grpc-echo-v1 grpc-echo-v2; do
  wait_for "$d ready" 60 ready "$d"
done
echo_bin="$(dirname "$weft")/weft-grpc-echo"
grpc_ip=$("$weft" get svc grpc-echo -o jsonpath='{.spec.clusterIP}')
grpc_call() { "$weft" exec deploy/curl -- "$echo_bin" call "$grpc_ip:9000" "$@"; }
grpc_ok() { grpc_call --message ping | grep -q '^OK v[12] /echo.Echo/Say ping server=v[12]$'; }
wait_for "a unary gRPC call from curl's pod to grpc-echo:9000, through the waypoint, is answered" 30 grpc_ok
calls=$(grpc_call --count 10)
check_contains "10 calls: answers from v1 (round robin over both versions)" "$calls" "server=v1"
check_contains "and from v2" "$calls" "server=v2"
check_contains "the waypoint logs them as HTTP/2" "$(wp_log)" '"POST /echo.Echo/Say HTTP/2" 200'
metrics=$(ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus")
check_contains "and counts them as gRPC with grpc-status 0" "$metrics" 'request_protocol="grpc"'
check_contains "for grpc-echo" "$metrics" 'destination_service="grpc-echo.default.svc.cluster.local"'
check_contains "an UNAVAILABLE answer comes back with its message" "$(grpc_call --method /echo.Echo/Fail)" "UNAVAILABLE asked to fail"
cat >grpcroute.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc-echo-versions}
spec:
  parentRefs: [{group: "", kind: Service, name: grpc-echo, port: 9000}]
  rules:
  - matches: [{method: {service: echo.Echo, method: Say}, headers: [{name: x-version, value: v2}]}]
    backendRefs: [{name: grpc-echo-v2, port: 9000}]
  - backendRefs: [{name: grpc-echo-v1, port: 9000}]
YAML
check "apply a GRPCRoute with parentRef Service grpc-echo" "$weft" apply -f grpcroute.yaml
to_v2() { grpc_call --header x-version=v2 --count 3 | grep -c 'server=v2$' | grep -qx 3; }
wait_for "GRPCRoute: x-version: v2 -> Service grpc-echo-v2" 30 to_v2
check_contains "GRPCRoute: x-version: v2 -> grpc-echo-v2, 10 of 10" "$(grpc_call --header x-version=v2 --count 10 | grep -c 'server=v2$')" "10"
check_contains "GRPCRoute: without it -> grpc-echo-v1, 10 of 10" "$(grpc_call --count 10 | grep -c 'server=v1$')" "10"
check "delete the GRPCRoute and grpc-echo" "$weft" delete -f grpcroute.yaml

# --- TCP through the waypoint: samples/tcp-echo, whose ports are declared tcp ------------------------------------------
# The waypoint relays the bytes (no HTTP inside), routes them by a mesh VirtualService's tcp[]
# rules, and applies the Service's targetRefs policies with a connection's fields only, as in
# Istio's "TCP Traffic" authorization task. A Service port with no declared protocol is told
# by its first bytes: HTTP is served as requests, anything else relayed.
check "apply samples/tcp-echo/tcp-echo-services.yaml" "$weft" apply -f "$samples/tcp-echo/tcp-echo-services.yaml"
for d in tcp-echo-v1 tcp-echo-v2; do wait_for "$d ready" 60 ready "$d"; done
tcp_ip=$("$weft" get svc tcp-echo -o jsonpath='{.spec.clusterIP}')
# One line to ADDRESS:PORT from curl's pod, the answer line back.
tcp_send() { "$weft" exec deploy/curl -- timeout 5 bash -c "exec 3<>/dev/tcp/$1/$2 && echo \"$3\" >&3 && read -r -t 4 line <&3 && echo \"\$line\""; }
wp_tcp() {
  ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus" |
    awk '/^istio_tcp_connections_closed_total\{reporter="waypoint"/ && /destination_service="tcp-echo.default/ {s += $NF} END {print s + 0}'
}
tcp_answered() { tcp_send "$tcp_ip" 9000 "hello" | grep -qE '^(one|two) hello$'; }
wait_for "tcp-echo:9000 answers through the waypoint ('hello' -> 'one hello' or 'two hello')" 30 tcp_answered
before=$(wp_tcp)
answers=$(for i in $(seq 10); do tcp_send "$tcp_ip" 9000 "ping $i"; done)
check_contains "10 connections, no VirtualService: both versions answer (v1)" "$answers" "one ping"
check_contains "and v2" "$answers" "two ping"
check "the waypoint relayed and counted all 10 (istio_tcp_connections_closed_total, reporter waypoint)" test "$(wp_tcp)" -ge $((before + 10))
metrics=$(ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus")
check_contains "with curl's principal as the source" "$(grep '^istio_tcp_connections_closed_total' <<<"$metrics" | grep tcp-echo)" \
  'source_principal="spiffe://acmellc.local/ns/default/sa/curl"'
check_contains "and logged as connections (\"- - -\" 0)" "$(wp_log | grep '"- - -" 0 - ' | tail -1)" ":9000\""

cat >tcp-routes.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tcp-echo}
spec:
  host: tcp-echo
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo}
spec:
  hosts: [tcp-echo]
  tcp:
  - match: [{port: 9000}]
    route: [{destination: {host: tcp-echo, subset: v2, port: {number: 9000}}}]
  - route: [{destination: {host: tcp-echo, subset: v1}}]
YAML
check "apply a mesh VirtualService: tcp[] port 9000 -> v2, the rest -> v1" "$weft" apply -f tcp-routes.yaml
all_v2() { [ "$(for i in 1 2 3; do tcp_send "$tcp_ip" 9000 x; done | grep -c '^two x$')" = 3 ]; }
wait_for "tcp[] at the waypoint: port 9000 -> tcp-echo v2" 30 all_v2
check_contains "10 of 10 to v2 on port 9000" "$(for i in $(seq 10); do tcp_send "$tcp_ip" 9000 "p $i"; done | grep -c '^two p')" "10"
check_contains "10 of 10 to v1 on port 9001" "$(for i in $(seq 10); do tcp_send "$tcp_ip" 9001 "p $i"; done | grep -c '^one p')" "10"

cat >tcp-deny.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: tcp-echo-no-get}
spec:
  targetRefs: [{kind: Service, group: "", name: tcp-echo}]
  action: DENY
  rules: [{to: [{operation: {methods: [GET], ports: ["9000"]}}]}]
YAML
check "apply a DENY policy with methods [GET] on port 9000, targetRefs Service tcp-echo" "$weft" apply -f tcp-deny.yaml
refused() { [ -z "$(tcp_send "$tcp_ip" 9000 x)" ]; }
wait_for "for TCP the method is left out of a DENY rule: port 9000 is refused" 30 refused
check_contains "port 9001 still answers" "$(tcp_send "$tcp_ip" 9001 still)" "one still"
check_contains "the waypoint logs the refusal" "$(wp_log)" "closed: RBAC: access denied by default/tcp-echo-no-get"
check "delete the policy, the VirtualService and the DestinationRule" "$weft" delete -f tcp-deny.yaml -f tcp-routes.yaml

cat >tcproute.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: tcp-echo-v2}
spec:
  selector: {app: tcp-echo, version: v2}
  ports: [{name: tcp, port: 9000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-echo-to-v2}
spec:
  parentRefs: [{group: "", kind: Service, name: tcp-echo, port: 9000}]
  rules: [{backendRefs: [{name: tcp-echo-v2, port: 9000}]}]
YAML
check "apply a TCPRoute with parentRef Service tcp-echo port 9000 (GAMMA) to Service tcp-echo-v2" "$weft" apply -f tcproute.yaml
wait_for "the TCPRoute at the waypoint: port 9000 -> tcp-echo v2" 30 all_v2
check_contains "10 of 10 to v2" "$(for i in $(seq 10); do tcp_send "$tcp_ip" 9000 "r $i"; done | grep -c '^two r')" "10"
both_on_9001() { answers=$(for i in $(seq 10); do tcp_send "$tcp_ip" 9001 "q $i"; done); grep -q '^one q' <<<"$answers" && grep -q '^two q' <<<"$answers"; }
check "port 9001, which the route does not name, reaches both versions" both_on_9001
check "delete the TCPRoute" "$weft" delete -f tcproute.yaml

cat >undeclared.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: tcp-echo-plain}
spec:
  selector: {app: tcp-echo, version: v1}
  ports: [{name: echo, port: 9002}]
---
apiVersion: v1
kind: Service
metadata: {name: hb-plain}
spec:
  selector: {app: hb, version: v1}
  ports: [{name: web, port: 8000, targetPort: 8080}]
YAML
check "apply Services whose ports declare no protocol (names echo, web)" "$weft" apply -f undeclared.yaml
plain_ip=$("$weft" get svc tcp-echo-plain -o jsonpath='{.spec.clusterIP}')
plain_echo() { [ "$(tcp_send "$plain_ip" 9002 "sniffed")" = "one sniffed" ]; }
wait_for "undeclared port, bytes that are not HTTP: relayed ('sniffed' -> 'one sniffed')" 30 plain_echo
plain_http() { "$weft" exec deploy/curl -- curl -s --max-time 5 http://hb-plain:8000/hostname | jq -r '.hostname // "none"' 2>/dev/null; }
check_contains "undeclared port, HTTP: served as requests (httpbin answers)" "$(plain_http)" "httpbin-v1-"
check_contains "and the waypoint counts it as a request to hb-plain (not relayed as bytes)" \
  "$(ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus" | grep '^istio_requests_total{reporter="waypoint"')" \
  'destination_service="hb-plain.default.svc.cluster.local"'
check "delete them and tcp-echo" "$weft" delete -f undeclared.yaml -f "$samples/tcp-echo/tcp-echo-services.yaml"

# --- tls[] at the waypoint: two TLS servers behind one Service port, picked by the SNI ------------------------------------
# Port 443 is named tls: the waypoint relays it as bytes, and a mesh VirtualService's tls[]
# rule sends the ClientHellos for v2.secure.example to v2; every other connection takes the
# tcp[] rule to v1. Each server (openssl s_server) has its own certificate, so the client
# (openssl s_client in curl's pod, through its ztunnel) reads who answered from the subject.
for v in v1 v2; do
  openssl req -x509 -sha256 -nodes -days 1 -newkey rsa:2048 -subj "/CN=secure-$v" -keyout "$work/$v.key" -out "$work/$v.crt" 2>/dev/null
done
secure_deployment() {  # VERSION
  cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: secure-$1}
spec:
  replicas: 1
  selector: {matchLabels: {app: secure, version: $1}}
  template:
    metadata: {labels: {app: secure, version: $1}}
    spec:
      containers:
      - name: server
        image: alpine/openssl
        command: [openssl, s_server, -accept, "8443", -cert, $work/$1.crt, -key, $work/$1.key, -www, -quiet]
        ports: [{containerPort: 8443}]
YAML
}
{
  cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: secure}
spec:
  selector: {app: secure}
  ports: [{name: tls, port: 443, targetPort: 8443}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure}
spec:
  host: secure
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure, v2.secure.example]
  tls:
  - match: [{sniHosts: [v2.secure.example]}]
    route: [{destination: {host: secure, subset: v2}}]
  tcp:
  - route: [{destination: {host: secure, subset: v1}}]
YAML
  secure_deployment v1
  secure_deployment v2
} >secure.yaml
check "apply Service secure (port 443 named tls, two openssl s_server versions) and a VirtualService with tls[] by SNI" \
  "$weft" apply -f secure.yaml
for d in secure-v1 secure-v2; do wait_for "$d ready" 60 ready "$d"; done
secure_ip=$("$weft" get svc secure -o jsonpath='{.spec.clusterIP}')
answered_by() {  # SNI: the CN of the certificate that answered
  "$weft" exec deploy/curl -- timeout 5 openssl s_client -connect "$secure_ip:443" -servername "$1" </dev/null 2>/dev/null |
    sed -n 's/^subject=.*CN *= *//p'
}
sni_v2() { [ "$(answered_by v2.secure.example)" = secure-v2 ]; }
wait_for "tls[] at the waypoint: SNI v2.secure.example -> secure-v2" 30 sni_v2
v2=0; v1=0
for i in $(seq 5); do [ "$(answered_by v2.secure.example)" = secure-v2 ] && v2=$((v2 + 1)); done
for i in $(seq 5); do [ "$(answered_by other.secure.example)" = secure-v1 ] && v1=$((v1 + 1)); done
check_contains "5 of 5 ClientHellos for v2.secure.example reach v2" "$v2" 5
check_contains "5 of 5 for another name take the tcp[] rule to v1" "$v1" 5
check "delete them" "$weft" delete -f secure.yaml

# --- removing the label: straight to the pods again ---------------------------------------------------------------------------
check "unlabel namespace default istio.io/use-waypoint" "$weft" label namespace default istio.io/use-waypoint-
direct_again() { [ "$(code http://hb:8000/headers)" = 200 ]; }
wait_for "without the waypoint the targetRefs policy no longer applies (200)" 30 direct_again
before=$(wp_requests)
for i in $(seq 5); do host_of >/dev/null; done
check_contains "and the waypoint sees none of 5 more requests" "$(wp_requests)" "$before"

# --- weft waypoint delete: the Gateway goes, and the deployer removes what it made -------------------------------------------
check_contains "weft waypoint delete waypoint -n default" "$("$weft" waypoint delete waypoint -n default 2>&1)" "waypoint default/waypoint deleted"
gone() { ! "$weft" get deploy waypoint >/dev/null 2>&1 && ! "$weft" get service waypoint >/dev/null 2>&1 && ! "$weft" get serviceaccount waypoint >/dev/null 2>&1; }
wait_for "the waypoint's Deployment, Service and ServiceAccount are removed" 30 gone
no_pod() { [ -z "$(waypoint_pod 2>/dev/null)" ]; }
wait_for "and its pod" 30 no_pod
check_contains "weft waypoint list: No waypoints found." "$("$weft" waypoint list -n default)" "No waypoints found."
check_contains "deleting it again: not found" "$("$weft" waypoint delete waypoint -n default 2>&1)" "waypoint default/waypoint not found"

finish
