#include "proxy/retry_on.h"

namespace weft::proxy {

bool retryOnHas(std::string_view list, std::string_view condition) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == condition) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

bool retriableStatus(std::string_view retryOn, unsigned status) {
  if (status >= 500 && retryOnHas(retryOn, "5xx")) return true;
  if ((status == 502 || status == 503 || status == 504) && retryOnHas(retryOn, "gateway-error")) return true;
  return status == 503 && (retryOnHas(retryOn, "retriable-status-codes") || retryOnHas(retryOn, "503"));
}

}  // namespace weft::proxy
