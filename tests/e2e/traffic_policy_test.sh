#!/usr/bin/env bash
# weft-proxy's traffic policy end to end, through the ingress gateway on a local cluster,
# with curl from inside the cluster: header routing to v1/v2 subsets, weights, retries
# against a failing backend, outlier ejection of that backend, fault injection (abort and
# delay), connection-pool overflow (503 UO), consistent hashing, CORS, mirroring,
# directResponse, method/query matches, L7 AuthorizationPolicy (DENY, AUDIT, ALLOW with
# a header condition), RequestAuthentication with JWTs signed by openssl, httpsRedirect,
# uriRegexRewrite and gRPC fault aborts, a ServiceEntry with resolution DNS looked up by the gateway, and gRPC
# (real gRPC C++ at both ends) through the gateway to a pod in the mesh over HBONE.
# Every load is a bounded count of requests.
#
# Backends: httpbin-v1 and httpbin-v2 (Service hb, pods tell who they are on /hostname);
# Service mixed in front of one httpbin (good) and one python3 server answering 503 to
# everything (bad).
# Usage: traffic_policy_test.sh WEFT_BINARY SAMPLES_DIR
set -uo pipefail
weft=$(realpath "$1")
samples=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

export WEFT_HOME=$(mktemp -d /tmp/weft-traffic-e2e.XXXXXX)
unset WEFT_CLUSTER WEFT_STORE
name="tp$$"
netns="weft-$name"
work=$(mktemp -d /tmp/weft-traffic-work.XXXXXX)
cleanup() {
  [ -n "${WEFT_E2E_DUMP:-}" ] && "$weft" logs -n istio-system "$("$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].metadata.name}')" >"$WEFT_E2E_DUMP" 2>&1
  "$weft" cluster delete --name "$name" >/dev/null 2>&1
  rm -rf "$WEFT_HOME" "$work"
}
trap cleanup EXIT
cd "$work"

mesh_cluster "$name" "$samples"
out=$("$weft" install -y -f "$samples/walkthrough/global-ingress.yaml" --revision prod 2>&1)
check_contains "the ingress gateway is installed" "$out" "✔ Ingress gateways installed"
gw_ip() { "$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].status.podIP}'; }
wait_for "the gateway pod has an address" 30 gw_ip
gw=$(gw_ip)
gw_pod=$("$weft" get pods -n istio-system -l istio=ingressgateway -o jsonpath='{.items[0].metadata.name}')
in_cluster() { ip netns exec "$netns" "$@"; }

cat >backends.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: mixed}
spec:
  selector: {app: mixed}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: good}
