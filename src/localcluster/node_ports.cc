#include "localcluster/node_ports.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "model/json_access.h"

namespace weft::localcluster {

namespace json = boost::json;
using model::at;
using model::Object;
using model::stringAt;

namespace {

constexpr int kNodePortCount = kNodePortMax - kNodePortMin + 1;

std::string upperProtocol(const json::value& port) {
  std::string protocol = stringAt(port, {"protocol"});
  if (protocol.empty()) return "TCP";
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), [](unsigned char c) { return std::toupper(c); });
  return protocol;
}

int intAt(const json::value& v, std::string_view key) {
  const auto& field = at(v, {key});
  return field.is_int64() && field.get_int64() > 0 && field.get_int64() <= 65535 ? static_cast<int>(field.get_int64()) : 0;
}

// Who holds a node port: one Service, with the protocols it uses it for.
struct Holder {
  std::string service;
  std::set<std::string> protocols;
};

class PortTable {
 public:
  // Empty when `service` may use the port for `protocol`, else the holder's name.
  std::string conflict(int nodePort, const std::string& service, const std::string& protocol) const {
    auto found = holders_.find(nodePort);
    if (found == holders_.end()) return {};
    if (found->second.service == service && !found->second.protocols.contains(protocol)) return {};
    return found->second.service;
  }
  bool taken(int nodePort) const { return holders_.contains(nodePort); }
  void claim(int nodePort, const std::string& service, const std::string& protocol) {
    auto& holder = holders_[nodePort];
    holder.service = service;
    holder.protocols.insert(protocol);
  }

 private:
  std::map<int, Holder> holders_;
};

struct Request {
  const Object* service = nullptr;
  size_t index = 0;
  int port = 0;
  std::string protocol;
};

std::string describe(const Request& r) { return fmt::format("service {}/{} port {}/{}", r.service->ns(), r.service->name(), r.port, r.protocol); }

}  // namespace

bool usesNodePorts(const Object& service) {
  std::string type = stringAt(service.value(), {"spec", "type"});
  return type == "NodePort" || type == "LoadBalancer";
}

NodePortAllocation allocateNodePorts(const std::vector<Object>& services, const std::vector<NodePortAssignment>& previous) {
  std::vector<const Object*> byAge;
  for (const auto& service : services) {
    if (usesNodePorts(service) && at(service.value(), {"spec", "ports"}).is_array()) byAge.push_back(&service);
  }
  // The API server would have refused the younger of two Services asking for one port, so
  // the older keeps it; namespace/name breaks ties within a second.
  std::sort(byAge.begin(), byAge.end(), [](const Object* a, const Object* b) {
    return std::tuple(stringAt(a->value(), {"metadata", "creationTimestamp"}), a->ns(), a->name()) <
           std::tuple(stringAt(b->value(), {"metadata", "creationTimestamp"}), b->ns(), b->name());
  });
  NodePortAllocation allocation;
  PortTable table;
  std::vector<Request> toPick;
  auto assign = [&](const Request& r, int nodePort) {
    table.claim(nodePort, r.service->ns() + "/" + r.service->name(), r.protocol);
    allocation.assigned.push_back({r.service->ns(), r.service->name(), r.index, r.port, r.protocol, nodePort});
  };
  for (const Object* service : byAge) {
    const auto& ports = at(service->value(), {"spec", "ports"}).get_array();
    std::string owner = service->ns() + "/" + service->name();
    for (size_t i = 0; i < ports.size(); ++i) {
      Request r{service, i, intAt(ports[i], "port"), upperProtocol(ports[i])};
      const auto& field = at(ports[i], {"nodePort"});
      if (!field.is_null() && !(field.is_int64() && field.get_int64() == 0)) {
        int64_t asked = field.is_int64() ? field.get_int64() : -1;
        if (asked < kNodePortMin || asked > kNodePortMax) {
          allocation.refused.push_back(fmt::format("{}: nodePort {} is outside the node port range {}-{}", describe(r),
                                                   json::serialize(field), kNodePortMin, kNodePortMax));
          continue;
        }
        int given = static_cast<int>(asked);
        if (auto holder = table.conflict(given, owner, r.protocol); !holder.empty()) {
          allocation.refused.push_back(fmt::format("{}: nodePort {} is already allocated to service {}", describe(r), given, holder));
          continue;
        }
        assign(r, given);
        continue;
      }
      // What this port had before is still its own: it counts as given, at its age.
      auto before = std::find_if(previous.begin(), previous.end(), [&](const NodePortAssignment& p) {
        return p.ns == service->ns() && p.name == service->name() && p.port == r.port && p.protocol == r.protocol;
      });
      if (before != previous.end() && table.conflict(before->nodePort, owner, r.protocol).empty()) {
        assign(r, before->nodePort);
      } else {
        toPick.push_back(std::move(r));
      }
    }
  }
  // Picks come after every claim, so a number written down is never taken by a pick.
  for (const auto& r : toPick) {
    // A stable start (re-creating a Service usually gets the same port back), then the
    // next free number.
    size_t start = std::hash<std::string>{}(fmt::format("{}/{}:{}/{}", r.service->ns(), r.service->name(), r.port, r.protocol));
    int picked = 0;
    for (int i = 0; i < kNodePortCount && picked == 0; ++i) {
      int candidate = kNodePortMin + static_cast<int>((start + static_cast<size_t>(i)) % kNodePortCount);
      if (!table.taken(candidate)) picked = candidate;
    }
    if (picked == 0) {
      allocation.refused.push_back(fmt::format("{}: no free node port in {}-{}", describe(r), kNodePortMin, kNodePortMax));
      continue;
    }
    assign(r, picked);
  }
  std::sort(allocation.assigned.begin(), allocation.assigned.end(), [](const auto& a, const auto& b) {
    return std::tie(a.ns, a.name, a.portIndex) < std::tie(b.ns, b.name, b.portIndex);
  });
  return allocation;
}

json::value specWithNodePorts(const Object& service, const NodePortAllocation& allocation) {
  json::value spec = at(service.value(), {"spec"});
  if (!spec.is_object() || !spec.get_object().contains("ports") || !spec.at("ports").is_array()) return spec;
  auto& ports = spec.as_object()["ports"].as_array();
  bool wanted = usesNodePorts(service);
  for (size_t i = 0; i < ports.size(); ++i) {
    if (!ports[i].is_object()) continue;
    auto& port = ports[i].as_object();
    if (!wanted) {
      // Kubernetes releases the node ports of a Service whose type no longer has them.
      port.erase("nodePort");
      continue;
    }
    for (const auto& a : allocation.assigned) {
      if (a.ns == service.ns() && a.name == service.name() && a.portIndex == i) port["nodePort"] = a.nodePort;
    }
  }
  return spec;
}

json::value loadBalancerStatus(const Object& service) {
  if (stringAt(service.value(), {"spec", "type"}) != "LoadBalancer") return json::object();
  return json::object{{"ingress", json::array{json::object{{"ip", kLoadBalancerIp}}}}};
}

}  // namespace weft::localcluster
