#include "control/service_entry_cluster.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/json.hpp>
#include <optional>

#include "base/ascii.h"
#include "base/ipv4.h"
#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::control {

namespace json = boost::json;
using model::arrayAt;
using model::at;
using model::intAt;
using model::Object;
using model::stringAt;

namespace {

constexpr const char* kServiceEntryKind = "ServiceEntry.networking.istio.io";

// exportTo: none listed or "*" is every namespace, "." the entry's own, "~" none.
bool exportedTo(const Object& entry, const std::string& ns) {
  const auto& exportTo = arrayAt(entry.value(), {"spec", "exportTo"});
  if (exportTo.empty()) return true;
  for (const auto& to : exportTo) {
    if (!to.is_string()) continue;
    std::string_view name = to.get_string();
    if (name == "*" || name == ns || (name == "." && entry.ns() == ns)) return true;
  }
  return false;
}

// Every key=value of `wanted` (a subset's labels; null or not an object: no subset) is
// among `labels`.
bool labelsInclude(const json::value* wanted, const json::value& labels) {
  if (wanted == nullptr || !wanted->is_object()) return true;
  for (const auto& [key, value] : wanted->get_object()) {
    if (!value.is_string() || stringAt(labels, {key}) != value.get_string()) return false;
  }
  return true;
}

// One port of the entry, and where its endpoints listen unless one says otherwise.
struct EntryPort {
  const json::value* spec = nullptr;
  std::string name;
  uint32_t target = 0;  // targetPort, else the port number
};

std::optional<EntryPort> entryPortNumbered(const Object& entry, uint32_t number) {
  for (const auto& p : arrayAt(entry.value(), {"spec", "ports"})) {
    if (intAt(p, {"number"}) != number) continue;
    int64_t target = intAt(p, {"targetPort"});
    return EntryPort{&p, stringAt(p, {"name"}), target > 0 && target <= 65535 ? static_cast<uint32_t>(target) : number};
  }
  return std::nullopt;
}

// DNS and DNS_ROUND_ROBIN: the proxy looks host-name endpoints up (DYNAMIC_DNS is not built).
bool looksUpHostNames(const Object& entry) {
  std::string resolution = stringAt(entry.value(), {"spec", "resolution"});
  return resolution == "DNS" || resolution == "DNS_ROUND_ROBIN";
}

// A host name the proxy looks up itself (a DNS cluster's endpoint), at `port`.
void addDnsEndpoint(weft::v1::Cluster& cluster, std::string_view hostname, uint32_t port) {
  std::string name = asciiLower(hostname);
  while (!name.empty() && name.back() == '.') name.pop_back();
  auto* endpoint = cluster.add_dns_endpoints();
  endpoint->set_hostname(name);
  endpoint->set_port(port);
}

// The entry's `endpoints` the subset picks: IPv4 literals become endpoints; host names
// under DNS resolution become DNS endpoints for the proxy to look up; anything else (IPv6,
// Unix sockets, a name under STATIC) is noted and left out.
void addListedEndpoints(const Object& entry, const EntryPort& port, const json::value* subsetLabels, weft::v1::Cluster& cluster,
                        const ServiceEntryNote& note) {
  for (const auto& endpoint : arrayAt(entry.value(), {"spec", "endpoints"})) {
    if (!labelsInclude(subsetLabels, at(endpoint, {"labels"}))) continue;
    std::string address = stringAt(endpoint, {"address"});
    int64_t own = port.name.empty() ? 0 : intAt(endpoint, {"ports", port.name});
    uint32_t listening = own > 0 && own <= 65535 ? static_cast<uint32_t>(own) : port.target;
    if (Ipv4Address::parse(address)) {
      cluster.add_endpoints(fmt::format("{}:{}", address, listening));
    } else if (looksUpHostNames(entry) && address.find(':') == std::string::npos) {
      addDnsEndpoint(cluster, address, listening);
    } else {
      note(fmt::format("ServiceEntry {}/{}: endpoint address {:?} is not an IPv4 address{}: left out", entry.ns(), entry.name(), address,
                       looksUpHostNames(entry) ? " or a host name" : ""));
    }
  }
}

// The ready pods of the entry's namespace its workloadSelector (and the subset) picks.
void addSelectedPods(const Object& entry, const EntryPort& port, const json::value* subsetLabels, const ServiceEntryPods& pods,
                     weft::v1::Cluster& cluster) {
  const auto& selector = at(entry.value(), {"spec", "workloadSelector", "labels"});
  for (const auto& pod : pods.pods) {
    std::string ip = stringAt(pod.value(), {"status", "podIP"});
    if (pod.ns() != entry.ns() || ip.empty() || !model::podReady(pod)) continue;
    if (!model::selectorMatches(selector, pod) || !labelsInclude(subsetLabels, at(pod.value(), {"metadata", "labels"}))) continue;
    std::string endpoint = fmt::format("{}:{}", ip, port.target);
    cluster.add_endpoints(endpoint);
    if (std::string identity = pods.meshIdentity ? pods.meshIdentity(pod) : ""; !identity.empty()) {
      (*cluster.mutable_hbone_identities())[endpoint] = identity;
    }
  }
}

// Without endpoints Istio resolves the host itself (DNS), or sends to the address the
// client dialled (NONE), which a request reaching a gateway or waypoint route does not carry.
void addWithoutEndpoints(const Object& entry, const EntryPort& port, weft::v1::Cluster& cluster, const ServiceEntryNote& note) {
  std::string resolution = stringAt(entry.value(), {"spec", "resolution"});
  if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    addDnsEndpoint(cluster, cluster.service_hostname(), port.target);
    return;
  }
  if (resolution == "DYNAMIC_DNS") {
    note(fmt::format("ServiceEntry {}/{}: resolution DYNAMIC_DNS (each request's own host looked up) is not built: routes to {} answer 503",
                     entry.ns(), entry.name(), cluster.service_hostname()));
    return;
  }
  note(fmt::format("ServiceEntry {}/{}: resolution {} without endpoints leaves routes to {} nowhere to send: they answer 503", entry.ns(),
                   entry.name(), resolution.empty() ? "NONE" : resolution, cluster.service_hostname()));
}

}  // namespace

