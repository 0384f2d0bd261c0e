#pragma once
// The gateway's CredentialLoader: a Gateway's credentialName read as a Secret from the
// store (the local cluster's API server). Istio's gateways get these through SDS from
// istiod; here weftd puts the Secret's resourceVersion into the Listener, so a rotated
// Secret reaches the proxy as a Listener change, and the proxy reads the Secret itself.

#include <filesystem>

#include "proxy/tls_listener.h"

namespace weft::proxy {

CredentialLoader secretCredentials(std::filesystem::path store);

}  // namespace weft::proxy
