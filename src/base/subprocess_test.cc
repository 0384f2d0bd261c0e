#include "base/subprocess.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto result = runCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result);
  EXPECT_EQ(result->exitCode, 3);
  EXPECT_NE(result->output.find("out"), std::string::npos);
  EXPECT_NE(result->output.find("err"), std::string::npos);
}

TEST(Subprocess, FeedsLargeInputWhileReadingOutput) {
  // More than a pipe buffer each way: a naive write-then-read would deadlock here.
  std::string input(1 << 20, 'x');
  auto result = runCommand({"cat"}, input);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->exitCode, 0);
  EXPECT_EQ(result->output.size(), input.size());
}

TEST(Subprocess, CheckedQuotesTheCommandAndItsWords) {
  auto status = runChecked({"sh", "-c", "echo no such device >&2; exit 1"});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "`sh -c echo no such device >&2; exit 1` failed (exit 1): no such device");
}

TEST(Subprocess, MissingProgram) {
  auto result = runCommand({"weft-no-such-program"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("weft-no-such-program"), std::string::npos);
  EXPECT_EQ(findInPath("weft-no-such-program"), "");
  EXPECT_NE(findInPath("sh"), "");
}

}  // namespace
}  // namespace weft
