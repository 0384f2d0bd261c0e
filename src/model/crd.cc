#include "model/crd.h"

#include <boost/json.hpp>

#include <algorithm>

namespace weft::model {

boost::json::value crdObject(const KindInfo& kind) {
  namespace json = boost::json;
  std::string singular = kind.kind;
  std::transform(singular.begin(), singular.end(), singular.begin(), [](unsigned char c) { return std::tolower(c); });
  json::array versions;
  for (const auto& v : kind.versions) {
    versions.push_back(json::object{{"name", v}, {"served", true}, {"storage", v == kind.storageVersion}});
  }
  json::array shortNames;
  for (const auto& s : kind.shortNames) shortNames.push_back(json::value(s));
  return json::object{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", json::object{{"name", kind.crdName()}}},
      {"spec", json::object{{"group", kind.group},
                            {"names", json::object{{"kind", kind.kind},
                                                   {"listKind", kind.kind + "List"},
                                                   {"plural", kind.plural},
                                                   {"singular", singular},
                                                   {"shortNames", shortNames}}},
                            {"scope", kind.namespaced ? "Namespaced" : "Cluster"},
                            {"versions", versions}}},
  };
}

}  // namespace weft::model
