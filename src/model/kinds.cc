#include "model/kinds.h"

#include <algorithm>
#include <cctype>

namespace weft::model {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<KindInfo> buildCatalogue() {
  std::vector<KindInfo> kinds;
  addCoreKinds(kinds);
  addAppsKinds(kinds);
  addNetworkingKinds(kinds);
  addK8sNetworkingKinds(kinds);
  addSecurityKinds(kinds);
  addGatewayApiKinds(kinds);
  addIstioOperatorKinds(kinds);
  addWeftPolicyKinds(kinds);
  return kinds;
}

}  // namespace

const std::vector<KindInfo>& allKinds() {
  static const std::vector<KindInfo> kinds = buildCatalogue();
  return kinds;
}

const KindInfo* findKind(std::string_view apiVersion, std::string_view kind) {
  for (const auto& info : allKinds()) {
    if (info.kind != kind) continue;
    for (const auto& version : info.versions) {
      if (info.apiVersion(version) == apiVersion) return &info;
    }
  }
  return nullptr;
}

const KindInfo* findKindByName(std::string_view name) {
  std::string wanted = lower(name);
  std::string group;
  if (auto dot = wanted.find('.'); dot != std::string::npos) {
    group = wanted.substr(dot + 1);
    wanted.resize(dot);
  }
  // Prefer an exact group match; without a group, the first kind in catalogue order wins,
  // so core and Istio kinds shadow same-named Gateway API kinds as kubectl's order does.
  for (const auto& info : allKinds()) {
    if (!group.empty() && info.group != group) continue;
    bool match = lower(info.kind) == wanted || info.plural == wanted;
    for (const auto& s : info.shortNames) match = match || s == wanted;
    if (match) return &info;
  }
  return nullptr;
}

SchemaPtr workloadSelectorSchema() { return object().field("matchLabels", labelMap()); }

SchemaPtr labelSelectorSchema() {
  static const SchemaPtr schema =
      object()
          .field("matchLabels", labelMap())
          .field("matchExpressions", listOf(object()
                                                .required("key", nonEmptyStr())
                                                .required("operator", enumOf({"In", "NotIn", "Exists", "DoesNotExist"}))
                                                .field("values", listOf(str()))));
  return schema;
}

SchemaPtr preservedStatus() {
  static const SchemaPtr schema = object().preserveUnknownFields();
  return schema;
}

}  // namespace weft::model
