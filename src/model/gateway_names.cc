#include "model/gateway_names.h"

namespace weft::model {

std::string resolveGatewayName(std::string_view name, std::string_view virtualServiceNamespace) {
  if (name == kMeshGateway) return std::string(name);
  if (name.find('/') != std::string_view::npos) return std::string(name);
  auto dot = name.find('.');
  if (dot == std::string_view::npos) return std::string(virtualServiceNamespace) + "/" + std::string(name);
  // Legacy FQDN: the label after the name is the namespace, whatever follows it.
  std::string_view rest = name.substr(dot + 1);
  std::string_view ns = rest.substr(0, rest.find('.'));
  return std::string(ns) + "/" + std::string(name.substr(0, dot));
}

}  // namespace weft::model
