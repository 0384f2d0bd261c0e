// Fuzzes the ClientHello scanner the gateway routes TLS passthrough with: any bytes a
// client sends first must give a ClientHello's server name, ask for more, or be refused,
// never read out of bounds; a name is a lower-case DNS name; and once the scanner has
// decided, more bytes after the input never change its answer (it decides on the first
// handshake message alone).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/client_hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::proxy::ClientHelloScan;
  std::string input(reinterpret_cast<const char*>(data), size);
  auto scan = weft::proxy::scanClientHello(input);
  if (scan.state == ClientHelloScan::State::kComplete) {
    if (scan.sni.size() > 255) std::abort();
    for (char c : scan.sni) {
      if (c >= 'A' && c <= 'Z') std::abort();
    }
  }
  if (scan.state != ClientHelloScan::State::kNeedMore) {
    auto longer = weft::proxy::scanClientHello(input + std::string("\x16\x03\x01\x00\x05hello", 10));
    if (longer.state != scan.state || longer.sni != scan.sni || longer.error != scan.error) std::abort();
  } else if (!scan.sni.empty() || !scan.error.empty()) {
    std::abort();
  }
  return 0;
}
