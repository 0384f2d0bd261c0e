#!/usr/bin/env bash
# HTTPS at the ingress gateway, as Istio's "Secure Gateways" task walks it: a Gateway server
# on port 443 with tls SIMPLE and a credentialName Secret made by `weft create secret tls`,
# a second host with its own certificate picked by SNI, the Secret rotated in place, a
# server whose Secret does not exist yet, then MUTUAL with a CA in the Secret: refused
# without a client certificate, served with one. Then TLS the other way, as Istio's "Egress
# TLS Origination" task: plain HTTP in, HTTPS out to a ServiceEntry host (nginx in the
# cluster's network) with a DestinationRule's tls SIMPLE, then MUTUAL, then over HTTP/2. Clients: curl and openssl s_client from
# inside the cluster, and curl from the host on the gateway's node port.
# Usage: gateway_tls_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-gwtls-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="gt$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-gwtls-work.XXXXXX)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

# --- certificates, as the Istio task makes them --------------------------------------------------
mkcert() {  # mkcert NAME CN: a key and a certificate for CN signed by example.com's root
  openssl req -out "$1.csr" -newkey rsa:2048 -nodes -keyout "$1.key" -subj "/CN=$2/O=$1 organization" 2>/dev/null
  openssl x509 -req -sha256 -days 365 -CA example.com.crt -CAkey example.com.key -set_serial "$3" -in "$1.csr" -out "$1.crt" \
    -extfile <(printf 'subjectAltName=DNS:%s' "$2") 2>/dev/null
}
openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' \
  -keyout example.com.key -out example.com.crt 2>/dev/null
mkcert httpbin httpbin.example.com 1
mkcert httpbin-rotated httpbin.example.com 2
mkcert helloworld helloworld.example.com 3
mkcert client client.example.com 4
mkcert secure secure.example.com 5
mkcert nginx nginx.example.com 6

