// ISTIO_MUTUAL at a Gateway server: the proxy's own workload certificate and the mesh's
// roots, no Secret. Handshakes run in memory (a BIO pair) between the listener the config
// built and OpenSSL clients holding certificates of this mesh or of another.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hbone/test_support.h"
#include "proxy/config_publisher.h"
#include "proxy/own_credential.h"
#include "proxy/proxy_config.h"
#include "tls/openssl_error.h"
#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::proxy {
namespace {

using hbone::testing::TestMesh;

const std::string kGatewayId = "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway";
const std::string kClientId = "spiffe://cluster.local/ns/default/sa/sleep";

xds::HeldResources istioMutualListener(std::vector<std::string> subjectAltNames = {}) {
  xds::HeldResources held;
  auto& r = held[kListenerType]["gw/443"];
  r.set_name("gw/443");
  auto* listener = r.mutable_listener();
  listener->set_name("gw/443");
  listener->set_port(443);
  listener->set_protocol(weft::v1::Listener::HTTPS);
  listener->set_route_config_name("gw/443/routes");
  (*listener->mutable_selector())["istio"] = "ingressgateway";
  auto* server = listener->add_tls_servers();
  server->set_mode(weft::v1::TlsServer::ISTIO_MUTUAL);
  server->add_hosts("*");
  for (auto& san : subjectAltNames) server->add_subject_alt_names(san);
  return held;
}

ServerCredential asServerCredential(const hbone::TlsCredentials& c) { return {c.certChainPem, c.keyPem, c.rootsPem}; }

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslDeleter>;

// A client that trusts `trusted` roots and presents `presented` (if any).
SslCtxPtr clientContext(const std::string& trustedRootsPem, const std::optional<hbone::TlsCredentials>& presented) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  auto roots = tls::parseCertificates(trustedRootsPem);
  EXPECT_TRUE(roots);
  for (const auto& root : *roots) X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), root.get());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (presented) {
    auto chain = tls::parseCertificates(presented->certChainPem);
    auto key = tls::parsePrivateKey(presented->keyPem);
    EXPECT_TRUE(chain && key);
    SSL_CTX_use_certificate(ctx.get(), chain->front().get());
    for (size_t i = 1; i < chain->size(); ++i) SSL_CTX_add1_chain_cert(ctx.get(), (*chain)[i].get());
    SSL_CTX_use_PrivateKey(ctx.get(), key->get());
  }
  return ctx;
}

struct Handshake {
  bool done = false;
  SslPtr server;  // for checkPeer and the certificates seen
  SslPtr client;
  std::string serverError;  // why the server ended it, when it did
};

// Both ends over a BIO pair until both finish or one fails.
Handshake handshake(TlsListener& listener, SSL_CTX* client) {
  Handshake h;
  h.server.reset(SSL_new(listener.initialContext().native_handle()));
  h.client.reset(SSL_new(client));
  BIO *serverSide = nullptr, *clientSide = nullptr;
  BIO_new_bio_pair(&serverSide, 0, &clientSide, 0);
  SSL_set_bio(h.server.get(), serverSide, serverSide);
  SSL_set_bio(h.client.get(), clientSide, clientSide);
  SSL_set_accept_state(h.server.get());
  SSL_set_connect_state(h.client.get());
  SSL_set_tlsext_host_name(h.client.get(), "gateway.example.com");
  bool serverDone = false, clientDone = false;
  for (int round = 0; round < 20 && !(serverDone && clientDone); ++round) {
    for (auto [ssl, done] : {std::pair{h.client.get(), &clientDone}, std::pair{h.server.get(), &serverDone}}) {
      if (*done) continue;
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
        continue;
      }
      int error = SSL_get_error(ssl, rc);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        std::string why = tls::drainOpensslErrors();
        if (ssl == h.server.get()) h.serverError = why;
        return h;
      }
    }
  }
  // TLS 1.3: the server's verdict on the client certificate reaches the client only with
  // its next read; the server's own handshake having finished is the verdict.
  h.done = serverDone && clientDone;
  return h;
}

