#pragma once

namespace weft::cli {

// Exit codes shared by every command; 64 and 65 follow sysexits(3) as istioctl does.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;

// Parses the command line and runs the chosen `weft` subcommand.
int runCli(int argc, char** argv);

}  // namespace weft::cli
