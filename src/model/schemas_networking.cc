// networking.istio.io: VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry.
//
// Two layers of rules meet in these schemas, as they do in a cluster: the CRD's OpenAPI
// schema and CEL rules (types, enums, "only one of", durations >= 1ms), and the checks
// istiod's validating webhook applies on top (host syntax, weights, retry policies, TLS
// combinations). Both are enforced, because a file that the API server or the webhook would
// refuse must not be accepted here either. Rules that need other objects (does the subset
// exist, does the gateway exist) belong to analysis, not to decoding, and are left out.
//
// This file registers the kinds; each kind's schema has a file of its own (declared in
// networking_schemas.h), and the rules they share are in schema_rules.h.

#include <string>
#include <utility>
#include <vector>

#include "model/kinds.h"
#include "model/networking_schemas.h"

namespace weft::model {
namespace {

SchemaPtr body(const SchemaPtr& spec, bool specRequired) {
  auto builder = object();
  if (specRequired) {
    builder.required("spec", spec);
  } else {
    builder.field("spec", spec);
  }
  return builder.field("status", preservedStatus());
}

KindInfo networkingKind(std::string kind, std::string plural, std::string shortName, SchemaPtr spec, bool specRequired) {
  // All three versions serve one schema; v1 is stored (since Istio 1.27).
  return KindInfo{
      .group = "networking.istio.io",
      .kind = std::move(kind),
      .versions = {"v1", "v1alpha3", "v1beta1"},
      .storageVersion = "v1",
      .plural = std::move(plural),
      .shortNames = {std::move(shortName)},
      .namespaced = true,
      .body = body(spec, specRequired),
  };
}

}  // namespace

void addNetworkingKinds(std::vector<KindInfo>& kinds) {
  // ServiceEntry and WorkloadEntry CRDs require spec; the others do not.
  kinds.push_back(networkingKind("VirtualService", "virtualservices", "vs", virtualServiceSpecSchema(), false));
  kinds.push_back(networkingKind("DestinationRule", "destinationrules", "dr", destinationRuleSpecSchema(), false));
  kinds.push_back(networkingKind("Gateway", "gateways", "gw", gatewaySpecSchema(), false));
  kinds.push_back(networkingKind("ServiceEntry", "serviceentries", "se", serviceEntrySpecSchema(), true));
  kinds.push_back(networkingKind("WorkloadEntry", "workloadentries", "we", workloadEntrySpecSchema(), true));
}

}  // namespace weft::model
