#include "localcluster/service_proxy.h"

#include <boost/json.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "model/json_access.h"
#include "model/service_ports.h"
#include "localcluster/workload_controller.h"

namespace weft::localcluster {

namespace json = boost::json;
using model::at;
using model::Object;
using model::resolveTargetPort;
using model::selectorMatches;
using model::stringAt;

namespace {

std::string lowerProtocol(const json::value& port) {
  std::string protocol = stringAt(port, {"protocol"});
  if (protocol.empty()) protocol = "TCP";
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), [](unsigned char c) { return std::tolower(c); });
  return protocol;
}

std::string chainName(std::string_view prefix, const std::string& identity) {
  return fmt::format("{}{:016X}", prefix, std::hash<std::string>{}(identity));
}

std::string serviceChain(const ServicePortRule& rule) {
  return chainName("WEFT-SVC-", fmt::format("{}/{}:{}/{}", rule.ns, rule.name, rule.portName, rule.protocol));
}

std::string endpointChain(const ServicePortRule& rule, const ServiceEndpoint& endpoint) {
  return chainName("WEFT-SEP-", fmt::format("{}/{}:{}/{}>{}:{}", rule.ns, rule.name, rule.portName, rule.protocol, endpoint.ip,
                                            endpoint.port));
}

std::string portMatch(const ServicePortRule& rule) {
  return fmt::format("-d {}/32 -p {} -m {} --dport {}", rule.clusterIp, rule.protocol, rule.protocol, rule.port);
}

}  // namespace

std::optional<Ipv4Address> allocateClusterIp(const Ipv4Cidr& range, const std::string& ns, const std::string& name,
                                             const std::set<uint32_t>& used) {
  uint64_t size = range.size();
  if (size < 16) return std::nullopt;
  uint64_t start = std::hash<std::string>{}(ns + "/" + name) % size;
  for (uint64_t i = 0; i < size; ++i) {
    uint64_t offset = (start + i) % size;
    if (offset == 0 || offset == 1 || offset == 10 || offset == size - 1) continue;
    Ipv4Address candidate = range.at(offset);
    if (!used.contains(candidate.value)) return candidate;
  }
  return std::nullopt;
}

