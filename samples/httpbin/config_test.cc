// The command line as go-httpbin reads its own: Go flag syntax, then environment variables
// where a flag kept its default.

#include <gtest/gtest.h>

#include <map>

#include "httpbin/config.h"

namespace weft::httpbin {
namespace {

using namespace std::chrono_literals;

GetEnv environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    auto it = variables.find(name);
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

Result<Config> parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return parseConfig(args, environment(std::move(env)));
}

TEST(httpbin_config, DefaultsAreGoHttpbins) {
  auto config = parse({});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "0.0.0.0");
  EXPECT_EQ(config->port, 8080);
  EXPECT_EQ(config->maxBodyBytes, 1024u * 1024u);
  EXPECT_EQ(config->maxDuration, 10s);
}

TEST(httpbin_config, AcceptsGoFlagSpellings) {
  EXPECT_EQ(parse({"-port", "80"})->port, 80);
  EXPECT_EQ(parse({"--port", "81"})->port, 81);
  EXPECT_EQ(parse({"-port=82"})->port, 82);
  EXPECT_EQ(parse({"--port=83", "-host", "127.0.0.1"})->host, "127.0.0.1");
  EXPECT_EQ(parse({"-max-duration", "2s", "-max-body-size=100"})->maxDuration, 2s);
  EXPECT_EQ(parse({"-max-body-size=100"})->maxBodyBytes, 100u);
  EXPECT_TRUE(parse({"-use-real-hostname"}));
  EXPECT_TRUE(parse({"-h"})->help);
  EXPECT_EQ(parse({"positional", "-port", "1"})->port, 8080);  // flags end at the first non-flag
}

TEST(httpbin_config, EnvironmentFillsWhatFlagsLeftAtDefault) {
  EXPECT_EQ(parse({}, {{"PORT", "9000"}})->port, 9000);
  EXPECT_EQ(parse({"-port", "80"}, {{"PORT", "9000"}})->port, 80);  // the flag wins
  EXPECT_EQ(parse({}, {{"PORT", ""}})->port, 8080);
  EXPECT_EQ(parse({}, {{"HOST", "127.0.0.1"}})->host, "127.0.0.1");
  EXPECT_EQ(parse({}, {{"MAX_DURATION", "3s"}})->maxDuration, 3s);
  EXPECT_EQ(parse({}, {{"PORT", "x"}}).error().message, "invalid value \"x\" for env var PORT: parse error");
}

TEST(httpbin_config, RefusesBadFlags) {
  EXPECT_EQ(parse({"-nope"}).error().message, "flag provided but not defined: -nope");
  EXPECT_EQ(parse({"-port"}).error().message, "flag needs an argument: -port");
  EXPECT_EQ(parse({"-port", "x"}).error().message, "invalid value \"x\" for flag -port: invalid port \"x\"");
  EXPECT_FALSE(parse({"-port", "65536"}));
  EXPECT_FALSE(parse({"-max-duration", "-1s"}));
  EXPECT_FALSE(parse({"---port=1"}));
}

}  // namespace
}  // namespace weft::httpbin
