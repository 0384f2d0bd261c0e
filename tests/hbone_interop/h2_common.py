"""Shared pieces of the HBONE interop peers: TLS as ztunnel does it (TLS 1.3 only, the two
AES-GCM suites, ALPN h2, mutual certificates, no SNI) with Python's ssl module."""

import json
import ssl
import sys


def tls_context(server_side, cert, key, roots):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(roots)
    ctx.check_hostname = False  # HBONE checks the SPIFFE URI SAN, not a host name
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols(["h2"])
    return ctx


def peer_spiffe_ids(tls):
    sans = tls.getpeercert().get("subjectAltName", ())
    return [value for kind, value in sans if kind == "URI" and value.startswith("spiffe://")]


def report(result):
    print(json.dumps(result), flush=True)


def fail(message):
    report({"error": message})
    sys.exit(1)
