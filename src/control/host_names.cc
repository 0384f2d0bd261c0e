#include "control/host_names.h"

#include "base/ascii.h"

namespace weft::control {

std::string resolveHost(const std::string& host, const std::string& ns) {
  if (host.empty() || host.find('.') != std::string::npos || host == "*") return host;
  return host + "." + ns + ".svc.cluster.local";
}

bool serverHostAdmits(const std::string& serverHost, const std::string& vsHost, std::string& domain) {
  auto s = asciiLower(serverHost);
  auto v = asciiLower(vsHost);
  auto wildcardCovers = [](const std::string& wildcard, const std::string& host) {
    // "*" covers everything; "*.example.com" covers "a.example.com" and "*.a.example.com".
    if (wildcard == "*") return true;
    if (!wildcard.starts_with("*.")) return wildcard == host;
    std::string suffix = wildcard.substr(1);
    return host.size() > suffix.size() && host.ends_with(suffix);
  };
  if (s == v || wildcardCovers(s, v)) {
    domain = v;
    return true;
  }
  if (wildcardCovers(v, s)) {
    domain = s;
    return true;
  }
  return false;
}

}  // namespace weft::control
