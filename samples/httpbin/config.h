#pragma once
// weft-httpbin's command line, read as go-httpbin reads its own: Go flag syntax (-port 80,
// --port=80), then the environment variables go-httpbin honours (PORT, HOST,
// MAX_BODY_SIZE, MAX_DURATION), each used only where its flag kept the default value, so
// a flag wins. The local cluster passes the same arguments it would pass the image.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace weft::httpbin {

struct Config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::size_t maxBodyBytes = 1024 * 1024;
  std::chrono::nanoseconds maxDuration = std::chrono::seconds(10);
  bool help = false;  // -h or -help: print usage and exit 0
};

using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;

// `args` excludes the program name. Errors are worded as Go's flag package words them.
Result<Config> parseConfig(const std::vector<std::string>& args, const GetEnv& getEnv);

std::string usage();

}  // namespace weft::httpbin
