#!/usr/bin/env bash
# weft-proxy as the walkthrough's ingress gateway (steps 10-12): `weft install -f
# global-ingress.yaml --revision prod` starts the gateway, the walkthrough's Gateway and
# VirtualService are applied, and requests from inside the cluster reach httpbin through
# it (200), unknown hosts get 404 NR, the walkthrough's own VirtualService (my-service/v1,
# which does not exist) 503 UH; a route timeout gives 504 UT; smuggling shapes and huge
# header blocks are refused; access log and istio_requests_total are checked.
#
# Ports: as in Istio, the Gateway's server port 80 is the gateway Service's port, and the
# proxy listens on its targetPort (8080), so pod-IP requests go to 8080 and ClusterIP or
# node-port requests to 80.
# Usage: gateway_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-gateway-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="gw$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-gateway-work.XXXXXX)
cleanup() {
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

mesh_cluster "$name" "$samples"

# --- step 10: the gateway ----------------------------------------------------------------------
out=$("$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod 2>&1)
check_contains "step 10: Ingress gateways installed" "$out" "✔ Ingress gateways installed"
gw_running() { "$weft" get pods -n istio-system -l istio=ingressgateway,ingress=global --no-headers | grep -q '^global-ingress-.* Running '; }
wait_for "step 10: a global-ingress pod with istio=ingressgateway,ingress=global is Running" 30 gw_running
gw_pod=$("$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].metadata.name}')
gw_ip=$("$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].status.podIP}')
in_cluster() { ip netns exec "$netns" "$@"; }
gw_ready() { [ "$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$gw_ip:15021/healthz/ready")" = 200 ]; }
wait_for "the gateway reports ready on 15021 once its config synced" 30 gw_ready

"$weft" apply -f "$samples/walkthrough/httpbin.yaml" >/dev/null
ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
wait_for "httpbin ready" 30 ready httpbin

# --- step 11: Gateway and VirtualService --------------------------------------------------------
check "step 11: apply istio-gateway.yaml -n istio-system" "$weft" apply -f "$samples/walkthrough/istio-gateway.yaml" -n istio-system
check "step 11: apply virtual-service.yaml" "$weft" apply -f "$samples/walkthrough/virtual-service.yaml"
check_contains "step 11: traffic-rules listed" "$("$weft" get vs -n istio-system)" "traffic-rules"
listening() { in_cluster curl -s -o /dev/null --max-time 2 -H 'Host: example.com' "http://$gw_ip:8080/"; }
wait_for "the gateway listens for server port 80 on its target port 8080" 20 listening

code() { in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $1" "http://$gw_ip:8080$2"; }
is503() { [ "$(code example.com /get)" = 503 ]; }
wait_for "the walkthrough's VirtualService (my-service/v1 does not exist) answers 503" 20 is503
body=$(in_cluster curl -s --max-time 5 -H 'Host: example.com' "http://$gw_ip:8080/get")
check_contains "with Envoy's body" "$body" "no healthy upstream"

cat >vs-fixed.yaml <<'YAML'
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: traffic-rules
  namespace: istio-system
spec:
  hosts:
  - "example.com"
  gateways:
  - my-gateway
  http:
  - match:
    - uri: {prefix: /delay}
    timeout: 1s
    route:
    - destination: {host: httpbin.default.svc.cluster.local, port: {number: 8000}}
  - route:
    - destination:
        host: httpbin.default.svc.cluster.local
        port:
          number: 8000
YAML
check "apply the corrected VirtualService (httpbin.default.svc.cluster.local:8000)" "$weft" apply -f vs-fixed.yaml
routed() { in_cluster curl -s --max-time 5 -H 'Host: example.com' "http://$gw_ip:8080/get" | jq -en 'input | .url == "http://example.com/get"'; }
wait_for "Host example.com -> httpbin's /get JSON through the gateway (200)" 20 routed
check_contains "status 200" "$(code example.com /get)" "200"
check_contains "Host with a port is matched too" "$(code example.com:80 /get)" "200"
check_contains "Host other.com -> 404" "$(code other.com /get)" "404"
check_contains "with body 'no route'" "$(in_cluster curl -s --max-time 5 -H 'Host: other.com' "http://$gw_ip:8080/get")" "no route"
check_contains "a route timeout of 1s on /delay/3 -> 504" "$(code example.com /delay/3)" "504"
headers=$(in_cluster curl -s --max-time 5 -H 'Host: example.com' "http://$gw_ip:8080/headers")
check_contains "httpbin sees X-Forwarded-Proto from the gateway" "$headers" "X-Forwarded-Proto"
check_contains "and an X-Request-Id" "$headers" "X-Request-Id"
# httpbin answers {"headers": {"Name": ["value"]}}.
check_contains "and a trace started by the gateway: traceparent and B3 with the same trace id" \
  "$(jq -r '.headers | (.Traceparent[0] | split("-")[1]) == .["X-B3-Traceid"][0]' <<<"$headers")" "true"
hop=$(in_cluster curl -s --max-time 5 -H 'Host: example.com' -H 'Keep-Alive: timeout=5' -H 'Proxy-Connection: keep-alive' -H 'TE: trailers' \
  -H 'X-Kept: yes' "http://$gw_ip:8080/headers")
check_contains "hop-by-hop headers (Keep-Alive, Proxy-Connection, TE) are not forwarded; others are" \
  "$(jq -r '.headers | [has("Keep-Alive"), has("Proxy-Connection"), has("Te"), .["X-Kept"][0]] | map(tostring) | join(" ")' <<<"$hop")" "false false false yes"
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
traced=$(in_cluster curl -s --max-time 5 -H 'Host: example.com' -H "traceparent: $tp" "http://$gw_ip:8080/headers")
check_contains "a client's traceparent reaches httpbin untouched" "$(jq -r '.headers.Traceparent[0]' <<<"$traced")" "$tp"
# httpbin's /stream/N sends one chunk per line: the gateway relays the body as it comes,
# chunked to an HTTP/1.1 client, and as the close ends it to an HTTP/1.0 one.
streamed() { in_cluster curl -s --max-time 5 -D - "$@" -H 'Host: example.com' "http://$gw_ip:8080/stream/5"; }
check_contains "a streamed body (unknown length) goes on chunked" "$(streamed)" "Transfer-Encoding: chunked"
check "with its 5 JSON lines" test "$(streamed | grep -c '^{"id":')" -eq 5
check "an HTTP/1.0 client gets the same 5 lines, ended by the close" test "$(streamed --http1.0 | grep -c '^{"id":')" -eq 5
# A 500 KB chunked upload: relayed to httpbin as it arrives (over 64 KiB, unknown length).
uploaded=$(head -c 500000 /dev/zero | tr '\0' a | in_cluster curl -s --max-time 10 -H 'Host: example.com' -H 'Content-Type: text/plain' \
  -H 'Transfer-Encoding: chunked' --data-binary @- "http://$gw_ip:8080/post" | jq -r '.data | length')
check_contains "a 500 KB chunked HTTP/1.1 upload reaches httpbin whole" "$uploaded" "500000"

# --- HTTP/2 from clients: h2c with prior knowledge (curl, h2load) -----------------------------------
h2() { in_cluster curl -s --max-time 10 --http2-prior-knowledge "$@"; }
check_contains "h2c (prior knowledge) to example.com -> HTTP/2 200" \
  "$(h2 -o /dev/null -w '%{http_version} %{http_code}' -H 'Host: example.com' "http://$gw_ip:8080/get")" "2 200"
check_contains "h2c :authority other.com -> 404" "$(h2 -o /dev/null -w '%{http_code}' -H 'Host: other.com' "http://$gw_ip:8080/get")" "404"
posted=$(head -c 200000 /dev/zero | tr '\0' a | h2 -H 'Host: example.com' -H 'Content-Type: text/plain' --data-binary @- "http://$gw_ip:8080/post" | jq -r '.data | length')
check_contains "a 200 KB h2c request body reaches httpbin whole" "$posted" "200000"
loaded=$(in_cluster h2load -n 200 -c 4 -m 10 -H ':authority: example.com' "http://$gw_ip:8080/get" 2>&1)
check_contains "h2load: 200 requests on 4 connections, 10 streams each, all succeed" "$loaded" "200 succeeded, 0 failed, 0 errored"
check_contains "with status 200" "$loaded" "200 2xx"

# --- bad input ------------------------------------------------------------------------------------
raw() { in_cluster bash -c "exec 3<>/dev/tcp/$gw_ip/8080; printf '$1' >&3; timeout 5 head -1 <&3"; }
check_contains "Content-Length with Transfer-Encoding -> 400" \
  "$(raw 'POST /post HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" "400"
big=$(head -c 70000 /dev/zero | tr '\0' a)
check_contains "a 70 KB header block -> 431" "$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: example.com' -H "X-Big: $big" "http://$gw_ip:8080/get")" "431"

# --- telemetry ------------------------------------------------------------------------------------
log=$("$weft" logs -n istio-system "$gw_pod")
check_contains "access log line in Envoy's format for the 200" "$log" '"GET /get HTTP/1.1" 200 - '
check_contains "and the 404 with flag NR" "$log" '"GET /get HTTP/1.1" 404 NR '
check_contains "and the 503 with flag UH" "$log" '"GET /get HTTP/1.1" 503 UH '
check_contains "and the 504 with flag UT" "$log" '"GET /delay/3 HTTP/1.1" 504 UT '
check_contains "and h2c requests as HTTP/2" "$log" '"POST /post HTTP/2" 200 - '
metrics=$(in_cluster curl -s --max-time 5 "http://$gw_ip:15020/stats/prometheus")
check_contains "istio_requests_total for httpbin reported by the gateway as source" "$metrics" \
  'istio_requests_total{reporter="source",source_workload="global-ingress",source_workload_namespace="istio-system"'
check_contains "with destination_service httpbin and response_code 200" "$metrics" \
  'destination_service="httpbin.default.svc.cluster.local",destination_service_name="httpbin",destination_service_namespace="default",destination_cluster="unknown",request_protocol="http",response_code="200"'
check_contains "istio_request_duration_milliseconds histogram" "$metrics" "istio_request_duration_milliseconds_bucket{"
check_contains "istio_request_bytes histogram" "$metrics" "istio_request_bytes_bucket{"
check_contains "istio_response_bytes histogram" "$metrics" "istio_response_bytes_bucket{"

# --- httpbin in the mesh: the gateway sends HBONE with its own identity -------------------------------
check "label namespace default istio.io/rev=prod" "$weft" label namespace default istio.io/rev=prod
httpbin_netns="weft-$name.default.$("$weft" get pods -l app=httpbin -o jsonpath='{.items[0].metadata.name}')"
captured() { ip netns exec "$httpbin_netns" iptables-save -t nat | grep -q 'REDIRECT --to-ports 15006'; }
wait_for "ztunnel captures httpbin" 20 captured
wait_for "the gateway still reaches httpbin, now through its ztunnel" 20 routed
check "a streamed body comes through HBONE too (5 lines)" test "$(streamed | grep -c '^{"id":')" -eq 5
gateway_id="spiffe://acmellc.local/ns/istio-system/sa/global-ingress-service-account"
check_contains "the gateway holds a certificate of its own service account" "$("$weft" logs -n istio-system "$gw_pod")" \
  "gateway: HBONE to mesh endpoints as $gateway_id"
httpbin_node=$("$weft" get pods -l app=httpbin -o jsonpath='{.items[0].spec.nodeName}')
httpbin_ztunnel_ip=$("$weft" get pods -n istio-system -l app=ztunnel -o json |
  jq -r ".items[] | select(.spec.nodeName==\"$httpbin_node\") | .status.podIP")
check_contains "httpbin's ztunnel took the gateway's requests over HBONE, as the gateway's identity" \
  "$(in_cluster curl -s --max-time 5 "http://$httpbin_ztunnel_ip:15020/stats/prometheus")" \
  "reporter=\"destination\",source_workload=\"global-ingress\",source_workload_namespace=\"istio-system\",source_principal=\"$gateway_id\""
check_contains "and the gateway's own metrics name it as source_principal" \
  "$(in_cluster curl -s --max-time 5 "http://$gw_ip:15020/stats/prometheus")" "source_principal=\"$gateway_id\""
httpbin_ip=$("$weft" get pods -l app=httpbin -o jsonpath='{.items[0].status.podIP}')
# The gateway's pod is outside the mesh: plain curl from it is plaintext to httpbin.
plain_to_httpbin() { "$weft" exec -n istio-system "$gw_pod" -- curl -s --max-time 3 -o /dev/null "http://$httpbin_ip:8080/get"; }
cat >strict.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: default}
spec: {mtls: {mode: STRICT}}
YAML
check "apply PeerAuthentication STRICT in namespace default" "$weft" apply -f strict.yaml
plain_refused() { ! plain_to_httpbin; }
wait_for "STRICT: plaintext to httpbin from outside the mesh is refused" 20 plain_refused
check "STRICT: the gateway still routes example.com to httpbin (HBONE)" routed
check "remove the PeerAuthentication" "$weft" delete -f strict.yaml

# --- from the host: the LoadBalancer Service's node port --------------------------------------------
node_port=$("$weft" get svc global-ingress -n istio-system -o json 2>/dev/null | jq -r '.spec.ports[] | select(.port == 80) | .nodePort // empty')
if [ -n "$node_port" ]; then
  # The node port relays to the Service's ClusterIP, which picks Ready pods only; the local
  # runtime calls a pod Ready when every declared container port accepts, and the gateway
  # declares 8443 (as Istio's chart does) with no HTTPS server to listen there.
  gw_pod_ready() { "$weft" get pods -n istio-system "$gw_pod" --no-headers | grep -q ' 1/1 '; }
  check "the gateway pod is Ready for Services (runtime readiness: every declared port, 8443 too)" gw_pod_ready
  from_host() { curl -s --max-time 5 -H 'Host: example.com' "http://127.0.0.1:$node_port/get" | jq -en 'input | .url == "http://example.com/get"'; }
  wait_for "from the host: 127.0.0.1:$node_port with Host example.com -> httpbin" 20 from_host
else
  echo "note - skipped: global-ingress has no nodePort yet (host exposure of LoadBalancer Services is not in this tree)"
fi

# --- the walkthrough's VirtualService again: 503, never a refused config -----------------------------------
check "re-apply the walkthrough's virtual-service.yaml" "$weft" apply -f "$samples/walkthrough/virtual-service.yaml"
wait_for "my-service/v1 answers 503 again" 20 is503
check_contains "while other hosts still get 404" "$(code other.com /)" "404"

# --- TCP at the gateway, as Istio's "TCP Traffic Shifting" task (samples/tcp-echo) ----------------------
# A Gateway server on 31400 with protocol TCP, a VirtualService tcp[] route to tcp-echo v1, then
# 80/20 between v1 and v2; tcp-echo runs in an ambient namespace, so the gateway reaches it over
# HBONE. Clients: bash's /dev/tcp inside the cluster's network (one line out, one line back).
cat >tcp-ns.yaml <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: istio-io-tcp-traffic-shifting, labels: {istio.io/dataplane-mode: ambient}}
YAML
tcp_ns=istio-io-tcp-traffic-shifting
check "create namespace $tcp_ns (ambient)" "$weft" apply -f tcp-ns.yaml
check "apply samples/tcp-echo/tcp-echo-services.yaml" "$weft" apply -n "$tcp_ns" -f "$samples/tcp-echo/tcp-echo-services.yaml"
tcp_ready() { [ "$("$weft" get deploy "$1" -n "$tcp_ns" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for d in tcp-echo-v1 tcp-echo-v2; do wait_for "$d ready" 30 tcp_ready "$d"; done
check "apply tcp-echo-all-v1.yaml (Gateway on 31400/TCP, DestinationRule, VirtualService tcp route)" \
  "$weft" apply -n "$tcp_ns" -f "$samples/tcp-echo/tcp-echo-all-v1.yaml"
# One connection: a line out, the echo back (the server answers each line; we close after one).
tcp_echo() { in_cluster timeout 5 bash -c "exec 3<>/dev/tcp/$gw_ip/31400 && echo \"$1\" >&3 && read -r -t 4 line <&3 && echo \"\$line\""; }
tcp_v1() { [ "$(tcp_echo "hello tcp")" = "one hello tcp" ]; }
wait_for "the gateway relays port 31400 to tcp-echo v1: 'hello tcp' comes back as 'one hello tcp'" 30 tcp_v1
ones=0
for i in $(seq 1 10); do [ "$(tcp_echo "ping $i")" = "one ping $i" ] && ones=$((ones + 1)); done
check_contains "10 connections, 10 answered by v1" "$ones" "10"
check "apply tcp-echo-20-v2.yaml (80/20)" "$weft" apply -n "$tcp_ns" -f "$samples/tcp-echo/tcp-echo-20-v2.yaml"
has_two() { for i in $(seq 1 20); do tcp_echo "w $i" | grep -q '^two w' && return 0; done; return 1; }
wait_for "v2 starts answering after the weights change" 30 has_two
answers=$(for i in $(seq 1 50); do tcp_echo "w $i"; done)
v1=$(grep -c '^one w' <<<"$answers"); v2=$(grep -c '^two w' <<<"$answers")
check "50 connections all answered, by v1 ($v1) and v2 ($v2), v1 the larger share" \
  test "$((v1 + v2))" -eq 50 -a "$v2" -ge 1 -a "$v1" -gt "$v2"
tcp_node=$("$weft" get pods -n "$tcp_ns" -l version=v1 -o jsonpath='{.items[0].spec.nodeName}')
tcp_ztunnel_ip=$("$weft" get pods -n istio-system -l app=ztunnel -o json | jq -r ".items[] | select(.spec.nodeName==\"$tcp_node\") | .status.podIP")
check_contains "tcp-echo's ztunnel took the connections over HBONE from the gateway's identity" \
  "$(in_cluster curl -s --max-time 5 "http://$tcp_ztunnel_ip:15020/stats/prometheus" | grep '^istio_tcp_connections_opened_total' | grep 'tcp-echo')" \
  'sa/global-ingress-service-account'
gw_stats=$(in_cluster curl -s --max-time 5 "http://$gw_ip:15020/stats/prometheus")
check_contains "the gateway counts them: istio_tcp_connections_closed_total to tcp-echo" \
  "$(grep '^istio_tcp_connections_closed_total' <<<"$gw_stats")" "destination_service=\"tcp-echo.$tcp_ns.svc.cluster.local\""
check_contains "and logs each one (\"- - -\" 0, the endpoint)" "$("$weft" logs -n istio-system "$gw_pod" | grep '"- - -" 0 - ' | tail -1)" ":9000\""

# --- TLS terminated at the gateway, then TCP: a server with protocol TLS and tls mode SIMPLE -------------
# Istio routes what such a server decrypts by the VirtualService's tcp[] rules. The client
# (Python's ssl, trusting the test's CA) checks the gateway's certificate for tcp.example.com
# and speaks tcp-echo's line protocol inside the TLS.
openssl req -x509 -sha256 -nodes -days 1 -newkey rsa:2048 -subj '/CN=tcp.example.com' -addext 'subjectAltName=DNS:tcp.example.com' \
  -keyout tcp.key -out tcp.crt 2>/dev/null
check "create secret tls tcp-credential" "$weft" create -n istio-system secret tls tcp-credential --key=tcp.key --cert=tcp.crt
cat >tcp-tls.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tcp-echo-tls}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 31443, name: tls, protocol: TLS}
    tls: {mode: SIMPLE, credentialName: tcp-credential}
    hosts: [tcp.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo-tls}
spec:
  hosts: [tcp.example.com]
  gateways: [tcp-echo-tls]
  tcp:
  - match: [{port: 31443}]
    route: [{destination: {host: tcp-echo, port: {number: 9000}, subset: v2}}]
YAML
check "apply a Gateway with a TLS SIMPLE server on 31443 and a VirtualService tcp[] route to tcp-echo v2" \
  "$weft" apply -n "$tcp_ns" -f tcp-tls.yaml
tls_echo() { in_cluster bash -c 'tls_line "$@"' _ "$gw_ip" 31443 tcp.example.com tcp.crt "$1"; }
tcp_closed() {
  in_cluster curl -s --max-time 5 "http://$gw_ip:15020/stats/prometheus" |
    awk -v svc="tcp-echo.$tcp_ns.svc.cluster.local" '/^istio_tcp_connections_closed_total/ && index($0, "destination_service=\"" svc "\"") && /response_flags="-"/ {s += $NF} END {print s + 0}'
}
closed_before=$(tcp_closed)
tls_two() { [ "$(tls_echo "hello tls")" = "two hello tls" ]; }
wait_for "TLS terminated on 31443 (the gateway's certificate for tcp.example.com), the line relayed to tcp-echo v2" 30 tls_two
twos=0
for i in $(seq 1 10); do [ "$(tls_echo "t $i")" = "two t $i" ] && twos=$((twos + 1)); done
check_contains "10 TLS connections, 10 answered by v2" "$twos" "10"
check "the gateway counts them as TCP connections to tcp-echo (at least 11 more closed)" test "$(tcp_closed)" -ge $((closed_before + 11))

# --- Kubernetes Ingress, as Istio's "Kubernetes Ingress" task uses it -------------------------------------
cat >ingress.yaml <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: istio
spec:
  controller: istio.io/ingress-controller
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress
spec:
  ingressClassName: istio
  rules:
  - host: httpbin.example.com
    http:
      paths:
      - path: /status
        pathType: Prefix
        backend:
          service:
            name: httpbin
            port:
              number: 8000
      - path: /headers
        pathType: Exact
        backend: {service: {name: httpbin, port: {name: http}}}
      - path: /anything/v2.*
        pathType: ImplementationSpecific
        backend: {service: {name: httpbin, port: {number: 8000}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: classless
spec:
  rules:
  - host: classless.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: httpbin, port: {number: 8000}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: someone-else
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  rules:
  - host: nginx.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: httpbin, port: {number: 8000}}}}
YAML
check "apply the IngressClass istio and an Ingress for httpbin.example.com" "$weft" apply -f ingress.yaml
check_contains "its status shows the ingress gateway's address, as istiod writes it" \
  "$("$weft" wait --for=jsonpath='{.status.loadBalancer.ingress[0].ip}'=127.0.0.1 ingress/ingress --timeout=20s 2>&1)" "condition met"
check_contains "weft get ingress: NAME CLASS HOSTS ADDRESS PORTS" "$("$weft" get ingress ingress --no-headers 2>&1)" "ingress   istio   httpbin.example.com   127.0.0.1   80"
ingress_served() { [ "$(code httpbin.example.com /status/200)" = 200 ]; }
wait_for "Prefix /status: httpbin.example.com/status/200 -> 200" 20 ingress_served
check_contains "Prefix matches by path element: /status/418 -> 418" "$(code httpbin.example.com /status/418)" "418"
check_contains "but not /statusx (404, no route)" "$(code httpbin.example.com /statusx)" "404"
check_contains "Exact /headers (backend port by name) -> 200" "$(code httpbin.example.com /headers)" "200"
check_contains "and not /headers/more -> 404" "$(code httpbin.example.com /headers/more)" "404"
check_contains "ImplementationSpecific ending in .* is a prefix, as Istio reads it: /anything/v2/x -> 200" "$(code httpbin.example.com /anything/v2/x)" "200"
check_contains "/anything/vx -> 404" "$(code httpbin.example.com /anything/vx)" "404"
check_contains "a path no rule names -> 404" "$(code httpbin.example.com /get)" "404"
check_contains "an Ingress of another class is not served: 404" "$(code nginx.example.com /get)" "404"
check_contains "nor one with no class, under Istio's default ingressControllerMode STRICT: 404" "$(code classless.example.com /get)" "404"
"$weft" get configmap istio-prod -n istio-system -o json |
  jq '.data.mesh |= sub("ingressControllerMode: STRICT"; "ingressControllerMode: DEFAULT")' >mesh.json
check_contains "the mesh config now says DEFAULT" "$(jq -r .data.mesh mesh.json)" "ingressControllerMode: DEFAULT"
check "set ingressControllerMode: DEFAULT in the istio-prod ConfigMap" "$weft" apply -f mesh.json
classless_served() { [ "$(code classless.example.com /status/200)" = 200 ]; }
wait_for "in mode DEFAULT the classless Ingress is served: 200" 20 classless_served
check_contains "and shows the gateway's address" \
  "$("$weft" wait --for=jsonpath='{.status.loadBalancer.ingress[0].ip}'=127.0.0.1 ingress/classless --timeout=20s 2>&1)" "condition met"
check_contains "while the other class's still is not: 404" "$(code nginx.example.com /get)" "404"
jq '.data.mesh |= sub("ingressControllerMode: DEFAULT"; "ingressControllerMode: STRICT")' mesh.json >mesh-strict.json
check "back to ingressControllerMode: STRICT" "$weft" apply -f mesh-strict.json
classless_dropped() { [ "$(code classless.example.com /status/200)" = 404 ]; }
wait_for "STRICT again: the classless Ingress is no longer served (404)" 20 classless_dropped
classless_unaddressed() { [ "$("$weft" get ingress classless -o jsonpath='{.status.loadBalancer.ingress}')" = "" ]; }
wait_for "and the address it showed is taken back, as istiod does" 20 classless_unaddressed
check "delete the Ingress" "$weft" delete ingress ingress
ingress_gone() { [ "$(code httpbin.example.com /status/200)" = 404 ]; }
wait_for "its routes go with it: 404" 20 ingress_gone

check "no sanitizer report in the gateway's log" bash -c "! '$weft' logs -n istio-system '$gw_pod' | grep -E 'AddressSanitizer|runtime error:'"

finish
