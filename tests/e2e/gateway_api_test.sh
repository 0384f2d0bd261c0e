#!/usr/bin/env bash
# The Kubernetes Gateway API on the local cluster: a Gateway of class istio gets its
# Deployment, Service (LoadBalancer, a node port on the host's loopback) and
# ServiceAccount from weftd, as istiod deploys them; HTTPRoutes route by host and path to
# httpbin with header modifiers, a redirect, a prefix rewrite and weighted backends; other
# hosts get 404, a missing backend 500; a GRPCRoute carries gRPC from the host (real gRPC at
# both ends, samples/grpc-echo) by method and header; a malformed HTTPRoute is refused by `weft apply`
# with its field path and changes nothing; deleting the Gateway deletes what was deployed.
# Then `weft waypoint apply/list/delete` round trip (the waypoint pod starting is checked;
# traffic through waypoints is the waypoint data path's test).
#
# Usage: gateway_api_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-gwapi-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="gwapi$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-gwapi-work.XXXXXX)
cleanup() {
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"
in_cluster() { ip netns exec "$netns" "$@"; }

mesh_cluster "$name" "$samples"

# --- backends: httpbin and a second Deployment of it, httpbin-v2 -----------------------------------
"$weft" apply -f "$samples/walkthrough/httpbin.yaml" >/dev/null
sed -e 's/name: httpbin$/name: httpbin-v2/' -e 's/app: httpbin$/app: httpbin-v2/' "$samples/walkthrough/httpbin.yaml" >httpbin-v2.yaml
check "apply httpbin-v2 (same image, its own Service)" "$weft" apply -f httpbin-v2.yaml
ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
wait_for "httpbin ready" 30 ready httpbin
wait_for "httpbin-v2 ready" 30 ready httpbin-v2

# --- the Gateway: weftd deploys it -------------------------------------------------------------------
classes() { "$weft" get gatewayclass --no-headers 2>/dev/null | grep -q '^istio-waypoint '; }
wait_for "weftd made the GatewayClasses istio and istio-waypoint" 20 classes
cat >gateway.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: default
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
YAML
check "apply a Gateway of class istio" "$weft" apply -f gateway.yaml
deployed() { "$weft" get deploy web-istio -o jsonpath='{.metadata.name}' 2>/dev/null | grep -q web-istio; }
wait_for "weftd renders Deployment web-istio" 20 deployed
check_contains "with Service web-istio of type LoadBalancer" "$("$weft" get svc web-istio -o jsonpath='{.spec.type}')" "LoadBalancer"
check_contains "and ServiceAccount web-istio" "$("$weft" get serviceaccount web-istio -o name 2>&1)" "web-istio"
gw_running() { "$weft" get pods -l gateway.networking.k8s.io/gateway-name=web --no-headers | grep -q '^web-istio-.* Running '; }
wait_for "a web-istio pod labelled gateway.networking.k8s.io/gateway-name=web is Running" 30 gw_running
gw_ip=$("$weft" get pods -l gateway.networking.k8s.io/gateway-name=web -o jsonpath='{.items[0].status.podIP}')
gw_pod=$("$weft" get pods -l gateway.networking.k8s.io/gateway-name=web -o jsonpath='{.items[0].metadata.name}')
gw_ready() { [ "$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$gw_ip:15021/healthz/ready")" = 200 ]; }
wait_for "the gateway reports ready on 15021" 30 gw_ready
programmed() {
  "$weft" get gtw web -o json | jq -e '(.status.conditions[] | select(.type == "Programmed") | .status == "True")
                                         and (.status.addresses[0].value == "127.0.0.1")' >/dev/null
}
wait_for "Gateway status: Programmed True, address 127.0.0.1 (the LoadBalancer's)" 20 programmed
check_contains "weft wait --for=condition=programmed, as Istio's docs wait for a Gateway" \
  "$("$weft" wait --for=condition=programmed gateways.gateway.networking.k8s.io web --timeout=30s 2>&1)" \
  "gateway.gateway.networking.k8s.io/web condition met"
check_contains "weft wait --for=condition=available deployment/web-istio" \
  "$("$weft" wait --for=condition=available deployment/web-istio --timeout=30s 2>&1)" "deployment.apps/web-istio condition met"
check_fails "weft wait times out on a condition that does not come, and says on what" "timed out waiting for the condition on gateways/web" \
  "$weft" wait --for=condition=Programmed=False gtw/web --timeout=1s
node_port=$("$weft" get svc web-istio -o json | jq -r '.spec.ports[] | select(.port == 80) | .nodePort // empty')
check "listener port 80 has a node port" test -n "$node_port"

# --- HTTPRoutes ----------------------------------------------------------------------------------
cat >route.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: httpbin
  namespace: default
spec:
  parentRefs:
  - name: web
  hostnames: [httpbin.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /get}
    - path: {type: Exact, value: /headers}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Gateway-Api, value: "yes"}]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        add: [{name: X-Served-By, value: web}]
    backendRefs:
    - {name: httpbin, port: 8000}
  - matches:
    - path: {type: Exact, value: /old}
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: new.example.com
        path: {type: ReplaceFullPath, replaceFullPath: /get}
        statusCode: 301
  - matches:
    - path: {type: PathPrefix, value: /split}
    filters:
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /}
    backendRefs:
    - {name: httpbin, port: 8000, weight: 80}
    - {name: httpbin-v2, port: 8000, weight: 20}
  - matches:
    - path: {type: PathPrefix, value: /missing}
    backendRefs:
    - {name: no-such-service, port: 8000}
