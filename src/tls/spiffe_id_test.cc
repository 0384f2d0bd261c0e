#include "tls/spiffe_id.h"

#include <gtest/gtest.h>

namespace weft::tls {
namespace {

TEST(SpiffeId, ParsesIstioForm) {
  auto id = SpiffeId::parse("spiffe://acmellc.local/ns/default/sa/httpbin");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->trustDomain, "acmellc.local");
  EXPECT_EQ(id->ns, "default");
  EXPECT_EQ(id->serviceAccount, "httpbin");
  EXPECT_EQ(id->uri(), "spiffe://acmellc.local/ns/default/sa/httpbin");
  EXPECT_TRUE(SpiffeId::parse("spiffe://cluster.local/ns/istio-system/sa/ztunnel.node-1"));
}

TEST(SpiffeId, RefusesEverythingElse) {
  struct Case {
    const char* uri;
    const char* error;
  };
  for (const auto& c : std::vector<Case>{
           {"https://acmellc.local/ns/default/sa/httpbin", "\"https://acmellc.local/ns/default/sa/httpbin\" is not a spiffe:// URI"},
           {"spiffe://acmellc.local", "\"spiffe://acmellc.local\" has no path; expected /ns/<namespace>/sa/<account>"},
           {"spiffe://acmellc.local/sa/x/ns/y", "\"spiffe://acmellc.local/sa/x/ns/y\": path must start with /ns/"},
           {"spiffe://acmellc.local/ns/default", "\"spiffe://acmellc.local/ns/default\": path must be /ns/<namespace>/sa/<account>"},
           {"spiffe://acmellc.local/ns/default/sa/x/extra", "\"spiffe://acmellc.local/ns/default/sa/x/extra\": path has extra segments after the account"},
           {"spiffe://Acme.local/ns/default/sa/x", "\"spiffe://Acme.local/ns/default/sa/x\": trust domain \"Acme.local\" must be lower case"},
           {"spiffe:///ns/default/sa/x", "\"spiffe:///ns/default/sa/x\": trust domain must not be empty"},
           {"spiffe://td/ns/Default/sa/x", "\"spiffe://td/ns/Default/sa/x\": namespace \"Default\" must consist of lower case alphanumeric characters or '-'"},
           {"spiffe://td/ns/default/sa/", "\"spiffe://td/ns/default/sa/\": service account must not be empty"},
       }) {
    auto id = SpiffeId::parse(c.uri);
    ASSERT_FALSE(id) << c.uri;
    EXPECT_EQ(id.error().message, c.error);
  }
}

TEST(TrustDomain, DnsLikeNamesOnly) {
  for (const char* good : {"cluster.local", "acmellc.local", "a", "my_domain-1.example"}) EXPECT_TRUE(checkTrustDomain(good)) << good;
  EXPECT_EQ(checkTrustDomain("acme llc").error().message,
            "trust domain \"acme llc\" contains ' '; allowed are a-z, 0-9, '.', '-' and '_'");
  EXPECT_EQ(checkTrustDomain(".local").error().message, "trust domain \".local\" is not a DNS-like name (empty label)");
  EXPECT_FALSE(checkTrustDomain("a..b"));
  EXPECT_FALSE(checkTrustDomain("local."));
  EXPECT_FALSE(checkTrustDomain(std::string(256, 'a')));
  EXPECT_FALSE(checkTrustDomain("td/x"));
}

}  // namespace
}  // namespace weft::tls
