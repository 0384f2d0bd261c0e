#include "base/duration.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsGoSpellings) {
  EXPECT_EQ(*parseDuration("24h"), 24h);
  EXPECT_EQ(*parseDuration("1h30m"), 90min);
  EXPECT_EQ(*parseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*parseDuration("300ms"), 300ms);
  EXPECT_EQ(*parseDuration("10us"), 10us);
  EXPECT_EQ(*parseDuration("7ns"), 7ns);
  EXPECT_EQ(*parseDuration("0"), 0ns);
  EXPECT_EQ(*parseDuration("2h45m30.5s"), 2h + 45min + 30500ms);
}

TEST(ParseDuration, DaysOnlyWhenAllowed) {
  EXPECT_EQ(*parseDuration("90d", {.allowDays = true}), 90 * 24h);
  auto refused = parseDuration("90d");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "invalid duration \"90d\": unit \"d\" is not accepted here; use h");
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "h", "10", "1x", "1.2.3s", "-5s", "s10", "1h 30m", ".s", "99999999999999999h"}) {
    EXPECT_FALSE(parseDuration(bad)) << bad;
  }
  EXPECT_EQ(*parseDuration("-5s", {.allowNegative = true}), -5s);
}

TEST(FormatDuration, ShortestExactSpelling) {
  EXPECT_EQ(formatDuration(24h), "24h");
  EXPECT_EQ(formatDuration(90min), "1h30m");
  EXPECT_EQ(formatDuration(45s), "45s");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(1500ms), "1.500s");
  EXPECT_EQ(formatDuration(0s), "0s");
  EXPECT_EQ(formatDuration(-2h), "-2h");
}

TEST(FormatAge, KubectlHumanDurations) {
  EXPECT_EQ(formatAge(45s), "45s");
  EXPECT_EQ(formatAge(119s), "119s");
  EXPECT_EQ(formatAge(192s), "3m12s");
  EXPECT_EQ(formatAge(25min), "25m");
  EXPECT_EQ(formatAge(5h + 3min), "5h3m");
  EXPECT_EQ(formatAge(17h), "17h");
  EXPECT_EQ(formatAge(76h), "3d4h");
  EXPECT_EQ(formatAge(12 * 24h), "12d");
  EXPECT_EQ(formatAge(800 * 24h), "2y");
}

}  // namespace
}  // namespace weft
