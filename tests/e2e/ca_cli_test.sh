#!/usr/bin/env bash
# The walkthrough's steps 2 and 3, then offline signing, run as a user would and checked
# with the openssl command line; then every refusal the CA commands promise.
# Usage: ca_cli_test.sh PATH_TO_WEFT
set -uo pipefail
weft=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/weft-ca-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

text() { openssl x509 -noout -text -in "$1"; }
mode() { stat -c %a "$1"; }

# --- step 2: root CA ----------------------------------------------------------------
check "weft ca root" "$weft" ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out cluster-certs
root=$(text cluster-certs/root-cert.pem)
check_contains "root subject" "$root" "Subject: O = Acme LLC., CN = Acme LLC Root CA"
check_contains "root self-signed" "$root" "Issuer: O = Acme LLC., CN = Acme LLC Root CA"
check_contains "root RSA 4096" "$root" "Public-Key: (4096 bit)"
check_contains "root SHA-256" "$root" "Signature Algorithm: sha256WithRSAEncryption"
check_contains "root basic constraints critical" "$root" "X509v3 Basic Constraints: critical"
check_contains "root CA:TRUE" "$root" "CA:TRUE"
check_contains "root key usage" "$root" "Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign"
check_contains "root SKI" "$root" "X509v3 Subject Key Identifier"
check "root valid 3650 days" bash -c "openssl x509 -noout -checkend $((3649 * 86400)) -in cluster-certs/root-cert.pem && ! openssl x509 -noout -checkend $((3651 * 86400)) -in cluster-certs/root-cert.pem"
check "root key is 0600" test "$(mode cluster-certs/root-key.pem)" = 600
check "root key matches cert" bash -c "[ \"\$(openssl pkey -in cluster-certs/root-key.pem -pubout)\" = \"\$(openssl x509 -in cluster-certs/root-cert.pem -noout -pubkey)\" ]"
before=$(sha256sum cluster-certs/root-key.pem)
check_fails "root refuses to replace a CA key" "root-key.pem already exists; pass --force" \
  "$weft" ca root --org "Acme LLC." --cn "Acme LLC Root CA" --out cluster-certs --key-type ec
check "root key untouched after refusal" test "$before" = "$(sha256sum cluster-certs/root-key.pem)"

# --- step 3: intermediate for cluster istiocluster -------------------------------------
check "weft ca intermediate" "$weft" ca intermediate istiocluster --org "Acme LLC." --cn "Acme LLC Intermediate CA" \
  --root cluster-certs --out cluster-certs
inter=$(text cluster-certs/istiocluster/ca-cert.pem)
check_contains "intermediate subject with locality" "$inter" "Subject: O = Acme LLC., CN = Acme LLC Intermediate CA, L = istiocluster"
check_contains "intermediate issuer" "$inter" "Issuer: O = Acme LLC., CN = Acme LLC Root CA"
check_contains "intermediate pathlen 0" "$inter" "CA:TRUE, pathlen:0"
check_contains "intermediate SAN" "$inter" "DNS:istiod.istio-system.svc"
check_contains "intermediate RSA 4096" "$inter" "Public-Key: (4096 bit)"
check "intermediate verifies to root" openssl verify -CAfile cluster-certs/root-cert.pem cluster-certs/istiocluster/ca-cert.pem
check "cert-chain.pem = ca-cert.pem + root-cert.pem" bash -c \
  "cat cluster-certs/istiocluster/ca-cert.pem cluster-certs/root-cert.pem | cmp - cluster-certs/istiocluster/cert-chain.pem"
check "root-cert.pem copied" cmp cluster-certs/root-cert.pem cluster-certs/istiocluster/root-cert.pem
check "ca-key.pem is 0600" test "$(mode cluster-certs/istiocluster/ca-key.pem)" = 600

# --- offline workload signing ----------------------------------------------------------
ca=cluster-certs/istiocluster
check "weft ca sign" "$weft" ca sign --ca-dir $ca --trust-domain acmellc.local --namespace default \
  --service-account httpbin --out-cert leaf.pem --out-key leaf-key.pem
