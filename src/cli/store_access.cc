#include "cli/store_access.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include "cli/cli.h"

namespace weft::cli {

void addStoreOption(CLI::App* cmd, std::string& storeFlag) {
  cmd->add_option("--store", storeFlag, "Local store directory (default: $WEFT_STORE, else ~/.weft/store)");
}

Result<store::LocalStore> openStore(const std::string& storeFlag) {
  std::string path = storeFlag;
  if (path.empty()) {
    if (const char* env = std::getenv("WEFT_STORE"); env && *env) path = env;
  }
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    path = std::string(home && *home ? home : "/root") + "/.weft/store";
  }
  return store::LocalStore::open(path);
}

std::string resourceName(const model::KindInfo& kind) {
  std::string name = kind.kind;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return kind.group.empty() ? name : name + "." + kind.group;
}

Result<const model::KindInfo*> resolveKind(std::string_view typed) {
  const model::KindInfo* kind = model::findKindByName(typed);
  if (kind == nullptr) return makeError("the server doesn't have a resource type \"{}\"", typed);
  return kind;
}

int printError(const Error& error) {
  fmt::print(stderr, "error: {}\n", error.message);
  return kExitFailure;
}

}  // namespace weft::cli
