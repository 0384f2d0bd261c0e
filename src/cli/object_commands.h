#pragma once
// The kubectl verbs Weft serves on its local store: apply, delete, get, label, create.

#include <CLI/CLI.hpp>

namespace weft::cli {

void addApplyCommands(CLI::App& app, int& exitCode);   // apply, delete
void addGetCommand(CLI::App& app, int& exitCode);      // get
void addEditCommands(CLI::App& app, int& exitCode);    // label, create namespace|secret generic
void addAnalyzeCommand(CLI::App& app, int& exitCode);  // analyze

}  // namespace weft::cli
