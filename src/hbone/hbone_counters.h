#pragma once
// What the HBONE layer counts. One instance per server or pool owner (the ztunnel keeps one
// per worker and sums them when Prometheus scrapes). Fields are relaxed atomics so a metrics
// thread may read while the worker's io_context writes; nothing orders on them.

#include <atomic>
#include <cstdint>

namespace weft::hbone {

struct HboneCounters {
  using Counter = std::atomic<uint64_t>;

  // Connection set-up, both sides.
  Counter connectionsOpened{0};
  Counter connectionsClosed{0};
  Counter tlsHandshakeFailures{0};   // bad certificate, wrong version or suite, timeout, plain TCP
  Counter alpnRefusals{0};           // the peer did not agree on "h2"
  Counter trustDomainRefusals{0};    // server: client SPIFFE ID outside our trust domain
  Counter serverIdentityRefusals{0}; // client: server SAN not among the expected identities
  // HTTP/2, per connection.
  Counter badPrefaces{0};            // not an HTTP/2 client after TLS
  Counter rapidResetGoaways{0};      // GOAWAY ENHANCE_YOUR_CALM after too many RST_STREAM
  Counter h2ProtocolErrors{0};       // any other fatal HTTP/2 error, or a flood
  Counter pingTimeouts{0};           // client: no PING ack in time, connection dropped
  Counter idleCloses{0};             // client: pooled connection unused for the idle timeout
  // Streams.
  Counter badConnects{0};            // server: answered 400 (not CONNECT, bad :authority)
  Counter connectsRefused{0};        // any non-200 answer, sent (server) or received (client)
  Counter connectTimeouts{0};        // client: no answer to a CONNECT in time, stream reset
  Counter streamsOpened{0};
  Counter streamsClosed{0};
  Counter bytesIn{0};                // DATA payload received from HBONE peers
  Counter bytesOut{0};               // DATA payload queued to HBONE peers
  // Gauge: the largest per-stream outbound queue seen. Stays near the relay's high-water
  // mark whatever the peer does; a test reads it to prove buffering is bounded.
  Counter maxStreamSendQueue{0};

  static void bump(Counter& counter, uint64_t by = 1) { counter.fetch_add(by, std::memory_order_relaxed); }
  static void raise(Counter& gauge, uint64_t to) {
    uint64_t seen = gauge.load(std::memory_order_relaxed);
    while (seen < to && !gauge.compare_exchange_weak(seen, to, std::memory_order_relaxed)) {
    }
  }
};

}  // namespace weft::hbone
