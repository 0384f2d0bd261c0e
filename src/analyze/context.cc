#include "analyze/context.h"

#include <boost/json.hpp>

#include <algorithm>

namespace weft::analyze {

namespace json = boost::json;

Context::Context(std::vector<model::Object> objects, std::string istioNamespace)
    : objects_(std::move(objects)), istioNamespace_(std::move(istioNamespace)) {
  for (const auto& o : objects_) {
    byKind_[o.key().kind].push_back(&o);
    if (o.key().kind == "Service") servicesByFqdn_[fqdn(o.name(), o.ns())] = &o;
  }
}

const std::vector<const model::Object*>& Context::ofKind(const std::string& qualifiedKind) const {
  static const std::vector<const model::Object*> none;
  auto found = byKind_.find(qualifiedKind);
  return found == byKind_.end() ? none : found->second;
}

const model::Object* Context::find(const std::string& qualifiedKind, const std::string& ns, const std::string& name) const {
  for (const auto* o : ofKind(qualifiedKind)) {
    if (o->name() == name && o->ns() == ns) return o;
  }
  return nullptr;
}

std::string Context::fqdn(std::string_view host, std::string_view ns) {
  if (host.find('*') != std::string_view::npos) return std::string(host);
  size_t dots = static_cast<size_t>(std::count(host.begin(), host.end(), '.'));
  if (dots == 0) return fmt::format("{}.{}.svc.cluster.local", host, ns);
  if (dots == 1) return fmt::format("{}.svc.cluster.local", host);
  return std::string(host);
}

const model::Object* Context::serviceByFqdn(std::string_view fqdn) const {
  auto found = servicesByFqdn_.find(std::string(fqdn));
  return found == servicesByFqdn_.end() ? nullptr : found->second;
}

bool Context::hostKnown(std::string_view host) const {
  if (serviceByFqdn(host) != nullptr) return true;
  for (const auto* se : ofKind("ServiceEntry.networking.istio.io")) {
    const auto& hosts = at(se->value(), {"spec", "hosts"});
    if (!hosts.is_array()) continue;
    for (const auto& h : hosts.get_array()) {
      if (h.is_string() && hostsMatch(host, fqdn(std::string_view(h.get_string()), se->ns()))) return true;
    }
  }
  return false;
}

std::vector<const model::Object*> Context::podsMatching(const std::string& ns, const json::object& selector) const {
  std::vector<const model::Object*> out;
  for (const auto* pod : ofKind("Pod")) {
    if ((ns.empty() || pod->ns() == ns) && labelsMatch(pod->labels(), selector)) out.push_back(pod);
  }
  return out;
}

bool hostsMatch(std::string_view a, std::string_view b) {
  auto wildcardCovers = [](std::string_view pattern, std::string_view host) {
    if (pattern == "*") return true;
    if (pattern.substr(0, 2) != "*.") return pattern == host;
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    if (host.substr(0, 2) == "*.") host = host.substr(1);
    return host.size() >= suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  };
  return a == b || wildcardCovers(a, b) || wildcardCovers(b, a);
}

bool labelsMatch(const json::object& labels, const json::object& selector) {
  for (const auto& [key, value] : selector) {
    const auto* have = labels.if_contains(key);
    if (have == nullptr || *have != value) return false;
  }
  return true;
}

std::string selectorString(const json::object& selector) {
  std::vector<std::string> terms;
  for (const auto& [key, value] : selector) {
    terms.push_back(fmt::format("{}={}", std::string_view(key), value.is_string() ? std::string_view(value.get_string()) : ""));
  }
  std::sort(terms.begin(), terms.end());
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : ",") + t;
  return out;
}

}  // namespace weft::analyze
