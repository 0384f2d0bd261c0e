// weft wait: kubectl wait on the store (wait_condition.h says what it waits for).
#include <fmt/core.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "base/duration.h"
#include "cli/cli.h"
#include "cli/label_selector.h"
#include "cli/object_commands.h"
#include "cli/store_access.h"
#include "cli/wait_condition.h"
#include "model/json_access.h"

namespace weft::cli {
namespace {

struct WaitFlags {
  std::vector<std::string> args;  // KIND/NAME..., or KIND [NAME...] (with -l or --all for every one)
  std::string ns;
  bool allNamespaces = false;
  std::string selector;
  bool all = false;
  std::string forWhat;
  std::string timeout = "30s";
  StoreFlags store;
};

struct Target {
  const model::KindInfo* kind;
  std::string ns;
  std::string name;
  bool met = false;
  std::string uid;  // as first seen: another uid is another object (the first was deleted)
};

constexpr auto kPollInterval = std::chrono::milliseconds(200);
// Longer timeouts are taken as this: the deadline never overflows the clock.
constexpr std::chrono::nanoseconds kLongestWait = std::chrono::hours(24 * 365);

Result<std::vector<Target>> resolveTargets(const WaitFlags& flags, store::LocalStore& store) {
  std::vector<Target> out;
  auto nsFor = [&](const model::KindInfo& kind) { return !kind.namespaced ? "" : flags.ns.empty() ? "default" : flags.ns; };
  if (flags.args.empty()) return makeError("resource(s) were provided, but no name was specified");
  bool slashed = flags.args[0].find('/') != std::string::npos;
  if (slashed) {
    for (const auto& arg : flags.args) {
      auto slash = arg.find('/');
      if (slash == std::string::npos) return makeError("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form");
      auto kind = resolveKind(arg.substr(0, slash));
      if (!kind) return kind.error();
      out.push_back({*kind, nsFor(**kind), arg.substr(slash + 1), false, ""});
    }
    return out;
  }
  auto kind = resolveKind(flags.args[0]);
  if (!kind) return kind.error();
  if (flags.args.size() > 1) {
    for (size_t i = 1; i < flags.args.size(); ++i) out.push_back({*kind, nsFor(**kind), flags.args[i], false, ""});
    return out;
  }
  if (flags.selector.empty() && !flags.all) return makeError("resource(s) were provided, but no name was specified");
  std::string ns = flags.allNamespaces ? "" : nsFor(**kind);
  auto listed = store.listKind(**kind, ns);
  if (!listed) return listed.error();
  std::optional<LabelSelector> selector;
  if (!flags.selector.empty()) {
    auto parsed = parseLabelSelector(flags.selector);
    if (!parsed) return parsed.error();
    selector = std::move(*parsed);
  }
  for (const auto& o : *listed) {
    if (!selector || selector->matches(o)) out.push_back({*kind, o.ns(), o.name(), false, ""});
  }
  return out;
}

int runWait(const WaitFlags& flags) {
  auto wanted = parseWaitFor(flags.forWhat);
  if (!wanted) return printError(wanted.error());
  auto timeout = parseDuration(flags.timeout, {.allowDays = false, .allowNegative = true});
  if (!timeout) return printError(timeout.error().wrap("--timeout"));
  // kubectl: 0 checks once, a negative timeout waits a week.
  if (*timeout < std::chrono::nanoseconds::zero()) *timeout = std::chrono::hours(24 * 7);
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  auto deadline = std::chrono::steady_clock::now() + std::min<std::chrono::nanoseconds>(*timeout, kLongestWait);
  auto targets = resolveTargets(flags, *store);
  if (!targets) return printError(targets.error());
  // create with -l or --all: until something matches (named targets are looked up below).
  while (targets->empty() && wanted->kind == WaitFor::Kind::kCreate && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
    targets = resolveTargets(flags, *store);
    if (!targets) return printError(targets.error());
  }
  if (targets->empty()) {
    // Nothing matched: deleted already, as kubectl sees it; else nothing to wait for.
    if (wanted->kind == WaitFor::Kind::kDelete) return kExitOk;
    if (wanted->kind == WaitFor::Kind::kCreate) {
      fmt::print(stderr, "error: timed out waiting for the condition\n");
      return kExitFailure;
    }
    return printError(makeError("no matching resources found"));
  }
  bool first = true;
  while (true) {
    size_t pending = 0;
    for (auto& t : *targets) {
      if (t.met) continue;
      auto got = store->get({qualifiedKind(*t.kind), t.ns, t.name});
      if (!got) return printError(got.error());
      if (!got->has_value()) {
        if (wanted->kind == WaitFor::Kind::kCreate) {
          ++pending;  // not made yet
          continue;
        }
        if (wanted->kind != WaitFor::Kind::kDelete) {
          fmt::print(stderr, "Error from server (NotFound): {} \"{}\" not found\n", t.kind->plural, t.name);
          return kExitFailure;
        }
        t.met = true;
        if (first) continue;  // gone before the wait began: kubectl says nothing
      } else if (wanted->kind == WaitFor::Kind::kDelete) {
        std::string uid = model::stringAt((*got)->value(), {"metadata", "uid"});
        if (t.uid.empty()) t.uid = uid;
        t.met = uid != t.uid;  // deleted and made again between two looks
      } else {
        auto met = waitMet(*wanted, (*got)->value());
        if (!met) return printError(met.error());
        t.met = *met;
      }
      if (t.met) {
        fmt::print("{}/{} condition met\n", resourceName(*t.kind), t.name);
        std::fflush(stdout);
      } else {
        ++pending;
      }
    }
    first = false;
    if (pending == 0) return kExitOk;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (wanted->kind == WaitFor::Kind::kCreate) {
    fmt::print(stderr, "error: timed out waiting for the condition\n");  // kubectl names nothing here
    return kExitFailure;
  }
  for (const auto& t : *targets) {
    if (!t.met) {
      fmt::print(stderr, "error: timed out waiting for the condition on {}/{}\n", t.kind->plural, t.name);
      break;
    }
  }
  return kExitFailure;
}

}  // namespace

void addWaitCommand(CLI::App& app, int& exitCode) {
  auto flags = std::make_shared<WaitFlags>();
  auto* wait = app.add_subcommand("wait", "Wait for a condition on objects (kubectl wait)");
  wait->add_option("args", flags->args, "KIND/NAME..., or KIND [NAME...] with -l or --all")->required();
  wait->add_option("--for", flags->forWhat, "condition=NAME[=VALUE], create, delete, or jsonpath={EXPR}[=VALUE]")->required();
  wait->add_option("--timeout", flags->timeout, "How long to wait (default 30s; 0 checks once, negative waits a week)");
  wait->add_option("-n,--namespace", flags->ns, "Namespace (default: default)");
  wait->add_flag("-A,--all-namespaces", flags->allNamespaces, "With -l or --all: objects of every namespace");
  wait->add_option("-l,--selector", flags->selector, "Label selector: key=value, key!=value, key, !key (comma-separated)");
  wait->add_flag("--all", flags->all, "Every object of the kind in the namespace");
  addStoreOption(wait, flags->store);
  wait->callback([flags, &exitCode] { exitCode = runWait(*flags); });
}

}  // namespace weft::cli