const Object* serviceEntryFor(const ObjectsByKind& objects, const std::string& host, const std::string& fromNamespace) {
  std::string wanted = asciiLower(host);
  for (const auto& entry : objectsOf(objects, kServiceEntryKind)) {
    if (!exportedTo(entry, fromNamespace)) continue;
    for (const auto& h : arrayAt(entry.value(), {"spec", "hosts"})) {
      if (h.is_string() && asciiLower(h.get_string()) == wanted) return &entry;
    }
  }
  return nullptr;
}

uint32_t serviceEntryPort(const Object& entry, uint32_t port) {
  const auto& ports = arrayAt(entry.value(), {"spec", "ports"});
  if (port == 0 && ports.size() == 1) return static_cast<uint32_t>(std::clamp<int64_t>(intAt(ports[0], {"number"}), 0, 65535));
  return port;
}

bool fillServiceEntryCluster(const Object& entry, uint32_t number, const json::value* subsetLabels, const ServiceEntryPods& pods,
                             weft::v1::Cluster& cluster, const ServiceEntryNote& note) {
  auto port = entryPortNumbered(entry, number);
  if (!port) return false;
  if (model::speaksHttp2(model::serviceEntryPortProtocol(*port->spec))) {
    cluster.mutable_connection_pool()->set_upstream_protocol(weft::v1::ConnectionPool::HTTP2);
  }
  // Validation allows endpoints or a workloadSelector, never both.
  if (at(entry.value(), {"spec", "workloadSelector"}).is_object()) {
    addSelectedPods(entry, *port, subsetLabels, pods, cluster);
    return true;
  }
  cluster.set_dns_first_address_only(stringAt(entry.value(), {"spec", "resolution"}) == "DNS_ROUND_ROBIN");
  if (arrayAt(entry.value(), {"spec", "endpoints"}).empty()) {
    addWithoutEndpoints(entry, *port, cluster, note);
    return true;
  }
  addListedEndpoints(entry, *port, subsetLabels, cluster, note);
  return true;
}

}  // namespace weft::control
