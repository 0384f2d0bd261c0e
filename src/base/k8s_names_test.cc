#include "base/k8s_names.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Dns1123Label, AcceptsAndRefuses) {
  for (std::string good : {std::string("default"), std::string("istio-system"), std::string("a"), std::string(63, 'x')}) {
    EXPECT_FALSE(checkDns1123Label(good)) << good;
  }
  EXPECT_EQ(*checkDns1123Label(""), "must not be empty");
  EXPECT_EQ(*checkDns1123Label("-a"), "\"-a\" must start and end with an alphanumeric character");
  EXPECT_EQ(*checkDns1123Label("a.b"), "\"a.b\" must consist of lower case alphanumeric characters or '-'");
  EXPECT_EQ(*checkDns1123Label("Abc"), "\"Abc\" must consist of lower case alphanumeric characters or '-'");
  EXPECT_TRUE(checkDns1123Label(std::string(64, 'x')));
}

TEST(Dns1123Subdomain, AcceptsAndRefuses) {
  EXPECT_FALSE(checkDns1123Subdomain("ztunnel.node-1"));
  EXPECT_FALSE(checkDns1123Subdomain("httpbin"));
  EXPECT_EQ(*checkDns1123Subdomain("a..b"), "\"a..b\" has an empty label");
  EXPECT_TRUE(checkDns1123Subdomain("a.-b"));
  EXPECT_TRUE(checkDns1123Subdomain(std::string(254, 'a')));
}

}  // namespace
}  // namespace weft
