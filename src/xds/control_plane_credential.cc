#include "xds/control_plane_credential.h"

#include "base/base64.h"
#include "model/json_access.h"
#include "store/local_store.h"
#include "tls/pem.h"

namespace weft::xds {

Result<NodeCredential> loadNodeCredential(const std::filesystem::path& storeDir, const std::string& secretName) {
  auto store = store::LocalStore::open(storeDir);
  if (!store) return store.error().wrap("the store");
  auto secret = store->get({"Secret", "istio-system", secretName});
  if (!secret) return secret.error();
  if (!*secret) return makeError("Secret istio-system/{} not found: was this node added after `weft install`?", secretName);
  const auto& value = (*secret)->value();
  auto cert = base64Decode(model::stringAt(value, {"data", "tls.crt"}));
  auto key = base64Decode(model::stringAt(value, {"data", "tls.key"}));
  if (!cert || !key) return makeError("Secret istio-system/{}: data.tls.crt and data.tls.key must be base64", secretName);
  auto blocks = tls::readPemBlocks(*cert);
  if (!blocks || blocks->size() < 2) return makeError("Secret istio-system/{}: data.tls.crt must hold the node certificate and its CA chain", secretName);
  auto parsed = tls::parseCertificates(*cert);
  if (!parsed) return parsed.error().wrap("Secret istio-system/" + secretName + " data.tls.crt");
  NodeCredential credential{*cert, *key, tls::toPem(parsed->back().get())};
  if (auto k = tls::parsePrivateKey(credential.keyPem); !k) return k.error().wrap("Secret istio-system/" + secretName + " data.tls.key");
  return credential;
}

std::shared_ptr<grpc::Channel> controlPlaneChannel(const std::string& target, const NodeCredential& credential) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = credential.rootPem;
  options.pem_cert_chain = credential.certChainPem;
  options.pem_private_key = credential.keyPem;
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(options), arguments);
}

}  // namespace weft::xds