YAML
check "apply the HTTPRoute" "$weft" apply -f route.yaml
code() { in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $1" "http://$gw_ip:80$2"; }
routed() { in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/get" | jq -en 'input | .url == "http://httpbin.example.com/get"'; }
wait_for "Host httpbin.example.com, path /get -> httpbin (200, on the listener port 80 itself)" 20 routed
# Status, as istiod writes it: the route's parent entry and the listener's count of routes.
route_status() {
  "$weft" get httproute httpbin -o json | jq -e '.status.parents[0] | (.parentRef.name == "web") and (.controllerName == "istio.io/gateway-controller")
    and (.conditions[] | select(.type == "Accepted") | .status == "True")
    and (.conditions[] | select(.type == "ResolvedRefs") | (.status == "False") and (.reason == "BackendNotFound")
         and (.message | contains("default/no-such-service")))' >/dev/null
}
wait_for "HTTPRoute status: Accepted by web; ResolvedRefs False, BackendNotFound naming no-such-service" 20 route_status
listener_status() {
  "$weft" get gtw web -o json | jq -e '.status.listeners[0] | (.name == "http") and (.attachedRoutes == 1)
    and (.conditions[] | select(.type == "Programmed") | .status == "True")' >/dev/null
}
wait_for "Gateway status: listener http has 1 attached route and is Programmed" 20 listener_status
version_before=$("$weft" get httproute httpbin -o jsonpath='{.metadata.resourceVersion}')
sleep 3
check "weftd writes the status once: the route's resourceVersion holds over 3 s" \
  test "$("$weft" get httproute httpbin -o jsonpath='{.metadata.resourceVersion}')" = "$version_before"
cat >stray-route.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: stray, namespace: default}
spec:
  parentRefs: [{name: web, sectionName: https}]
  rules: [{backendRefs: [{name: httpbin, port: 8000}]}]
YAML
check "apply an HTTPRoute naming a listener web does not have" "$weft" apply -f stray-route.yaml
stray_status() {
  "$weft" get httproute stray -o json | jq -e '.status.parents[0].conditions[] | select(.type == "Accepted")
    | (.status == "False") and (.reason == "NoMatchingParent") and (.message | contains("no listener named https"))' >/dev/null
}
wait_for "its status: Accepted False, NoMatchingParent (no listener named https)" 20 stray_status
"$weft" wait --for=delete httproute/stray --timeout=20s >wait-delete.out 2>&1 &
waiter=$!
sleep 0.5
check "delete it" "$weft" delete -f stray-route.yaml
wait "$waiter"
check_contains "a weft wait --for=delete begun before sees it go" "$(cat wait-delete.out)" "httproute.gateway.networking.k8s.io/stray condition met"
check "and one begun after it went returns at once" "$weft" wait --for=delete httproute/stray --timeout=0
check_fails "weft wait --for=create times out on what nobody makes" "timed out waiting for the condition" \
  "$weft" wait --for=create httproute/stray --timeout=1s
"$weft" wait --for=create httproute/stray --timeout=20s >wait-create.out 2>&1 &
waiter=$!
"$weft" wait --for=create httproute -l made=late --timeout=20s >wait-create-selector.out 2>&1 &
selector_waiter=$!
sleep 0.5
check "make it again, labelled" bash -c "'$weft' apply -f stray-route.yaml && '$weft' label httproute stray made=late"
wait "$waiter"
check_contains "a weft wait --for=create begun before sees it made" "$(cat wait-create.out)" "httproute.gateway.networking.k8s.io/stray condition met"
wait "$selector_waiter"
check_contains "and one by label selector sees the first that matches" "$(cat wait-create-selector.out)" \
  "httproute.gateway.networking.k8s.io/stray condition met"
check "delete it again" "$weft" delete -f stray-route.yaml
check_contains "RequestHeaderModifier: httpbin sees X-Gateway-Api: yes" \
  "$(in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/headers" | jq -r '.headers["X-Gateway-Api"][0]')" "yes"
