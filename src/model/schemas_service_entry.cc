// networking.istio.io ServiceEntry and WorkloadEntry: services and workloads outside
// Kubernetes. They share one shape: a WorkloadEntry spec is also a ServiceEntry endpoint.
//
// As for every networking kind (see schemas_networking.cc), both the CRD's rules and
// istiod's webhook checks are enforced.

#include <boost/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "model/networking_schemas.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

std::optional<std::string> checkEndpointAddress(std::string_view address) {
  if (address.empty()) return std::nullopt;  // "required unless network" is checked by the object
  if (isUnixAddress(address)) return checkUnixPath(address);
  if (isIpAddress(address) || !checkFqdn(address)) return std::nullopt;
  return fmt::format("\"{}\" is not a valid IP address or host name", address);
}

std::optional<std::string> checkPortName(std::string_view name) {
  if (isIstioLabel(name) && name.size() < 63) return std::nullopt;
  return fmt::format("\"{}\" is not a valid port name", name);
}

SchemaPtr serviceEntryHost() {
  static const SchemaPtr schema = strRule([](std::string_view host) -> std::optional<std::string> {
    if (host == "*") return std::string("\"*\" is not allowed; use specific hosts or a wildcard domain such as \"*.example.com\"");
    return checkWildcardDomain(host);
  });
  return schema;
}

// The endpoint port names must be among the ServiceEntry's own ports.
void checkEndpointPorts(const Site& endpoint, const std::set<std::string_view>& servicePorts) {
  const auto* ports = objectAt(endpoint.value, "ports");
  if (ports == nullptr) return;
  for (const auto& [name, number] : *ports) {
    if (servicePorts.count(name) == 0) entrySite(endpoint.child("ports"), name).error(fmt::format("port \"{}\" is not defined in spec.ports", std::string_view(name)));
  }
}

void checkServiceEntry(const Site& s) {
  std::string_view resolution = stringAt(s.value, "resolution");
  if (resolution.empty()) resolution = "NONE";
  const auto* hosts = arrayAt(s.value, "hosts");
  const auto* ports = arrayAt(s.value, "ports");
  const auto* endpoints = arrayAt(s.value, "endpoints");
  const auto* addresses = arrayAt(s.value, "addresses");

  std::set<std::string_view> portNames;
  std::set<int64_t> portNumbers;
  for (size_t i = 0; ports != nullptr && i < ports->size(); ++i) {
    std::string_view name = stringAt((*ports)[i], "name");
    if (!name.empty() && !portNames.insert(name).second) {
      itemSite(s.child("ports"), i).fieldError("name", fmt::format("duplicate port name \"{}\"", name));
    }
    auto number = intAt((*ports)[i], "number");
    if (number && !portNumbers.insert(*number).second) {
      itemSite(s.child("ports"), i).fieldError("number", fmt::format("duplicate port number {}", *number));
    }
  }

  for (size_t i = 0; addresses != nullptr && i < addresses->size(); ++i) {
    const auto& a = (*addresses)[i];
    if (a.is_string() && a.get_string().find('/') != json::string::npos && resolution != "NONE" && resolution != "STATIC") {
      itemSite(s.child("addresses"), i).error("CIDR addresses are allowed only with resolution NONE or STATIC");
      break;
    }
  }

  auto endpointSite = [&](size_t i) { return itemSite(s.child("endpoints"), i); };
  if (resolution == "NONE") {
    if (find(s.value, "endpoints") != nullptr) s.fieldError("endpoints", "must not be set when resolution is NONE");
  } else if (resolution == "STATIC") {
    for (size_t i = 0; endpoints != nullptr && i < endpoints->size(); ++i) {
      std::string_view address = stringAt((*endpoints)[i], "address");
      if (!address.empty() && !isUnixAddress(address) && !isIpAddress(address) && !checkEndpointAddress(address)) {
        endpointSite(i).fieldError("address", fmt::format("\"{}\" is not an IP address; resolution STATIC needs IP or unix:// addresses", address));
      }
      if (isUnixAddress(address) && portNames.size() != 1) endpointSite(i).fieldError("address", "a unix:// endpoint needs exactly one port in spec.ports");
      checkEndpointPorts(endpointSite(i), portNames);
    }
  } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    if (endpoints == nullptr || endpoints->empty()) {
      // Without endpoints the hosts themselves are resolved, so they must be real names.
      for (size_t i = 0; hosts != nullptr && i < hosts->size(); ++i) {
        const auto& h = (*hosts)[i];
        if (h.is_string() && !checkWildcardDomain(std::string_view(h.get_string())) && checkFqdn(std::string_view(h.get_string()))) {
          itemSite(s.child("hosts"), i).error(fmt::format("wildcard hosts need endpoints when resolution is {}", resolution));
          break;
        }
      }
    }
    if (resolution == "DNS_ROUND_ROBIN" && endpoints != nullptr && endpoints->size() > 1) {
      s.fieldError("endpoints", "resolution DNS_ROUND_ROBIN allows at most one endpoint");
    }
    for (size_t i = 0; endpoints != nullptr && i < endpoints->size(); ++i) {
      if (isUnixAddress(stringAt((*endpoints)[i], "address"))) {
        endpointSite(i).fieldError("address", fmt::format("unix:// addresses need resolution STATIC, not {}", resolution));
      }
      checkEndpointPorts(endpointSite(i), portNames);
    }
  } else if (resolution == "DYNAMIC_DNS") {
    for (size_t i = 0; hosts != nullptr && i < hosts->size(); ++i) {
      const auto& h = (*hosts)[i];
      if (h.is_string() && (h.get_string().empty() || h.get_string()[0] != '*')) {
        itemSite(s.child("hosts"), i).error("must be a wildcard host when resolution is DYNAMIC_DNS");
      }
    }
    if (present(s.value, "addresses")) s.fieldError("addresses", "must not be set when resolution is DYNAMIC_DNS");
    if (present(s.value, "endpoints")) s.fieldError("endpoints", "must not be set when resolution is DYNAMIC_DNS");
    for (size_t i = 0; ports != nullptr && i < ports->size(); ++i) {
      Protocol p = parseProtocol(stringAt((*ports)[i], "protocol"));
      if (p != Protocol::kHttp && p != Protocol::kTls && p != Protocol::kGrpc && p != Protocol::kHttp2) {
        itemSite(s.child("ports"), i).fieldError("protocol", "must be HTTP, HTTP2, GRPC or TLS when resolution is DYNAMIC_DNS");
      }
    }
  }

  // Plain TCP carries no host name, so a proxy could not tell several hosts apart.
  if (resolution != "NONE" && hosts != nullptr && hosts->size() > 1 && ports != nullptr) {
    for (const auto& port : *ports) {
      Protocol p = parseProtocol(stringAt(port, "protocol"));
      if (!isHttpProtocol(p) && !isTlsProtocol(p)) {
        s.fieldError("hosts", "several hosts need every port to be HTTP or TLS, unless resolution is NONE");
        break;
      }
    }
  }
}

}  // namespace