check "openssl verify leaf" openssl verify -CAfile cluster-certs/root-cert.pem -untrusted $ca/cert-chain.pem leaf.pem
leaf=$(text leaf.pem)
check_contains "leaf issuer" "$leaf" "Issuer: O = Acme LLC., CN = Acme LLC Intermediate CA, L = istiocluster"
check "leaf subject empty" bash -c "openssl x509 -noout -subject -in leaf.pem | grep -qx 'subject='"
check_contains "leaf SAN critical" "$leaf" "X509v3 Subject Alternative Name: critical"
check_contains "leaf SPIFFE URI" "$leaf" "URI:spiffe://acmellc.local/ns/default/sa/httpbin"
check_contains "leaf key usage critical" "$leaf" "X509v3 Key Usage: critical"
check_contains "leaf key usage" "$leaf" "Digital Signature, Key Encipherment"
check_contains "leaf EKU" "$leaf" "TLS Web Server Authentication, TLS Web Client Authentication"
check_contains "leaf basic constraints critical" "$leaf" "X509v3 Basic Constraints: critical"
check_contains "leaf CA:FALSE" "$leaf" "CA:FALSE"
check_contains "leaf AKI" "$leaf" "X509v3 Authority Key Identifier"
check_contains "leaf EC P-256 by default" "$leaf" "NIST CURVE: P-256"
check "leaf valid about 24h" bash -c "openssl x509 -noout -checkend 86000 -in leaf.pem && ! openssl x509 -noout -checkend 86500 -in leaf.pem"
check "leaf chain file is leaf, intermediate, root" test "$(grep -c 'BEGIN CERTIFICATE' leaf.pem)" = 3
check "leaf key is 0600" test "$(mode leaf-key.pem)" = 600
check "openssl accepts leaf key for leaf cert" bash -c "[ \"\$(openssl pkey -in leaf-key.pem -pubout)\" = \"\$(openssl x509 -in leaf.pem -noout -pubkey)\" ]"

check "weft ca sign --key-type rsa" "$weft" ca sign --ca-dir $ca --trust-domain acmellc.local --namespace default \
  --service-account httpbin --key-type rsa --ttl 90d --out-cert rsa.pem --out-key rsa-key.pem
check_contains "RSA 2048 leaf" "$(text rsa.pem)" "Public-Key: (2048 bit)"

# A CSR made by openssl, the way a VM operator would.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout vm-key.pem -subj "/" \
  -addext "subjectAltName=URI:spiffe://acmellc.local/ns/vm/sa/db" -out vm.csr 2>/dev/null
check "sign an openssl CSR" "$weft" ca sign --ca-dir $ca --trust-domain acmellc.local --namespace vm \
  --service-account db --csr vm.csr --ttl 1h --out-cert vm.pem
check "openssl verify CSR-signed leaf" openssl verify -CAfile cluster-certs/root-cert.pem -untrusted $ca/cert-chain.pem vm.pem

inspect=$("$weft" ca inspect leaf.pem)
check_contains "inspect shows SPIFFE ID" "$inspect" "SPIFFE ID:  spiffe://acmellc.local/ns/default/sa/httpbin"
check_contains "inspect shows chain" "$inspect" "chain intact"

