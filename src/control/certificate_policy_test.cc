#include "control/certificate_policy.h"

#include <gtest/gtest.h>

#include "ca/ca_bundle.h"
#include "control/caller.h"
#include "control/node_credential.h"
#include "tls/pem.h"

namespace weft::control {
namespace {

tls::SpiffeId id(const std::string& ns, const std::string& sa) { return *tls::SpiffeId::make("td.local", ns, sa); }

TEST(CertificatePolicy, NodesGetOnlyTheirPodsIdentities) {
  std::vector<PodPlacement> pods{{"default", "httpbin", "n1"}, {"shop", "cart", "n2"}};
  Caller n1{Caller::Kind::kNode, "n1", {}};
  EXPECT_TRUE(authorizeCertificate(n1, id("default", "httpbin"), pods));
  auto refused = authorizeCertificate(n1, id("shop", "cart"), pods);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "node n1 runs no pod with service account shop/cart");
  EXPECT_FALSE(authorizeCertificate(n1, id("shop", "httpbin"), pods)) << "namespace and account must both match";
}

TEST(CertificatePolicy, WorkloadsOnlyRenewThemselves) {
  Caller w{Caller::Kind::kWorkload, "", id("default", "httpbin")};
  EXPECT_TRUE(authorizeCertificate(w, id("default", "httpbin"), {}));
  EXPECT_FALSE(authorizeCertificate(w, id("default", "curl"), {{"default", "curl", "n1"}}));
}

TEST(Caller, ReadsNodeAndWorkloadCertificates) {
  auto ca = ca::makeSelfSignedCa("td.local", systemClock());
  ASSERT_TRUE(ca);
  auto node = issueNodeCredential(*ca, "istio-cluster-worker", systemClock());
  ASSERT_TRUE(node) << node.error().message;
  auto certs = tls::parseCertificates(node->certChainPem);
  auto caller = callerFromCertificate((*certs)[0].get(), "td.local");
  ASSERT_TRUE(caller) << caller.error().message;
  EXPECT_EQ(caller->kind, Caller::Kind::kNode);
  EXPECT_EQ(caller->node, "istio-cluster-worker");
  EXPECT_EQ(caller->describe(), "node istio-cluster-worker");
  // The root itself has no URI SAN: not a caller.
  EXPECT_FALSE(callerFromCertificate(ca->root(), "td.local"));
  EXPECT_FALSE(callerFromCertificate(nullptr, "td.local"));
  EXPECT_FALSE(issueNodeCredential(*ca, "Not A Node", systemClock()));
}

}  // namespace
}  // namespace weft::control
