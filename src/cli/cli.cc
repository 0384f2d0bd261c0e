#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <string>
#include <vector>

#include "cli/ca_commands.h"
#include "cli/object_commands.h"

namespace weft::cli {

int runCli(int argc, char** argv) {
  // `weft exec POD -- CMD ...`: everything after `--` is the pod's command, kept away from
  // the option parser (which would read `-s` in `curl -s` as one of ours).
  std::vector<std::string> podCommand;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      podCommand.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  CLI::App app{"weft: a sidecarless service mesh that speaks Istio's and the Gateway API's YAML", "weft"};
  app.require_subcommand(1);
  int exitCode = kExitOk;
  addCaCommands(app, exitCode);
  addApplyCommands(app, exitCode);
  addGetCommand(app, exitCode);
  addWaitCommand(app, exitCode);
  addEditCommands(app, exitCode);
  addAnalyzeCommand(app, exitCode);
  addClusterCommands(app, exitCode);
  addInstallCommands(app, exitCode);
  addPodCommands(app, exitCode, podCommand);
  addProxyConfigCommands(app, exitCode);
  addWaypointCommands(app, exitCode);
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
