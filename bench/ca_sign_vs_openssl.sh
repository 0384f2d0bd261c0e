#!/usr/bin/env bash
# Whole-process comparison: `weft ca sign --csr` against `openssl x509 -req` (the command
# Istio's tools/certs Makefile runs to sign a workload CSR), the same CSR, CA and count.
# Usage: ca_sign_vs_openssl.sh WEFT_BINARY [COUNT]
set -euo pipefail
weft=$(realpath "$1")
count=${2:-40}
work=$(mktemp -d /tmp/weft-bench-sign.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$weft" ca root --org Bench --cn Root --out ca >/dev/null
"$weft" ca intermediate c1 --org Bench --cn Intermediate --root ca --out ca >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/" \
  -addext "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/bench" -out w.csr 2>/dev/null
cat > workload.conf <<'CONF'
[ req_ext ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = URI:spiffe://cluster.local/ns/default/sa/bench
CONF

now() { date +%s%N; }
start=$(now)
for _ in $(seq "$count"); do
  "$weft" ca sign --ca-dir ca/c1 --trust-domain cluster.local --namespace default --service-account bench \
    --csr w.csr --out-cert weft.pem >/dev/null
done
weft_ns=$(( $(now) - start ))
start=$(now)
for _ in $(seq "$count"); do
  openssl x509 -req -sha256 -days 1 -CA ca/c1/ca-cert.pem -CAkey ca/c1/ca-key.pem -CAcreateserial \
    -extensions req_ext -extfile workload.conf -in w.csr -out openssl.pem 2>/dev/null
done
openssl_ns=$(( $(now) - start ))
openssl verify -CAfile ca/root-cert.pem -untrusted ca/c1/cert-chain.pem weft.pem >/dev/null

weft_ms=$(awk -v t="$weft_ns" -v n="$count" 'BEGIN { printf "%.2f", t / n / 1e6 }')
openssl_ms=$(awk -v t="$openssl_ns" -v n="$count" 'BEGIN { printf "%.2f", t / n / 1e6 }')
ratio=$(awk -v a="$weft_ns" -v b="$openssl_ns" 'BEGIN { printf "%.2f", a / b }')
echo "| whole process, RSA 4096 CA, EC P-256 CSR, $count runs | weft ca sign ${weft_ms} ms | openssl x509 -req ${openssl_ms} ms | weft/openssl ${ratio} |"
