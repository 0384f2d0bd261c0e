#!/usr/bin/env bash
# The waypoint end to end on a local cluster: namespace default labelled
# istio.io/use-waypoint=waypoint makes the ztunnels carry curl's connections to hb over
# HBONE to the waypoint pod (weft-proxy waypoint, its own certificate for service account
# waypoint), which routes them with a mesh VirtualService (x-version: v2 -> httpbin-v2,
# else httpbin-v1), enforces an AuthorizationPolicy attached to the Service by targetRefs
# (403), and reports the request with curl's principal. Removing the label sends traffic
# straight to the pods again.
#
# Until `weft waypoint apply` lands, the waypoint's ServiceAccount and Deployment are
# written here as the gateway deployer renders them (role waypoint, labels
# gateway.networking.k8s.io/gateway-name, istio.io/dataplane-mode=none).
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
apiVersion: v1
kind: ServiceAccount
metadata: {name: waypoint}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: waypoint}
spec:
  replicas: 1
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: waypoint}}
  template:
    metadata:
      labels:
        gateway.networking.k8s.io/gateway-name: waypoint
        istio.io/dataplane-mode: none
        service.istio.io/canonical-name: waypoint
    spec:
      serviceAccountName: waypoint
      containers:
      - name: istio-proxy
        image: docker.io/weft/proxy:latest
        args: [waypoint]
        ports: [{containerPort: 15008}, {containerPort: 15020}, {containerPort: 15021}]
        env:
        - {name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: INSTANCE_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: SERVICE_ACCOUNT, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
        - {name: CA_ADDRESS, value: "istiod-prod.istio-system.svc:15012"}
        - {name: XDS_ADDRESS, value: "istiod-prod.istio-system.svc:15012"}
        - {name: REVISION, value: prod}
        - {name: ISTIO_META_WORKLOAD_NAME, value: waypoint}
        readinessProbe: {httpGet: {path: /healthz/ready, port: 15021}}
---
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
check "apply the waypoint, its DestinationRule and mesh VirtualService" "$weft" apply -f apps.yaml
"$weft" apply -f "$samples/curl/curl.yaml" >/dev/null
for d in httpbin-v1 httpbin-v2 curl waypoint; do
  ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
  wait_for "$d ready" 60 ready "$d"
done
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
check "label namespace default istio.io/use-waypoint=waypoint" "$weft" label namespace default istio.io/use-waypoint=waypoint
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

metrics=$(ip netns exec "$netns" curl -s --max-time 5 "http://$wp_ip:15020/stats/prometheus")
check_contains "the waypoint's metrics name curl's principal from the HBONE peer certificate" "$metrics" \
  'istio_requests_total{reporter="waypoint",source_workload="unknown",source_workload_namespace="default",source_principal="spiffe://acmellc.local/ns/default/sa/curl"'
check_contains "with hb as the destination service" "$metrics" 'destination_service="hb.default.svc.cluster.local"'
check_contains "the waypoint's access log has the requests" "$(wp_log)" '"GET /hostname HTTP/1.1" 200'

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

# --- removing the label: straight to the pods again ---------------------------------------------------------------------------
check "unlabel namespace default istio.io/use-waypoint" "$weft" label namespace default istio.io/use-waypoint-
direct_again() { [ "$(code http://hb:8000/headers)" = 200 ]; }
wait_for "without the waypoint the targetRefs policy no longer applies (200)" 30 direct_again
before=$(wp_requests)
for i in $(seq 5); do host_of >/dev/null; done
check_contains "and the waypoint sees none of 5 more requests" "$(wp_requests)" "$before"

finish
