#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/ca_commands.h"
#include "cli/object_commands.h"

namespace weft::cli {

int runCli(int argc, char** argv) {
  CLI::App app{"weft: a sidecarless service mesh that speaks Istio's and the Gateway API's YAML", "weft"};
  app.require_subcommand(1);
  int exitCode = kExitOk;
  addCaCommands(app, exitCode);
  addApplyCommands(app, exitCode);
  addGetCommand(app, exitCode);
  addEditCommands(app, exitCode);
  addAnalyzeCommand(app, exitCode);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }
  return exitCode;
}

}  // namespace weft::cli
