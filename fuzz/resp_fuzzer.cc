// Fuzzes the RESP parser weft-proxy reads Redis replies with (global rate limits): any
// bytes must parse, ask for more, or be refused, and a parsed value must account for the
// bytes it used. The input is also parsed as a stream of replies, as the client does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/resp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    auto parsed = weft::proxy::parseResp(input);
    if (parsed.status != weft::proxy::RespParse::Status::kValue) break;
    if (parsed.consumed == 0 || parsed.consumed > input.size()) std::abort();
    input.remove_prefix(parsed.consumed);
  }
  return 0;
}
