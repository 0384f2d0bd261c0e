#pragma once
// What analyzers see: every object of the analysis (store and files together), indexed by
// kind, with the lookups Istio's analyzers share (host resolution, pods by selector).

#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <vector>

#include "analyze/message.h"
#include "model/json_access.h"
#include "model/object.h"

namespace weft::analyze {

class Context {
 public:
  explicit Context(std::vector<model::Object> objects, std::string istioNamespace = "istio-system");

  // By qualified kind: "Pod", "Service", "VirtualService.networking.istio.io",
  // "Gateway.gateway.networking.k8s.io" (ObjectKey's spelling).
  const std::vector<const model::Object*>& ofKind(const std::string& qualifiedKind) const;
  const model::Object* find(const std::string& qualifiedKind, const std::string& ns, const std::string& name) const;

  // Istio's host resolution: "reviews" in namespace "default" is
  // "reviews.default.svc.cluster.local"; "reviews.other" is "reviews.other.svc.cluster.local";
  // anything with more dots, or a wildcard, is taken as written.
  static std::string fqdn(std::string_view host, std::string_view ns);

  // The Service whose cluster-local name is `fqdn`, if any.
  const model::Object* serviceByFqdn(std::string_view fqdn) const;
  // True when a Service or a ServiceEntry host (wildcards included) provides `fqdn`.
  bool hostKnown(std::string_view fqdn) const;
  // Pods in `ns` ("" for every namespace) whose labels include all of `selector`.
  std::vector<const model::Object*> podsMatching(const std::string& ns, const boost::json::object& selector) const;

  const std::string& istioNamespace() const { return istioNamespace_; }
  void report(Message message) { messages_.push_back(std::move(message)); }
  std::vector<Message> takeMessages() { return std::move(messages_); }

 private:
  std::vector<model::Object> objects_;
  std::map<std::string, std::vector<const model::Object*>> byKind_;
  std::map<std::string, const model::Object*> servicesByFqdn_;
  std::string istioNamespace_;
  std::vector<Message> messages_;
};

// Reading typed JSON in analyzers: null when the path is absent.
using model::at;
using model::stringAt;
// True when `host` matches `pattern`, where either may be a "*." wildcard.
bool hostsMatch(std::string_view a, std::string_view b);
bool labelsMatch(const boost::json::object& labels, const boost::json::object& selector);
// "app=foo,istio=ingressgateway": sorted by key, as Kubernetes prints a label selector.
std::string selectorString(const boost::json::object& selector);

}  // namespace weft::analyze
