// `weft analyze`, istioctl analyze's behaviour on Weft's store and on files: Istio's
// message codes and formats, its namespace handling and its exit codes (79 when messages
// at or above the failure threshold are found, 65 when a file cannot be parsed, 64 usage).
#include <fmt/core.h>

#include <boost/json.hpp>

#include <map>
#include <memory>

#include "analyze/analyzer.h"
#include "base/file_io.h"
#include "cli/cli.h"
#include "cli/object_commands.h"
#include "cli/store_access.h"
#include "model/decoder.h"

namespace weft::cli {
namespace {

constexpr int kExitAnalyzeIssues = 79;
constexpr int kExitFileParse = 65;

struct AnalyzeFlags {
  std::vector<std::string> files;
  std::string ns;
  bool allNamespaces = false;
  bool useKube = true;
  std::string output = "log";
  std::string failureThreshold = "Error";
  std::string outputThreshold = "Info";
  std::string analyzer;
  bool listAnalyzers = false;
  StoreFlags store;
};

// A document the schema refused still has a kind and name worth naming in IST0106.
std::string originOf(const model::Document& doc, const std::string& defaultNs) {
  if (!doc.value.is_object()) return "(unknown)";
  std::string kind = analyze::stringAt(doc.value, {"kind"});
  std::string name = analyze::stringAt(doc.value, {"metadata", "name"});
  std::string ns = analyze::stringAt(doc.value, {"metadata", "namespace"});
  return fmt::format("{} {}/{}", kind.empty() ? "(unknown)" : kind, ns.empty() ? defaultNs : ns, name);
}

struct FileInput {
  std::vector<model::Object> objects;
  std::vector<analyze::Message> schemaMessages;
};

Result<FileInput> readFiles(const std::vector<std::string>& files, const std::string& ns) {
  FileInput input;
  for (const auto& file : files) {
    auto text = readFile(file);
    if (!text) return text.error();
    auto docs = model::readYamlDocuments(*text, file);
    if (!docs) return docs.error();
    for (auto& doc : *docs) {
      std::string origin = originOf(doc, ns);
      std::string location = fmt::format("{}:{}", file, doc.start.line);
      auto decoded = model::decodeDocument(std::move(doc), {.ns = ns});
      for (const auto& e : decoded.errors) {
        // "file:line:col: path: message" -> the path and message.
        auto at = e.find(": ");
        input.schemaMessages.push_back(analyze::Message{&analyze::msg::kSchemaValidationError, origin, ns, location,
                                                        fmt::format("Schema validation error: {}", at == std::string::npos ? e : e.substr(at + 2))});
      }
      for (auto& o : decoded.objects) input.objects.push_back(std::move(o));
    }
  }
  return input;
}

int runAnalyze(const AnalyzeFlags& flags) {
  if (flags.listAnalyzers) {
    fmt::print("Available analyzers:\n");
    for (const auto& a : analyze::allAnalyzers()) fmt::print("* {}\n", a.name);
    return kExitOk;
  }
  auto failAt = analyze::parseLevel(flags.failureThreshold);
  auto showAt = analyze::parseLevel(flags.outputThreshold);
  if (!failAt || !showAt) {
    fmt::print(stderr, "Error: {}\n", (!failAt ? failAt : showAt).error().message);
    return kExitUsage;
  }
  if (flags.output != "log" && flags.output != "json" && flags.output != "yaml") {
    fmt::print(stderr, "Error: invalid output format \"{}\": use log, json or yaml\n", flags.output);
    return kExitUsage;
  }
  std::string ns = flags.ns.empty() ? "default" : flags.ns;

  // Live objects first; an object in a file replaces the live one of the same key, since
  // the files are what the user is about to apply.
  std::map<model::ObjectKey, model::Object> objects;
  if (flags.useKube) {
    auto store = openStore(flags.store);
    if (!store) return printError(store.error());
    auto all = store->listAll();
    if (!all) return printError(all.error());
    for (auto& o : *all) objects.insert_or_assign(o.key(), std::move(o));
  }
  auto input = readFiles(flags.files, ns);
  if (!input) {
    fmt::print(stderr, "Error: {}\n", input.error().message);
    return kExitFileParse;
  }
  for (auto& o : input->objects) objects.insert_or_assign(o.key(), std::move(o));
  std::vector<model::Object> all;
  for (auto& [key, o] : objects) all.push_back(std::move(o));

  // Schema errors first, in file order, then what the analyzers found.
  auto messages = std::move(input->schemaMessages);
  for (auto& m : analyze::runAnalyzers(std::move(all), {.onlyAnalyzer = flags.analyzer})) messages.push_back(std::move(m));

  std::vector<analyze::Message> shown;
  bool failing = false;
  for (auto& m : messages) {
    bool inScope = flags.allNamespaces || m.ns == ns || (m.ns.empty() && m.origin == "Namespace " + ns);
    if (!inScope) continue;
    failing = failing || m.type->level >= *failAt;
    if (m.type->level >= *showAt) shown.push_back(std::move(m));
  }
  std::string scope = flags.allNamespaces ? "all namespaces" : "namespace: " + ns;
  if (flags.output == "json") fmt::print("{}", analyze::formatMessagesJson(shown));
  else if (flags.output == "yaml") fmt::print("{}", analyze::formatMessagesYaml(shown));
  else if (shown.empty() && !failing) fmt::print("\u2714 No validation issues found when analyzing {}.\n", scope);
  else for (const auto& m : shown) fmt::print("{}\n", m.format());
  if (failing) {
    std::fflush(stdout);
    fmt::print(stderr, "Error: Analyzers found issues when analyzing {}.\n"
                       "See https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.\n",
               scope);
    return kExitAnalyzeIssues;
  }
  return kExitOk;
}

}  // namespace

void addAnalyzeCommand(CLI::App& app, int& exitCode) {
  auto flags = std::make_shared<AnalyzeFlags>();
  auto* cmd = app.add_subcommand("analyze", "Analyze the store and files for configuration problems (istioctl analyze)");
  cmd->add_option("files", flags->files, "Files to analyze together with the store");
  cmd->add_option("-n,--namespace", flags->ns, "Namespace to analyze, and for files that name none (default: default)");
  cmd->add_flag("-A,--all-namespaces", flags->allNamespaces, "Analyze every namespace");
  cmd->add_option("-k,--use-kube", flags->useKube, "Include the store's objects (--use-kube=false: files only)")->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "log, json or yaml")->capture_default_str();
  cmd->add_option("--failure-threshold", flags->failureThreshold, "Lowest level that fails (Info, Warning, Error)")->capture_default_str();
  cmd->add_option("--output-threshold", flags->outputThreshold, "Lowest level shown")->capture_default_str();
  cmd->add_option("--analyzer", flags->analyzer, "Run only this analyzer");
  cmd->add_flag("-L,--list-analyzers", flags->listAnalyzers, "List the analyzers");
  addStoreOption(cmd, flags->store);
  cmd->callback([flags, &exitCode] { exitCode = runAnalyze(*flags); });
}

}  // namespace weft::cli
