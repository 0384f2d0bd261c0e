#include "proxy/secret_credentials.h"

#include <fmt/format.h>

#include "base/base64.h"
#include "model/json_access.h"
#include "store/local_store.h"

namespace weft::proxy {

CredentialLoader secretCredentials(std::filesystem::path store) {
  return [store](const std::string& ns, const std::string& name) -> Result<ServerCredential> {
    std::string what = fmt::format("Secret {}/{}", ns, name);
    auto opened = store::LocalStore::open(store);
    if (!opened) return opened.error().wrap("the store");
    auto secret = opened->get({"Secret", ns, name});
    if (!secret) return secret.error().wrap(what);
    if (!*secret) return makeError("{} does not exist", what);
    const auto& data = model::at((*secret)->value(), {"data"});
    std::string badKey;
    auto read = [&](const std::string& key) -> std::optional<std::string> {
      if (!data.is_object()) return std::nullopt;
      const auto* value = data.get_object().if_contains(key);
      if (value == nullptr || !value->is_string()) return std::nullopt;
      auto decoded = base64Decode(value->get_string());
      if (!decoded) {
        badKey = key;
        return std::nullopt;
      }
      return *decoded;
    };
    auto credential = credentialFromSecretData(read, what);
    if (!badKey.empty()) return makeError("{}: data.{} is not base64", what, badKey);
    return credential;
  };
}

}  // namespace weft::proxy
