// Contract tests of the certificate service over real gRPC and mutual TLS on loopback:
// who may obtain which identity, and what is refused.

#include "control/certificate_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "ca/csr.h"
#include "ca/key_spec.h"
#include "control/node_credential.h"
#include "control/serving_credential.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::control {
namespace {

constexpr const char* kTrustDomain = "acmellc.local";

class CertificateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = ca::makeSelfSignedCa(kTrustDomain, systemClock());
    ASSERT_TRUE(ca) << ca.error().message;
    ca_ = std::make_shared<ca::CaBundle>(std::move(*ca));
    pods_ = {{"default", "httpbin", "c-worker"}, {"default", "curl", "c-control-plane"}};
    service_ = std::make_unique<CertificateService>(ca_, kTrustDomain, [this] { return pods_; }, systemClock());
    auto serving = issueServingCredential(*ca_, controlPlaneDnsNames("prod"), systemClock());
    ASSERT_TRUE(serving) << serving.error().message;
    grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = ca_->rootPem();
    options.pem_key_cert_pairs.push_back({serving->keyPem, serving->certChainPem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // A client presenting `certPem`/`keyPem` (none when empty), dialing istiod-prod.
  std::unique_ptr<weft::v1::CertificateService::Stub> client(const std::string& certPem, const std::string& keyPem) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca_->rootPem();
    options.pem_cert_chain = certPem;
    options.pem_private_key = keyPem;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("istiod-prod.istio-system.svc");
    auto channel = grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", port_), grpc::SslCredentials(options), args);
    return weft::v1::CertificateService::NewStub(channel);
  }

  std::string csrFor(const std::string& ns, const std::string& sa) {
    auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
    auto id = tls::SpiffeId::make(kTrustDomain, ns, sa);
    auto csr = ca::makeCsr(key->get(), *id);
    return tls::toPem(csr->get());
  }

  grpc::Status ask(weft::v1::CertificateService::Stub& stub, const std::string& ns, const std::string& sa, std::string csr,
                   weft::v1::CertificateResponse* response) {
    weft::v1::CertificateRequest request;
    request.set_csr(std::move(csr));
    request.set_namespace_(ns);
    request.set_service_account(sa);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub.CreateCertificate(&context, request, response);
  }

  std::shared_ptr<ca::CaBundle> ca_;
  std::vector<PodPlacement> pods_;
  std::unique_ptr<CertificateService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CertificateServiceTest, NodeGetsCertificatesForPodsOnItsNode) {
  auto node = issueNodeCredential(*ca_, "c-worker", systemClock());
  ASSERT_TRUE(node) << node.error().message;
  auto stub = client(node->certChainPem, node->keyPem);
  weft::v1::CertificateResponse response;
  auto status = ask(*stub, "default", "httpbin", csrFor("default", "httpbin"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(response.cert_chain_size(), 2);
  auto leaf = tls::parseCertificates(response.cert_chain(0));
  ASSERT_TRUE(leaf);
  EXPECT_EQ(tls::uriSans((*leaf)[0].get()), std::vector<std::string>{"spiffe://acmellc.local/ns/default/sa/httpbin"});
  auto root = tls::parseCertificates(response.cert_chain(response.cert_chain_size() - 1));
  EXPECT_TRUE(tls::isSelfSigned((*root)[0].get()));
  EXPECT_EQ(service_->issued(), 1u);
}

TEST_F(CertificateServiceTest, NodeIsRefusedIdentitiesOfOtherNodes) {
  auto node = issueNodeCredential(*ca_, "c-worker", systemClock());
  auto stub = client(node->certChainPem, node->keyPem);
  weft::v1::CertificateResponse response;
  auto status = ask(*stub, "default", "curl", csrFor("default", "curl"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(status.error_message(), "node c-worker runs no pod with service account default/curl");
  EXPECT_EQ(service_->refused(), 1u);
  EXPECT_EQ(service_->issued(), 0u);
}

TEST_F(CertificateServiceTest, CsrMustAgreeWithTheRequestedIdentity) {
  auto node = issueNodeCredential(*ca_, "c-worker", systemClock());
  auto stub = client(node->certChainPem, node->keyPem);
  weft::v1::CertificateResponse response;
  auto status = ask(*stub, "default", "httpbin", csrFor("default", "curl"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = ask(*stub, "default", "httpbin", "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n",
               &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(service_->refused(), 2u);
}

TEST_F(CertificateServiceTest, WorkloadRenewsOnlyItsOwnIdentity) {
  // The workload's credential is one the service issued to it through its node.
  auto node = issueNodeCredential(*ca_, "c-worker", systemClock());
  auto key = ca::generateKey(ca::KeySpec::ecdsaP256());
  auto id = tls::SpiffeId::make(kTrustDomain, "default", "httpbin");
  std::string csr = tls::toPem(ca::makeCsr(key->get(), *id)->get());
  weft::v1::CertificateResponse first;
  ASSERT_TRUE(ask(*client(node->certChainPem, node->keyPem), "default", "httpbin", csr, &first).ok());
  std::string chain;
  for (const auto& pem : first.cert_chain()) chain += pem;
  auto workload = client(chain, tls::privateKeyToPem(key->get()));
  weft::v1::CertificateResponse renewed;
  EXPECT_TRUE(ask(*workload, "", "", csrFor("default", "httpbin"), &renewed).ok()) << "its own identity, implied";
  auto other = ask(*workload, "default", "curl", csrFor("default", "curl"), &renewed);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(other.error_message(), "spiffe://acmellc.local/ns/default/sa/httpbin may only renew its own identity, not "
                                   "spiffe://acmellc.local/ns/default/sa/curl");
}

TEST_F(CertificateServiceTest, AnonymousCallersGetNothing) {
  auto stub = client("", "");
  weft::v1::CertificateResponse response;
  auto status = ask(*stub, "default", "httpbin", csrFor("default", "httpbin"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "no client certificate");
  EXPECT_EQ(service_->refused(), 1u);
}

TEST_F(CertificateServiceTest, CertificatesFromAnotherCaAreNotAccepted) {
  auto other = ca::makeSelfSignedCa("evil.local", systemClock());
  auto forged = issueNodeCredential(*other, "c-worker", systemClock());
  auto stub = client(forged->certChainPem, forged->keyPem);
  weft::v1::CertificateResponse response;
  auto status = ask(*stub, "default", "httpbin", csrFor("default", "httpbin"), &response);
  EXPECT_FALSE(status.ok()) << "the handshake refuses a chain to another root";
  EXPECT_EQ(service_->issued(), 0u);
}

}  // namespace
}  // namespace weft::control
