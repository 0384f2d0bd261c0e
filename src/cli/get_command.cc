#include <fmt/core.h>

#include <boost/json.hpp>

#include <memory>

#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/label_selector.h"
#include "cli/resource_printer.h"
#include "cli/store_access.h"
#include "model/crd.h"

namespace weft::cli {
namespace {

struct GetFlags {
  std::vector<std::string> args;  // KIND [NAME...] or KIND/NAME
  std::string ns;
  bool allNamespaces = false;
  std::string output;
  std::string selector;
  bool noHeaders = false;
  StoreFlags store;
};

// `weft get crd [NAME]` answers from the built-in catalogue.
int runGetCrd(const GetFlags& flags, const std::vector<std::string>& names) {
  std::vector<boost::json::value> values;
  std::vector<std::string> tableNames;
  for (const auto& kind : model::allKinds()) {
    if (kind.group.empty() || kind.group == "apps") continue;  // built in, not CRDs
    if (!names.empty() && std::find(names.begin(), names.end(), kind.crdName()) == names.end()) continue;
    values.push_back(model::crdObject(kind));
    tableNames.push_back(kind.crdName());
  }
  for (const auto& n : names) {
    if (std::find(tableNames.begin(), tableNames.end(), n) == tableNames.end()) {
      return printError(makeError("customresourcedefinitions.apiextensions.k8s.io \"{}\" not found", n));
    }
  }
  auto out = printValues(values, flags.output, names.size() == 1, tableNames);
  if (!out) return printError(out.error());
  fmt::print("{}", *out);
  return kExitOk;
}

int runGetOne(const GetFlags& flags, std::string kindName);

int runGet(GetFlags flags) {
  if (auto ok = checkOutputFormat(flags.output); !ok) return printError(ok.error());
  if (flags.args.empty()) return printError(makeError("you must specify the type of resource to get"));
  // "get sa,svc": one table per kind, a blank line between, as kubectl prints them.
  std::string kinds = flags.args[0];
  if (kinds.find(',') == std::string::npos) return runGetOne(flags, kinds);
  if (flags.args.size() > 1) return printError(makeError("names cannot be given with several resource types"));
  int worst = kExitOk;
  size_t start = 0;
  bool first = true;
  while (start <= kinds.size()) {
    size_t comma = kinds.find(',', start);
    std::string kind = kinds.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? kinds.size() + 1 : comma + 1;
    if (kind.empty()) continue;
    if (!first) fmt::print("\n");
    first = false;
    std::fflush(stdout);
    worst = std::max(worst, runGetOne(flags, kind));
  }
  return worst;
}

int runGetOne(const GetFlags& flags, std::string kindName) {
  std::vector<std::string> names(flags.args.begin() + 1, flags.args.end());
  if (auto slash = kindName.find('/'); slash != std::string::npos) {  // get deploy/httpbin
    names.insert(names.begin(), kindName.substr(slash + 1));
    kindName.resize(slash);
  }
  if (kindName == "crd" || kindName == "crds" || kindName == "customresourcedefinition" ||
      kindName == "customresourcedefinitions") {
    return runGetCrd(flags, names);
  }
  auto kind = resolveKind(kindName);
  if (!kind) return printError(kind.error());
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  std::string ns = flags.allNamespaces || !(*kind)->namespaced ? "" : (flags.ns.empty() ? "default" : flags.ns);

  std::vector<model::Object> objects;
  if (names.empty()) {
    auto listed = store->listKind(**kind, ns);
    if (!listed) return printError(listed.error());
    objects = std::move(listed.value());
  } else {
    for (const auto& name : names) {
      auto got = store->get({qualifiedKind(**kind), ns, name});
      if (!got) return printError(got.error());
      if (!got->has_value()) {
        fmt::print(stderr, "Error from server (NotFound): {} \"{}\" not found\n", (*kind)->plural, name);
        return kExitFailure;
      }
      objects.push_back(std::move(**got));
    }
  }
  if (!flags.selector.empty()) {
    auto selector = parseLabelSelector(flags.selector);
    if (!selector) return printError(selector.error());
    std::erase_if(objects, [&](const model::Object& o) { return !selector->matches(o); });
  }
  if (objects.empty() && (flags.output.empty() || flags.output == "wide")) {
    if (ns.empty()) fmt::print(stderr, "No resources found\n");
    else fmt::print(stderr, "No resources found in {} namespace.\n", ns);
    return kExitOk;
  }
  auto out = printObjects(**kind, objects,
                          {.output = flags.output, .allNamespaces = flags.allNamespaces, .single = names.size() == 1,
                           .noHeaders = flags.noHeaders, .now = std::chrono::system_clock::now()});
  if (!out) return printError(out.error());
  fmt::print("{}", *out);
  return kExitOk;
}

}  // namespace

void addGetCommand(CLI::App& app, int& exitCode) {
  auto flags = std::make_shared<GetFlags>();
  auto* get = app.add_subcommand("get", "List objects or show some of them (kubectl get)");
  get->add_option("args", flags->args, "KIND [NAME...] or KIND/NAME")->required();
  get->add_option("-n,--namespace", flags->ns, "Namespace (default: default)");
  get->add_flag("-A,--all-namespaces", flags->allNamespaces, "Objects of every namespace");
  get->add_option("-o,--output", flags->output, "wide, yaml, json, name or jsonpath=TEMPLATE");
  get->add_option("-l,--selector", flags->selector, "Label selector: key=value, key!=value, key, !key (comma-separated)");
  get->add_flag("--no-headers", flags->noHeaders, "Tables without the header line");
  addStoreOption(get, flags->store);
  get->callback([flags, &exitCode] { exitCode = runGet(*flags); });
}

}  // namespace weft::cli
