# Shared helpers for Weft's shell end-to-end tests: each check prints one line, and the
# test ends with the "N passed, N failed" line that ctest's log and CI read.

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
  local what=$1; shift
  if "$@" >/tmp/weft-e2e-check.$$ 2>&1; then pass "$what"; else fail "$what"; sed 's/^/       /' /tmp/weft-e2e-check.$$; fi
}

# check_contains DESCRIPTION HAYSTACK NEEDLE
check_contains() {
  if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1: expected to find '$3' in:"; sed 's/^/       /' <<<"$2"; return 1; fi
}

# check_fails DESCRIPTION EXPECTED_STDERR_SUBSTRING COMMAND...: passes when COMMAND exits
# non-zero and says what was expected.
check_fails() {
  local what=$1 expected=$2; shift 2
  local out
  if out=$("$@" 2>&1); then fail "$what: succeeded but should have failed"; return; fi
  if grep -qF -- "$expected" <<<"$out"; then pass "$what"; else fail "$what: expected '$expected' in: $out"; fi
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls (every 0.2 s, bounded) until COMMAND succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then pass "$what"; return 0; fi
    sleep 0.2
  done
  fail "$what (not within ${seconds}s)"
  "$@" 2>&1 | sed 's/^/       /'
  return 1
}

finish() {
  rm -f /tmp/weft-e2e-check.$$
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# mesh_cluster NAME SAMPLES: a local cluster with the walkthrough's plug-in CA (Acme, trust
# domain acmellc.local) and control plane revision prod installed, with access logs on
# (meshConfig.accessLogFile, off by default as in Istio); certificates stay in ./certs.
# Uses $weft.
mesh_cluster() {
  local name=$1 samples=$2 c=certs/istiocluster out
  check "create the cluster" "$weft" cluster create --name "$name"
  "$weft" ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out certs >/dev/null
  "$weft" ca intermediate istiocluster --org "Acme LLC." --cn "Acme LLC Intermediate CA" --root certs --out certs >/dev/null
  "$weft" create secret generic cacerts -n istio-system --from-file=$c/ca-cert.pem --from-file=$c/ca-key.pem \
    --from-file=$c/root-cert.pem --from-file=$c/cert-chain.pem >/dev/null
  out=$("$weft" install -y -f "$samples/walkthrough/istio-operator.yaml" --revision prod --set meshConfig.accessLogFile=/dev/stdout 2>&1)
  check_contains "install: Ztunnel installed" "$out" "✔ Ztunnel installed"
  check_contains "install: Installation complete" "$out" "✔ Installation complete"
}

# One line through TLS, the answer line back: tls_line HOST PORT SERVER_NAME CA_FILE LINE
# (Python's ssl, checking the server's certificate for SERVER_NAME against CA_FILE). Exported,
# so `ip netns exec NS bash -c 'tls_line "$@"' _ ...` runs it inside the cluster's network.
# Empty when anything fails.
tls_line() {
  timeout 5 python3 -c '
import socket, ssl, sys
host, port, name, ca, line = sys.argv[1:6]
context = ssl.create_default_context(cafile=ca)
with socket.create_connection((host, int(port)), timeout=4) as raw, context.wrap_socket(raw, server_hostname=name) as tls:
    tls.sendall(line.encode() + b"\n")
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = tls.recv(4096)
        if not chunk: break
        answer += chunk
    print(answer.decode().strip())' "$@" 2>/dev/null
}
export -f tls_line
