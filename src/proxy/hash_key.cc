#include "proxy/hash_key.h"

#include <fmt/format.h>

namespace weft::proxy {

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return value;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

HashKey hashKeyFor(const weft::v1::LoadBalancer& lb, const RequestView& request, std::string_view clientAddress, std::minstd_rand& random) {
  HashKey out;
  if (lb.policy() != weft::v1::LoadBalancer::CONSISTENT_HASH) return out;
  if (!lb.hash_header().empty()) {
    if (auto value = request.header(lb.hash_header())) out.key = std::string(*value);
  } else if (!lb.hash_cookie().empty()) {
    auto header = request.header("cookie");
    auto value = header ? cookieValue(*header, lb.hash_cookie()) : std::nullopt;
    if (value) {
      out.key = std::string(*value);
    } else if (lb.hash_cookie_ttl_s() > 0) {
      std::uniform_int_distribution<uint64_t> d;
      out.key = fmt::format("{:016x}", d(random));
      out.setCookie = fmt::format("{}=\"{}\"; Max-Age={}{}; HttpOnly", lb.hash_cookie(), *out.key, lb.hash_cookie_ttl_s(),
                                  lb.hash_cookie_path().empty() ? "" : "; Path=" + lb.hash_cookie_path());
    }
  } else if (lb.hash_source_ip()) {
    out.key = std::string(clientAddress);
  } else if (!lb.hash_query_parameter().empty()) {
    if (auto value = queryParameter(request.target, lb.hash_query_parameter())) out.key = std::string(*value);
  }
  return out;
}

}  // namespace weft::proxy
