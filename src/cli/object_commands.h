#pragma once
// The command groups of `weft`: the kubectl verbs on the store (apply, delete, get, label,
// create), analyze, the local cluster (cluster create|delete|list) and the verbs that
// reach into its pods (exec, logs, port-forward).

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace weft::cli {

void addApplyCommands(CLI::App& app, int& exitCode);   // apply, delete
void addGetCommand(CLI::App& app, int& exitCode);      // get
void addWaitCommand(CLI::App& app, int& exitCode);     // wait
void addEditCommands(CLI::App& app, int& exitCode);    // label, create namespace|secret generic
void addAnalyzeCommand(CLI::App& app, int& exitCode);  // analyze
void addClusterCommands(CLI::App& app, int& exitCode);  // cluster create|delete|list
void addInstallCommands(CLI::App& app, int& exitCode);  // install, uninstall, version
// exec, logs, port-forward; `podCommand` is what followed `--` on the command line.
void addPodCommands(CLI::App& app, int& exitCode, const std::vector<std::string>& podCommand);
void addProxyConfigCommands(CLI::App& app, int& exitCode);  // proxy-config secret, ztunnel-config
void addWaypointCommands(CLI::App& app, int& exitCode);     // waypoint apply|generate|list|delete

}  // namespace weft::cli
