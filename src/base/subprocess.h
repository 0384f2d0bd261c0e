#pragma once
// Running host tools (ip, iptables-restore) and reporting their own words on failure.
// The local cluster drives iproute2 and iptables the way an administrator would, so what
// it does can be read back with the same tools.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace weft {

struct CommandOutput {
  int exitCode = 0;    // 128+N when killed by signal N
  std::string output;  // stdout and stderr together, in the order written
};

// Runs argv[0] (looked up in PATH) with `input` on its standard input. Fails only when the
// program cannot be started; a non-zero exit is reported in the result.
Result<CommandOutput> runCommand(const std::vector<std::string>& argv, std::string_view input = {});

// As runCommand, but a non-zero exit is an error quoting the command line and its output.
Status runChecked(const std::vector<std::string>& argv, std::string_view input = {});

// The absolute path of `program` found in PATH, or empty.
std::string findInPath(std::string_view program);

}  // namespace weft
