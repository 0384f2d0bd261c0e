#include "cli/resource_printer.h"

#include <boost/json.hpp>

#include <functional>

#include "base/duration.h"
#include "base/time_format.h"
#include "cli/store_access.h"
#include "model/json_access.h"
#include "model/jsonpath.h"
#include "model/yaml_writer.h"

namespace weft::cli {
namespace {

namespace json = boost::json;
using model::Object;

struct Column {
  std::string header;
  std::function<std::string(const Object&)> cell;
  bool wideOnly = false;
};

using model::at;

std::string text(const json::value& v, std::string_view fallback = "") {
  if (v.is_null()) return std::string(fallback);
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

int64_t number(const json::value& v) { return v.is_int64() ? v.get_int64() : 0; }

std::string count(const json::value& v) {
  if (v.is_object()) return std::to_string(v.get_object().size());
  if (v.is_array()) return std::to_string(v.get_array().size());
  return "0";
}

std::string age(const Object& o, SystemTime now) {
  const auto* ts = o.metadata().if_contains("creationTimestamp");
  if (ts == nullptr || !ts->is_string()) return "<unknown>";
  auto created = parseRfc3339(ts->get_string());
  if (!created) return "<unknown>";
  return formatAge(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

std::string servicePorts(const Object& o) {
  const auto& ports = at(o.value(), {"spec", "ports"});
  if (!ports.is_array() || ports.get_array().empty()) return "<none>";
  std::string out;
  for (const auto& p : ports.get_array()) {
    if (!out.empty()) out += ",";
    // kubectl's "80:31234/TCP" once a node port is allocated.
    if (number(at(p, {"nodePort"})) > 0) {
      out += fmt::format("{}:{}/{}", text(at(p, {"port"})), number(at(p, {"nodePort"})), text(at(p, {"protocol"}), "TCP"));
    } else {
      out += fmt::format("{}/{}", text(at(p, {"port"})), text(at(p, {"protocol"}), "TCP"));
    }
  }
  return out;
}

// kubectl's EXTERNAL-IP: a LoadBalancer's ingress addresses (<pending> until it has
// one) plus spec.externalIPs; the externalName of an ExternalName Service.
std::string serviceExternalIp(const Object& o) {
  std::string type = text(at(o.value(), {"spec", "type"}), "ClusterIP");
  if (type == "ExternalName") return text(at(o.value(), {"spec", "externalName"}), "<none>");
  std::vector<std::string> addresses;
  if (type == "LoadBalancer") {
    const auto& ingress = at(o.value(), {"status", "loadBalancer", "ingress"});
    for (const auto& i : ingress.is_array() ? ingress.get_array() : json::array()) {
      if (at(i, {"ip"}).is_string()) {
        addresses.push_back(text(at(i, {"ip"})));
      } else if (at(i, {"hostname"}).is_string()) {
        addresses.push_back(text(at(i, {"hostname"})));
      }
    }
  }
  const auto& external = at(o.value(), {"spec", "externalIPs"});
  for (const auto& ip : external.is_array() ? external.get_array() : json::array()) addresses.push_back(text(ip));
  if (addresses.empty()) return type == "LoadBalancer" ? "<pending>" : "<none>";
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ",") + a;
  return out;
}

std::string podReady(const Object& o) {
  const auto& containers = at(o.value(), {"spec", "containers"});
  size_t total = containers.is_array() ? containers.get_array().size() : 0;
  size_t ready = 0;
  const auto& statuses = at(o.value(), {"status", "containerStatuses"});
  if (statuses.is_array()) {
    for (const auto& s : statuses.get_array()) ready += at(s, {"ready"}) == json::value(true) ? 1 : 0;
  }
  return fmt::format("{}/{}", ready, total);
}

// kubectl's "2 (5m3s ago)": the count, and how long ago the last restart was.
std::string podRestarts(const Object& o, SystemTime now) {
  int64_t restarts = 0;
  std::string lastFinished;
  const auto& statuses = at(o.value(), {"status", "containerStatuses"});
  if (statuses.is_array()) {
    for (const auto& s : statuses.get_array()) {
      restarts += number(at(s, {"restartCount"}));
      std::string finished = text(at(s, {"lastState", "terminated", "finishedAt"}), "");
      if (finished > lastFinished) lastFinished = finished;
    }
  }
  if (restarts == 0 || lastFinished.empty()) return std::to_string(restarts);
  auto when = parseRfc3339(lastFinished);
  if (!when) return std::to_string(restarts);
  return fmt::format("{} ({} ago)", restarts, formatAge(std::chrono::duration_cast<std::chrono::seconds>(now - *when)));
}

std::string podStatus(const Object& o) {
  if (const auto& reason = at(o.value(), {"status", "reason"}); reason.is_string()) return text(reason);
  const auto& statuses = at(o.value(), {"status", "containerStatuses"});
  if (statuses.is_array()) {
    for (const auto& s : statuses.get_array()) {
      if (const auto& waiting = at(s, {"state", "waiting", "reason"}); waiting.is_string()) return text(waiting);
    }
  }
  return text(at(o.value(), {"status", "phase"}), "Pending");
}

// kubectl's ENDPOINTS column: ready ip:port pairs, three at most, then "+ N more...".
std::string endpointList(const Object& o) {
  std::vector<std::string> pairs;
  const auto& subsets = at(o.value(), {"subsets"});
  for (const auto& subset : subsets.is_array() ? subsets.get_array() : json::array()) {
    const auto& addresses = at(subset, {"addresses"});
    const auto& ports = at(subset, {"ports"});
    if (!addresses.is_array() || !ports.is_array()) continue;
    for (const auto& port : ports.get_array()) {
      for (const auto& address : addresses.get_array()) {
        pairs.push_back(fmt::format("{}:{}", text(at(address, {"ip"})), number(at(port, {"port"}))));
      }
    }
  }
  if (pairs.empty()) return "<none>";
  std::string out;
  for (size_t i = 0; i < pairs.size() && i < 3; ++i) out += (i ? "," : "") + pairs[i];
  if (pairs.size() > 3) out += fmt::format(" + {} more...", pairs.size() - 3);
  return out;
}

std::string nodeStatus(const Object& o) {
  const auto& conditions = at(o.value(), {"status", "conditions"});
  if (conditions.is_array()) {
    for (const auto& c : conditions.get_array()) {
      if (text(at(c, {"type"})) == "Ready") return text(at(c, {"status"})) == "True" ? "Ready" : "NotReady";
    }
  }
  return "Unknown";
}

std::string nodeRoles(const Object& o) {
  std::string roles;
  for (const auto& [key, value] : o.labels()) {
    std::string_view k = key;
    if (k.starts_with("node-role.kubernetes.io/")) roles += (roles.empty() ? "" : ",") + std::string(k.substr(24));
  }
  return roles.empty() ? "<none>" : roles;
}

std::string nodeInternalIp(const Object& o) {
  const auto& addresses = at(o.value(), {"status", "addresses"});
  if (addresses.is_array()) {
    for (const auto& a : addresses.get_array()) {
      if (text(at(a, {"type"})) == "InternalIP") return text(at(a, {"address"}));
    }
  }
  return "<none>";
}

std::vector<Column> columnsFor(const model::KindInfo& kind, SystemTime now) {
  auto field = [](std::initializer_list<std::string_view> path, std::string fallback = "<none>") {
    std::vector<std::string_view> p(path);
    return [p, fallback](const Object& o) {
      const json::value* cur = &o.value();
      for (auto key : p) {
        cur = cur->is_object() ? cur->get_object().if_contains(key) : nullptr;
        if (cur == nullptr) return fallback;
      }
      return text(*cur, fallback);
    };
  };
  std::vector<Column> columns{{"NAME", [](const Object& o) { return o.name(); }}};
  auto add = [&](std::string header, std::function<std::string(const Object&)> cell, bool wide = false) {
    columns.push_back({std::move(header), std::move(cell), wide});
  };
  const std::string& k = kind.kind;
  const std::string& g = kind.group;
  if (g.empty() && k == "Pod") {
    add("READY", podReady);
    add("STATUS", podStatus);
    add("RESTARTS", [now](const Object& o) { return podRestarts(o, now); });
  } else if (g.empty() && k == "Endpoints") {
    add("ENDPOINTS", endpointList);
  } else if (g.empty() && k == "Node") {
    add("STATUS", nodeStatus);
    add("ROLES", nodeRoles);
    add("AGE", [now](const Object& o) { return age(o, now); });
    add("VERSION", field({"status", "nodeInfo", "kubeletVersion"}));
    add("INTERNAL-IP", nodeInternalIp, true);
  } else if (g.empty() && k == "Namespace") {
    add("STATUS", field({"status", "phase"}, "Active"));
  } else if (g.empty() && k == "Service") {
    add("TYPE", field({"spec", "type"}, "ClusterIP"));
    add("CLUSTER-IP", field({"spec", "clusterIP"}));
    add("EXTERNAL-IP", serviceExternalIp);
    add("PORT(S)", servicePorts);
  } else if (g.empty() && k == "Secret") {
    add("TYPE", field({"type"}, "Opaque"));
    add("DATA", [](const Object& o) { return count(o.field("data")); });
  } else if (g.empty() && k == "ConfigMap") {
    add("DATA", [](const Object& o) { return count(o.field("data")); });
  } else if (g.empty() && k == "ServiceAccount") {
    add("SECRETS", [](const Object& o) { return count(o.field("secrets")); });
  } else if (k == "Deployment") {
    add("READY", [](const Object& o) {
      return fmt::format("{}/{}", number(at(o.value(), {"status", "readyReplicas"})),
                         at(o.value(), {"spec", "replicas"}).is_null() ? 1 : number(at(o.value(), {"spec", "replicas"})));
    });
    add("UP-TO-DATE", [](const Object& o) { return std::to_string(number(at(o.value(), {"status", "updatedReplicas"}))); });
    add("AVAILABLE", [](const Object& o) { return std::to_string(number(at(o.value(), {"status", "availableReplicas"}))); });
  } else if (k == "DaemonSet") {
    add("DESIRED", [](const Object& o) { return std::to_string(number(at(o.value(), {"status", "desiredNumberScheduled"}))); });
    add("READY", [](const Object& o) { return std::to_string(number(at(o.value(), {"status", "numberReady"}))); });
  } else if (g == "networking.istio.io" && k == "VirtualService") {
    add("GATEWAYS", [](const Object& o) { return text(at(o.value(), {"spec", "gateways"}), ""); });
    add("HOSTS", [](const Object& o) { return text(at(o.value(), {"spec", "hosts"}), ""); });
  } else if (k == "DestinationRule") {
    add("HOST", field({"spec", "host"}, ""));
  } else if (k == "ServiceEntry") {
    add("HOSTS", [](const Object& o) { return text(at(o.value(), {"spec", "hosts"}), ""); });
    add("LOCATION", field({"spec", "location"}, ""));
    add("RESOLUTION", field({"spec", "resolution"}, ""));
  } else if (k == "AuthorizationPolicy") {
    add("ACTION", field({"spec", "action"}, "ALLOW"));
  } else if (k == "PeerAuthentication") {
    add("MODE", field({"spec", "mtls", "mode"}, ""));
  } else if (g == "gateway.networking.k8s.io" && k == "Gateway") {
    add("CLASS", field({"spec", "gatewayClassName"}, ""));
  } else if (k == "GatewayClass") {
    add("CONTROLLER", field({"spec", "controllerName"}, ""));
  } else if (k == "HTTPRoute" || k == "GRPCRoute") {
    add("HOSTNAMES", [](const Object& o) { return text(at(o.value(), {"spec", "hostnames"}), ""); });
  } else if (g == "networking.k8s.io" && k == "Ingress") {
    add("CLASS", field({"spec", "ingressClassName"}));
    add("HOSTS", [](const Object& o) {
      std::string out;
      for (const auto& rule : model::arrayAt(o.value(), {"spec", "rules"})) {
        std::string host = model::stringAt(rule, {"host"});
        out += fmt::format("{}{}", out.empty() ? "" : ",", host.empty() ? "*" : host);
      }
      return out.empty() ? std::string("*") : out;
    });
    add("ADDRESS", [](const Object& o) {
      std::string out;
      for (const auto& lb : model::arrayAt(o.value(), {"status", "loadBalancer", "ingress"})) {
        std::string address = model::stringAt(lb, {"ip"}).empty() ? model::stringAt(lb, {"hostname"}) : model::stringAt(lb, {"ip"});
        out += fmt::format("{}{}", out.empty() ? "" : ",", address);
      }
      return out;
    });
    add("PORTS", [](const Object& o) { return model::arrayAt(o.value(), {"spec", "tls"}).empty() ? std::string("80") : std::string("80, 443"); });
  } else if (k == "IngressClass") {
    add("CONTROLLER", field({"spec", "controller"}, ""));
    add("PARAMETERS", [](const Object&) { return std::string("<none>"); });
  } else if (k == "IstioOperator") {
    add("REVISION", field({"spec", "revision"}, ""));
  }
  if (!(g.empty() && k == "Node")) add("AGE", [now](const Object& o) { return age(o, now); });
  if (g.empty() && k == "Pod") {
    add("IP", field({"status", "podIP"}), true);
    add("NODE", field({"spec", "nodeName"}), true);
    add("NOMINATED NODE", [](const Object&) { return std::string("<none>"); }, true);
    add("READINESS GATES", [](const Object&) { return std::string("<none>"); }, true);
  }
  if (g.empty() && k == "Service") add("SELECTOR", [](const Object& o) {
      const auto& sel = at(o.value(), {"spec", "selector"});
      if (!sel.is_object() || sel.get_object().empty()) return std::string("<none>");
      std::string out;
      for (const auto& [key, v] : sel.get_object()) out += fmt::format("{}{}={}", out.empty() ? "" : ",", std::string_view(key), text(v));
      return out;
    }, true);
  return columns;
}

json::value asList(const std::vector<json::value>& items) {
  json::array array(items.begin(), items.end());
  return json::object{{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(array)}, {"metadata", json::object{{"resourceVersion", ""}}}};
}

std::string prettyJson(const json::value& v, int indent = 0) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object() && !v.get_object().empty()) {
    std::string out = "{\n";
    size_t i = 0;
    for (const auto& [key, child] : v.get_object()) {
      out += fmt::format("{}    {}: {}{}\n", pad, json::serialize(json::value(key)), prettyJson(child, indent + 4),
                         ++i < v.get_object().size() ? "," : "");
    }
    return out + pad + "}";
  }
  if (v.is_array() && !v.get_array().empty()) {
    std::string out = "[\n";
    size_t i = 0;
    for (const auto& child : v.get_array()) {
      out += fmt::format("{}    {}{}\n", pad, prettyJson(child, indent + 4), ++i < v.get_array().size() ? "," : "");
    }
    return out + pad + "]";
  }
  return json::serialize(v);
}

Result<std::string> printStructured(const std::vector<json::value>& values, const std::string& output, bool single) {
  json::value doc = single && values.size() == 1 ? values.front() : asList(values);
  if (output == "yaml") return model::toYaml(doc);
  if (output == "json") return prettyJson(doc) + "\n";
  if (output.rfind("jsonpath=", 0) == 0) {
    auto out = model::evaluateJsonPath(output.substr(9), doc);
    if (!out) return out.error();
    return *out;
  }
  return makeError("unable to match a printer suitable for the output format \"{}\"", output);
}

}  // namespace

std::string renderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - row[i].size() + 3, ' ');
    }
    out += '\n';
  }
  return out;
}