spec:
  replicas: 1
  selector: {matchLabels: {app: mixed, role: good}}
  template:
    metadata: {labels: {app: mixed, role: good}}
    spec: {containers: [{name: httpbin, image: mccutchen/go-httpbin, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  replicas: 1
  selector: {matchLabels: {app: mixed, role: bad}}
  template:
    metadata: {labels: {app: mixed, role: bad}}
    spec:
      containers:
      - name: failing
        image: python:3
        command:
        - python3
        - -c
        - |
          import http.server
          class Failing(http.server.BaseHTTPRequestHandler):
              def answer(self):
                  self.send_response(503)
                  self.send_header("Content-Length", "0")
                  self.end_headers()
              do_GET = do_POST = answer
              def log_message(self, *args): pass
          http.server.ThreadingHTTPServer(("", 8080), Failing).serve_forever()
        ports: [{containerPort: 8080}]
YAML
check "apply httpbin v1 and v2 behind hb (samples/versions)" "$weft" apply -f "$samples/versions/httpbin-v1-v2.yaml"
check "apply the backends" "$weft" apply -f backends.yaml
for d in httpbin-v1 httpbin-v2 good bad; do
  ready() { [ "$("$weft" get deploy "$1" -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
  wait_for "$d ready" 30 ready "$d"
done

cat >routing.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}
  - {port: {number: 80, name: http-redirect, protocol: HTTP}, hosts: [secure.local, quiet.local], tls: {httpsRedirect: true}}
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
metadata: {name: routing}
spec:
  hosts: [routing.local]
  gateways: [gw]
  http:
  - match: [{headers: {x-version: {exact: v2}}}]
    route: [{destination: {host: hb, subset: v2}}]
  - match: [{method: {exact: DELETE}}, {queryParams: {forbidden: {exact: "1"}}}]
    directResponse: {status: 405, body: {string: "not here"}}
  - route: [{destination: {host: hb, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: weights}
spec:
  hosts: [weights.local]
  gateways: [gw]
  http:
  - route:
    - {destination: {host: hb, subset: v1}, weight: 75}
    - {destination: {host: hb, subset: v2}, weight: 25}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: retries}
spec:
  hosts: [retry.local, no-retry.local]
  gateways: [gw]
  http:
  - match: [{authority: {prefix: retry.}}]
    retries: {attempts: 3, retryOn: 5xx}
    route: [{destination: {host: mixed}}]
  - retries: {attempts: 0}
    route: [{destination: {host: mixed}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: faults}
spec:
  hosts: [fault.local]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /abort}}]
    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
    route: [{destination: {host: hb, subset: v1}}]
  - match: [{uri: {prefix: /delay}}]
    fault: {delay: {fixedDelay: 1s}}
    route: [{destination: {host: hb, subset: v1}}]
  - match: [{uri: {prefix: /grpc-abort}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}
    route: [{destination: {host: hb, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure.local]
  gateways: [gw]
  http: [{route: [{destination: {host: hb, subset: v1}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: extras}
spec:
  hosts: [extras.local]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /v1/}}]
    rewrite: {uriRegexRewrite: {match: "^/v1/([^/]+)/(.*)$", rewrite: '/anything/\2/\1'}}
    route: [{destination: {host: hb, subset: v1}}]
  - mirror: {host: hb, subset: v2}
    mirrorPercentage: {value: 100}
    route: [{destination: {host: hb, subset: v1}}]
---
# The proxy answers cors.local itself, so every CORS header seen is the proxy's (httpbin
# adds its own).
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cors}
spec:
  hosts: [cors.local]
  gateways: [gw]
  http:
  - corsPolicy:
      allowOrigins: [{exact: "https://app.example.com"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-token]
      maxAge: 1h
    directResponse: {status: 200, body: {string: "hello"}}
YAML
check "apply the Gateway, DestinationRule and VirtualServices" "$weft" apply -f routing.yaml

host_of() { in_cluster curl -s --max-time 5 -H "Host: $1" "${@:2}" "http://$gw:8080/hostname" | jq -r '.hostname // "none"' 2>/dev/null; }
code() { in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $1" "${@:3}" "http://$gw:8080$2"; }
serving() { host_of routing.local | grep -q '^httpbin-v1-'; }
wait_for "routing.local is served by httpbin-v1" 30 serving

# --- header routing and matches -----------------------------------------------------------------------
v1=0 v2=0
for i in $(seq 10); do
  case $(host_of routing.local -H 'x-version: v2') in httpbin-v2-*) v2=$((v2 + 1)) ;; esac
  case $(host_of routing.local) in httpbin-v1-*) v1=$((v1 + 1)) ;; esac
done
check_contains "x-version: v2 -> httpbin-v2, 10 of 10" "$v2" "10"
check_contains "without the header -> httpbin-v1, 10 of 10" "$v1" "10"
check_contains "method DELETE matches the directResponse route (405)" "$(code routing.local /hostname -X DELETE)" "405"
check_contains "query ?forbidden=1 matches it too" "$(code routing.local '/hostname?forbidden=1')" "405"
check_contains "with the body written in the VirtualService" \
  "$(in_cluster curl -s --max-time 5 -H 'Host: routing.local' "http://$gw:8080/x?forbidden=1")" "not here"

# --- weights -------------------------------------------------------------------------------------------------
v2=0
for i in $(seq 80); do case $(host_of weights.local) in httpbin-v2-*) v2=$((v2 + 1)) ;; esac; done
echo "       weights 75/25: $v2 of 80 to v2"
check "weights 75/25 send some but not most of 80 requests to v2 ($v2)" test "$v2" -ge 5 -a "$v2" -le 40

# --- retries against a failing backend, then outlier ejection ----------------------------------------------
failures() { local n=0; for i in $(seq "$2"); do [ "$(code "$1" /get)" = 200 ] || n=$((n + 1)); done; echo "$n"; }
check_contains "no retries: round robin over good and bad fails some of 20" "$(failures no-retry.local 20 | grep -v '^0$')" ""
n=$(failures no-retry.local 20)
check "no retries: 20 requests see 503s from the bad pod ($n)" test "$n" -ge 5
check_contains "retries (3 on 5xx): all 20 succeed" "$(failures retry.local 20)" "0"

cat >outlier.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mixed}
spec:
  host: mixed
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 5m, maxEjectionPercent: 100}
YAML
check "apply outlierDetection (2 consecutive 5xx, 5m ejection) for mixed" "$weft" apply -f outlier.yaml
ejected() { "$weft" logs -n istio-system "$gw_pod" | grep -q 'outlier detection ejected'; }
eject() { failures no-retry.local 6 >/dev/null; ejected; }
wait_for "the bad endpoint is ejected after consecutive 503s" 30 eject
check_contains "then without retries all 20 requests succeed" "$(failures no-retry.local 20)" "0"

# --- fault injection -------------------------------------------------------------------------------------------
check_contains "fault abort 100% -> 418" "$(code fault.local /abort)" "418"
check_contains "with Envoy's body" "$(in_cluster curl -s --max-time 5 -H 'Host: fault.local' "http://$gw:8080/abort")" "fault filter abort"
check_contains "fault delay 1s, then the request goes on (200)" "$(code fault.local /delay/0)" "200"
grpc_abort=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: fault.local' "http://$gw:8080/grpc-abort" | tr -d '\r')
check_contains "fault abort grpcStatus UNAVAILABLE -> HTTP 200" "$grpc_abort" "HTTP/1.1 200"
check_contains "with grpc-status 14 in the head" "$grpc_abort" "grpc-status: 14"

# --- Gateway tls.httpsRedirect: 301 to the same URL over https, before routing -----------------------------------
redirect=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: secure.local' "http://$gw:8080/get?x=1" | tr -d '\r')
check_contains "httpsRedirect: http://secure.local/get?x=1 -> 301" "$redirect" "HTTP/1.1 301"
check_contains "to https://secure.local/get?x=1" "$(tr A-Z a-z <<<"$redirect")" "location: https://secure.local/get?x=1"
check_contains "a redirect host no VirtualService names is redirected too" "$(code quiet.local /anything)" "301"
check_contains "other hosts on the port are not (200)" "$(code routing.local /get)" "200"

# --- connection pool: one connection, one pending, the rest overflow (503 UO) ----------------------------------
cat >pool.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb}
spec:
  host: hb
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
YAML
check "apply connectionPool maxConnections 1, http1MaxPendingRequests 1 for hb" "$weft" apply -f pool.yaml
sleep 1
for i in 1 2 3 4 5; do (echo "$(code routing.local /delay/1)" >"code.$i") & done
wait
codes=$(cat code.* | sort | uniq -c)
echo "$codes" | sed 's/^/       /'
check_contains "five concurrent requests: some 200" "$codes" " 200"
check_contains "and some 503 overflow" "$codes" " 503"

# --- consistent hash by header -----------------------------------------------------------------------------------
cat >hash.yaml <<'YAML'
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: hb}
spec:
  host: hb
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: sticky}
spec:
  hosts: [sticky.local]
  gateways: [gw]
  http: [{route: [{destination: {host: hb}}]}]
