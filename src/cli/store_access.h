#pragma once
// How commands find the object store: --store DIR or $WEFT_STORE name a store directly;
// otherwise the store of the selected local cluster (--cluster, $WEFT_CLUSTER, else the
// current cluster); with no cluster at all, ~/.weft/store, a store without a cluster.

#include <CLI/CLI.hpp>

#include <string>

#include "base/result.h"
#include "model/kinds.h"
#include "store/local_store.h"

namespace weft::cli {

struct StoreFlags {
  std::string store;
  std::string cluster;
};

void addStoreOption(CLI::App* cmd, StoreFlags& flags);
Result<store::LocalStore> openStore(const StoreFlags& flags);

// "deployment.apps", "serviceaccount", "virtualservice.networking.istio.io": kubectl's
// spelling of a resource in messages.
std::string resourceName(const model::KindInfo& kind);

// Resolves a kind as typed on the command line, with kubectl's error when unknown.
Result<const model::KindInfo*> resolveKind(std::string_view typed);

int printError(const Error& error);

}  // namespace weft::cli
