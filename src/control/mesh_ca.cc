#include "control/mesh_ca.h"

#include <boost/json.hpp>

#include "base/base64.h"
#include "model/json_access.h"

namespace weft::control {

namespace json = boost::json;

namespace {

Result<ca::CaFiles> secretFiles(const model::Object& secret) {
  ca::CaFiles files;
  const auto& data = model::at(secret.value(), {"data"});
  if (!data.is_object()) return files;
  for (const auto& [key, value] : data.get_object()) {
    if (!value.is_string()) continue;
    auto decoded = base64Decode(value.get_string());
    if (!decoded) return decoded.error().wrap(std::string(key));
    files[std::string(key)] = std::move(*decoded);
  }
  return files;
}

Result<ca::CaBundle> fromSecret(const model::Object& secret, const Clock& clock) {
  std::string source = fmt::format("secret {}/{}", secret.ns(), secret.name());
  auto files = secretFiles(secret);
  if (!files) return files.error().wrap(source);
  return ca::loadCaFiles(*files, source, clock);
}

}  // namespace

Status checkPluginCa(const store::LocalStore& store, const Clock& clock) {
  auto secret = store.get({"Secret", kCaNamespace, kPluginCaSecret});
  if (!secret) return secret.error();
  if (!*secret) return {};
  auto bundle = fromSecret(**secret, clock);
  if (!bundle) return bundle.error();
  return {};
}

Result<ca::CaBundle> loadMeshCa(store::LocalStore& store, const std::string& trustDomain, const Clock& clock) {
  for (const char* name : {kPluginCaSecret, kSelfSignedCaSecret}) {
    auto secret = store.get({"Secret", kCaNamespace, name});
    if (!secret) return secret.error();
    if (*secret) return fromSecret(**secret, clock);
  }
  auto made = ca::makeSelfSignedCa(trustDomain, clock);
  if (!made) return made.error();
  json::object data;
  for (const auto& [file, contents] : ca::toIstioFiles(*made)) data[file] = base64Encode(contents);
  json::value secret = json::object{{"apiVersion", "v1"},
                                    {"kind", "Secret"},
                                    {"metadata", json::object{{"name", kSelfSignedCaSecret}, {"namespace", kCaNamespace}}},
                                    {"type", "istio.io/ca-root"},
                                    {"data", std::move(data)}};
  auto created = store.create(model::Object(model::findKind("v1", "Secret"), std::move(secret)));
  if (!created) {
    // Another weftd made it first: use theirs, so the mesh has one root.
    auto existing = store.get({"Secret", kCaNamespace, kSelfSignedCaSecret});
    if (existing && *existing) return fromSecret(**existing, clock);
    return created.error().wrap("storing the self-signed CA");
  }
  return made;
}

}  // namespace weft::control