YAML
check "apply consistentHash on x-user for hb, and sticky.local -> hb" "$weft" apply -f hash.yaml
sticky_up() { host_of sticky.local | grep -q '^httpbin-'; }
wait_for "sticky.local is served" 20 sticky_up
for user in ann bob cat dan; do
  seen=$(for i in $(seq 8); do host_of sticky.local -H "x-user: $user"; done | sort -u | wc -l)
  check_contains "x-user: $user -> one pod for 8 requests" "$seen" "1"
done
spread=$(for user in u1 u2 u3 u4 u5 u6 u7 u8 u9 u10 u11 u12; do host_of sticky.local -H "x-user: $user"; done | sort -u | wc -l)
check_contains "12 users spread over both pods" "$spread" "2"

# --- CORS (cors.local) and mirroring (extras.local) -----------------------------------------------------------------------------------------------
pre=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -X OPTIONS -H 'Host: cors.local' -H 'Origin: https://app.example.com' \
  -H 'Access-Control-Request-Method: POST' "http://$gw:8080/post")
check_contains "CORS preflight from an allowed origin -> 200 from the proxy" "$pre" "HTTP/1.1 200"
check_contains "with access-control-allow-origin" "$pre" "access-control-allow-origin: https://app.example.com"
check_contains "and access-control-allow-methods" "$pre" "access-control-allow-methods: GET,POST"
check_contains "and access-control-max-age 3600" "$pre" "access-control-max-age: 3600"
other=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: cors.local' -H 'Origin: https://evil.example' "http://$gw:8080/get")
no_allow_origin() { ! grep -qi access-control-allow-origin <<<"$other"; }
check "a request from another origin gets no allow-origin header" no_allow_origin
actual=$(in_cluster curl -s -D - -o /dev/null --max-time 5 -H 'Host: cors.local' -H 'Origin: https://app.example.com' "http://$gw:8080/get")
check_contains "an actual request from the allowed origin gets it" "$actual" "access-control-allow-origin: https://app.example.com"