# --- Istio's own tooling (as Makefile.selfsigned.mk runs openssl) feeds Weft --------------
mkdir -p istio/c1
cat > istio/root-ca.conf <<'CONF'
[ req ]
encrypt_key = no
prompt = no
utf8 = yes
default_md = sha256
default_bits = 4096
req_extensions = req_ext
x509_extensions = req_ext
distinguished_name = req_dn
[ req_ext ]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign
[ req_dn ]
O = Istio
CN = Root CA
CONF
cat > istio/c1/intermediate.conf <<'CONF'
[ req ]
encrypt_key = no
prompt = no
utf8 = yes
default_md = sha256
default_bits = 4096
req_extensions = req_ext
x509_extensions = req_ext
distinguished_name = req_dn
[ req_ext ]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign
subjectAltName=@san
[ san ]
DNS.1 = istiod.istio-system.svc
[ req_dn ]
O = Istio
CN = Intermediate CA
L = c1
CONF
(
  cd istio
  openssl genrsa -out root-key.pem 2048 2>/dev/null
  openssl req -sha256 -new -key root-key.pem -config root-ca.conf -out root-cert.csr
  openssl x509 -req -sha256 -days 3650 -signkey root-key.pem -extensions req_ext -extfile root-ca.conf \
    -in root-cert.csr -out root-cert.pem 2>/dev/null
  openssl genrsa -out c1/ca-key.pem 2048 2>/dev/null
  openssl req -sha256 -new -config c1/intermediate.conf -key c1/ca-key.pem -out c1/cluster-ca.csr
  openssl x509 -req -sha256 -days 3650 -CA root-cert.pem -CAkey root-key.pem -CAcreateserial \
    -extensions req_ext -extfile c1/intermediate.conf -in c1/cluster-ca.csr -out c1/ca-cert.pem 2>/dev/null
  cat c1/ca-cert.pem root-cert.pem > c1/cert-chain.pem
  cp root-cert.pem c1/
)
check "sign with Istio-made plug-in CA" "$weft" ca sign --ca-dir istio/c1 --trust-domain cluster.local --namespace ns1 \
  --service-account sa1 --out-cert istio-leaf.pem --out-key istio-leaf-key.pem
check "openssl verify leaf from Istio CA" openssl verify -CAfile istio/root-cert.pem -untrusted istio/c1/cert-chain.pem istio-leaf.pem
check "weft intermediate from Istio-made root" "$weft" ca intermediate c2 --org Istio --cn "Intermediate CA" --root istio --out istio --key-type ec
check "openssl verify weft intermediate under Istio root" openssl verify -CAfile istio/root-cert.pem istio/c2/ca-cert.pem

# kubernetes.io/tls layout
mkdir -p tlsdir
cp $ca/ca-cert.pem tlsdir/tls.crt; cp $ca/ca-key.pem tlsdir/tls.key; cp $ca/root-cert.pem tlsdir/ca.crt
check "sign with kubernetes.io/tls layout" "$weft" ca sign --ca-dir tlsdir --trust-domain acmellc.local --namespace default \
  --service-account x --out-cert tls-leaf.pem --out-key tls-leaf-key.pem
check "openssl verify tls-layout leaf" openssl verify -CAfile cluster-certs/root-cert.pem -untrusted $ca/cert-chain.pem tls-leaf.pem

