#include "control/service_entry_cluster.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "base/ascii.h"
#include "base/ipv4.h"
#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::stringAt;

namespace {

constexpr const char* kServiceEntryKind = "ServiceEntry.networking.istio.io";

bool endpointHasLabels(const json::value& endpoint, const json::value* wanted) {
  if (wanted == nullptr || !wanted->is_object()) return true;
  const json::value& labels = at(endpoint, {"labels"});
  for (const auto& [key, value] : wanted->get_object()) {
    if (!value.is_string() || stringAt(labels, {key}) != value.get_string()) return false;
  }
  return true;
}

const json::value* portNumbered(const model::Object& entry, uint32_t port) {
  for (const auto& p : arrayAt(entry.value(), {"spec", "ports"})) {
    if (intAt(p, {"number"}) == port) return &p;
  }
  return nullptr;
}

}  // namespace

const model::Object* serviceEntryFor(const ObjectsByKind& objects, const std::string& host) {
  std::string wanted = asciiLower(host);
  for (const auto& entry : objectsOf(objects, kServiceEntryKind)) {
    for (const auto& h : arrayAt(entry.value(), {"spec", "hosts"})) {
      if (h.is_string() && asciiLower(h.get_string()) == wanted) return &entry;
    }
  }
  return nullptr;
}

uint32_t serviceEntryPort(const model::Object& entry, uint32_t port) {
  const auto& ports = arrayAt(entry.value(), {"spec", "ports"});
  if (port == 0 && ports.size() == 1) return static_cast<uint32_t>(intAt(ports[0], {"number"}));
  return port;
}

bool fillServiceEntryCluster(const model::Object& entry, uint32_t port, const json::value* subsetLabels, weft::v1::Cluster& cluster,
                             const std::function<void(const std::string&)>& note) {
  const json::value* entryPort = portNumbered(entry, port);
  if (entryPort == nullptr) return false;
  std::string protocol = stringAt(*entryPort, {"protocol"});
  for (auto& c : protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (model::speaksHttp2(protocol)) cluster.mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
  int64_t targetPort = intAt(*entryPort, {"targetPort"}) > 0 ? intAt(*entryPort, {"targetPort"}) : port;
  std::string portName = stringAt(*entryPort, {"name"});
  std::string resolution = stringAt(entry.value(), {"spec", "resolution"});
  const auto& endpoints = arrayAt(entry.value(), {"spec", "endpoints"});
  if (resolution == "DNS" && endpoints.empty()) {
    note(fmt::format("ServiceEntry {}/{}: resolution DNS without endpoints needs the host resolved where the proxy runs, which is not "
                     "built: routes to it answer 503",
                     entry.ns(), entry.name()));
  }
  for (const auto& endpoint : endpoints) {
    if (!endpointHasLabels(endpoint, subsetLabels)) continue;
    std::string address = stringAt(endpoint, {"address"});
    if (!Ipv4Address::parse(address)) {
      note(fmt::format("ServiceEntry {}/{}: endpoint address {:?} is not an IPv4 address; resolving names is not built: left out", entry.ns(),
                       entry.name(), address));
      continue;
    }
    int64_t own = portName.empty() ? 0 : intAt(endpoint, {"ports", portName});
    cluster.add_endpoints(fmt::format("{}:{}", address, own > 0 ? own : targetPort));
  }
  if (!at(entry.value(), {"spec", "workloadSelector"}).is_null()) {
    note(fmt::format("ServiceEntry {}/{}: workloadSelector is not built for gateway and waypoint routes: its pods are not endpoints",
                     entry.ns(), entry.name()));
  }
  return true;
}

}  // namespace weft::control
