#include "proxy/request_checks.h"

#include <gtest/gtest.h>

namespace weft::proxy {
namespace {

TEST(RequestChecks, AnOrdinaryRequestPasses) {
  EXPECT_FALSE(checkRawRequest("GET /get HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl\r\n\r\n"));
  EXPECT_FALSE(checkRawRequest("POST /post HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello"));
  EXPECT_FALSE(checkRawRequest("POST /post HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
}

TEST(RequestChecks, ContentLengthWithTransferEncodingIsRefused) {
  auto rejected = checkRawRequest(
      "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 400u);
  auto reversed = checkRawRequest(
      "POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n");
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->status, 400u);
}

TEST(RequestChecks, HeaderBlockOver60KiBIs431) {
  std::string big = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + std::string(61 * 1024, 'a') + "\r\n\r\n";
  auto rejected = checkRawRequest(big);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 431u);
  std::string fits = "GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + std::string(50 * 1024, 'a') + "\r\n\r\n";
  EXPECT_FALSE(checkRawRequest(fits));
}

TEST(RequestChecks, MoreThan100HeadersIs431) {
  std::string many = "GET / HTTP/1.1\r\nHost: example.com\r\n";
  for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  auto rejected = checkRawRequest(many + "\r\n");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 431u);
  std::string hundred = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) hundred += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_FALSE(checkRawRequest(hundred + "\r\n"));
}

TEST(RequestChecks, GarbageIs400) {
  auto rejected = checkRawRequest("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 400u);
  auto badLength = checkRawRequest("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
  ASSERT_TRUE(badLength);
  EXPECT_EQ(badLength->status, 400u);
}

}  // namespace
}  // namespace weft::proxy
