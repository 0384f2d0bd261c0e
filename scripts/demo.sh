#!/usr/bin/env bash
# `make demo`: the walkthrough of ../shared/seed-walkthrough with Weft, as far as Weft has
# been built. Each step prints its command, runs it, and checks what the walkthrough says
# must be seen; steps whose parts are not built yet say so instead of pretending.
# Usage: demo.sh BUILD_DIR
set -uo pipefail
build=$(realpath "${1:?usage: demo.sh BUILD_DIR}")
export PATH="$build/bin:$PATH"
samples=$(cd "$(dirname "$0")/../samples/walkthrough" && pwd)
curl_sample=$(cd "$(dirname "$0")/../samples/curl" && pwd)/curl.yaml
work=${WEFT_DEMO_DIR:-/tmp/weft-demo}
cluster=${WEFT_DEMO_CLUSTER:-istio-cluster}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cp "$samples"/*.yaml .
unset WEFT_STORE WEFT_CLUSTER

bold=$'\e[1m'; green=$'\e[32m'; red=$'\e[31m'; dim=$'\e[2m'; reset=$'\e[0m'
[ -t 1 ] || { bold=; green=; red=; dim=; reset=; }
failures=0
step() { printf '\n%s== step %s: %s%s\n' "$bold" "$1" "$2" "$reset"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$reset"; "$@"; }
seen() {  # seen WHAT COMMAND...: a "what must be seen" check
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then printf '  %s✔ %s%s\n' "$green" "$what" "$reset"
  else printf '  %s✘ %s%s\n' "$red" "$what" "$reset"; failures=$((failures + 1)); fi
}
later() { printf '  - not built yet: %s\n' "$1"; }

step 1 "weft cluster create --name $cluster"
if weft cluster list 2>/dev/null | grep -q "^$cluster "; then
  echo "  (a cluster named $cluster exists from an earlier run: deleting it first)"
  weft cluster delete --name "$cluster" >/dev/null
fi
run weft cluster create --name "$cluster"
seen "a local cluster is up (weft cluster list)" bash -c "weft cluster list | grep -q '^$cluster .*running'"
run weft get nodes

step 2 "a root CA, as Istio's Makefile.selfsigned.mk root-ca"
run weft ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out cluster-certs
seen "cluster-certs/root-cert.pem" test -s cluster-certs/root-cert.pem
seen "cluster-certs/root-key.pem (mode 0600)" test "$(stat -c %a cluster-certs/root-key.pem)" = 600
seen "openssl reads a self-signed CA:TRUE root" bash -c \
  "openssl x509 -noout -text -in cluster-certs/root-cert.pem | grep -q 'CA:TRUE' && openssl verify -CAfile cluster-certs/root-cert.pem cluster-certs/root-cert.pem"

step 3 "an intermediate CA for cluster istiocluster"
run weft ca intermediate istiocluster --org "Acme LLC." --cn "Acme LLC Intermediate CA" --root cluster-certs --out cluster-certs
for f in ca-cert.pem ca-key.pem root-cert.pem cert-chain.pem; do
  seen "cluster-certs/istiocluster/$f" test -s "cluster-certs/istiocluster/$f"
done
seen "openssl verifies the intermediate against the root" \
  openssl verify -CAfile cluster-certs/root-cert.pem cluster-certs/istiocluster/ca-cert.pem

step 4 "the plug-in CA as the cacerts secret"
run weft create secret generic cacerts -n istio-system \
  --from-file=cluster-certs/istiocluster/ca-cert.pem --from-file=cluster-certs/istiocluster/ca-key.pem \
  --from-file=cluster-certs/istiocluster/root-cert.pem --from-file=cluster-certs/istiocluster/cert-chain.pem
run weft get secret cacerts -n istio-system
seen "secret cacerts holds the four files" bash -c \
  "weft get secret cacerts -n istio-system -o json | jq -en 'input | .data | keys == [\"ca-cert.pem\",\"ca-key.pem\",\"cert-chain.pem\",\"root-cert.pem\"]'"

step 5 "weft install -y -f istio-operator.yaml --revision prod"
run weft install -y -f istio-operator.yaml --revision prod
seen "control plane revision prod (weftd-prod ready)" test "$(weft get deploy weftd-prod -n istio-system -o jsonpath='{.status.readyReplicas}')" = 1
mesh=$(weft get configmap istio-prod -n istio-system -o jsonpath='{.data.mesh}')
seen "trust domain acmellc.local" grep -q "trustDomain: acmellc.local" <<<"$mesh"
seen "outbound policy REGISTRY_ONLY" grep -q "mode: REGISTRY_ONLY" <<<"$mesh"
seen "weftd signs with the plug-in CA" bash -c "weft logs -n istio-system deploy/weftd-prod | grep -q 'CA plug-in (cacerts)'"

step 6 "weft get pods -n istio-system; weft version"
run weft get pods -n istio-system
run weft version
seen "the control plane Running" bash -c "weft get pods -n istio-system | grep weftd-prod | grep -q Running"
seen "client and control plane versions" bash -c "weft version | grep -q 'control plane version: 0.1.0 (revision prod)'"
nodes=$(weft get nodes --no-headers | wc -l)
seen "a ztunnel Running on each of the $nodes nodes" bash -c "[ \$(weft get pods -n istio-system -l app=ztunnel --no-headers | grep -c ' Running ') = $nodes ]"
seen "the data plane version ($nodes ztunnels)" bash -c "weft version | grep -q 'data plane version: 0.1.0 ($nodes ztunnels)'"

step 7 "enrol the default namespace with revision prod"
run weft label namespace default istio.io/rev=prod
seen "default carries istio.io/rev=prod" test "$(weft get ns default -o jsonpath='{.metadata.labels.istio\.io/rev}')" = prod

step 8 "httpbin"
run weft apply -f httpbin.yaml
httpbin_ready() { [ "$(weft get deploy httpbin -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for _ in $(seq 150); do httpbin_ready && break; sleep 0.2; done
run weft get pods -o wide
seen "an httpbin pod Running" bash -c "weft get pods -l app=httpbin | grep -q ' Running '"
echo "  a curl pod (Istio's curl sample) to reach it from inside the cluster:"
run weft apply -f "$curl_sample"
curl_ready() { [ "$(weft get deploy curl -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for _ in $(seq 150); do curl_ready && break; sleep 0.2; done
run weft exec deploy/curl -- curl -s http://httpbin:8000/get
seen "reachable at httpbin:8000" bash -c "weft exec deploy/curl -- curl -s http://httpbin:8000/get | jq -en 'input | .url == \"http://httpbin:8000/get\"'"
echo "  both pods are in the mesh: their node's ztunnels carry the request over HBONE (mTLS)."
httpbin_node=$(weft get pods -l app=httpbin -o jsonpath='{.items[0].spec.nodeName}')
ztunnel=$(weft get pods -n istio-system -l app=ztunnel -o json | jq -r ".items[] | select(.spec.nodeName==\"$httpbin_node\") | .metadata.name")
printf '%s$ weft logs -n istio-system %s | grep inbound | tail -1%s\n' "$dim" "$ztunnel" "$reset"
weft logs -n istio-system "$ztunnel" | grep 'direction="inbound"' | tail -1 | fold -w 160
seen "httpbin's ztunnel logged the client's SPIFFE identity (mTLS)" bash -c \
  "weft logs -n istio-system $ztunnel | grep 'direction=\"inbound\"' | grep -q 'src.identity=\"spiffe://acmellc.local/ns/default/sa/curl\"'"
run weft ztunnel-config workloads --node "$httpbin_node"
echo "  REGISTRY_ONLY: a server outside the mesh (198.18.0.250:8080, in the cluster's own namespace) that no"
echo "  Service, workload or ServiceEntry names. The node reaches it; the mesh's curl pod is refused by its ztunnel:"
ip netns exec "weft-$cluster" ip addr add 198.18.0.250/32 dev weft0 2>/dev/null
ip netns exec "weft-$cluster" timeout 120 python3 -m http.server 8080 --bind 198.18.0.250 >/dev/null 2>&1 &
outside=$!
trap 'kill $outside 2>/dev/null' EXIT
sleep 0.5
run ip netns exec "weft-$cluster" curl -s -m 3 -o /dev/null -w 'from the node: %{http_code}\n' http://198.18.0.250:8080/
run weft exec deploy/curl -- curl -s -m 3 -o /dev/null -w 'from the curl pod: %{http_code}\n' http://198.18.0.250:8080/
seen "the node reaches it" ip netns exec "weft-$cluster" curl -s -m 3 -o /dev/null http://198.18.0.250:8080/
seen "egress from the mesh to it refused (REGISTRY_ONLY)" bash -c "! weft exec deploy/curl -- curl -s -m 3 -o /dev/null http://198.18.0.250:8080/"
kill $outside 2>/dev/null

step 9 "the certificate httpbin's ztunnel holds for it"
printf '%s$ weft proxy-config secret deployment/httpbin -o json | jq -r '"'"'.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes'"'"' | base64 --decode > chain.pem%s\n' "$dim" "$reset"
weft proxy-config secret deployment/httpbin -o json | jq -r '.dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes' | base64 --decode > chain.pem
run openssl x509 -noout -issuer -ext subjectAltName,keyUsage,extendedKeyUsage,basicConstraints -in chain.pem
text=$(openssl x509 -noout -text -in chain.pem)
seen "issuer O=Acme LLC., CN=Acme LLC Intermediate CA" grep -q "Issuer: O = Acme LLC., CN = Acme LLC Intermediate CA" <<<"$text"
seen "X509v3 Subject Alternative Name: critical" grep -q "X509v3 Subject Alternative Name: critical" <<<"$text"
seen "URI:spiffe://acmellc.local/ns/default/sa/httpbin" grep -q "URI:spiffe://acmellc.local/ns/default/sa/httpbin" <<<"$text"
seen "Key Usage critical: Digital Signature, Key Encipherment" bash -c "grep -A1 'X509v3 Key Usage: critical' <<<\"\$0\" | grep -q 'Digital Signature, Key Encipherment'" "$text"
seen "EKU: TLS Web Server + Client Authentication" grep -q "TLS Web Server Authentication, TLS Web Client Authentication" <<<"$text"
seen "Basic Constraints critical CA:FALSE" bash -c "grep -A1 'X509v3 Basic Constraints: critical' <<<\"\$0\" | grep -q CA:FALSE" "$text"
seen "openssl verify -CAfile root-cert.pem -untrusted cert-chain.pem" \
  openssl verify -CAfile cluster-certs/root-cert.pem -untrusted cluster-certs/istiocluster/cert-chain.pem chain.pem

step 10 "weft install -y -f global-ingress.yaml --revision prod"
run weft install -y -f global-ingress.yaml --revision prod
gw_running() { weft get pods -n istio-system -l istio=ingressgateway,ingress=global --no-headers 2>/dev/null | grep -q ' Running '; }
for _ in $(seq 150); do gw_running && break; sleep 0.2; done
run weft get pods -n istio-system -l istio=ingressgateway
run weft get svc global-ingress -n istio-system
seen "a gateway global-ingress in istio-system with labels istio=ingressgateway, ingress=global" gw_running
node_port=$(weft get svc global-ingress -n istio-system -o json | jq -r '.spec.ports[] | select(.port == 80) | .nodePort // empty')
seen "reachable from the host: EXTERNAL-IP 127.0.0.1, port 80 on 127.0.0.1:$node_port" bash -c \
  "weft get svc global-ingress -n istio-system | grep -q '127.0.0.1' && [ -n '$node_port' ]"

step 11 "the Gateway and VirtualService for example.com"
run weft apply -f istio-gateway.yaml -n istio-system
run weft apply -f virtual-service.yaml
run weft get vs -n istio-system
seen "traffic-rules listed" bash -c "weft get vs -n istio-system | grep -q traffic-rules"

step 12 "the served versions of the VirtualService CRD"
run weft get crd virtualservices.networking.istio.io -o jsonpath='{.spec.versions[*].name}'; echo
seen "v1, v1beta1 and v1alpha3 served" bash -c \
  "weft get crd virtualservices.networking.istio.io -o jsonpath='{.spec.versions[*].name}' | grep -w v1beta1 | grep -w v1alpha3 | grep -qw v1"

step 13 "weft analyze -n istio-system"
printf '%s$ weft analyze -n istio-system%s\n' "$dim" "$reset"
analysis=$(weft analyze -n istio-system 2>&1); code=$?
echo "$analysis"
seen "IST0101 for host my-service" grep -qF 'Error [IST0101] (VirtualService istio-system/traffic-rules) Referenced host not found: "my-service"' <<<"$analysis"
seen "IST0101 for subset v1 (my-service+v1)" grep -qF '"my-service+v1"' <<<"$analysis"
seen "exit code 79" test "$code" = 79
seen "exactly those two messages" test "$(grep -c '^Error \[IST' <<<"$analysis")" = 2

echo
echo "  The analyzer is right: my-service does not exist, so the gateway answers 503 for example.com."
run curl -s -o /dev/null -w 'Host example.com: %{http_code}\n' -H 'Host: example.com' "http://127.0.0.1:$node_port/get"
echo "  Routing example.com to httpbin instead:"
cat >virtual-service-httpbin.yaml <<'YAML'
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
  - route:
    - destination:
        host: httpbin.default.svc.cluster.local
        port:
          number: 8000
YAML
run weft apply -f virtual-service-httpbin.yaml
gw_routes() { curl -s -m 3 -H 'Host: example.com' "http://127.0.0.1:$node_port/get" | jq -en 'input | .url == "http://example.com/get"' >/dev/null; }
for _ in $(seq 100); do gw_routes && break; sleep 0.2; done
run curl -s -H 'Host: example.com' "http://127.0.0.1:$node_port/get"
run curl -s -o /dev/null -w 'Host other.com: %{http_code}\n' -H 'Host: other.com' "http://127.0.0.1:$node_port/get"
seen "the ingress answers for Host example.com from the host (httpbin's JSON)" gw_routes
seen "404 for another host" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.com' "http://127.0.0.1:$node_port/get")" = 404
run weft analyze -n istio-system
seen "weft analyze is clean now" weft analyze -n istio-system

step 14 "weft uninstall"
httpbin_uid=$(weft get pods -l app=httpbin -o jsonpath='{.items[0].metadata.uid}')
run weft uninstall
for _ in $(seq 100); do weft get pods -n istio-system 2>&1 | grep -q weftd || break; sleep 0.2; done
run weft get pods -n istio-system
seen "the control plane is gone" bash -c "d=\$(weft get deploy -n istio-system -o name) && ! grep -q weftd <<<\"\$d\""
seen "httpbin still serves" bash -c "weft exec deploy/curl -- curl -s http://httpbin:8000/get | jq -en 'input | .url'"
seen "httpbin never restarted" bash -c "[ \"\$(weft get pods -l app=httpbin -o jsonpath='{.items[0].metadata.uid}')\" = '$httpbin_uid' ]"

echo
if [ "$failures" -eq 0 ]; then
  printf '%sAll checks passed.%s Files are in %s.\n' "$green" "$reset" "$work"
  echo "The cluster keeps running (step 14 took the mesh away). Look around: weft get pods -A; weft exec deploy/curl -- curl -s httpbin:8000/headers."
  echo "Bring the mesh back: cd $work && weft install -y -f istio-operator.yaml --revision prod, then weft proxy-config secret deployment/httpbin -o json."
  echo "Delete the cluster: weft cluster delete --name $cluster"

else
  printf '%s%d check(s) failed.%s\n' "$red" "$failures" "$reset"
  exit 1
fi
