#include "hbone/authority.h"

#include <gtest/gtest.h>

namespace weft::hbone {
namespace {

TEST(Authority, ParsesSocketAddresses) {
  EXPECT_EQ(parseAuthority("10.1.2.3:8080")->port(), 8080);
  EXPECT_EQ(parseAuthority("10.1.2.3:8080")->address().to_string(), "10.1.2.3");
  EXPECT_EQ(parseAuthority("[fd00::1]:443")->address().to_string(), "fd00::1");
  EXPECT_EQ(formatAuthority(*parseAuthority("[fd00::1]:443")), "[fd00::1]:443");
  EXPECT_EQ(formatAuthority(*parseAuthority("10.1.2.3:1")), "10.1.2.3:1");
}

TEST(Authority, RefusesEverythingElse) {
  for (const char* bad : {"", "10.1.2.3", "10.1.2.3:", "10.1.2.3:0", "10.1.2.3:65536", "10.1.2.3:80x", "fd00::1:80",
                          "[fd00::1]", "[fd00::1]80", "httpbin.default.svc:80", ":80", "10.1.2.3:+80", "[fe80::1%eth0]:80"})
    EXPECT_FALSE(parseAuthority(bad).ok()) << bad;
}

}  // namespace
}  // namespace weft::hbone