Status checkOutputFormat(const std::string& output) {
  if (output.empty() || output == "wide" || output == "yaml" || output == "json" || output == "name" ||
      output.rfind("jsonpath=", 0) == 0) {
    return {};
  }
  return makeError("unable to match a printer suitable for the output format \"{}\", allowed formats are: "
                   "json, jsonpath, name, wide, yaml", output);
}

Result<std::string> printObjects(const model::KindInfo& kind, const std::vector<Object>& objects, const PrintOptions& options) {
  if (options.output == "name") {
    std::string out;
    for (const auto& o : objects) out += fmt::format("{}/{}\n", resourceName(kind), o.name());
    return out;
  }
  if (!options.output.empty() && options.output != "wide") {
    std::vector<json::value> values;
    for (const auto& o : objects) values.push_back(o.value());
    return printStructured(values, options.output, options.single);
  }
  auto columns = columnsFor(kind, options.now);
  std::vector<std::vector<std::string>> rows(1);
  if (options.allNamespaces && kind.namespaced) rows[0].push_back("NAMESPACE");
  for (const auto& c : columns) {
    if (!c.wideOnly || options.output == "wide") rows[0].push_back(c.header);
  }
  for (const auto& o : objects) {
    std::vector<std::string> row;
    if (options.allNamespaces && kind.namespaced) row.push_back(o.ns());
    for (const auto& c : columns) {
      if (!c.wideOnly || options.output == "wide") row.push_back(c.cell(o));
    }
    rows.push_back(std::move(row));
  }
  std::string table = renderTable(rows);
  // The header is padded like every row, so it can be dropped after rendering.
  if (options.noHeaders) table.erase(0, table.find('\n') + 1);
  return table;
}

Result<std::string> printValues(const std::vector<json::value>& values, const std::string& output, bool single,
                                const std::vector<std::string>& tableNames) {
  if (output.empty() || output == "wide" || output == "name") {
    std::vector<std::vector<std::string>> rows{{"NAME"}};
    for (const auto& n : tableNames) rows.push_back({output == "name" ? "customresourcedefinition.apiextensions.k8s.io/" + n : n});
    if (output == "name") rows.erase(rows.begin());
    return renderTable(rows);
  }
  return printStructured(values, output, single);
}

}  // namespace weft::cli