rewritten=$(in_cluster curl -s --max-time 5 -H 'Host: extras.local' "http://$gw:8080/v1/users/42?q=1" | jq -r '.url')
check_contains "uriRegexRewrite ^/v1/([^/]+)/(.*)$ -> /anything/\\2/\\1, the query kept" "$rewritten" "http://extras.local/anything/42/users?q=1"
marker="mirror-check-$$"
check_contains "extras.local serves from v1" "$(code extras.local "/anything/$marker")" "200"
v2_pod=$("$weft" get pods -l version=v2 -o jsonpath='{.items[0].metadata.name}')
mirrored() { "$weft" logs "$v2_pod" | grep -q "$marker"; }
wait_for "the mirror copy reached httpbin-v2" 10 mirrored

# --- L7 AuthorizationPolicy at the gateway (selector istio=ingressgateway) ------------------------------------------
cat >authz.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-delete, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE], paths: ["/anything*"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: watch-headers, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: AUDIT
  rules: [{to: [{operation: {paths: ["/headers"]}}]}]
YAML
check "apply a DENY (DELETE /anything*) and an AUDIT (/headers) policy for the gateway" "$weft" apply -f authz.yaml
denied() { [ "$(code routing.local /anything/x -X DELETE)" = 403 ]; }
wait_for "DENY: DELETE /anything/x -> 403" 20 denied
check_contains "with Envoy's body" "$(in_cluster curl -s --max-time 5 -X DELETE -H 'Host: routing.local' "http://$gw:8080/anything/x")" "RBAC: access denied"
check_contains "GET /anything/x is still 200" "$(code routing.local /anything/x)" "200"
check_contains "AUDIT decides nothing: /headers 200" "$(code routing.local /headers)" "200"
check_contains "and is recorded in the gateway's log" "$("$weft" logs -n istio-system "$gw_pod" | grep AUDIT)" "matched istio-system/watch-headers"

cat >allow.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: token-only, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - to: [{operation: {hosts: ["routing.local"], methods: [GET]}}]
    when: [{key: "request.headers[x-token]", values: ["let-me-in"]}]
YAML
check "apply an ALLOW: GET on routing.local with x-token: let-me-in only" "$weft" apply -f allow.yaml
allow_applies() { [ "$(code routing.local /get)" = 403 ]; }
wait_for "ALLOW: without the token -> 403" 20 allow_applies
check_contains "with the token -> 200" "$(code routing.local /get -H 'x-token: let-me-in')" "200"
check_contains "a POST with the token -> 403 (no ALLOW rule matches)" "$(code routing.local /anything -X POST -H 'x-token: let-me-in')" "403"
check_contains "another host with the token -> 403" "$(code weights.local /get -H 'x-token: let-me-in')" "403"
"$weft" delete -f allow.yaml >/dev/null
lifted() { [ "$(code weights.local /get)" = 200 ]; }
wait_for "deleting the ALLOW lifts it" 20 lifted

# --- RequestAuthentication at the gateway: JWTs signed here (openssl), the keys inline -------------------------------------
# As Istio's "Authorization with JWT" task: a token that does not verify is refused 401 by
# the authentication; a DENY with notRequestPrincipals ["*"] on jwt.local refuses requests
# without one (403). A verified token's header is removed and its sub copied to a header.
b64url() { python3 -c 'import sys, base64; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip("="))'; }
openssl genrsa -out jwt.key 2048 2>/dev/null
openssl genrsa -out other.key 2048 2>/dev/null
modulus=$(openssl rsa -in jwt.key -noout -modulus | cut -d= -f2 | python3 -c 'import sys, binascii; sys.stdout.buffer.write(binascii.unhexlify(sys.stdin.read().strip()))' | b64url)
jwt_for() {  # SUB EXP [KEY [ISSUER]]
  local header payload
  header=$(printf '{"alg":"RS256","kid":"e2e"}' | b64url)
  payload=$(printf '{"iss":"%s","sub":"%s","aud":"api","exp":%s}' "${4:-https://e2e.weft.test}" "$1" "$2" | b64url)
  echo "$header.$payload.$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "${3:-jwt.key}" | b64url)"
}
cat >jwt.yaml <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: https://e2e.weft.test
    audiences: [api]
    jwks: '{"keys":[{"kty":"RSA","kid":"e2e","e":"AQAB","n":"$modulus"}]}'
    outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: jwt-required, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules: [{from: [{source: {notRequestPrincipals: ["*"]}}], to: [{operation: {hosts: [jwt.local]}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: jwt}
spec:
  hosts: [jwt.local]
  gateways: [gw]
  http:
  - match: [{headers: {"@request.auth.claims.sub": {exact: carol}}}]
    route: [{destination: {host: hb, subset: v2}}]
  - route: [{destination: {host: hb, subset: v1}}]
YAML
check "apply a RequestAuthentication (inline JWKS), a DENY without a request principal on jwt.local, and its route" "$weft" apply -f jwt.yaml
later=$(($(date +%s) + 600))
good=$(jwt_for alice "$later")
no_token_denied() { [ "$(code jwt.local /headers)" = 403 ]; }
wait_for "jwt.local without a token -> 403 (no request principal)" 20 no_token_denied
token_accepted() { [ "$(code jwt.local /headers -H "Authorization: Bearer $good")" = 200 ]; }
wait_for "with a valid token -> 200 (the RequestAuthentication reached the gateway)" 20 token_accepted
seen=$(in_cluster curl -s --max-time 5 -H 'Host: jwt.local' -H "Authorization: Bearer $good" "http://$gw:8080/headers")
check_contains "httpbin sees x-jwt-sub: alice (outputClaimToHeaders)" "$(jq -r '.headers["X-Jwt-Sub"][0]' <<<"$seen")" "alice"
check_contains "and no Authorization header (forwardOriginalToken false)" "$(jq -r '.headers | has("Authorization")' <<<"$seen")" "false"
expired=$(jwt_for alice $(($(date +%s) - 3600)))
check_contains "an expired token -> 401" "$(code jwt.local /headers -H "Authorization: Bearer $expired")" "401"
check_contains "with Envoy's body" "$(in_cluster curl -s --max-time 5 -H 'Host: jwt.local' -H "Authorization: Bearer $expired" "http://$gw:8080/headers")" \
  "Jwt is expired"
check_contains "a token signed by another key -> 401 Jwt verification fails" \
  "$(in_cluster curl -s --max-time 5 -H 'Host: jwt.local' -H "Authorization: Bearer $(jwt_for alice "$later" other.key)" "http://$gw:8080/headers")" \
  "Jwt verification fails"
check_contains "JWT claim routing: sub carol -> httpbin-v2" "$(host_of jwt.local -H "Authorization: Bearer $(jwt_for carol "$later")")" "httpbin-v2-"
check_contains "and sub alice -> httpbin-v1" "$(host_of jwt.local -H "Authorization: Bearer $good")" "httpbin-v1-"
check_contains "a bad token is refused on any host (routing.local -> 401)" "$(code routing.local /get -H "Authorization: Bearer $expired")" "401"
check_contains "other hosts without a token are untouched (200)" "$(code routing.local /get)" "200"
"$weft" delete -f jwt.yaml >/dev/null

# --- keys weftd fetches: OpenID discovery from the issuer, then the jwks_uri it names -------------------------------------
# An identity provider inside the cluster (python's http.server in a namespace outside the
# mesh) serves /.well-known/openid-configuration and the JWKS. The rule names only its
# issuer; weftd (a pod: it finds the Service through its hosts file) fetches both and
# pushes the keys inline, as istiod does. The gateway fetches nothing.
issuer=http://idp.idp.svc.cluster.local
mkdir -p idp/.well-known
printf '{"issuer":"%s","jwks_uri":"%s/keys.json"}' "$issuer" "$issuer" >idp/.well-known/openid-configuration
printf '{"keys":[{"kty":"RSA","kid":"e2e","e":"AQAB","n":"%s"}]}' "$modulus" >idp/keys.json
cat >idp.yaml <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: idp}
---
apiVersion: v1
kind: Service
metadata: {name: idp, namespace: idp}
spec:
  selector: {app: idp}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: idp, namespace: idp}
spec:
  replicas: 1
  selector: {matchLabels: {app: idp}}
  template:
    metadata: {labels: {app: idp}}
    spec:
      containers:
      - name: server
        image: python:3
        command: [python3, -m, http.server, "8080", --directory, $work/idp]
        ports: [{containerPort: 8080}]
YAML
cat >idp-policy.yaml <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: idp, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: "$issuer", audiences: [api]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: idp}
spec:
  hosts: [idp.local]
  gateways: [gw]
  http: [{route: [{destination: {host: hb, subset: v1}}]}]
YAML
check "apply an identity provider in the cluster" "$weft" apply -f idp.yaml
idp_ready() { [ "$("$weft" get deploy idp -n idp -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
wait_for "the identity provider's pod is ready" 30 idp_ready
check "apply a RequestAuthentication naming only its issuer" "$weft" apply -f idp-policy.yaml
discovered=$(jwt_for bob "$later" jwt.key "$issuer")
discovered_accepted() { [ "$(code idp.local /headers -H "Authorization: Bearer $discovered")" = 200 ]; }
wait_for "a token of that issuer -> 200 (weftd discovered and fetched its keys)" 60 discovered_accepted
check_contains "one signed by another key -> 401" "$(code idp.local /headers -H "Authorization: Bearer $(jwt_for bob "$later" other.key "$issuer")")" "401"
weftd_ip=$("$weft" get pods -n istio-system -l app=istiod -o jsonpath='{.items[0].status.podIP}')
check "weftd counts two GETs, the discovery document and the JWKS (pilot_jwks_resolver_network_fetch_success_total 2)" \
  grep -qx 'pilot_jwks_resolver_network_fetch_success_total 2' <(in_cluster curl -s --max-time 5 "http://$weftd_ip:15014/metrics")
"$weft" delete -f idp-policy.yaml >/dev/null
"$weft" delete -f idp.yaml >/dev/null

# --- a ServiceEntry resolved by DNS: the gateway looks the name up itself, and again -------------------------------------
# A headless Service outside the mesh is the name: the pod hosts file the cluster writes
# lists its pods' addresses, which change as the Deployment scales, as a DNS record would.
cat >dns.yaml <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: outside}
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: outside}
spec:
  clusterIP: None
  selector: {app: legacy}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: outside}