response_headers=$(in_cluster curl -s -o /dev/null -D - --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/headers" | tr -d '\r' | tr 'A-Z' 'a-z')
check_contains "ResponseHeaderModifier: the answer carries x-served-by: web" "$response_headers" "x-served-by: web"
below=$(in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/get/x")
check "PathPrefix /get matches /get/x (a segment below it): httpbin answers, not the gateway" bash -c "! grep -q 'no route' <<<'$below'"
check_contains "but not /getx: no route -> 404" "$(code httpbin.example.com /getx)" "404"
getx_body=$(in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/getx")
check_contains "answered by the gateway itself (no route)" "$getx_body" "no route"
check_contains "another host -> 404" "$(code other.example.com /get)" "404"
redirect=$(in_cluster curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/old")
check_contains "RequestRedirect: 301 to http://new.example.com/get" "$redirect" "301 http://new.example.com/get"
check_contains "a backendRef to a Service that does not exist -> 500" "$(code httpbin.example.com /missing)" "500"
check_contains "URLRewrite ReplacePrefixMatch: /split/get reaches httpbin's /get" \
  "$(in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/split/get" | jq -r .url)" "http://httpbin.example.com/get"

# Weights 80/20 over 60 requests: v2 expected 12 times; anything from 3 to 30 passes (the
# chance of a correct split falling outside is far below one in a million), 0 or 60 fails.
v2=0
for _ in $(seq 60); do
  host=$(in_cluster curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://$gw_ip:80/split/hostname" | jq -r .hostname)
  [[ "$host" == httpbin-v2-* ]] && v2=$((v2 + 1))
done
check "weighted backends 80/20: httpbin-v2 answered $v2 of 60 (3..30 expected)" test "$v2" -ge 3 -a "$v2" -le 30

from_host() { curl -s --max-time 5 -H 'Host: httpbin.example.com' "http://127.0.0.1:$node_port/get" | jq -en 'input | .url == "http://httpbin.example.com/get"'; }
wait_for "from the host: 127.0.0.1:$node_port (the LoadBalancer's node port) with Host httpbin.example.com -> httpbin" 20 from_host

# --- GRPCRoute: gRPC from the host through the Gateway (h2c) to grpc-echo --------------------------
check "apply grpc-echo v1 and v2 (samples/grpc-echo)" "$weft" apply -f "$samples/grpc-echo/grpc-echo.yaml"
wait_for "grpc-echo-v1 ready" 30 ready grpc-echo-v1
wait_for "grpc-echo-v2 ready" 30 ready grpc-echo-v2
cat >grpcroute.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo}
spec:
  parentRefs: [{name: web}]
  hostnames: [grpc.example.com]
  rules:
  - matches: [{method: {service: echo.Echo, method: Say}, headers: [{name: x-version, value: v2}]}]
    backendRefs: [{name: grpc-echo-v2, port: 9000}]
  - backendRefs: [{name: grpc-echo-v1, port: 9000}]
YAML
check "apply a GRPCRoute on Gateway web for grpc.example.com" "$weft" apply -f grpcroute.yaml
echo_bin="$(dirname "$weft")/weft-grpc-echo"
grpc_host() { "$echo_bin" call "127.0.0.1:$node_port" --authority grpc.example.com "$@"; }
grpc_routed() { grpc_host --message hello | grep -qx 'OK v1 /echo.Echo/Say hello server=v1'; }
wait_for "gRPC from the host on the node port -> grpc-echo-v1, its trailer back" 30 grpc_routed
check_contains "x-version: v2 -> grpc-echo-v2, 5 of 5" "$(grpc_host --header x-version=v2 --count 5 | grep -c 'server=v2$')" "5"
check_contains "a status from the backend comes back as sent" "$(grpc_host --method /echo.Echo/Fail)" "UNAVAILABLE asked to fail"
check_contains "another authority has no route: UNIMPLEMENTED, the gateway's own gRPC answer" \
  "$("$echo_bin" call "127.0.0.1:$node_port" --authority nobody.example.com)" "UNIMPLEMENTED"

# --- a malformed HTTPRoute: refused with its field path, nothing stored ---------------------------------
cat >bad-route.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: good-neighbour
  namespace: default
spec:
  parentRefs: [{name: web}]
  hostnames: [good.example.com]
  rules:
  - backendRefs: [{name: httpbin, port: 8000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: httpbin
  namespace: default
spec:
  parentRefs: [{name: web}]
  hostnames: [httpbin.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: no-leading-slash}
    backendRefs: [{name: httpbin, port: 8000}]
YAML
check_fails "weft apply refuses the malformed HTTPRoute, naming the field" "spec.rules[0].matches[0].path.value" "$weft" apply -f bad-route.yaml
check "and stores nothing from that apply (its valid neighbour neither)" bash -c "! '$weft' get httproute good-neighbour >/dev/null 2>&1"
check_contains "the HTTPRoute in the store is unchanged" "$("$weft" get httproute httpbin -o json | jq -r '.spec.rules[0].matches[0].path.value')" "/get"
check_contains "and still routes" "$(code httpbin.example.com /get)" "200"

# --- TCPRoute: a second Gateway with a TCP listener, to Istio's tcp-echo -----------------------------------
check "apply samples/tcp-echo/tcp-echo-services.yaml" "$weft" apply -f "$samples/tcp-echo/tcp-echo-services.yaml"
for d in tcp-echo-v1 tcp-echo-v2; do wait_for "$d ready" 30 ready "$d"; done
# A TLS listener with tls.mode Terminate on 31443 too: the gateway's certificate (a Secret
# in certificateRefs), then what it decrypts relayed by a TCPRoute to tcp-echo v2.
openssl req -x509 -sha256 -nodes -days 1 -newkey rsa:2048 -subj '/CN=tcp.example.com' -addext 'subjectAltName=DNS:tcp.example.com' \
  -keyout tcp.key -out tcp.crt 2>/dev/null
check "create secret tls tcp-cert" "$weft" create secret tls tcp-cert --key=tcp.key --cert=tcp.crt
cat >tcp.yaml <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tcp-edge, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
  - {name: echo, port: 31400, protocol: TCP}
  - {name: tls-echo, port: 31443, protocol: TLS, hostname: tcp.example.com, tls: {mode: Terminate, certificateRefs: [{name: tcp-cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-echo, namespace: default}
spec:
  parentRefs: [{name: tcp-edge, sectionName: echo}]
  rules:
  - backendRefs: [{name: tcp-echo, port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: tcp-echo-v2, namespace: default}
spec:
  selector: {app: tcp-echo, version: v2}
  ports: [{name: tcp, port: 9000}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-echo-tls, namespace: default}
spec:
  parentRefs: [{name: tcp-edge, sectionName: tls-echo}]
  rules:
  - backendRefs: [{name: tcp-echo-v2, port: 9000}]
YAML
check "apply a Gateway with a TCP listener on 31400, a TLS Terminate listener on 31443, and TCPRoutes to tcp-echo" "$weft" apply -f tcp.yaml
check_contains "weft get tcproute lists it" "$("$weft" get tcproute 2>&1)" "tcp-echo"
tcp_gw() { "$weft" get pods -l gateway.networking.k8s.io/gateway-name=tcp-edge -o jsonpath='{.items[0].status.podIP}' 2>/dev/null; }
wait_for "the tcp-edge gateway pod has an address" 30 tcp_gw
tcp_ip=$(tcp_gw)
tcp_echo() { in_cluster timeout 5 bash -c "exec 3<>/dev/tcp/$tcp_ip/31400 && echo \"$1\" >&3 && read -r -t 4 line <&3 && echo \"\$line\""; }
echoed() { tcp_echo "hello" | grep -Eq '^(one|two) hello$'; }
wait_for "a line to the TCP listener comes back from tcp-echo (v1 'one' or v2 'two')" 40 echoed
answers=$(for i in $(seq 1 20); do tcp_echo "n $i"; done)
check "20 connections, each answered by v1 or v2 ($(grep -c '^one' <<<"$answers") and $(grep -c '^two' <<<"$answers"))" \
  test "$(grep -Ec '^(one|two) n [0-9]+$' <<<"$answers")" -eq 20
tls_echo() { in_cluster bash -c 'tls_line "$@"' _ "$tcp_ip" 31443 tcp.example.com tcp.crt "$1"; }
tls_two() { [ "$(tls_echo "hello tls")" = "two hello tls" ]; }
wait_for "TLS Terminate on 31443: the gateway's certificate for tcp.example.com, the line relayed to tcp-echo v2" 30 tls_two
check_contains "10 TLS connections, 10 answered by v2" "$(for i in $(seq 1 10); do tls_echo "t $i"; done | grep -c '^two t')" "10"
check "delete the TCP Gateway and its routes" "$weft" delete -f tcp.yaml

# --- deleting the Gateway deletes what weftd deployed for it ---------------------------------------------
check "delete the Gateway" "$weft" delete -f gateway.yaml
undeployed() { ! "$weft" get deploy web-istio >/dev/null 2>&1 && ! "$weft" get svc web-istio >/dev/null 2>&1; }
wait_for "Deployment and Service web-istio are deleted with it" 20 undeployed

# --- weft waypoint --------------------------------------------------------------------------------
check "create namespace wp" "$weft" create namespace wp
out=$("$weft" waypoint apply -n wp --enroll-namespace 2>&1)
check_contains "waypoint apply: applied" "$out" "✅ waypoint wp/waypoint applied"
check_contains "waypoint apply: warns the namespace is not ambient" "$out" "⚠️ Warning: namespace is not enrolled in ambient"
check_contains "waypoint apply: namespace labelled" "$out" '✅ namespace wp labeled with "istio.io/use-waypoint: waypoint"'
check_contains "namespace wp has istio.io/use-waypoint=waypoint" \
  "$("$weft" get namespace wp -o json | jq -r '.metadata.labels["istio.io/use-waypoint"]')" "waypoint"
check_contains "the Gateway is class istio-waypoint with listener mesh/15008/HBONE" \
  "$("$weft" get gtw waypoint -n wp -o json | jq -c '[.spec.gatewayClassName, .spec.listeners]')" \
  '["istio-waypoint",[{"name":"mesh","port":15008,"protocol":"HBONE"}]]'
wp_running() { "$weft" get pods -n wp -l gateway.networking.k8s.io/gateway-name=waypoint --no-headers | grep -q '^waypoint-.* Running '; }
wait_for "weftd deploys it: a waypoint pod is Running in wp" 30 wp_running
check_contains "weft-proxy runs there in its waypoint role" \
  "$("$weft" get deploy waypoint -n wp -o jsonpath='{.spec.template.spec.containers[0].args}')" "waypoint"
listed() { "$weft" waypoint list -n wp | grep -Eq '^waypoint +default +none +True$'; }
wait_for "waypoint list: NAME REVISION TRAFFIC TYPE PROGRAMMED = waypoint default none True" 20 listed
check_contains "waypoint list header" "$("$weft" waypoint list -n wp)" "NAME         REVISION     TRAFFIC TYPE     PROGRAMMED"
check_contains "waypoint list -A has the NAMESPACE column" "$("$weft" waypoint list -A | head -1)" "NAMESPACE"
out=$("$weft" waypoint apply -n wp --enroll-namespace 2>&1)
check_contains "a second enroll without --overwrite only warns" "$out" "already has an enrolled Waypoint"
check_fails "--for with an unknown traffic type is refused" "invalid traffic type: everything" "$weft" waypoint apply -n wp --for everything
check_fails "the name none is reserved" "'none' is a reserved value" "$weft" waypoint apply -n wp --name none
check_contains "delete of a waypoint that does not exist says so" "$("$weft" waypoint delete nope -n wp)" "waypoint wp/nope not found"
check_contains "waypoint delete" "$("$weft" waypoint delete waypoint -n wp)" "waypoint wp/waypoint deleted"
wp_gone() { ! "$weft" get deploy waypoint -n wp >/dev/null 2>&1; }
wait_for "the waypoint's Deployment goes with it" 20 wp_gone
check_contains "waypoint list: none left" "$("$weft" waypoint list -n wp)" "No waypoints found."

check "no sanitizer report in weftd's log" bash -c "! '$weft' logs -n istio-system deploy/weftd-prod | grep -E 'AddressSanitizer|runtime error:'"
check "no sanitizer report in the gateway's log" bash -c "! '$weft' logs '$gw_pod' 2>/dev/null | grep -E 'AddressSanitizer|runtime error:'"

finish
