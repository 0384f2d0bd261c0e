"""An independent HBONE client (python3-h2): opens one CONNECT (or, with --method GET, a
plain request the server must refuse), sends --payload, half-closes and prints what came
back as JSON."""

import argparse
import socket

import h2.config
import h2.connection
import h2.events

from h2_common import fail, peer_spiffe_ids, report, tls_context


def main():
    parser = argparse.ArgumentParser()
    for name in ("--port", "--cert", "--key", "--roots", "--authority"):
        parser.add_argument(name, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--method", default="CONNECT")
    parser.add_argument("--payload", default="")
    args = parser.parse_args()

    raw = socket.create_connection((args.host, int(args.port)), timeout=10)
    tls = tls_context(False, args.cert, args.key, args.roots).wrap_socket(raw, server_hostname=None)
    if tls.selected_alpn_protocol() != "h2":
        fail("server did not select h2")

    # h2 4.1 would add the :scheme and :path that RFC 9113 §8.5 forbids on CONNECT, so its
    # outbound validation is off; the headers below are well-formed by construction.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding="utf-8", validate_outbound_headers=False))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    headers = [(":method", args.method), (":authority", args.authority), ("baggage", "k8s.cluster.name=interop")]
    if args.method != "CONNECT":
        headers[1:1] = [(":scheme", "https"), (":path", "/")]
    conn.send_headers(stream_id, headers, end_stream=args.method != "CONNECT")
    tls.sendall(conn.data_to_send())

    result = {"server_ids": peer_spiffe_ids(tls), "status": None, "echo": "", "reset": None}
    done = False
    for _ in range(10000):  # bounded: every pass reads at least one byte or ends
        if done:
            break
        data = tls.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                result["status"] = int(dict(event.headers)[":status"])
                if result["status"] == 200:
                    conn.send_data(stream_id, args.payload.encode(), end_stream=True)
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                result["echo"] += event.data.decode()
                conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                done = True
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                result["reset"] = int(event.error_code)
                done = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                done = True
        tls.sendall(conn.data_to_send())
    conn.close_connection()
    tls.sendall(conn.data_to_send())
    tls.close()
    report(result)


if __name__ == "__main__":
    main()