json::value endpointsFor(const Object& service, const std::vector<Object>& pods) {
  const auto& selector = at(service.value(), {"spec", "selector"});
  const auto& servicePorts = at(service.value(), {"spec", "ports"});
  // Pods are grouped into subsets by the ports they resolve to, as the API shapes it.
  std::map<std::vector<int>, std::pair<json::array, json::array>> subsets;
  for (const auto& pod : pods) {
    if (pod.ns() != service.ns() || !selectorMatches(selector, pod)) continue;
    std::string ip = stringAt(pod.value(), {"status", "podIP"});
    if (ip.empty()) continue;
    std::vector<int> ports;
    if (servicePorts.is_array()) {
      for (const auto& sp : servicePorts.get_array()) ports.push_back(resolveTargetPort(sp, pod));
    }
    if (std::find(ports.begin(), ports.end(), 0) != ports.end()) continue;  // a named port this pod lacks
    json::object address{{"ip", ip},
                         {"nodeName", stringAt(pod.value(), {"spec", "nodeName"})},
                         {"targetRef", json::object{{"kind", "Pod"},
                                                    {"namespace", pod.ns()},
                                                    {"name", pod.name()},
                                                    {"uid", stringAt(pod.value(), {"metadata", "uid"})}}}};
    auto& [ready, notReady] = subsets[ports];
    (podIsReady(pod) ? ready : notReady).push_back(std::move(address));
  }
  json::array subsetList;
  for (auto& [ports, addresses] : subsets) {
    json::object subset;
    if (!addresses.first.empty()) subset["addresses"] = std::move(addresses.first);
    if (!addresses.second.empty()) subset["notReadyAddresses"] = std::move(addresses.second);
    json::array portList;
    for (size_t i = 0; i < ports.size(); ++i) {
      const auto& sp = servicePorts.get_array()[i];
      json::object port{{"port", ports[i]}, {"protocol", stringAt(sp, {"protocol"}).empty() ? "TCP" : stringAt(sp, {"protocol"})}};
      if (!stringAt(sp, {"name"}).empty()) port["name"] = stringAt(sp, {"name"});
      if (!stringAt(sp, {"appProtocol"}).empty()) port["appProtocol"] = stringAt(sp, {"appProtocol"});
      portList.push_back(std::move(port));
    }
    subset["ports"] = std::move(portList);
    subsetList.push_back(std::move(subset));
  }
  json::object metadata{{"name", service.name()}, {"namespace", service.ns()}};
  if (service.labels().size() > 0) metadata["labels"] = service.labels();
  json::object endpoints{{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", std::move(metadata)}};
  if (!subsetList.empty()) endpoints["subsets"] = std::move(subsetList);
  return endpoints;
}

std::vector<ServicePortRule> servicePortRules(const std::vector<Object>& services, const std::vector<Object>& endpoints) {
  std::map<std::pair<std::string, std::string>, const Object*> endpointsByService;
  for (const auto& e : endpoints) endpointsByService[{e.ns(), e.name()}] = &e;
  std::vector<ServicePortRule> rules;
  for (const auto& service : services) {
    std::string clusterIp = stringAt(service.value(), {"spec", "clusterIP"});
    if (clusterIp.empty() || clusterIp == "None") continue;
    const auto& ports = at(service.value(), {"spec", "ports"});
    if (!ports.is_array()) continue;
    auto found = endpointsByService.find({service.ns(), service.name()});
    for (const auto& sp : ports.get_array()) {
      ServicePortRule rule{service.ns(), service.name(), stringAt(sp, {"name"}), clusterIp,
                           static_cast<int>(at(sp, {"port"}).is_int64() ? at(sp, {"port"}).get_int64() : 0), lowerProtocol(sp), {}};
      if (found != endpointsByService.end()) {
        const auto& subsets = at(found->second->value(), {"subsets"});
        for (const auto& subset : subsets.is_array() ? subsets.get_array() : json::array()) {
          // The subset's port with the same name (or the only port) carries the target.
          int target = 0;
          for (const auto& p : at(subset, {"ports"}).is_array() ? at(subset, {"ports"}).get_array() : json::array()) {
            if (stringAt(p, {"name"}) == rule.portName && at(p, {"port"}).is_int64()) target = static_cast<int>(at(p, {"port"}).get_int64());
          }
          if (target == 0) continue;
          for (const auto& address : at(subset, {"addresses"}).is_array() ? at(subset, {"addresses"}).get_array() : json::array()) {
            rule.endpoints.push_back({stringAt(address, {"ip"}), target});
          }
        }
      }
      std::sort(rule.endpoints.begin(), rule.endpoints.end(), [](const auto& a, const auto& b) { return a.ip < b.ip; });
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

std::set<std::string> serviceChains(const std::vector<ServicePortRule>& rules) {
  std::set<std::string> chains;
  for (const auto& rule : rules) {
    if (rule.endpoints.empty()) continue;
    chains.insert(serviceChain(rule));
    for (const auto& endpoint : rule.endpoints) chains.insert(endpointChain(rule, endpoint));
  }
  return chains;
}

std::set<std::string> chainsInSave(std::string_view saved) {
  std::set<std::string> chains;
  size_t pos = 0;
  while ((pos = saved.find("\n:WEFT-S", pos)) != std::string_view::npos) {
    size_t start = pos + 2;
    size_t end = saved.find(' ', start);
    std::string chain(saved.substr(start, end - start));
    if (chain.starts_with("WEFT-SVC-") || chain.starts_with("WEFT-SEP-")) chains.insert(chain);
    pos = start;
  }
  return chains;
}

std::string renderServiceRules(const std::vector<ServicePortRule>& rules, const std::set<std::string>& staleChains) {
  std::string filter = "*filter\n:WEFT-NO-ENDPOINTS - [0:0]\n";
  std::string natChains = "*nat\n:WEFT-SERVICES - [0:0]\n";
  std::string natRules;
  for (const auto& rule : rules) {
    std::string comment = fmt::format("-m comment --comment \"{}/{}:{}\"", rule.ns, rule.name, rule.portName);
    if (rule.endpoints.empty()) {
      // Refused at once, as kube-proxy does, rather than left to time out.
      filter += fmt::format("-A WEFT-NO-ENDPOINTS {} {} -j REJECT --reject-with icmp-port-unreachable\n", portMatch(rule), comment);
      continue;
    }
    std::string svc = serviceChain(rule);
    natChains += ":" + svc + " - [0:0]\n";
    natRules += fmt::format("-A WEFT-SERVICES {} {} -j {}\n", portMatch(rule), comment, svc);
    size_t n = rule.endpoints.size();
    for (size_t i = 0; i < n; ++i) {
      const auto& endpoint = rule.endpoints[i];
      std::string sep = endpointChain(rule, endpoint);
      natChains += ":" + sep + " - [0:0]\n";
      // Each rule takes 1/(remaining) of what reaches it: an even spread overall.
      if (i + 1 < n) {
        natRules += fmt::format("-A {} -m statistic --mode random --probability {:.10f} -j {}\n", svc, 1.0 / double(n - i), sep);
      } else {
        natRules += fmt::format("-A {} -j {}\n", svc, sep);
      }
      natRules += fmt::format("-A {} -s {}/32 -j MARK --set-xmark 0x4000/0x4000\n", sep, endpoint.ip);
      natRules += fmt::format("-A {} -p {} -m {} -j DNAT --to-destination {}:{}\n", sep, rule.protocol, rule.protocol, endpoint.ip,
                              endpoint.port);
    }
  }
  std::set<std::string> current = serviceChains(rules);
  std::string deletions;
  for (const auto& chain : staleChains) {
    if (current.contains(chain)) continue;
    // A chain must be empty before it can go: declaring it flushes it.
    natChains += ":" + chain + " - [0:0]\n";
    deletions += "-X " + chain + "\n";
  }
  return filter + "COMMIT\n" + natChains + natRules + deletions + "COMMIT\n";
}

std::vector<HostEntry> serviceHostEntries(const std::vector<Object>& services, const std::vector<Object>& endpoints,
                                          const std::string& podNs) {
  std::map<std::pair<std::string, std::string>, const Object*> endpointsByService;
  for (const auto& e : endpoints) endpointsByService[{e.ns(), e.name()}] = &e;
  std::vector<HostEntry> entries;
  for (const auto& service : services) {
    std::vector<std::string> names;
    if (service.ns() == podNs) names.push_back(service.name());
    names.push_back(service.name() + "." + service.ns());
    names.push_back(service.name() + "." + service.ns() + ".svc");
    names.push_back(service.name() + "." + service.ns() + ".svc.cluster.local");
    std::string clusterIp = stringAt(service.value(), {"spec", "clusterIP"});
    if (clusterIp == "None") {
      auto found = endpointsByService.find({service.ns(), service.name()});
      if (found == endpointsByService.end()) continue;
      const auto& subsets = at(found->second->value(), {"subsets"});
      for (const auto& subset : subsets.is_array() ? subsets.get_array() : json::array()) {
        for (const auto& address : at(subset, {"addresses"}).is_array() ? at(subset, {"addresses"}).get_array() : json::array()) {
          entries.push_back({stringAt(address, {"ip"}), names});
        }
      }
    } else if (!clusterIp.empty()) {
      entries.push_back({clusterIp, std::move(names)});
    }
  }
  return entries;
}

std::string renderHostsFile(const std::string& podIp, const std::string& podName, const std::vector<HostEntry>& services) {
  std::string text = "# Weft-managed hosts file: this pod's name and the cluster's Services.\n"
                     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!podIp.empty()) text += fmt::format("{}\t{}\n", podIp, podName);
  for (const auto& entry : services) {
    text += entry.ip;
    for (const auto& name : entry.names) text += "\t" + name;
    text += "\n";
  }
  return text;
}

}  // namespace weft::localcluster
