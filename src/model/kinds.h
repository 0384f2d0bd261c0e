#pragma once
// The catalogue of kinds Weft serves: API group, versions, names (plural, short names, as
// kubectl knows them) and the schema of everything in the object except apiVersion, kind
// and metadata. `weft get crd` answers from here.

#include <string>
#include <string_view>
#include <vector>

#include "model/schema.h"

namespace weft::model {

struct KindInfo {
  std::string group;                  // "" for the core group
  std::string kind;                   // "VirtualService"
  std::vector<std::string> versions;  // served versions, in the order the CRD lists them
  std::string storageVersion;         // the version Weft writes
  std::string plural;                 // "virtualservices"
  std::vector<std::string> shortNames;
  bool namespaced = true;
  SchemaPtr body;  // fields beside apiVersion, kind, metadata (spec, status, data, ...)

  std::string apiVersion(std::string_view version) const {
    return group.empty() ? std::string(version) : group + "/" + std::string(version);
  }
  std::string storageApiVersion() const { return apiVersion(storageVersion); }
  // "virtualservices.networking.istio.io", the CRD's name; core kinds have none.
  std::string crdName() const { return group.empty() ? "" : plural + "." + group; }
};

const std::vector<KindInfo>& allKinds();

// By apiVersion ("networking.istio.io/v1beta1") and kind; null when not served.
const KindInfo* findKind(std::string_view apiVersion, std::string_view kind);

// By any name kubectl accepts: kind (any case), plural, singular, short name, or
// plural.group ("virtualservices.networking.istio.io"). Null when unknown.
const KindInfo* findKindByName(std::string_view name);

// Schema registration, one function per API group (src/model/schemas_*.cc).
void addCoreKinds(std::vector<KindInfo>& kinds);
void addAppsKinds(std::vector<KindInfo>& kinds);
void addNetworkingKinds(std::vector<KindInfo>& kinds);
void addK8sNetworkingKinds(std::vector<KindInfo>& kinds);  // networking.k8s.io: Ingress, IngressClass
void addSecurityKinds(std::vector<KindInfo>& kinds);
void addGatewayApiKinds(std::vector<KindInfo>& kinds);
void addIstioOperatorKinds(std::vector<KindInfo>& kinds);
void addWeftPolicyKinds(std::vector<KindInfo>& kinds);  // policy.weft.dev: RateLimitPolicy

// Shared pieces of schemas.
SchemaPtr workloadSelectorSchema();  // {matchLabels: labels}
SchemaPtr labelSelectorSchema();     // Kubernetes LabelSelector (matchLabels, matchExpressions)
SchemaPtr preservedStatus();         // status: written by controllers, never validated

}  // namespace weft::model