spec:
  replicas: 1
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: httpbin, image: mccutchen/go-httpbin, ports: [{containerPort: 8080}]}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy}
spec:
  hosts: [legacy.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
  resolution: DNS
  endpoints: [{address: legacy.outside.svc.cluster.local}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: legacy}
spec:
  hosts: [legacy.example.com]
  gateways: [gw]
  http: [{route: [{destination: {host: legacy.example.com, port: {number: 80}}}]}]
YAML
check "apply a headless Service outside the mesh, a DNS ServiceEntry naming it and a route to the entry" "$weft" apply -f dns.yaml
legacy_ready() { [ "$("$weft" get deploy legacy -n outside -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = "$1" ]; }
wait_for "legacy has one ready pod" 30 legacy_ready 1
dns_served() { host_of legacy.example.com | grep -q '^legacy-'; }
wait_for "legacy.example.com is served by the pod the name resolves to" 30 dns_served
"$weft" get deploy legacy -n outside -o json | jq '.spec.replicas = 3' >legacy-3.json
check "scale legacy to 3 replicas" "$weft" apply -f legacy-3.json
wait_for "legacy has three ready pods" 30 legacy_ready 3
spread() { [ "$(for i in $(seq 12); do host_of legacy.example.com; done | grep '^legacy-' | sort -u | wc -l)" = 3 ]; }
wait_for "looked up again (every 5 s), the name's three addresses all serve: 12 requests reach 3 pods" 40 spread
log=$("$weft" logs -n istio-system "$gw_pod")
check_contains "the gateway logs what the name resolved to" "$log" "dns: legacy.outside.svc.cluster.local is "

# --- gRPC through the ingress gateway to a pod in the mesh: HTTP/2 inside HBONE ------------------------------------------
cat >grpc.yaml <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: grpc, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: grpc-echo, namespace: grpc}
spec:
  hosts: [grpc.local]
  gateways: [default/gw]
  http: [{route: [{destination: {host: grpc-echo.grpc.svc.cluster.local, port: {number: 9000}}}]}]
YAML
check "apply namespace grpc (ambient) and a route for grpc.local to grpc-echo there" "$weft" apply -f grpc.yaml
check "apply grpc-echo v1 and v2 in it (samples/grpc-echo)" "$weft" apply -n grpc -f "$samples/grpc-echo/grpc-echo.yaml"
grpc_ready() { [ "$("$weft" get deploy "$1" -n grpc -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]; }
for d in grpc-echo-v1 grpc-echo-v2; do wait_for "$d ready" 30 grpc_ready "$d"; done
echo_bin="$(dirname "$weft")/weft-grpc-echo"
grpc_in() { in_cluster "$echo_bin" call "$gw:8080" --authority grpc.local "$@"; }
grpc_ok() { grpc_in --message ping | grep -q '^OK v[12] /echo.Echo/Say ping server=v[12]$'; }
wait_for "a unary gRPC call to the ingress gateway (h2c, :authority grpc.local) is answered by grpc-echo in the mesh" 30 grpc_ok
check_contains "10 calls, 10 answered" "$(grpc_in --count 10 | grep -c '^OK ')" "10"
check_contains "an UNAVAILABLE answer comes back with its message" "$(grpc_in --method /echo.Echo/Fail)" "UNAVAILABLE asked to fail"
grpc_node=$("$weft" get pods -n grpc -l version=v1 -o jsonpath='{.items[0].spec.nodeName}')
grpc_ztunnel_ip=$("$weft" get pods -n istio-system -l app=ztunnel -o json |
  jq -r ".items[] | select(.spec.nodeName==\"$grpc_node\") | .status.podIP")
check_contains "grpc-echo's ztunnel took the calls over HBONE, as the gateway's identity" \
  "$(in_cluster curl -s --max-time 5 "http://$grpc_ztunnel_ip:15020/stats/prometheus")" \
  'source_principal="spiffe://acmellc.local/ns/istio-system/sa/global-ingress-service-account"'
check_contains "the gateway counts them as gRPC to grpc-echo" "$(in_cluster curl -s --max-time 5 "http://$gw:15020/stats/prometheus")" \
  'destination_service="grpc-echo.grpc.svc.cluster.local"'

# --- the access log carries the flags ---------------------------------------------------------------------------------------
log=$("$weft" logs -n istio-system "$gw_pod")
check_contains "access log: the abort with flag FI" "$log" '"GET /abort HTTP/1.1" 418 FI '
check_contains "access log: the delay with flag DI" "$log" '"GET /delay/0 HTTP/1.1" 200 DI '
check_contains "access log: an overflow with flag UO" "$log" '503 UO '
check "no sanitizer report in the gateway's log" bash -c "! '$weft' logs -n istio-system '$gw_pod' | grep -E 'AddressSanitizer|runtime error:'"

finish
