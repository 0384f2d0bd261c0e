"""An independent HBONE server (python3-h2): prints its port, accepts one mutual-TLS
connection, answers every CONNECT with 200 and echoes each stream (half-close included),
then prints what it saw as JSON once the client closes the connection."""

import argparse
import socket

import h2.config
import h2.connection
import h2.events

from h2_common import fail, peer_spiffe_ids, report, tls_context


def main():
    parser = argparse.ArgumentParser()
    for name in ("--cert", "--key", "--roots"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(20)
    print(listener.getsockname()[1], flush=True)

    raw, _ = listener.accept()
    raw.settimeout(20)
    tls = tls_context(True, args.cert, args.key, args.roots).wrap_socket(raw, server_side=True)
    if tls.selected_alpn_protocol() != "h2":
        fail("client did not select h2")

    # h2 4.1 insists on :scheme and :path in every request, which RFC 9113 §8.5 forbids for
    # CONNECT, so inbound validation is off; this script checks the pseudo-headers itself.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=False, header_encoding="utf-8", validate_inbound_headers=False))
    conn.initiate_connection()
    tls.sendall(conn.data_to_send())
    seen = {"client_ids": peer_spiffe_ids(tls), "requests": [], "echoed": 0}
    for _ in range(100000):  # bounded: each pass reads at least one byte or ends
        try:
            data = tls.recv(65536)
        except (ConnectionError, OSError):
            break
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                headers = dict(event.headers)
                seen["requests"].append({"method": headers.get(":method"), "authority": headers.get(":authority"),
                                         "forwarded": headers.get("forwarded")})
                plain_connect = (headers.get(":method") == "CONNECT" and ":authority" in headers
                                 and ":path" not in headers and ":scheme" not in headers)
                conn.send_headers(event.stream_id, [(":status", "200" if plain_connect else "400")],
                                  end_stream=not plain_connect)
            elif isinstance(event, h2.events.DataReceived):
                conn.send_data(event.stream_id, event.data)
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                seen["echoed"] += len(event.data)
            elif isinstance(event, h2.events.StreamEnded):
                conn.end_stream(event.stream_id)
        try:
            tls.sendall(conn.data_to_send())
        except (ConnectionError, OSError):
            break
    report(seen)


if __name__ == "__main__":
    main()