mesh_cluster "$name" "$samples"
out=$("$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod 2>&1)
check_contains "the ingress gateway is installed" "$out" "✔ Ingress gateways installed"
"$weft" apply -f "$samples/walkthrough/httpbin.yaml" >/dev/null
ready() { [ "$("$weft" get deploy httpbin -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
wait_for "httpbin ready" 30 ready
gw_ip() { "$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].status.podIP}'; }
wait_for "the gateway pod has an address" 30 gw_ip
gw=$(gw_ip)
gw_pod=$("$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].metadata.name}')
in_cluster() { ip netns exec "$netns" "$@"; }

check_fails "create secret tls refuses a key that is not the certificate's" "private key does not match" \
  "$weft" create -n istio-system secret tls wrong --key=helloworld.key --cert=httpbin.crt
check "create secret tls httpbin-credential" "$weft" create -n istio-system secret tls httpbin-credential --key=httpbin.key --cert=httpbin.crt
check_contains "of type kubernetes.io/tls" "$("$weft" get secret httpbin-credential -n istio-system -o jsonpath='{.type}')" "kubernetes.io/tls"

cat >gateway.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: mygateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-httpbin, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: httpbin-credential}
    hosts: [httpbin.example.com]
  - port: {number: 443, name: https-helloworld, protocol: HTTPS}
    tls: {mode: SIMPLE, credentialName: helloworld-credential}
    hosts: [helloworld.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.example.com, helloworld.example.com]
  gateways: [istio-system/mygateway]
  http:
  - route: [{destination: {host: httpbin, port: {number: 8000}}}]
YAML
check "apply the HTTPS Gateway (two servers on 443) and its VirtualService" "$weft" apply -f gateway.yaml

# The Service's port 443 targets 8443 in the pod.
https() { in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 --resolve "$1:8443:$gw" --cacert example.com.crt "${@:3}" "https://$1:8443$2"; }
served() { [ "$(https httpbin.example.com /status/418)" = 418 ]; }
wait_for "HTTPS (SIMPLE) to httpbin.example.com -> httpbin's 418 teapot" 30 served
body=$(in_cluster curl -s --max-time 5 --resolve "httpbin.example.com:8443:$gw" --cacert example.com.crt https://httpbin.example.com:8443/get)
check_contains "httpbin sees X-Forwarded-Proto https" "$body" '"X-Forwarded-Proto": [
      "https"'
alpn() { in_cluster curl -s -o /dev/null -w '%{http_version} %{http_code}' --max-time 5 --resolve "httpbin.example.com:8443:$gw" --cacert example.com.crt "$@" https://httpbin.example.com:8443/status/418; }
check_contains "ALPN h2 (curl --http2) -> HTTP/2 418" "$(alpn --http2)" "2 418"
check_contains "a client offering only http/1.1 gets HTTP/1.1" "$(alpn --http1.1)" "1.1 418"
nghttp_status=$(in_cluster nghttp -v -t 5 -H ':authority: httpbin.example.com:8443' "https://$gw:8443/status/418" 2>&1 | grep -m1 ':status:')
check_contains "nghttp (HTTP/2 over TLS, ALPN h2) -> 418" "$nghttp_status" "418"
subject() { in_cluster openssl s_client -connect "$gw:8443" -servername "$1" </dev/null 2>/dev/null | openssl x509 -noout -subject -serial 2>/dev/null; }
check_contains "SNI httpbin.example.com gets httpbin's certificate" "$(subject httpbin.example.com)" "CN = httpbin.example.com"
check_contains "helloworld's Secret does not exist: the gateway says so" "$("$weft" logs -n istio-system "$gw_pod")" \
  "istio-system/helloworld-credential does not exist"
check "while httpbin.example.com keeps being served" served

check "create secret tls helloworld-credential" "$weft" create -n istio-system secret tls helloworld-credential --key=helloworld.key --cert=helloworld.crt
hello_cert() { subject helloworld.example.com | grep -q "CN = helloworld.example.com"; }
wait_for "SNI helloworld.example.com now gets its own certificate" 20 hello_cert
check_contains "and is served over it" "$(https helloworld.example.com /status/200)" "200"
check_contains "a client without SNI gets the first server's certificate" \
  "$(in_cluster openssl s_client -connect "$gw:8443" -noservername </dev/null 2>/dev/null | openssl x509 -noout -subject)" "CN = httpbin.example.com"

# --- rotation: the Secret replaced in place -----------------------------------------------------------
"$weft" delete secret httpbin-credential -n istio-system >/dev/null
check "re-create httpbin-credential with a new certificate (serial 2)" "$weft" create -n istio-system secret tls httpbin-credential \
  --key=httpbin-rotated.key --cert=httpbin-rotated.crt
rotated() { subject httpbin.example.com | grep -q "serial=02"; }
wait_for "the gateway serves the rotated certificate without a restart" 20 rotated

# --- from the host, on the node port for 443 ---------------------------------------------------------------
node_port=$("$weft" get svc global-ingress -n istio-system -o json | jq -r '.spec.ports[] | select(.port == 443) | .nodePort // empty')
from_host() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --resolve "httpbin.example.com:$node_port:127.0.0.1" --cacert example.com.crt "https://httpbin.example.com:$node_port/status/200")" = 200 ]; }
wait_for "from the host: https://httpbin.example.com:$node_port via 127.0.0.1 -> 200" 20 from_host

# --- MUTUAL ----------------------------------------------------------------------------------------------------
"$weft" delete secret httpbin-credential -n istio-system >/dev/null
check "create a generic Secret with tls.crt, tls.key and ca.crt" "$weft" create -n istio-system secret generic httpbin-credential \
  --from-file=tls.key=httpbin.key --from-file=tls.crt=httpbin.crt --from-file=ca.crt=example.com.crt
sed -i 's/tls: {mode: SIMPLE, credentialName: httpbin-credential}/tls: {mode: MUTUAL, credentialName: httpbin-credential}/' gateway.yaml
check "switch the httpbin server to MUTUAL" "$weft" apply -f gateway.yaml
refused() { ! in_cluster curl -s -o /dev/null --max-time 5 --resolve "httpbin.example.com:8443:$gw" --cacert example.com.crt https://httpbin.example.com:8443/status/418; }
wait_for "MUTUAL: a client without a certificate is refused" 20 refused
check_contains "MUTUAL: with client.example.com's certificate -> 418" \
  "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" "418"
openssl req -x509 -nodes -days 1 -newkey rsa:2048 -subj '/CN=stranger' -keyout stranger.key -out stranger.crt 2>/dev/null
check "MUTUAL: a certificate from another CA is refused" bash -c "! ip netns exec '$netns' curl -s -o /dev/null --max-time 5 \
  --resolve httpbin.example.com:8443:$gw --cacert example.com.crt --cert stranger.crt --key stranger.key https://httpbin.example.com:8443/status/418"
check_contains "helloworld.example.com stays SIMPLE on the same port" "$(https helloworld.example.com /status/200)" "200"

# --- OPTIONAL_MUTUAL, certificate pins, protocol versions and cipher suites ----------------------------
# Pins as Istio's docs make them: the certificate's SHA-256 fingerprint (colons) and the
# base64 SHA-256 of its SubjectPublicKeyInfo.
client_hash=$(openssl x509 -in client.crt -noout -fingerprint -sha256 | sed 's/.*=//')
client_spki=$(openssl x509 -in client.crt -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
stranger_hash=$(openssl x509 -in stranger.crt -noout -fingerprint -sha256 | sed 's/.*=//')
tls_line() {  # MODE EXTRA: the httpbin server's tls settings
  printf '    tls: {mode: %s, credentialName: httpbin-credential, maxProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, NOT-A-CIPHER, HIGH]%s}' "$1" "$2"
}
sed -i "s|^    tls: {mode: MUTUAL, credentialName: httpbin-credential.*|$(tls_line OPTIONAL_MUTUAL ", verifyCertificateHash: ['$client_hash']")|" gateway.yaml
check "switch httpbin to OPTIONAL_MUTUAL with client.example.com's certificate hash, TLS 1.2 at most, one cipher suite" "$weft" apply -f gateway.yaml
optional() { [ "$(https httpbin.example.com /status/418)" = 418 ]; }
wait_for "OPTIONAL_MUTUAL: a client without a certificate is served" 20 optional
check_contains "OPTIONAL_MUTUAL: the pinned client certificate is served" "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" "418"
check "OPTIONAL_MUTUAL: a certificate from another CA is still refused" bash -c "! ip netns exec '$netns' curl -s -o /dev/null --max-time 5 \
  --resolve httpbin.example.com:8443:$gw --cacert example.com.crt --cert stranger.crt --key stranger.key https://httpbin.example.com:8443/status/418"
s_client() { in_cluster openssl s_client -connect "$gw:8443" -servername "$@" </dev/null 2>&1; }
check_contains "maxProtocolVersion TLSV1_2: a TLS 1.3-only client of httpbin.example.com is refused" \
  "$(s_client httpbin.example.com -tls1_3)" "alert protocol version"
check_contains "while helloworld.example.com on the same port still speaks TLS 1.3" "$(s_client helloworld.example.com -tls1_3)" "New, TLSv1.3,"
check_contains "cipherSuites: TLS 1.2 to httpbin.example.com uses the one suite listed" "$(s_client httpbin.example.com -tls1_2)" \
  "Cipher is ECDHE-RSA-AES128-GCM-SHA256"
check_contains "and helloworld.example.com keeps OpenSSL's defaults (the server prefers AES-256)" "$(s_client helloworld.example.com -tls1_2)" \
  "Cipher is ECDHE-RSA-AES256-GCM-SHA384"
check_contains "the unknown suite is ignored with a warning, as Istio drops it" "$("$weft" logs -n istio-system "$gw_pod")" \
  '"NOT-A-CIPHER" is not a cipher suite this proxy has: ignored'
check_contains "and so is a rule naming several (HIGH)" "$("$weft" logs -n istio-system "$gw_pod")" '"HIGH" is not a cipher suite this proxy has: ignored'
sed -i "s|^    tls: {mode: OPTIONAL_MUTUAL, credentialName: httpbin-credential.*|$(tls_line MUTUAL ", verifyCertificateHash: ['$stranger_hash'], verifyCertificateSpki: ['$client_spki']")|" gateway.yaml
check "MUTUAL with a hash pin that is not client's and an SPKI pin that is" "$weft" apply -f gateway.yaml
required() { ! in_cluster curl -s -o /dev/null --max-time 5 --resolve "httpbin.example.com:8443:$gw" --cacert example.com.crt https://httpbin.example.com:8443/status/418; }
wait_for "MUTUAL again: no certificate is refused" 20 required
check_contains "either pin list may match: client.example.com's SPKI does" "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" "418"
sed -i "s|^    tls: {mode: MUTUAL, credentialName: httpbin-credential.*|$(tls_line MUTUAL ", verifyCertificateHash: ['$stranger_hash']")|" gateway.yaml
check "MUTUAL pinned to another certificate's hash only" "$weft" apply -f gateway.yaml
pinned_out() { [ "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" != 418 ]; }
wait_for "a certificate the CA signed but no pin names is refused" 20 pinned_out
check_contains "the gateway says why" "$("$weft" logs -n istio-system "$gw_pod")" "matches none of verifyCertificateSpki and verifyCertificateHash"
sed -i "s|^    tls: {mode: MUTUAL, credentialName: httpbin-credential.*|    tls: {mode: MUTUAL, credentialName: httpbin-credential}|" gateway.yaml
check "back to plain MUTUAL" "$weft" apply -f gateway.yaml
client_served() { [ "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" = 418 ]; }
wait_for "client.example.com's certificate is served again" 20 client_served
# Resumption (TLS 1.2 sessions): a session resumes on the server that made it, never on another.
in_cluster openssl s_client -connect "$gw:8443" -servername httpbin.example.com -tls1_2 -cert client.crt -key client.key \
  -sess_out mutual.sess </dev/null >/dev/null 2>&1
check_contains "a MUTUAL session resumes on its own server" "$(s_client httpbin.example.com -tls1_2 -cert client.crt -key client.key -sess_in mutual.sess)" \
  "Reused, TLSv1.2"
in_cluster openssl s_client -connect "$gw:8443" -servername helloworld.example.com -tls1_2 -sess_out simple.sess </dev/null >/dev/null 2>&1
check_contains "a SIMPLE server's session does not resume on the MUTUAL one: a full handshake instead" \
  "$(s_client httpbin.example.com -tls1_2 -cert client.crt -key client.key -sess_in simple.sess)" "New, TLSv1.2"

# --- ISTIO_MUTUAL: mesh mTLS at the gateway, with its own workload certificate -------------------------------
# A third server on 443 for mesh.internal: no Secret; the gateway presents its SPIFFE identity
# and wants a certificate the mesh's CA signed. Clients hold certificates `weft ca sign` made
# with the cluster's plug-in intermediate; an AuthorizationPolicy at the gateway then tells
# them apart by principal.
sed -i 's|^    hosts: \[helloworld.example.com\]$|    hosts: [helloworld.example.com]\n  - port: {number: 443, name: https-mesh, protocol: HTTPS}\n    tls: {mode: ISTIO_MUTUAL}\n    hosts: [mesh.internal]|' gateway.yaml
sed -i 's|^  hosts: \[httpbin.example.com, helloworld.example.com\]$|  hosts: [httpbin.example.com, helloworld.example.com, mesh.internal]|' gateway.yaml
check "add an ISTIO_MUTUAL server for mesh.internal" "$weft" apply -f gateway.yaml
for sa in sleep intruder; do
  "$weft" ca sign --ca-dir certs/istiocluster --trust-domain acmellc.local --namespace default --service-account "$sa" \
    --out-cert "$sa.pem" --out-key "$sa.key" >/dev/null
done
"$weft" ca root --org "Elsewhere Inc." --cn "Elsewhere Root CA" --out elsewhere >/dev/null
"$weft" ca intermediate other --org "Elsewhere Inc." --cn "Elsewhere Intermediate CA" --root elsewhere --out elsewhere >/dev/null
"$weft" ca sign --ca-dir elsewhere/other --trust-domain acmellc.local --namespace default --service-account sleep \
  --out-cert foreign-sleep.pem --out-key foreign-sleep.key >/dev/null
# The gateway's certificate names no host: clients check its chain (and, in the mesh, its
# SPIFFE ID), so curl skips the host name check with -k and openssl checks the chain.
mesh() { in_cluster curl -s -k -o /dev/null -w '%{http_code}' --max-time 5 --resolve "mesh.internal:8443:$gw" "${@:2}" "https://mesh.internal:8443$1"; }
mesh_served() { [ "$(mesh /status/418 --cert sleep.pem --key sleep.key)" = 418 ]; }
wait_for "ISTIO_MUTUAL: a client with a mesh certificate -> 418" 30 mesh_served
shown=$(in_cluster openssl s_client -connect "$gw:8443" -servername mesh.internal -CAfile certs/root-cert.pem -verify_return_error \
  -cert sleep.pem -cert_chain sleep.pem -key sleep.key </dev/null 2>/dev/null)
check_contains "the gateway's certificate chains to the mesh root" "$shown" "Verify return code: 0 (ok)"
check_contains "and names the gateway's workload identity" "$(openssl x509 -noout -ext subjectAltName <<<"$shown" 2>/dev/null)" \
  "URI:spiffe://acmellc.local/ns/istio-system/sa/"
# Refused in the handshake (curl 35, or with TLS 1.3, where the client finishes first, 55 or
# 56 at the server's alert), not a port that is not there (7).
refused_in_handshake() {
  local rc
  in_cluster curl -s -k -o /dev/null --max-time 5 --resolve "mesh.internal:8443:$gw" "$@" https://mesh.internal:8443/status/418
  rc=$?
  [ "$rc" = 35 ] || [ "$rc" = 55 ] || [ "$rc" = 56 ] || { echo "curl exit $rc" >&2; return 1; }
}
check "ISTIO_MUTUAL: a client without a certificate is refused in the handshake" refused_in_handshake
check "ISTIO_MUTUAL: a certificate from another mesh's CA is refused in the handshake" refused_in_handshake \
  --cert foreign-sleep.pem --key foreign-sleep.key
check_contains "while httpbin.example.com's MUTUAL server keeps its own CA" "$(https httpbin.example.com /status/418 --cert client.crt --key client.key)" "418"
cat >mesh-policy.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-internal-callers, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {notPrincipals: [acmellc.local/ns/default/sa/sleep]}}]
    to: [{operation: {hosts: ["mesh.internal*"]}}]
YAML
check "a DENY policy at the gateway: mesh.internal only for the sleep identity" "$weft" apply -f mesh-policy.yaml
intruder_denied() { [ "$(mesh /status/418 --cert intruder.pem --key intruder.key)" = 403 ]; }
wait_for "the intruder identity (same mesh) -> 403" 20 intruder_denied
check_contains "the sleep identity -> 418" "$(mesh /status/418 --cert sleep.pem --key sleep.key)" "418"
check "mesh-policy removed" "$weft" delete -f mesh-policy.yaml

# --- TLS origination: plain HTTP in, HTTPS out (DestinationRule tls) -------------------------------------
# An HTTPS server outside the mesh: nginx in the cluster's own network namespace on an address
# no pod has, with secure.example.com's certificate; it answers with what it saw of the TLS.
secure_ip=198.18.0.251
in_cluster ip addr add "$secure_ip/32" dev weft0
mkdir -p nginx-tmp
cat >nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server {
    listen $secure_ip:8443 ssl http2;
    ssl_certificate $work/secure.crt;
    ssl_certificate_key $work/secure.key;
    ssl_client_certificate $work/example.com.crt;
    ssl_verify_client optional;
    location / { return 200 "protocol=\$server_protocol sni=\$ssl_server_name client=\$ssl_client_s_dn\n"; }
  }
  # The same address by SNI: the TLS-passthrough backend, with a certificate the gateway never holds.
  server {
    listen $secure_ip:8443 ssl http2;
    server_name nginx.example.com;
    ssl_certificate $work/nginx.crt;
    ssl_certificate_key $work/nginx.key;
    location / { return 200 "nginx answered over passthrough: sni=\$ssl_server_name protocol=\$server_protocol\n"; }
  }
}
CONF
check "nginx serves HTTPS on $secure_ip:8443 in the cluster's network" in_cluster nginx -c "$work/nginx.conf"
cat >origination.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: secure, namespace: default}
spec:
  hosts: [secure.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8443}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.251}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: origination, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [secure.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure, namespace: default}
spec:
  hosts: [secure.example.com]
  gateways: [istio-system/origination]
  http:
  - route: [{destination: {host: secure.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure, namespace: default}
spec:
  host: secure.example.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 80}
      tls: {mode: SIMPLE, credentialName: secure-ca}
YAML
check "a Secret with only the CA (ca.crt) for the rule" "$weft" create -n istio-system secret generic secure-ca --from-file=ca.crt=example.com.crt
check "apply the ServiceEntry, a plain-HTTP Gateway, the VirtualService and DestinationRule tls SIMPLE" "$weft" apply -f origination.yaml
plain_in() { in_cluster curl -s --max-time 5 -H 'Host: secure.example.com' "$@" "http://$gw:8080/"; }
originated() { plain_in | grep -q "protocol=HTTP/1.1 sni=secure.example.com client=$"; }
wait_for "SIMPLE: plain HTTP in, HTTPS out: the server sees HTTP/1.1 over TLS, SNI secure.example.com, no client certificate" 30 originated

sed -i 's/tls: {mode: SIMPLE, credentialName: secure-ca}/tls: {mode: MUTUAL, credentialName: client-credential}/' origination.yaml
check "a Secret with the client's certificate, key and CA" "$weft" create -n istio-system secret generic client-credential \
  --from-file=tls.crt=client.crt --from-file=tls.key=client.key --from-file=ca.crt=example.com.crt
check "switch the rule to MUTUAL" "$weft" apply -f origination.yaml
mutual() { plain_in | grep -q "client=.*CN=client.example.com"; }
wait_for "MUTUAL: the server sees the client certificate from the Secret" 30 mutual

sed -i 's/      tls: {mode: MUTUAL, credentialName: client-credential}/      tls: {mode: MUTUAL, credentialName: client-credential}\n      connectionPool: {http: {h2UpgradePolicy: UPGRADE}}/' origination.yaml
check "upgrade the port to HTTP/2 (h2UpgradePolicy UPGRADE)" "$weft" apply -f origination.yaml
over_h2() { plain_in | grep -q "protocol=HTTP/2.0 sni=secure.example.com client=.*CN=client.example.com"; }
wait_for "HTTP/2 over TLS: ALPN h2, with the client certificate" 30 over_h2

check "a Secret with the client's certificate but a stranger's CA" "$weft" create -n istio-system secret generic stranger-ca \
  --from-file=tls.crt=client.crt --from-file=tls.key=client.key --from-file=ca.crt=stranger.crt
sed -i 's/credentialName: client-credential/credentialName: stranger-ca/' origination.yaml
check "point the rule at it" "$weft" apply -f origination.yaml
unverified() { plain_in -o /dev/null -w '%{http_code}' | grep -qx 503; }
wait_for "a server the rule's CA did not sign: 503, nothing sent" 30 unverified
check_contains "the 503 says why" "$(plain_in)" "transport failure reason: TLS error: certificate verify failed"
tls_failures=$(in_cluster curl -s --max-time 5 "http://$gw:15020/stats/prometheus" | awk '/^weft_proxy_upstream_tls_failures_total/ {print $2}')
check "the gateway counts upstream TLS failures ($tls_failures)" test "${tls_failures:-0}" -ge 1

# --- TLS passthrough, as Istio's "Ingress Gateway without TLS Termination" task ---------------------------
# A third server on port 443, next to the two the gateway terminates: nginx.example.com is
# passed through by SNI to nginx, which holds its own certificate.
cat >passthrough.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: nginx, namespace: default}
spec:
  hosts: [nginx.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: tls, protocol: TLS, targetPort: 8443}]
  resolution: STATIC
  endpoints: [{address: 198.18.0.251}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nginx, namespace: default}
spec:
  hosts: [nginx.example.com]
  gateways: [istio-system/mygateway]
  tls:
  - match: [{port: 443, sniHosts: [nginx.example.com]}]
    route: [{destination: {host: nginx.example.com, port: {number: 443}}}]
YAML
sed -i 's/    hosts: \[helloworld.example.com\]/    hosts: [helloworld.example.com]\n  - port: {number: 443, name: tls-nginx, protocol: TLS}\n    tls: {mode: PASSTHROUGH}\n    hosts: [nginx.example.com]/' gateway.yaml
check_contains "the Gateway now has a PASSTHROUGH server" "$(cat gateway.yaml)" "tls: {mode: PASSTHROUGH}"
check "apply a PASSTHROUGH server for nginx.example.com on 443, its ServiceEntry and VirtualService tls route" \
  bash -c "'$weft' apply -f passthrough.yaml && '$weft' apply -f gateway.yaml"
passed() { in_cluster curl -s --max-time 5 --resolve "nginx.example.com:8443:$gw" --cacert example.com.crt https://nginx.example.com:8443/; }
through() { passed | grep -q "nginx answered over passthrough: sni=nginx.example.com"; }
wait_for "SNI nginx.example.com is relayed to nginx untouched: nginx answers" 30 through
check_contains "over HTTP/2 (ALPN between curl and nginx, not the gateway)" "$(in_cluster curl -s --http2 --max-time 5 \
  --resolve "nginx.example.com:8443:$gw" --cacert example.com.crt https://nginx.example.com:8443/)" "protocol=HTTP/2.0"
check_contains "the certificate is nginx's own, which the gateway never held" "$(subject nginx.example.com)" "CN = nginx.example.com"
check_contains "helloworld.example.com is still terminated by the gateway on the same port" "$(https helloworld.example.com /status/200)" "200"
check_contains "and its certificate is the gateway's" "$(subject helloworld.example.com)" "CN = helloworld.example.com"
stats=$(in_cluster curl -s --max-time 5 "http://$gw:15020/stats/prometheus")
check_contains "the gateway counts the relayed connections" "$(grep '^istio_tcp_connections_opened_total' <<<"$stats")" 'destination_service="nginx.example.com"'
nginx_sent=$(grep '^istio_tcp_sent_bytes_total' <<<"$stats" | grep 'destination_service="nginx.example.com"' | awk '{s += $2} END {print s + 0}')
check "and the bytes sent back to the clients ($nginx_sent, a certificate at least)" test "$nginx_sent" -gt 500
refused_before=$(awk '/^weft_proxy_tls_passthrough_refused_total/ {print $2}' <<<"$stats")
plain=$(in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$gw:8443/" -H 'Host: nginx.example.com')
check_contains "plain HTTP to the TLS port is closed, not answered" "$plain" "000"
refused_after=$(in_cluster curl -s --max-time 5 "http://$gw:15020/stats/prometheus" | awk '/^weft_proxy_tls_passthrough_refused_total/ {print $2}')
check "and counted ($refused_before -> $refused_after)" test "${refused_after:-0}" -gt "${refused_before:-0}"

# --- the access log in JSON (MeshConfig accessLogEncoding), changed in the mesh ConfigMap ----------------
"$weft" get configmap istio-prod -n istio-system -o json | jq '.data.mesh |= sub("accessLogEncoding: TEXT"; "accessLogEncoding: JSON")' >mesh.json
check_contains "the mesh config now says JSON" "$(jq -r .data.mesh mesh.json)" "accessLogEncoding: JSON"
check "set accessLogEncoding: JSON in the istio-prod ConfigMap" "$weft" apply -f mesh.json
json_logged() {
  https httpbin.example.com /status/418 --cert client.crt --key client.key >/dev/null
  "$weft" logs -n istio-system "$gw_pod" | grep '^{' | jq -en '[inputs | select(.response_code == 418 and .authority == "httpbin.example.com:8443")] | length > 0'
}
wait_for "the gateway logs requests as JSON objects with Istio's keys" 20 json_logged

check "no sanitizer report in the gateway's log" bash -c "! '$weft' logs -n istio-system '$gw_pod' | grep -E 'AddressSanitizer|runtime error:'"
finish
