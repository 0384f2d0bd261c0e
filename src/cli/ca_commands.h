#pragma once

#include <CLI/CLI.hpp>

namespace weft::cli {

// `weft ca root|intermediate|sign|inspect`. A command's exit code lands in `exitCode`.
void addCaCommands(CLI::App& app, int& exitCode);

}  // namespace weft::cli
