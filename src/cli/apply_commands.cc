#include <fmt/core.h>

#include <algorithm>
#include <memory>

#include "cli/cli.h"
#include "cli/manifest_input.h"
#include "cli/object_commands.h"
#include "cli/store_access.h"

namespace weft::cli {
namespace {

struct ApplyFlags {
  std::vector<std::string> files;
  std::string ns;
  bool recursive = false;
  StoreFlags store;
};

struct DeleteFlags : ApplyFlags {
  std::vector<std::string> args;  // KIND NAME...
  bool ignoreNotFound = false;
};

// Decodes every -f source; prints every error and fails when there is any, so that one
// bad document anywhere means nothing is applied.
std::optional<model::DecodeResult> decodeAll(const ApplyFlags& flags) {
  auto decoded = readManifests(flags.files, {.ns = flags.ns, .nsExplicit = !flags.ns.empty()}, flags.recursive);
  for (const auto& e : decoded.errors) fmt::print(stderr, "error: {}\n", e);
  if (!decoded.ok()) return std::nullopt;
  if (decoded.objects.empty()) {
    fmt::print(stderr, "error: no objects passed to apply\n");
    return std::nullopt;
  }
  return decoded;
}

int runApply(const ApplyFlags& flags) {
  auto decoded = decodeAll(flags);
  if (!decoded) return kExitFailure;
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  auto applied = store->apply(std::move(decoded->objects));
  if (!applied) return printError(applied.error());
  for (const auto& a : *applied) {
    fmt::print("{}/{} {}\n", resourceName(a.object.info()), a.object.name(), store::applyOutcomeName(a.outcome));
  }
  return kExitOk;
}

int runDelete(const DeleteFlags& flags) {
  std::vector<model::ObjectKey> keys;
  if (!flags.files.empty()) {
    if (!flags.args.empty()) return printError(makeError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form or with -f"));
    auto decoded = decodeAll(flags);
    if (!decoded) return kExitFailure;
    for (const auto& o : decoded->objects) keys.push_back(o.key());
  } else {
    if (flags.args.size() < 2) return printError(makeError("you must provide a resource type and one or more names, or -f FILE"));
    auto kind = resolveKind(flags.args[0]);
    if (!kind) return printError(kind.error());
    for (size_t i = 1; i < flags.args.size(); ++i) {
      keys.push_back({qualifiedKind(**kind), (*kind)->namespaced ? (flags.ns.empty() ? "default" : flags.ns) : "", flags.args[i]});
    }
  }
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  if (flags.ignoreNotFound) {
    std::vector<model::ObjectKey> present;
    for (const auto& k : keys) {
      auto got = store->get(k);
      if (got && got->has_value()) present.push_back(k);
    }
    keys = std::move(present);
  }
  auto removed = store->remove(keys);
  if (!removed) return printError(removed.error());
  // Objects removed with their namespace are not listed, as kubectl does not list them.
  for (const auto& o : *removed) {
    if (std::find(keys.begin(), keys.end(), o.key()) != keys.end()) {
      fmt::print("{} \"{}\" deleted\n", resourceName(o.info()), o.name());
    }
  }
  return kExitOk;
}

}  // namespace

void addApplyCommands(CLI::App& app, int& exitCode) {
  auto applyFlags = std::make_shared<ApplyFlags>();
  auto* apply = app.add_subcommand("apply", "Create or update objects from YAML files, all or nothing");
  apply->add_option("-f,--filename", applyFlags->files, "File, directory or - for standard input")->required();
  apply->add_option("-n,--namespace", applyFlags->ns, "Namespace for objects that name none");
  apply->add_flag("-R,--recursive", applyFlags->recursive, "Read directories recursively");
  addStoreOption(apply, applyFlags->store);
  apply->callback([applyFlags, &exitCode] { exitCode = runApply(*applyFlags); });

  auto deleteFlags = std::make_shared<DeleteFlags>();
  auto* del = app.add_subcommand("delete", "Delete objects named in files or by KIND NAME...");
  del->add_option("args", deleteFlags->args, "KIND NAME...");
  del->add_option("-f,--filename", deleteFlags->files, "File, directory or - for standard input");
  del->add_option("-n,--namespace", deleteFlags->ns, "Namespace");
  del->add_flag("-R,--recursive", deleteFlags->recursive, "Read directories recursively");
  del->add_flag("--ignore-not-found", deleteFlags->ignoreNotFound, "Treat missing objects as deleted");
  addStoreOption(del, deleteFlags->store);
  del->callback([deleteFlags, &exitCode] { exitCode = runDelete(*deleteFlags); });
}

}  // namespace weft::cli
