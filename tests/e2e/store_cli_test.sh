#!/usr/bin/env bash
# The kubectl verbs and analyze on Weft's local store, run as a user would: the
# walkthrough's steps 4, 7, 8, 11, 12 and 13 (without the cluster), and the refusals.
# Usage: store_cli_test.sh PATH_TO_WEFT SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/weft-store-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export WEFT_STORE="$work/store"
w() { "$weft" "$@"; }

# --- namespaces and the plug-in CA secret (step 4) -------------------------------------
check_contains "create namespace" "$(w create namespace istio-system)" "namespace/istio-system created"
check_fails "create existing namespace" 'namespaces "istio-system" already exists' w create namespace istio-system
w ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out certs --key-type ec >/dev/null
w ca intermediate c1 --org "Acme LLC." --cn "Acme LLC Intermediate CA" --root certs --out certs --key-type ec >/dev/null
out=$(w create secret generic cacerts -n istio-system --from-file=certs/c1/ca-cert.pem --from-file=certs/c1/ca-key.pem \
  --from-file=certs/c1/root-cert.pem --from-file=certs/c1/cert-chain.pem)
check_contains "create secret" "$out" "secret/cacerts created"
check "secret data round-trips" bash -c \
  "'$weft' get secret cacerts -n istio-system -o jsonpath='{.data.ca-cert\.pem}' | base64 -d | cmp - certs/c1/ca-cert.pem"
check_contains "secret table" "$(w get secrets -n istio-system)" "cacerts   Opaque   4"
check_fails "secret in a missing namespace" 'namespaces "nowhere" not found' w create secret generic s -n nowhere --from-literal=a=b
check_fails "secret from a missing file" "nope.pem: cannot open" w create secret generic s --from-file=nope.pem

# --- label (step 7) ----------------------------------------------------------------------
check_contains "label namespace" "$(w label namespace default istio.io/rev=prod)" "namespace/default labeled"
check_fails "relabel without --overwrite" "'istio.io/rev' already has a value (prod), and --overwrite is false" \
  w label namespace default istio.io/rev=canary
check_contains "relabel with --overwrite" "$(w label namespace default istio.io/rev=canary --overwrite)" "namespace/default labeled"
check_contains "label shows" "$(w get ns default -o jsonpath='{.metadata.labels.istio\.io/rev}')" "canary"
check_contains "remove label" "$(w label ns default istio.io/rev-)" "namespace/default unlabeled"
check_fails "bad label value" "label value" w label ns default "app=-bad-"

# --- apply (steps 8 and 11) ----------------------------------------------------------------
out=$(w apply -f "$samples/httpbin.yaml")
check_contains "apply httpbin" "$out" "serviceaccount/httpbin created"
check_contains "apply httpbin service" "$out" "service/httpbin created"
check_contains "apply httpbin deployment" "$out" "deployment.apps/httpbin created"
check_contains "re-apply is unchanged" "$(w apply -f "$samples/httpbin.yaml")" "deployment.apps/httpbin unchanged"
check_contains "apply gateway to istio-system" "$(w apply -f "$samples/istio-gateway.yaml" -n istio-system)" \
  "gateway.networking.istio.io/my-gateway created"
check_contains "apply virtual service" "$(w apply -f "$samples/virtual-service.yaml")" \
  "virtualservice.networking.istio.io/traffic-rules created"
vs=$(w get vs -n istio-system)
check_contains "get vs lists traffic-rules" "$vs" "traffic-rules"
check_contains "get vs shows gateways and hosts" "$vs" '["my-gateway"]   ["example.com"]'
check_contains "stored in the storage version" "$(w get vs traffic-rules -n istio-system -o yaml)" "apiVersion: networking.istio.io/v1"
check_contains "get -o name" "$(w get deploy -o name)" "deployment.apps/httpbin"
check_contains "get kind/name -o json" "$(w get svc/httpbin -o json)" '"targetPort": 8080'
check_contains "get -A" "$(w get gw -A)" "istio-system   my-gateway"
check_fails "get a missing object" 'services "nope" not found' w get svc nope
check_fails "get an unknown kind" "doesn't have a resource type \"widgets\"" w get widgets

