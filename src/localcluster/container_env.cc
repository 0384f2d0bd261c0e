#include "localcluster/container_env.h"

#include "model/json_access.h"

namespace weft::localcluster {

namespace json = boost::json;
using model::at;
using model::stringAt;

namespace {

// metadata.labels['app'] -> "app"
std::optional<std::string> bracketKey(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix) || !path.ends_with("']")) return std::nullopt;
  return std::string(path.substr(prefix.size(), path.size() - prefix.size() - 2));
}

Result<std::string> fieldValue(const model::Object& pod, const std::string& path, const PodFacts& facts) {
  if (path == "metadata.name") return pod.name();
  if (path == "metadata.namespace") return pod.ns();
  if (path == "metadata.uid") return stringAt(pod.value(), {"metadata", "uid"});
  if (path == "spec.nodeName") return stringAt(pod.value(), {"spec", "nodeName"});
  if (path == "spec.serviceAccountName") {
    std::string sa = stringAt(pod.value(), {"spec", "serviceAccountName"});
    return sa.empty() ? std::string("default") : sa;
  }
  if (path == "status.podIP" || path == "status.podIPs") return facts.podIp;
  if (path == "status.hostIP" || path == "status.hostIPs") return facts.hostIp;
  if (auto key = bracketKey(path, "metadata.labels['")) return pod.label(*key);
  if (auto key = bracketKey(path, "metadata.annotations['")) return stringAt(pod.value(), {"metadata", "annotations", *key});
  return makeError("unsupported fieldRef fieldPath \"{}\"", path);
}

Result<std::string> keyRefValue(const json::value& ref, const std::string& kind, const std::string& ns, const EnvSourceLookup& lookup) {
  std::string name = stringAt(ref, {"name"});
  std::string key = stringAt(ref, {"key"});
  if (auto value = lookup(kind, ns, name, key)) return *value;
  if (at(ref, {"optional"}) == json::value(true)) return std::string();
  return makeError("couldn't find key {} in {} {}/{}", key, kind, ns, name);
}

}  // namespace

Result<std::vector<std::string>> containerEnv(const model::Object& pod, const json::value& container, const PodFacts& facts,
                                              const EnvSourceLookup& lookup) {
  std::vector<std::string> env{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + facts.hostname,
                               "HOME=/root"};
  const auto& list = at(container, {"env"});
  if (!list.is_array()) return env;
  for (const auto& item : list.get_array()) {
    std::string name = stringAt(item, {"name"});
    std::string value = stringAt(item, {"value"});
    const auto& from = at(item, {"valueFrom"});
    if (from.is_object()) {
      Result<std::string> resolved = std::string();
      if (const auto& field = at(from, {"fieldRef", "fieldPath"}); field.is_string()) {
        resolved = fieldValue(pod, std::string(field.get_string()), facts);
      } else if (const auto& cm = at(from, {"configMapKeyRef"}); cm.is_object()) {
        resolved = keyRefValue(cm, "ConfigMap", pod.ns(), lookup);
      } else if (const auto& secret = at(from, {"secretKeyRef"}); secret.is_object()) {
        resolved = keyRefValue(secret, "Secret", pod.ns(), lookup);
      } else if (at(from, {"resourceFieldRef"}).is_object()) {
        resolved = std::string("0");  // no resource limits here: kubelet reports 0 for an unset request
      }
      if (!resolved) return resolved.error().wrap("env " + name);
      value = *resolved;
    }
    env.push_back(name + "=" + value);
  }
  return env;
}

}  // namespace weft::localcluster
