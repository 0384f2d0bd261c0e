#include "httpbin/config.h"

#include "httpbin/go_parse.h"

namespace weft::httpbin {
namespace {

constexpr std::string_view kDefaultHost = "0.0.0.0";
constexpr std::uint16_t kDefaultPort = 8080;
constexpr std::size_t kDefaultMaxBodyBytes = 1024 * 1024;
constexpr std::chrono::nanoseconds kDefaultMaxDuration = std::chrono::seconds(10);

Result<std::uint16_t> parsePort(const std::string& text) {
  auto port = goAtoi(text);
  if (!port || *port < 0 || *port > 65535) return makeError("invalid port {}", goQuote(text));
  return static_cast<std::uint16_t>(*port);
}

Result<std::size_t> parseSize(const std::string& text) {
  auto size = goParseInt(text);
  if (!size || *size < 0) return makeError("invalid size {}", goQuote(text));
  return static_cast<std::size_t>(*size);
}

Result<std::chrono::nanoseconds> parsePositiveDuration(const std::string& text) {
  auto duration = goParseDuration(text);
  if (!duration) return duration.error();
  if (*duration < std::chrono::nanoseconds{0}) return makeError("negative duration {}", goQuote(text));
  return *duration;
}

bool parseBool(const std::string& text, bool& value) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" || text == "True") {
    value = true;
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" || text == "False") {
    value = false;
    return true;
  }
  return false;
}

}  // namespace

std::string usage() {
  return "Usage of weft-httpbin (a go-httpbin compatible server):\n"
         "  -host string\n"
         "    \tHost to listen on (default \"0.0.0.0\"; env HOST)\n"
         "  -port int\n"
         "    \tPort to listen on (default 8080; env PORT)\n"
         "  -max-body-size int\n"
         "    \tMaximum size of request or response, in bytes (default 1048576; env MAX_BODY_SIZE)\n"
         "  -max-duration value\n"
         "    \tMaximum duration a response may take (default 10s; env MAX_DURATION)\n"
         "  -use-real-hostname\n"
         "    \tAccepted for go-httpbin compatibility; /hostname always reports the real hostname\n";
}

Result<Config> parseConfig(const std::vector<std::string>& args, const GetEnv& getEnv) {
  Config config;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // Go's flag package stops at the first non-flag argument and at "--".
    if (arg.size() < 2 || arg[0] != '-') break;
    if (arg == "--") break;
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name.empty() || name[0] == '-' || name[0] == '=') return makeError("bad flag syntax: {}", arg);

    if (name == "h" || name == "help") {
      config.help = true;
      return config;
    }
    if (name == "use-real-hostname") {
      bool ignored = true;
      if (value && !parseBool(*value, ignored)) {
        return makeError("invalid boolean value {} for -{}: parse error", goQuote(*value), name);
      }
      continue;
    }
    if (name != "host" && name != "port" && name != "max-body-size" && name != "max-duration") {
      return makeError("flag provided but not defined: -{}", name);
    }
    if (!value) {
      if (i + 1 == args.size()) return makeError("flag needs an argument: -{}", name);
      value = args[++i];
    }
    auto invalid = [&](const Error& error) {
      return makeError("invalid value {} for flag -{}: {}", goQuote(*value), name, error.message);
    };
    if (name == "host") {
      config.host = *value;
    } else if (name == "port") {
      auto port = parsePort(*value);
      if (!port) return invalid(port.error());
      config.port = *port;
    } else if (name == "max-body-size") {
      auto size = parseSize(*value);
      if (!size) return invalid(size.error());
      config.maxBodyBytes = *size;
    } else {
      auto duration = parsePositiveDuration(*value);
      if (!duration) return invalid(duration.error());
      config.maxDuration = *duration;
    }
  }

  // Environment variables fill in only what the flags left at their defaults.
  auto fromEnv = [&](const char* name) -> std::optional<std::string> {
    auto value = getEnv(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  };
  auto invalidEnv = [](const char* name, const std::string& value) {
    return makeError("invalid value {} for env var {}: parse error", goQuote(value), name);
  };
  if (config.host == kDefaultHost) {
    if (auto host = fromEnv("HOST")) config.host = *host;
  }
  if (config.port == kDefaultPort) {
    if (auto text = fromEnv("PORT")) {
      auto port = parsePort(*text);
      if (!port) return invalidEnv("PORT", *text);
      config.port = *port;
    }
  }
  if (config.maxBodyBytes == kDefaultMaxBodyBytes) {
    if (auto text = fromEnv("MAX_BODY_SIZE")) {
      auto size = parseSize(*text);
      if (!size) return invalidEnv("MAX_BODY_SIZE", *text);
      config.maxBodyBytes = *size;
    }
  }
  if (config.maxDuration == kDefaultMaxDuration) {
    if (auto text = fromEnv("MAX_DURATION")) {
      auto duration = parsePositiveDuration(*text);
      if (!duration) return invalidEnv("MAX_DURATION", *text);
      config.maxDuration = *duration;
    }
  }
  return config;
}

}  // namespace weft::httpbin
