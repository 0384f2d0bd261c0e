#include "tls/openssl_error.h"

#include <openssl/err.h>

namespace weft::tls {

std::string drainOpensslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!out.empty()) out += "; ";
    out += reason ? reason : "error " + std::to_string(ERR_GET_REASON(code));
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

void clearOpensslErrors() { ERR_clear_error(); }

}  // namespace weft::tls
