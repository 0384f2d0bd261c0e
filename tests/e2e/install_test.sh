#!/usr/bin/env bash
# The walkthrough's steps 4 to 7 and 14 on a local cluster: the plug-in CA secret, `weft
# install` with istio-operator.yaml and --revision prod, pods and versions, enrolling the
# default namespace, a second revision beside the first, and uninstall leaving workloads
# running. Bad input: unknown profile, a gateway for a revision that does not exist, a
# malformed cacerts; each refused with nothing installed.
# Usage: install_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-install-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="in$$"
work=$(mktemp -d /tmp/weft-install-work.XXXXXX)
cleanup() {
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

nothing_installed() { local d; d=$("$weft" get deploy -n istio-system -o name 2>&1) && ! grep -q weftd <<<"$d"; }

check "create the cluster" "$weft" cluster create --name "$name"

# --- bad input first: each leaves nothing installed ------------------------------------------
cat >bad-profile.yaml <<'YAML'
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: bad, namespace: istio-system}
spec: {profile: tiny}
YAML
check_fails "an unknown profile is refused" 'spec.profile: unsupported value "tiny"' "$weft" install -y -f bad-profile.yaml
check_fails "a gateway for a revision that is not installed is refused" 'revision "prod" is not installed' \
  "$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod
"$weft" create secret generic cacerts -n istio-system --from-literal=ca-cert.pem=garbage --from-literal=ca-key.pem=garbage \
  --from-literal=root-cert.pem=garbage --from-literal=cert-chain.pem=garbage >/dev/null
check_fails "a malformed cacerts secret is refused" "secret istio-system/cacerts" \
  "$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod
check "nothing was installed by the refused installs" nothing_installed
"$weft" delete secret cacerts -n istio-system >/dev/null

# --- step 4: the plug-in CA ---------------------------------------------------------------------
"$weft" ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out certs >/dev/null
"$weft" ca intermediate istiocluster --org "Acme LLC." --cn "Acme LLC Intermediate CA" --root certs --out certs >/dev/null
c=certs/istiocluster
check "step 4: weft create secret generic cacerts -n istio-system" "$weft" create secret generic cacerts -n istio-system \
  --from-file=$c/ca-cert.pem --from-file=$c/ca-key.pem --from-file=$c/root-cert.pem --from-file=$c/cert-chain.pem

# --- step 5: install --------------------------------------------------------------------------
out=$("$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod 2>&1)
check_contains "step 5: Istiod installed" "$out" "✔ Istiod installed"
check_contains "step 5: Installation complete" "$out" "✔ Installation complete"
mesh=$("$weft" get configmap istio-prod -n istio-system -o jsonpath='{.data.mesh}')
check_contains "the mesh config has trust domain acmellc.local" "$mesh" "trustDomain: acmellc.local"
check_contains "the mesh config has REGISTRY_ONLY" "$mesh" "mode: REGISTRY_ONLY"
check "the installed IstioOperator is recorded" "$weft" get istiooperator installed-state-prod -n istio-system
weftd_log=$("$weft" logs -n istio-system deploy/weftd-prod)
check_contains "weftd serves trust domain acmellc.local with the plug-in CA" "$weftd_log" "trust domain acmellc.local, outbound traffic REGISTRY_ONLY, CA plug-in (cacerts)"

node="$name-worker"
"$weft" get secret "weft-node-credential-prod-$node" -n istio-system -o jsonpath='{.data.tls\.crt}' | base64 -d >node.pem
check "install issued the worker's node credential (weft://node/$node)" bash -c \
  "openssl x509 -noout -ext subjectAltName -in node.pem | grep -q 'URI:weft://node/$node'"
check "the node credential chains to the plug-in root" openssl verify -CAfile certs/root-cert.pem -untrusted "$c/cert-chain.pem" node.pem

# --- step 6: pods and versions ----------------------------------------------------------------
pods=$("$weft" get pods -n istio-system)
check_contains "step 6: weftd-prod is Running" "$pods" "Running"
check_contains "step 6: the pod is weftd-prod-..." "$pods" "weftd-prod-"
version=$("$weft" version)
check_contains "step 6: client version" "$version" "client version: 0.1.0"
check_contains "step 6: control plane version and revision" "$version" "control plane version: 0.1.0 (revision prod)"

# --- step 7: enrol default ---------------------------------------------------------------------
check "apply httpbin and curl before enrolling" bash -c "'$weft' apply -f '$samples/walkthrough/httpbin.yaml' >/dev/null && '$weft' apply -f '$samples/curl/curl.yaml' >/dev/null"
ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
wait_for "httpbin and curl are ready" 30 bash -c "$(declare -f ready); weft=$weft; ready httpbin && ready curl"
httpbin_uid=$("$weft" get pods -l app=httpbin -o jsonpath='{.items[0].metadata.uid}')
check "step 7: weft label namespace default istio.io/rev=prod" "$weft" label namespace default istio.io/rev=prod
metrics() { "$weft" exec deploy/curl -- curl -s --max-time 5 istiod-prod.istio-system:15014/metrics; }
enrolled() { metrics | grep -q '^weftd_registry_enrolled_workloads 2$'; }
wait_for "weftd counts httpbin and curl as enrolled workloads of revision prod" 20 enrolled
check "no workload restarted when enrolling" bash -c "[ \"\$('$weft' get pods -l app=httpbin -o jsonpath='{.items[0].metadata.uid}')\" = '$httpbin_uid' ]"

# --- a second revision beside the first, and weftd restarts without loss ------------------------
check "install a second revision (canary)" "$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision canary
check_contains "both control planes are listed by weft version" "$("$weft" version)" "(revision canary, prod)"
pid=$("$weft" get pods -n istio-system -l app=istiod,istio.io/rev=prod -o jsonpath='{.items[0].status.containerStatuses[0].containerID}')
kill -9 "${pid#weft://}"
wait_for "a killed weftd comes back and rebuilds its registry from the store" 30 enrolled
check "uninstall --revision canary" "$weft" uninstall --revision canary
check "prod is untouched by canary's uninstall" "$weft" get deploy weftd-prod -n istio-system
check_fails "canary is gone" "not found" "$weft" get deploy weftd-canary -n istio-system

# --- step 14: uninstall -------------------------------------------------------------------------
out=$("$weft" uninstall 2>&1)
check_contains "step 14: weft uninstall" "$out" "✔ Uninstall complete"
gone() { local p; p=$("$weft" get pods -n istio-system -o name 2>&1) && ! grep -q weftd <<<"$p"; }
wait_for "the control plane pods are gone" 20 gone
check "the plug-in CA secret stays" "$weft" get secret cacerts -n istio-system
check "httpbin still serves after uninstall" bash -c "'$weft' exec deploy/curl -- curl -s --max-time 5 http://httpbin:8000/get | jq -en 'input | .url'"
check "httpbin was never restarted" bash -c "[ \"\$('$weft' get pods -l app=httpbin -o jsonpath='{.items[0].metadata.uid}')\" = '$httpbin_uid' ] && [ \"\$('$weft' get pods -l app=httpbin -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')\" = 0 ]"
check_contains "uninstall again has nothing to do" "$("$weft" uninstall 2>&1)" "Nothing to uninstall"

finish