# --- refusals: each a clear error, nothing written ----------------------------------------
sign() { "$weft" ca sign --ca-dir $ca --trust-domain acmellc.local --namespace default --service-account httpbin "$@"; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/" \
  -addext "subjectAltName=URI:spiffe://acmellc.local/ns/default/sa/other" -out other.csr 2>/dev/null
check_fails "CSR for another identity" "asks for \"spiffe://acmellc.local/ns/default/sa/other\"" sign --csr other.csr --out-cert x.pem
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/" \
  -addext "subjectAltName=URI:spiffe://acmellc.local/ns/default/sa/httpbin,URI:spiffe://acmellc.local/ns/default/sa/b" -out two.csr 2>/dev/null
check_fails "CSR with several SANs" "carries 2 SANs" sign --csr two.csr --out-cert x.pem
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/" \
  -addext "subjectAltName=URI:https://example.com/x" -out https.csr 2>/dev/null
check_fails "CSR with non-spiffe URI" "is not a spiffe:// URI" sign --csr https.csr --out-cert x.pem
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/" -out weak.csr 2>/dev/null
check_fails "CSR with RSA 1024" "RSA key of 1024 bits is too weak" sign --csr weak.csr --out-cert x.pem
sed 's/^M[A-Za-z]/MA/' vm.csr > tampered.csr
check_fails "tampered CSR" "Error:" sign --csr tampered.csr --out-cert x.pem
echo "garbage" > garbage.csr
check_fails "garbage CSR" "no PEM data found" sign --csr garbage.csr --out-cert x.pem
check_fails "missing CSR file" "missing.csr: cannot open: No such file or directory" sign --csr missing.csr --out-cert x.pem
check_fails "TTL above 90 days" "requested TTL 2184h exceeds the maximum of 2160h" sign --ttl 91d --out-cert x.pem --out-key k.pem
check_fails "bad TTL" "invalid duration \"soon\"" sign --ttl soon --out-cert x.pem --out-key k.pem
check_fails "bad trust domain" "trust domain \"Acme LLC\" must be lower case" \
  "$weft" ca sign --ca-dir $ca --trust-domain "Acme LLC" --namespace default --service-account a --out-cert x.pem --out-key k.pem
check_fails "bad namespace" "namespace \"Default\"" \
  "$weft" ca sign --ca-dir $ca --trust-domain acmellc.local --namespace Default --service-account a --out-cert x.pem --out-key k.pem
check "nothing written by refusals" test ! -e x.pem -a ! -e k.pem

mkdir -p mismatch && cp $ca/* mismatch/ && cp istio/c1/ca-key.pem mismatch/ca-key.pem
check_fails "CA key not matching its cert" "ca-key.pem does not match ca-cert.pem" \
  "$weft" ca sign --ca-dir mismatch --trust-domain acmellc.local --namespace a --service-account b --out-cert x.pem --out-key k.pem
mkdir -p notca && cp leaf.pem notca/ca-cert.pem && cp leaf-key.pem notca/ca-key.pem && cp $ca/root-cert.pem notca/
check_fails "non-CA issuer" "not a CA certificate" \
  "$weft" ca sign --ca-dir notca --trust-domain acmellc.local --namespace a --service-account b --out-cert x.pem --out-key k.pem
# An expired self-signed CA (2020-2021), made with `openssl ca`, which can back-date.
mkdir -p expired/db && touch expired/db/index.txt && echo 01 > expired/db/serial
cat > expired/ca.conf <<'CONF'
[ ca ]
default_ca = old
[ old ]
database = expired/db/index.txt
new_certs_dir = expired/db
serial = expired/db/serial
default_md = sha256
policy = any
x509_extensions = ext
[ any ]
organizationName = optional
commonName = optional
[ ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign
CONF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout expired/ca-key.pem -subj "/O=Old/CN=Old" \
  -out expired/ca.csr 2>/dev/null
openssl ca -batch -config expired/ca.conf -selfsign -keyfile expired/ca-key.pem -in expired/ca.csr \
  -startdate 20200101000000Z -enddate 20210101000000Z -out expired/ca-cert.pem >/dev/null 2>&1
cp expired/ca-cert.pem expired/root-cert.pem
check_fails "expired CA" "certificate expired on" \
  "$weft" ca sign --ca-dir expired --trust-domain acmellc.local --namespace a --service-account b --out-cert x.pem --out-key k.pem
check_fails "missing CA directory" "nope: not a directory" \
  "$weft" ca sign --ca-dir nope --trust-domain acmellc.local --namespace a --service-account b --out-cert x.pem --out-key k.pem
echo "-----BEGIN CERTIFICATE-----" > garbage.pem
check_fails "inspect garbage" "garbage.pem: PEM block 1" "$weft" ca inspect garbage.pem
check_fails "intermediate with a missing root" "nowhere/root-cert.pem: cannot open" \
  "$weft" ca intermediate c9 --org o --cn c --root nowhere --out out
check "no half-made intermediate" test ! -e out

code=0; "$weft" ca root --org x >/dev/null 2>&1 || code=$?
check "usage error exits 64" test "$code" = 64

finish
