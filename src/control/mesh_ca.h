#pragma once
// The mesh's signing CA, found as istiod finds it: the plug-in `cacerts` Secret in
// istio-system when it exists (Istio's file names, or tls.crt/tls.key/ca.crt), else the
// self-signed root kept in the `istio-ca-secret` Secret, made on first use. A malformed
// cacerts is an error naming the Secret and the file, never a silent fall-back.

#include "base/clock.h"
#include "ca/ca_bundle.h"
#include "store/local_store.h"

namespace weft::control {

inline constexpr const char* kCaNamespace = "istio-system";
inline constexpr const char* kPluginCaSecret = "cacerts";
inline constexpr const char* kSelfSignedCaSecret = "istio-ca-secret";

Result<ca::CaBundle> loadMeshCa(store::LocalStore& store, const std::string& trustDomain, const Clock& clock);

// Checks the plug-in cacerts Secret when there is one (what `weft install` does before it
// installs anything); no Secret is fine.
Status checkPluginCa(const store::LocalStore& store, const Clock& clock);

}  // namespace weft::control
