#include <fmt/core.h>

#include <boost/json.hpp>

#include <filesystem>
#include <memory>

#include "base/base64.h"
#include "base/file_io.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/store_access.h"
#include "model/decoder.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::cli {
namespace {

namespace json = boost::json;

struct LabelFlags {
  std::vector<std::string> args;  // KIND NAME key=value... key-...
  std::string ns;
  bool overwrite = false;
  StoreFlags store;
};

struct CreateFlags {
  std::string name;
  std::string ns;
  std::vector<std::string> fromFiles;
  std::vector<std::string> fromLiterals;
  std::string type = "Opaque";
  std::string certFile, keyFile;  // `create secret tls`
  StoreFlags store;
};

int runLabel(const LabelFlags& flags) {
  if (flags.args.size() < 3) return printError(makeError("usage: weft label KIND NAME key=value [key-] ..."));
  auto kind = resolveKind(flags.args[0]);
  if (!kind) return printError(kind.error());
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  std::string ns = (*kind)->namespaced ? (flags.ns.empty() ? "default" : flags.ns) : "";
  const std::string& name = flags.args[1];
  bool added = false;
  auto stored = store->update({qualifiedKind(**kind), ns, name}, [&](json::value& object) -> Status {
    auto& meta = object.as_object()["metadata"].as_object();
    auto& labels = meta["labels"];
    if (!labels.is_object()) labels = json::object();
    for (size_t i = 2; i < flags.args.size(); ++i) {
      const std::string& arg = flags.args[i];
      if (!arg.empty() && arg.back() == '-' && arg.find('=') == std::string::npos) {
        labels.get_object().erase(arg.substr(0, arg.size() - 1));
        continue;
      }
      auto eq = arg.find('=');
      if (eq == std::string::npos || eq == 0) return makeError("invalid label spec: {}", arg);
      std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
      const auto* existing = labels.get_object().if_contains(key);
      if (existing && existing->is_string() && existing->get_string() != value && !flags.overwrite) {
        return makeError("'{}' already has a value ({}), and --overwrite is false", key, std::string_view(existing->get_string()));
      }
      labels.get_object()[key] = value;
      added = true;
    }
    if (labels.get_object().empty()) meta.erase("labels");
    return {};
  });
  if (!stored) {
    if (stored.error().message.find("not found") != std::string::npos && stored.error().message.rfind((*kind)->plural, 0) == 0) {
      fmt::print(stderr, "Error from server (NotFound): {}\n", stored.error().message);
      return kExitFailure;
    }
    return printError(stored.error());
  }
  const char* verb = stored->outcome == store::ApplyOutcome::kUnchanged ? "not labeled" : (added ? "labeled" : "unlabeled");
  fmt::print("{}/{} {}\n", resourceName(**kind), name, verb);
  return kExitOk;
}

// Reports a create's refusal the way kubectl does.
int createFailed(const Error& error, const char* what) {
  if (error.message.find("already exists") != std::string::npos) {
    fmt::print(stderr, "{}{}\n", what, error.message);
    return kExitFailure;
  }
  return printError(error);
}

int runCreateNamespace(const CreateFlags& flags) {
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  json::value v = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", flags.name}}}};
  auto decoded = model::decodeDocument(model::Document{std::move(v), {}, "<create>", {}}, {});
  if (!decoded.ok()) return printError(makeError("{}", decoded.errors.front()));
  auto created = store->create(std::move(decoded.objects.front()));
  if (!created) return createFailed(created.error(), "Error from server (AlreadyExists): ");
  fmt::print("namespace/{} created\n", flags.name);
  return kExitOk;
}

// Secret data keys: what kubectl accepts ([-._a-zA-Z0-9]+).
bool validDataKey(std::string_view key) {
  if (key.empty() || key.size() > 253) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

int runCreateSecret(const CreateFlags& flags) {
  std::string ns = flags.ns.empty() ? "default" : flags.ns;
  json::object data;
  for (const auto& spec : flags.fromFiles) {
    auto eq = spec.find('=');
    std::string path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    std::string key = eq == std::string::npos ? std::filesystem::path(path).filename().string() : spec.substr(0, eq);
    if (!validDataKey(key)) return printError(makeError("\"{}\" is not a valid key name for a Secret", key));
    if (data.contains(key)) return printError(makeError("cannot add key {}, another key by that name already exists", key));
    auto contents = readFile(path);
    if (!contents) return printError(contents.error());
    data[key] = base64Encode(*contents);
  }
  for (const auto& literal : flags.fromLiterals) {
    auto eq = literal.find('=');
    if (eq == std::string::npos || eq == 0) return printError(makeError("invalid literal source {}, expected key=value", literal));
    std::string key = literal.substr(0, eq);
    if (!validDataKey(key)) return printError(makeError("\"{}\" is not a valid key name for a Secret", key));
    if (data.contains(key)) return printError(makeError("cannot add key {}, another key by that name already exists", key));
    data[key] = base64Encode(literal.substr(eq + 1));
  }
  auto store = openStore(flags.store);
  if (!store) return printError(store.error());
  auto nsObject = store->get({"Namespace", "", ns});
  if (!nsObject) return printError(nsObject.error());
  if (!nsObject->has_value()) {
    fmt::print(stderr, "error: failed to create secret namespaces \"{}\" not found\n", ns);
    return kExitFailure;
  }
  json::value v = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", flags.name}, {"namespace", ns}}},
                   {"type", flags.type}, {"data", std::move(data)}};
  auto decoded = model::decodeDocument(model::Document{std::move(v), {}, "<create>", {}}, {.ns = ns});
  if (!decoded.ok()) return printError(makeError("{}", decoded.errors.front()));
  auto created = store->create(std::move(decoded.objects.front()));
  if (!created) return createFailed(created.error(), "error: failed to create secret ");
  fmt::print("secret/{} created\n", flags.name);
  return kExitOk;
}

// kubectl create secret tls: the pair is checked before anything is stored.
int runCreateTlsSecret(CreateFlags flags) {
  auto cert = readFile(flags.certFile);
  if (!cert) return printError(cert.error());
  auto key = readFile(flags.keyFile);
  if (!key) return printError(key.error());
  auto chain = tls::parseCertificates(*cert);
  if (!chain || chain->empty()) return printError(makeError("failed to load key pair tls: {}: no certificate", flags.certFile));
  auto privateKey = tls::parsePrivateKey(*key);
  if (!privateKey) return printError(privateKey.error().wrap(fmt::format("failed to load key pair tls: {}", flags.keyFile)));
  if (!tls::keyMatchesCertificate(chain->front().get(), privateKey->get())) {
    return printError(makeError("failed to load key pair tls: private key does not match public key"));
  }
  flags.fromFiles = {"tls.crt=" + flags.certFile, "tls.key=" + flags.keyFile};
  flags.type = "kubernetes.io/tls";
  return runCreateSecret(flags);
}

}  // namespace