class IstioMutualTest : public ::testing::Test {
 protected:
  TestMesh mesh_;
  TestMesh otherMesh_;
  OwnCredential own_;

  std::shared_ptr<TlsListener> listenerOf(const xds::HeldResources& held) {
    auto built = ProxyConfig::build(held, {{"istio", "ingressgateway"}}, nullptr, "istio-system", {}, own_.source());
    EXPECT_TRUE(built) << built.error().message;
    EXPECT_TRUE((*built)->skipped().empty()) << (*built)->skipped().front();
    auto port = (*built)->ports().find(443);
    return port == (*built)->ports().end() ? nullptr : port->second.tls;
  }
};

TEST_F(IstioMutualTest, WithoutItsOwnCertificateTheServerWaitsOnABoundPort) {
  auto built = ProxyConfig::build(istioMutualListener(), {{"istio", "ingressgateway"}}, nullptr, "istio-system", {}, own_.source());
  ASSERT_TRUE(built);
  // Bound now, so the rebuild the certificate brings has no port to bind; until then its
  // connections find no server (closed, NR).
  auto port = (*built)->ports().find(443);
  ASSERT_NE(port, (*built)->ports().end());
  EXPECT_EQ(port->second.tls, nullptr);
  EXPECT_TRUE(port->second.tcpRoutes.empty());
  ASSERT_FALSE((*built)->skipped().empty());
  EXPECT_NE((*built)->skipped().front().find("ISTIO_MUTUAL server: no workload certificate yet"), std::string::npos)
      << (*built)->skipped().front();
}

TEST_F(IstioMutualTest, AMissingSecretStillLeavesItsPortUnbound) {
  auto held = istioMutualListener();
  auto* server = held[kListenerType]["gw/443"].mutable_listener()->mutable_tls_servers(0);
  server->set_mode(weft::v1::TlsServer::SIMPLE);
  server->set_credential_name("missing");
  CredentialLoader none = [](const std::string&, const std::string& name) -> Result<ServerCredential> {
    return makeError("Secret {} does not exist", name);
  };
  auto built = ProxyConfig::build(held, {{"istio", "ingressgateway"}}, none, "istio-system", {}, own_.source());
  ASSERT_TRUE(built);
  EXPECT_FALSE((*built)->ports().contains(443)) << "discovery binds it when the Secret's push comes";
}

TEST_F(IstioMutualTest, TheGatewayPresentsItsWorkloadIdentityAndAcceptsAMeshClient) {
  auto gateway = mesh_.issue(kGatewayId);
  own_.set(asServerCredential(gateway));
  auto listener = listenerOf(istioMutualListener());
  ASSERT_NE(listener, nullptr);
  auto client = clientContext(gateway.rootsPem, mesh_.issue(kClientId));
  auto h = handshake(*listener, client.get());
  ASSERT_TRUE(h.done);
  EXPECT_EQ(SSL_get_verify_result(h.client.get()), X509_V_OK);  // the gateway chains to the mesh root
  auto shown = tls::uriSans(SSL_get0_peer_certificate(h.client.get()));
  EXPECT_EQ(shown, std::vector<std::string>{kGatewayId});
  EXPECT_TRUE(listener->checkPeer(h.server.get()));
  EXPECT_EQ(tls::uriSans(SSL_get0_peer_certificate(h.server.get())), std::vector<std::string>{kClientId});
}