# --- step 12: served versions ------------------------------------------------------------------
check_contains "get crd versions" "$(w get crd virtualservices.networking.istio.io -o jsonpath='{.spec.versions[*].name}')" "v1"
versions=$(w get crd virtualservices.networking.istio.io -o jsonpath='{.spec.versions[*].name}')
check "crd lists v1, v1beta1 and v1alpha3" bash -c "for v in v1 v1beta1 v1alpha3; do grep -qw \$v <<<'$versions' || exit 1; done"

# --- all or nothing ---------------------------------------------------------------------------
cat > mixed.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: good
data:
  a: b
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bad
spec:
  hosts: [a]
  http:
  - route:
    - destination:
        host: a
        port:
          number: 70000
---
apiVersion: v1
kind: Service
metadata:
  name: worse
spec:
  ports:
  - port: 80
    bogus: true
YAML
out=$(w apply -f mixed.yaml 2>&1); code=$?
check "invalid apply exits non-zero" test "$code" -ne 0
check_contains "error names file, line, column and path" "$out" \
  "mixed.yaml:19:19: spec.http[0].route[0].destination.port.number: must be between 1 and 65535"
check_contains "every error is printed" "$out" "mixed.yaml:28:5: spec.ports[0].bogus: unknown field"
check_fails "nothing from a failed apply was written" 'configmaps "good" not found' w get cm good
printf 'a: [1,\n' > broken.yaml
check_fails "broken YAML" "broken.yaml:2:1:" w apply -f broken.yaml
check_fails "namespace conflict with -n" 'does not match the namespace "default"' w apply -f "$samples/virtual-service.yaml" -n default
check_contains "apply from stdin" "$(w apply -f - < "$samples/httpbin.yaml")" "unchanged"

# --- step 13: analyze ---------------------------------------------------------------------------
# Step 10 installed the ingress gateway; until weft install exists, stand its workload in.
cat > ingress.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: global-ingress
  namespace: istio-system
  labels: {istio: ingressgateway, ingress: global}
spec:
  selector: {istio: ingressgateway, ingress: global}
  ports:
  - name: http2
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: global-ingress-7d9f8c6b5-x2k4p
  namespace: istio-system
  labels: {istio: ingressgateway, ingress: global}
spec:
  containers:
  - name: istio-proxy
    image: weft-proxy
    ports:
    - containerPort: 8080
YAML
w apply -f ingress.yaml >/dev/null
out=$(w analyze -n istio-system 2>&1); code=$?
check "analyze exits 79" test "$code" = 79
check_contains "analyze: host not found" "$out" \
  'Error [IST0101] (VirtualService istio-system/traffic-rules) Referenced host not found: "my-service"'
check_contains "analyze: subset not found" "$out" \
  'Error [IST0101] (VirtualService istio-system/traffic-rules) Referenced host+subset in destinationrule not found: "my-service+v1"'
check "analyze: exactly two errors" test "$(grep -c '^Error \[' <<<"$out")" = 2
fixed=$(sed 's/host: my-service/host: httpbin.default.svc.cluster.local/; s/subset: v1.*//; s/number: 80.*/number: 8000/' "$samples/virtual-service.yaml")
echo "$fixed" > fixed-vs.yaml
out=$(w analyze -n istio-system fixed-vs.yaml --output-threshold Error 2>&1); code=$?
check "analyze with the corrected file passes" test "$code" = 0
check_contains "analyze -o json" "$(w analyze -n istio-system -o json 2>/dev/null)" '"code":"IST0101"'
w analyze -n istio-system broken.yaml >/dev/null 2>&1; code=$?
check "analyze of unparsable file exits 65" test "$code" = 65
w analyze --no-such-flag >/dev/null 2>&1; code=$?
check "analyze usage error exits 64" test "$code" = 64

# --- delete ---------------------------------------------------------------------------------------
check_contains "delete -f" "$(w delete -f "$samples/virtual-service.yaml")" 'virtualservice.networking.istio.io "traffic-rules" deleted'
check_contains "delete KIND NAME" "$(w delete deploy httpbin)" 'deployment.apps "httpbin" deleted'
check_fails "delete missing" 'deployments "httpbin" not found' w delete deploy httpbin
check "delete --ignore-not-found" w delete deploy httpbin --ignore-not-found
check_contains "delete namespace takes its objects" "$(w delete ns istio-system)" 'namespace "istio-system" deleted'
check_fails "objects of a deleted namespace are gone" 'secrets "cacerts" not found' w get secret cacerts -n istio-system

finish