void addEditCommands(CLI::App& app, int& exitCode) {
  auto labelFlags = std::make_shared<LabelFlags>();
  auto* label = app.add_subcommand("label", "Add, change or remove labels (key=value, key-)");
  label->add_option("args", labelFlags->args, "KIND NAME key=value... key-...")->required();
  label->add_option("-n,--namespace", labelFlags->ns, "Namespace");
  label->add_flag("--overwrite", labelFlags->overwrite, "Replace existing values");
  addStoreOption(label, labelFlags->store);
  label->callback([labelFlags, &exitCode] { exitCode = runLabel(*labelFlags); });

  auto* create = app.add_subcommand("create", "Create a namespace or a secret");
  create->require_subcommand(1);
  // kubectl takes `create -n NS secret ...` as well as `create secret ... -n NS` (Istio's
  // docs write the former).
  auto outerNs = std::make_shared<std::string>();
  create->add_option("-n,--namespace", *outerNs, "Namespace");
  auto nsFlags = std::make_shared<CreateFlags>();
  auto* createNs = create->add_subcommand("namespace", "Create a namespace")->alias("ns");
  createNs->add_option("name", nsFlags->name, "Name")->required();
  addStoreOption(createNs, nsFlags->store);
  createNs->callback([nsFlags, &exitCode] { exitCode = runCreateNamespace(*nsFlags); });

  auto* secret = create->add_subcommand("secret", "Create a secret");
  secret->require_subcommand(1);
  auto secretFlags = std::make_shared<CreateFlags>();
  auto* generic = secret->add_subcommand("generic", "Create a secret from files and literals");
  generic->add_option("name", secretFlags->name, "Name")->required();
  generic->add_option("-n,--namespace", secretFlags->ns, "Namespace");
  generic->add_option("--from-file", secretFlags->fromFiles, "[key=]path; the key defaults to the file's name");
  generic->add_option("--from-literal", secretFlags->fromLiterals, "key=value");
  generic->add_option("--type", secretFlags->type, "Secret type")->capture_default_str();
  addStoreOption(generic, secretFlags->store);
  generic->callback([secretFlags, outerNs, &exitCode] {
    if (secretFlags->ns.empty()) secretFlags->ns = *outerNs;
    exitCode = runCreateSecret(*secretFlags);
  });

  auto tlsFlags = std::make_shared<CreateFlags>();
  auto* tlsSecret = secret->add_subcommand("tls", "Create a kubernetes.io/tls secret from a certificate and its key");
  tlsSecret->add_option("name", tlsFlags->name, "Name")->required();
  tlsSecret->add_option("-n,--namespace", tlsFlags->ns, "Namespace");
  tlsSecret->add_option("--cert", tlsFlags->certFile, "PEM certificate (chain)")->required();
  tlsSecret->add_option("--key", tlsFlags->keyFile, "PEM private key")->required();
  addStoreOption(tlsSecret, tlsFlags->store);
  tlsSecret->callback([tlsFlags, outerNs, &exitCode] {
    if (tlsFlags->ns.empty()) tlsFlags->ns = *outerNs;
    exitCode = runCreateTlsSecret(*tlsFlags);
  });
}

}  // namespace weft::cli
