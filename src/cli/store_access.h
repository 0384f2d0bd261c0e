#pragma once
// How commands find the local store: --store DIR, else $WEFT_STORE, else ~/.weft/store.
// (The local cluster will make the store per cluster; this is the seam it will use.)

#include <CLI/CLI.hpp>

#include <string>

#include "base/result.h"
#include "model/kinds.h"
#include "store/local_store.h"

namespace weft::cli {

void addStoreOption(CLI::App* cmd, std::string& storeFlag);
Result<store::LocalStore> openStore(const std::string& storeFlag);

// "deployment.apps", "serviceaccount", "virtualservice.networking.istio.io": kubectl's
// spelling of a resource in messages.
std::string resourceName(const model::KindInfo& kind);

// Resolves a kind as typed on the command line, with kubectl's error when unknown.
Result<const model::KindInfo*> resolveKind(std::string_view typed);

int printError(const Error& error);

}  // namespace weft::cli