TEST_F(IstioMutualTest, AClientWithoutACertificateOrFromAnotherMeshIsRefused) {
  auto gateway = mesh_.issue(kGatewayId);
  own_.set(asServerCredential(gateway));
  auto listener = listenerOf(istioMutualListener());
  ASSERT_NE(listener, nullptr);
  auto anonymous = clientContext(gateway.rootsPem, std::nullopt);
  auto withoutCertificate = handshake(*listener, anonymous.get());
  EXPECT_FALSE(withoutCertificate.done);
  EXPECT_NE(withoutCertificate.serverError.find("peer did not return a certificate"), std::string::npos) << withoutCertificate.serverError;
  auto foreign = clientContext(gateway.rootsPem, otherMesh_.issue(kClientId));
  auto fromElsewhere = handshake(*listener, foreign.get());
  EXPECT_FALSE(fromElsewhere.done);
  EXPECT_NE(fromElsewhere.serverError.find("certificate verify failed"), std::string::npos) << fromElsewhere.serverError;
}

TEST_F(IstioMutualTest, SubjectAltNamesNarrowWhichMeshIdentitiesMayConnect) {
  auto gateway = mesh_.issue(kGatewayId);
  own_.set(asServerCredential(gateway));
  auto listener = listenerOf(istioMutualListener({"spiffe://cluster.local/ns/default/sa/allowed"}));
  ASSERT_NE(listener, nullptr);
  auto client = clientContext(gateway.rootsPem, mesh_.issue(kClientId));
  auto h = handshake(*listener, client.get());
  ASSERT_TRUE(h.done);
  auto checked = listener->checkPeer(h.server.get());
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("subjectAltNames"), std::string::npos);
}

TEST_F(IstioMutualTest, ARenewedCertificateIsWhatTheNextBuildServes) {
  own_.set(asServerCredential(mesh_.issue(kGatewayId)));
  auto first = listenerOf(istioMutualListener());
  auto renewed = mesh_.issue(kGatewayId);
  own_.set(asServerCredential(renewed));
  auto second = listenerOf(istioMutualListener());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto client = clientContext(renewed.rootsPem, mesh_.issue(kClientId));
  auto h = handshake(*second, client.get());
  ASSERT_TRUE(h.done);
  auto served = tls::parseCertificates(renewed.certChainPem);
  ASSERT_TRUE(served);
  EXPECT_EQ(X509_cmp(SSL_get0_peer_certificate(h.client.get()), served->front().get()), 0);
}

TEST_F(IstioMutualTest, TheCertificateReachesTheServedSnapshotByARebuild) {
  // As the gateway wires it: the publisher builds with the proxy's own credential, and the
  // certificate manager's issue calls rebuild().
  std::mutex mutex;
  std::vector<std::shared_ptr<const ProxyConfig>> published;
  ConfigPublisher::Options options;
  options.podLabels = {{"istio", "ingressgateway"}};
  options.workload = own_.source();
  ConfigPublisher publisher(options, [&](std::shared_ptr<const ProxyConfig> config) {
    std::lock_guard lock(mutex);
    published.push_back(std::move(config));
  });
  auto tlsOfNewest = [&]() -> std::shared_ptr<TlsListener> {
    std::lock_guard lock(mutex);
    if (published.empty()) return nullptr;
    auto port = published.back()->ports().find(443);
    return port == published.back()->ports().end() ? nullptr : port->second.tls;
  };
  publisher.rebuild();
  EXPECT_TRUE(published.empty()) << "nothing accepted yet: nothing to build";
  publisher.accepted(istioMutualListener());
  ASSERT_EQ(published.size(), 1u);
  EXPECT_TRUE(published.back()->ports().contains(443)) << "bound while the certificate is missing";
  EXPECT_EQ(tlsOfNewest(), nullptr);
  auto gateway = mesh_.issue(kGatewayId);
  own_.set(asServerCredential(gateway));
  publisher.rebuild();
  auto tls = tlsOfNewest();
  ASSERT_NE(tls, nullptr) << "the rebuild serves the server with the certificate";
  auto client = clientContext(gateway.rootsPem, mesh_.issue(kClientId));
  EXPECT_TRUE(handshake(*tls, client.get()).done);
}

}  // namespace
}  // namespace weft::proxy
