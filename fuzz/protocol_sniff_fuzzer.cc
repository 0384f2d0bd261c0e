// Fuzzes how a waypoint tells HTTP from other bytes on a Service port with no declared
// protocol (proxy/protocol_sniff.h): any first bytes must give an answer without reading
// out of bounds; a decision never changes when more bytes follow (so peeking again after
// more has come is safe); and a connection taken for HTTP was never refused on a shorter
// peek of the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/protocol_sniff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using weft::proxy::kMaxSniffBytes;
  using weft::proxy::SniffedProtocol;
  using weft::proxy::sniffProtocol;
  std::string input(reinterpret_cast<const char*>(data), size);
  SniffedProtocol answer = sniffProtocol(input);
  if (input.size() >= kMaxSniffBytes && answer == SniffedProtocol::kNeedMore) std::abort();  // a full peek always decides
  if (answer != SniffedProtocol::kNeedMore && input.size() + 16 < kMaxSniffBytes) {
    if (sniffProtocol(input + " HTTP/1.1\r\nX: y\r\n") != answer) std::abort();
  }
  if (answer == SniffedProtocol::kHttp && input.size() < kMaxSniffBytes) {
    for (size_t cut : {input.size() / 2, input.size() > 0 ? input.size() - 1 : 0}) {
      if (sniffProtocol(input.substr(0, cut)) == SniffedProtocol::kNotHttp) std::abort();
    }
  }
  return 0;
}
