#pragma once
// A VirtualService's http[] rules compiled into weft.v1.Route messages: one Route per match
// block (the blocks of one rule are alternatives, all sharing the rule's action).
//
// What cannot be compiled (a regex RE2 refuses, a duration that cannot be read, a rule
// with no action) leaves that rule out with a note; the rest of the VirtualService is
// still served, as Istio keeps serving a VirtualService it partly rejects in the proxy.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/object.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control {

// Istio's default retry policy when a route sets none: two attempts on connection
// failures and 503s (also what HTTPRoutes without `retry` get).
inline constexpr uint32_t kDefaultRetryAttempts = 2;
inline constexpr const char* kDefaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

// Where routes are compiled for: a Gateway ("<ns>/<name>"), or kMeshScope at a waypoint.
inline constexpr const char* kMeshScope = "mesh";

// Whether a match's `gateways` (empty: any) name `scope`; a name without a namespace is in
// the VirtualService's, and "mesh" is the mesh's.
bool matchGatewaysInclude(const model::Object& vs, const boost::json::value& match, const std::string& scope);

// A match's sourceLabels and sourceNamespace; nullopt when it has neither.
std::optional<weft::v1::RouteSource> matchSource(const boost::json::value& match);

class RouteCompiler {
 public:
  // The name of the cluster for (host, port, subset), made on first use.
  using ClusterFor = std::function<std::string(const model::Object& vs, const std::string& host, uint32_t port, const std::string& subset)>;
  using Note = std::function<void(const model::Object& vs, const std::string& what)>;

  RouteCompiler(ClusterFor clusterFor, Note note) : clusterFor_(std::move(clusterFor)), note_(std::move(note)) {}

  // The http[] routes for `scope`: a match whose `gateways` leave the scope out is not
  // compiled; one without `gateways` but with sourceLabels or sourceNamespace carries them
  // at a Gateway (the proxy keeps it when they describe its pod) and is left out with a
  // note in the mesh (a waypoint does not know its clients' labels). A match that names its
  // gateways applies wherever they are, its source fields unread, as Istio reads http[].
  std::vector<weft::v1::Route> compile(const model::Object& vs, const std::string& scope) const;
  // The `route` destinations of an http[], tls[] or tcp[] rule as weighted clusters.
  void addDestinations(const model::Object& vs, const boost::json::array& destinations,
                       google::protobuf::RepeatedPtrField<weft::v1::WeightedCluster>& into) const;

 private:
  bool compileMatch(const model::Object& vs, const boost::json::value& match, const std::string& where, weft::v1::RouteMatch& out) const;
  bool compileAction(const model::Object& vs, const boost::json::value& http, const std::string& where, weft::v1::Route& route) const;
  bool compileFault(const model::Object& vs, const boost::json::value& http, const std::string& where, weft::v1::Route& route) const;
  void compileMirrors(const model::Object& vs, const boost::json::value& http, weft::v1::Route& route) const;
  bool compileCors(const model::Object& vs, const boost::json::value& http, const std::string& where, weft::v1::Route& route) const;
  // `allowEmpty`: a header match written as `{}` means "present", as Istio reads it.
  bool stringMatch(const model::Object& vs, const boost::json::value& spec, const std::string& where, weft::v1::StringMatch& out,
                   bool allowEmpty = false) const;

  ClusterFor clusterFor_;
  Note note_;
};

}  // namespace weft::control
