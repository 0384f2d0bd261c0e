#include "model/service_ports.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

#include "model/json_access.h"

namespace weft::model {

namespace json = boost::json;

int resolveTargetPort(const json::value& servicePort, const Object& pod) {
  const auto& target = at(servicePort, {"targetPort"});
  if (target.is_int64()) return static_cast<int>(target.get_int64());
  if (target.is_string()) {
    const auto& containers = at(pod.value(), {"spec", "containers"});
    if (!containers.is_array()) return 0;
    for (const auto& container : containers.get_array()) {
      const auto& ports = at(container, {"ports"});
      if (!ports.is_array()) continue;
      for (const auto& port : ports.get_array()) {
        if (stringAt(port, {"name"}) == target.get_string() && at(port, {"containerPort"}).is_int64()) {
          return static_cast<int>(at(port, {"containerPort"}).get_int64());
        }
      }
    }
    return 0;
  }
  const auto& port = at(servicePort, {"port"});
  return port.is_int64() ? static_cast<int>(port.get_int64()) : 0;
}

namespace {

// Istio's protocol names, matched case-insensitively, in the spelling the registry sends;
// empty for a name that is not one.
std::string knownProtocol(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kNames{{{"http", "HTTP"},
                                                                                        {"http2", "HTTP2"},
                                                                                        {"https", "HTTPS"},
                                                                                        {"grpc", "GRPC"},
                                                                                        {"grpc-web", "GRPC-Web"},
                                                                                        {"tcp", "TCP"},
                                                                                        {"tls", "TLS"},
                                                                                        {"mongo", "Mongo"},
                                                                                        {"redis", "Redis"},
                                                                                        {"mysql", "MySQL"},
                                                                                        {"h2c", "HTTP2"}}};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [known, protocol] : kNames) {
    if (lower == known) return std::string(protocol);
  }
  return {};
}

}  // namespace

std::string servicePortProtocol(const json::value& servicePort) {
  std::string declared = declaredServicePortProtocol(servicePort);
  return declared.empty() ? "TCP" : declared;
}

std::string declaredServicePortProtocol(const json::value& servicePort) {
  if (auto app = stringAt(servicePort, {"appProtocol"}); !app.empty()) {
    // Kubernetes' own standard values (KEP-3726), as Istio reads them.
    if (app == "kubernetes.io/h2c") return "HTTP2";
    if (app == "kubernetes.io/ws") return "HTTP";
    if (app == "kubernetes.io/wss") return "HTTPS";  // WebSocket over TLS: bytes to a proxy that does not terminate it
    if (auto p = knownProtocol(app); !p.empty()) return p;
  }
  std::string name = stringAt(servicePort, {"name"});
  // grpc-web is the one prefix that itself contains a dash.
  if (name.starts_with("grpc-web-") || name == "grpc-web") return "GRPC-Web";
  auto dash = name.find('-');
  return knownProtocol(name.substr(0, dash));
}

std::string serviceEntryPortProtocol(const json::value& entryPort) {
  std::string written = stringAt(entryPort, {"protocol"});
  if (written.empty()) return "TCP";
  std::string known = knownProtocol(written);
  return known.empty() ? written : known;
}

bool selectorMatches(const json::value& selector, const Object& object) {
  if (!selector.is_object() || selector.get_object().empty()) return false;
  for (const auto& [key, value] : selector.get_object()) {
    if (!value.is_string() || object.label(key) != value.get_string()) return false;
  }
  return true;
}

bool podReady(const Object& pod) {
  for (const auto& condition : arrayAt(pod.value(), {"status", "conditions"})) {
    if (stringAt(condition, {"type"}) == "Ready") return stringAt(condition, {"status"}) == "True";
  }
  return false;
}

}  // namespace weft::model