SchemaPtr workloadEntrySpecSchema() {
  static const SchemaPtr schema =
      object()
          .field("address", maxLength(strRule(checkEndpointAddress), 256))
          .field("ports", atMost(mapOf(portNumber(), stringRule(checkPortName)), 128))
          .field("labels", atMost(labelMap(), 256))
          .field("network", maxLength(str(), 2048))
          .field("locality", maxLength(str(), 2048))
          .field("weight", uint32())
          .field("serviceAccount", maxLength(str(), 253))
          .check([](const Site& s) {
            if (!present(s.value, "address") && !present(s.value, "network")) s.fieldError("address", "is required unless network is set");
            if (isUnixAddress(stringAt(s.value, "address")) && find(s.value, "ports") != nullptr) {
              s.fieldError("ports", "must not be set for a unix:// address");
            }
          });
  return schema;
}

SchemaPtr serviceEntrySpecSchema() {
  static const SchemaPtr port =
      object()
          .required("number", portNumber())
          .required("name", strRule(checkPortName))
          .field("protocol", strRule([](std::string_view name) -> std::optional<std::string> {
                   if (name.empty()) return std::nullopt;  // empty: detect the protocol
                   return checkProtocolName(name);
                 }))
          .field("targetPort", portNumber());
  static const SchemaPtr schema =
      object()
          .required("hosts", atMost(listOf(serviceEntryHost(), 1), 256))
          .field("addresses", atMost(listOf(maxLength(ipOrCidr(), 64)), 256))
          .field("ports", atMost(listOf(port), 256))
          .field("location", enumOf({"MESH_EXTERNAL", "MESH_INTERNAL"}))
          .field("resolution", enumOf({"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"}))
          .field("endpoints", atMost(listOf(workloadEntrySpecSchema()), 4096))
          .field("workloadSelector", object().field("labels", selectorLabels()))
          .field("exportTo", exportTo(true))
          .field("subjectAltNames", listOf(str()))
          .oneOf({"workloadSelector", "endpoints"})
          .check(checkServiceEntry);
  return schema;
}

}  // namespace weft::model
