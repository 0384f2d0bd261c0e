// TLS from the gateway to upstream endpoints (DestinationRule tls), against real TLS
// servers on loopback: an HTTP/1.1 server on OpenSSL (Asio) that records the SNI, the ALPN
// offered and the client certificate it saw, and a gRPC C++ server with TLS (which insists
// on ALPN h2). Certificates come from the openssl command line, as people make them.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "base/file_io.h"
#include "proxy/gateway_server.h"
#include "proxy/h2_upstream.h"
#include "proxy/grpc_test_support.h"
#include "proxy/polling_test_support.h"
#include "tls/x509_info.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kCluster = "outbound|443||backend.example.com";

// A root CA, a server certificate for backend.example.com (and a SPIFFE URI) and a client
// certificate signed by it; a second root that signed nothing the server presents.
class Pki {
 public:
  Pki() : dir_(fs::temp_directory_path() / fmt::format("weft-upstream-tls-{}", ::getpid())) {
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=test-root -keyout ca.key -out ca.crt");
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=other-root -keyout other.key -out other.crt");
    leaf("server", "/CN=backend.example.com", "subjectAltName=DNS:backend.example.com,URI:spiffe://example.com/backend");
    leaf("client", "/CN=gateway-client", "subjectAltName=URI:spiffe://cluster.local/ns/istio-system/sa/gateway");
  }
  ~Pki() { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pem(const std::string& name) const { return readFile(dir_ / name).value(); }

 private:
  void run(const std::string& command) const {
    std::string line = fmt::format("cd {} && {} >/dev/null 2>&1", dir_.string(), command);
    ASSERT_EQ(std::system(line.c_str()), 0) << line;
  }
  void leaf(const std::string& name, const std::string& subject, const std::string& sans) const {
    run(fmt::format("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj {} -keyout {}.key -out {}.csr", subject, name, name));
    run(fmt::format("printf '{}' > {}.ext && openssl x509 -req -in {}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile {}.ext -out {}.crt",
                    sans, name, name, name, name));
  }
  fs::path dir_;
};

// What an HTTP/1.1 TLS server saw of one connection.
struct Seen {
  std::string sni;
  std::string alpnOffered;  // "h2,http/1.1"
  std::string clientSubject;
};

class TlsBackend {
 public:
  TlsBackend(const Pki& pki, bool requireClientCertificate) : context_(asio::ssl::context::tls_server) {
    context_.use_certificate_chain_file(pki.path("server.crt"));
    context_.use_private_key_file(pki.path("server.key"), asio::ssl::context::pem);
    if (requireClientCertificate) {
      context_.load_verify_file(pki.path("ca.crt"));
      context_.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
    SSL_CTX_set_alpn_select_cb(context_.native_handle(), &TlsBackend::selectAlpn, this);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsBackend() {
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in, unsigned inLength, void* self) {
    std::string offered;
    for (unsigned i = 0; i < inLength; i += 1 + in[i]) offered += (offered.empty() ? "" : ",") + std::string(reinterpret_cast<const char*>(in + i + 1), in[i]);
    static_cast<TlsBackend*>(self)->lastOffered_ = offered;
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outLength, kHttp11, sizeof kHttp11, in, inLength) != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> acceptLoop() {
    while (true) {
      auto [error, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (error) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), context_);
    lastOffered_.clear();
    auto [handshakeError] = co_await stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
    if (handshakeError) co_return;
    Seen seen;
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    seen.sni = sni == nullptr ? "" : sni;
    seen.alpnOffered = lastOffered_;
    if (X509* client = SSL_get0_peer_certificate(stream.native_handle())) seen.clientSubject = tls::distinguishedName(X509_get_subject_name(client));
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(seen);
    }
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      auto [readError, read] = co_await http::async_read(stream, buffer, request, kUseTuple);
      if (readError) co_return;
      {
        std::lock_guard lock(mutex_);
        ++requests_;
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.body() = fmt::format("tls ok for {}", request.target());
      response.keep_alive(true);
      response.prepare_payload();
      auto [writeError, written] = co_await http::async_write(stream, response, kUseTuple);
      if (writeError) co_return;
    }
  }

  asio::io_context io_;
  asio::ssl::context context_;
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
  std::string lastOffered_;  // the io thread's; the ALPN callback runs inside its handshake
  std::mutex mutex_;
  std::vector<Seen> seen_;
  int requests_ = 0;
};

class UpstreamTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { gatewayPort_ = testing::freePort(); }

  template <class F>
  auto onIo(F f) {
    return testing::runOnIo(io_, std::move(f));
  }


  void TearDown() override {
    if (thread_.joinable()) {
      onIo([this] {
        server_.stop();
        return 0;
      });
      io_.stop();
      thread_.join();
    }
  }

  // backend.example.com and every other host routed to one endpoint with `tls`.
  Result<std::shared_ptr<const ProxyConfig>> configFor(uint16_t backendPort, const weft::v1::UpstreamTls& tls,
                                                       weft::v1::ConnectionPool::UpstreamProtocol protocol = weft::v1::ConnectionPool::HTTP1,
                                                       const CredentialLoader& credentials = nullptr) {
    xds::HeldResources held;
    auto* cluster = testing::addCatchAllRoute(held, gatewayPort_, kCluster, "backend.example.com", fmt::format("127.0.0.1:{}", backendPort)).cluster;
    cluster->mutable_connection_pool()->set_upstream_protocol(protocol);
    *cluster->mutable_tls() = tls;
    return ProxyConfig::build(held, {{"istio", "ingressgateway"}}, credentials, "istio-system");
  }

  void start(const std::shared_ptr<const ProxyConfig>& config) {
    server_.setConfig(config);
    ASSERT_TRUE(server_.applyListeners(*config));
    thread_ = std::thread([this] { io_.run(); });
  }
  void start(uint16_t backendPort, const weft::v1::UpstreamTls& tls) {
    auto config = configFor(backendPort, tls);
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE((*config)->skipped().empty()) << (*config)->skipped().front();
    start(*config);
  }

  http::response<http::string_body> get(const std::string& host, const std::string& target = "/") {
    asio::io_context client;
    tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  }

  weft::v1::UpstreamTls simple(const std::string& caFile) {
    weft::v1::UpstreamTls tls;
    tls.set_mode(weft::v1::UpstreamTls::SIMPLE);
    tls.set_ca_certificates(pki_.path(caFile));
    return tls;
  }

  // Made once per process, on first use (not when tests are only listed).
  static Pki& sharedPki() {
    static Pki pki;
    return pki;
  }
  Pki& pki_ = sharedPki();
  uint16_t gatewayPort_ = 0;
  asio::io_context io_;
  RequestMetrics metrics_{SourceWorkload{"gw", "istio-system", "gw"}};
  GatewayServer server_{io_, metrics_, ServerOptions{}};
  std::thread thread_;
};

TEST_F(UpstreamTlsTest, SimpleVerifiesTheServerSendsTheHostAsSniAndOffersHttp11) {
  TlsBackend backend(pki_, false);
  start(backend.port(), simple("ca.crt"));
  auto first = get("backend.example.com", "/one");
  ASSERT_EQ(first.result_int(), 200u) << first.body();
  EXPECT_EQ(first.body(), "tls ok for /one");
  auto second = get("backend.example.com:8443", "/two");
  EXPECT_EQ(second.result_int(), 200u) << second.body();
  auto seen = backend.seen();
  ASSERT_EQ(seen.size(), 1u) << "the second request reused the pooled TLS connection";
  EXPECT_EQ(seen[0].sni, "backend.example.com") << "Envoy's auto SNI: the request's host";
  EXPECT_EQ(seen[0].alpnOffered, "http/1.1");
  EXPECT_EQ(seen[0].clientSubject, "") << "SIMPLE presents no certificate";
  EXPECT_EQ(onIo([this] { return server_.upstreamTlsFailures(); }), 0u);
}

TEST_F(UpstreamTlsTest, AServerTheCaDidNotSignIsRefusedWithTheReason) {
  TlsBackend backend(pki_, false);
  start(backend.port(), simple("other.crt"));
  auto answer = get("backend.example.com");
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_NE(answer.body().find("transport failure reason: TLS error: certificate verify failed"), std::string::npos) << answer.body();
  EXPECT_EQ(backend.requests(), 0) << "nothing was sent to an unverified server";
  EXPECT_EQ(onIo([this] { return server_.upstreamTlsFailures(); }), 1u);
}

TEST_F(UpstreamTlsTest, TheSniNameIsCheckedAgainstTheCertificate) {
  TlsBackend backend(pki_, false);
  start(backend.port(), simple("ca.crt"));
  auto answer = get("elsewhere.example.com");
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_NE(answer.body().find("certificate verify failed"), std::string::npos) << answer.body();
  EXPECT_EQ(backend.requests(), 0);
}

TEST_F(UpstreamTlsTest, SubjectAltNamesReplaceTheNameCheck) {
  TlsBackend backend(pki_, false);
  auto tls = simple("ca.crt");
  tls.set_sni("backend.example.com");
  tls.add_subject_alt_names("spiffe://example.com/backend");
  start(backend.port(), tls);
  auto answer = get("anything.example.com");
  EXPECT_EQ(answer.result_int(), 200u) << answer.body();
  ASSERT_EQ(backend.seen().size(), 1u);
  EXPECT_EQ(backend.seen()[0].sni, "backend.example.com") << "the rule's sni wins over the host";
}

TEST_F(UpstreamTlsTest, ASubjectAltNameTheServerLacksIsRefused) {
  TlsBackend backend(pki_, false);
  auto tls = simple("ca.crt");
  tls.add_subject_alt_names("spiffe://example.com/someone-else");
  start(backend.port(), tls);
  auto answer = get("backend.example.com");
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_NE(answer.body().find("none of the subjectAltNames"), std::string::npos) << answer.body();
  EXPECT_EQ(backend.requests(), 0);
}

TEST_F(UpstreamTlsTest, InsecureSkipVerifyTrustsAnyServer) {
  TlsBackend backend(pki_, false);
  auto tls = simple("other.crt");
  tls.set_ca_certificates("");
  tls.set_insecure_skip_verify(true);
  start(backend.port(), tls);
  EXPECT_EQ(get("elsewhere.example.com").result_int(), 200u);
}

TEST_F(UpstreamTlsTest, MutualPresentsTheClientCertificateFromFiles) {
  TlsBackend backend(pki_, true);
  auto tls = simple("ca.crt");
  tls.set_mode(weft::v1::UpstreamTls::MUTUAL);
  tls.set_client_certificate(pki_.path("client.crt"));
  tls.set_private_key(pki_.path("client.key"));
  start(backend.port(), tls);
  auto answer = get("backend.example.com");
  ASSERT_EQ(answer.result_int(), 200u) << answer.body();
  ASSERT_EQ(backend.seen().size(), 1u);
  EXPECT_EQ(backend.seen()[0].clientSubject, "CN=gateway-client");
}

TEST_F(UpstreamTlsTest, MutualFromACredentialNameSecret) {
  TlsBackend backend(pki_, true);
  weft::v1::UpstreamTls tls;
  tls.set_mode(weft::v1::UpstreamTls::MUTUAL);
  tls.set_credential_name("client-credential");
  std::string askedNamespace;
  CredentialLoader secrets = [&](const std::string& ns, const std::string& name) -> Result<ServerCredential> {
    askedNamespace = ns;
    if (name != "client-credential") return makeError("Secret {}/{} does not exist", ns, name);
    return ServerCredential{pki_.pem("client.crt"), pki_.pem("client.key"), pki_.pem("ca.crt")};
  };
  auto config = configFor(backend.port(), tls, weft::v1::ConnectionPool::HTTP1, secrets);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(askedNamespace, "istio-system") << "the Secret is read from the proxy's own namespace";
  start(*config);
  auto answer = get("backend.example.com");
  ASSERT_EQ(answer.result_int(), 200u) << answer.body();
  EXPECT_EQ(backend.seen().at(0).clientSubject, "CN=gateway-client");
}

TEST_F(UpstreamTlsTest, ARuleWhoseCertificatesCannotBeLoadedFailsAndNeverSendsPlaintext) {
  TlsBackend backend(pki_, false);
  weft::v1::UpstreamTls tls;
  tls.set_mode(weft::v1::UpstreamTls::MUTUAL);
  tls.set_credential_name("missing");
  CredentialLoader none = [](const std::string& ns, const std::string& name) -> Result<ServerCredential> {
    return makeError("Secret {}/{} does not exist", ns, name);
  };
  auto config = configFor(backend.port(), tls, weft::v1::ConnectionPool::HTTP1, none);
  ASSERT_TRUE(config) << "a missing Secret is not a reason to refuse the whole config";
  ASSERT_EQ((*config)->skipped().size(), 1u);
  EXPECT_NE((*config)->skipped()[0].find("Secret istio-system/missing does not exist"), std::string::npos) << (*config)->skipped()[0];
  start(*config);
  auto answer = get("backend.example.com");
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_NE(answer.body().find("does not exist"), std::string::npos) << answer.body();
  EXPECT_TRUE(backend.seen().empty()) << "no connection at all was made";
}

TEST(UpstreamTlsRule, BadFilesAreNamedInTheError) {
  weft::v1::UpstreamTls tls;
  tls.set_mode(weft::v1::UpstreamTls::SIMPLE);
  tls.set_ca_certificates("/nonexistent/ca.pem");
  auto material = loadUpstreamTlsMaterial(tls, nullptr, "istio-system");
  ASSERT_FALSE(material);
  EXPECT_NE(material.error().message.find("tls.caCertificates /nonexistent/ca.pem"), std::string::npos) << material.error().message;
  UpstreamTlsMaterial garbage{"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "", "", ""};
  EXPECT_FALSE(UpstreamTls::make(tls, garbage));
  tls.set_mode(weft::v1::UpstreamTls::MUTUAL);
  tls.set_ca_certificates("");
  auto noClient = loadUpstreamTlsMaterial(tls, nullptr, "istio-system");
  ASSERT_FALSE(noClient);
  EXPECT_NE(noClient.error().message.find("MUTUAL needs a client certificate"), std::string::npos);
}

TEST(UpstreamTlsRule, AutoSniIsTheHostWithoutPortAndNeverAnAddress) {
  weft::v1::UpstreamTls spec;
  spec.set_mode(weft::v1::UpstreamTls::SIMPLE);
  spec.set_insecure_skip_verify(true);
  auto tls = UpstreamTls::make(spec, {});
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_EQ((*tls)->sniFor("API.Example.com:443"), "api.example.com");
  EXPECT_EQ((*tls)->sniFor("10.0.0.1:443"), "");
  EXPECT_EQ((*tls)->sniFor("[::1]:443"), "");
  spec.set_sni("fixed.example.com");
  auto fixed = UpstreamTls::make(spec, {});
  EXPECT_EQ((*fixed)->sniFor("other.example.com"), "fixed.example.com");
  EXPECT_NE((*tls)->poolKey("1.2.3.4:443", "a", false), (*fixed)->poolKey("1.2.3.4:443", "a", false)) << "different rules never share connections";
  EXPECT_NE((*tls)->poolKey("1.2.3.4:443", "a", false), (*tls)->poolKey("1.2.3.4:443", "b", false));
}

TEST_F(UpstreamTlsTest, IstioMutualPresentsTheWorkloadCertificate) {
  TlsBackend backend(pki_, true);
  weft::v1::UpstreamTls tls;
  tls.set_mode(weft::v1::UpstreamTls::ISTIO_MUTUAL);
  tls.add_subject_alt_names("spiffe://example.com/backend");
  start(backend.port(), tls);
  auto before = get("backend.example.com");
  EXPECT_EQ(before.result_int(), 503u) << "no workload certificate yet: no connection";
  EXPECT_NE(before.body().find("no workload certificate yet"), std::string::npos) << before.body();
  hbone::TlsCredentials workload{pki_.pem("client.crt"), pki_.pem("client.key"), pki_.pem("ca.crt")};
  ASSERT_TRUE(onIo([&] { return server_.setTunnelCredentials(workload, "spiffe://cluster.local/ns/istio-system/sa/gateway").ok(); }));
  auto after = get("backend.example.com");
  ASSERT_EQ(after.result_int(), 200u) << after.body();
  EXPECT_EQ(backend.seen().at(0).clientSubject, "CN=gateway-client");

  // A new snapshot with the same rule keeps working; one whose rule names another SAN is
  // noticed (the rule is remade, and the backend's certificate no longer passes).
  auto same = configFor(backend.port(), tls);
  ASSERT_TRUE(same);
  ASSERT_TRUE(onIo([&] { server_.setConfig(*same); return true; }));
  EXPECT_EQ(get("backend.example.com").result_int(), 200u);
  tls.set_subject_alt_names(0, "spiffe://example.com/someone-else");
  auto changed = configFor(backend.port(), tls);
  ASSERT_TRUE(changed);
  ASSERT_TRUE(onIo([&] { server_.setConfig(*changed); return true; }));
  EXPECT_EQ(get("backend.example.com").result_int(), 503u) << "the changed rule must apply";
}

// HTTP/2 over TLS: gRPC's server speaks only h2 and refuses a handshake without ALPN h2.
class GrpcTlsBackend {
 public:
  GrpcTlsBackend(const Pki& pki, bool requireClientCertificate) {
    grpc::SslServerCredentialsOptions options(requireClientCertificate ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                                       : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    options.pem_root_certs = pki.pem("ca.crt");
    options.pem_key_cert_pairs.push_back({pki.pem("server.key"), pki.pem("server.crt")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~GrpcTlsBackend() {
    if (server) server->Shutdown();
  }
  testing::StandIn service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

TEST_F(UpstreamTlsTest, Http2GoesOverTlsWithAlpnH2) {
  GrpcTlsBackend backend(pki_, true);
  ASSERT_NE(backend.server, nullptr);
  auto tls = simple("ca.crt");
  tls.set_mode(weft::v1::UpstreamTls::MUTUAL);
  tls.set_client_certificate(pki_.path("client.crt"));
  tls.set_private_key(pki_.path("client.key"));
  auto config = configFor(static_cast<uint16_t>(backend.port), tls, weft::v1::ConnectionPool::HTTP2);
  ASSERT_TRUE(config) << config.error().message;
  start(*config);
  auto answer = testing::callThroughGateway(gatewayPort_, "tls", "backend.example.com");
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_code() << " " << answer.status.error_message();
  EXPECT_EQ(answer.response.cert_chain(0), "hello tls");
  auto again = testing::callThroughGateway(gatewayPort_, "again", "backend.example.com");
  EXPECT_TRUE(again.status.ok());
  EXPECT_EQ(backend.service.calls, 2);
}

TEST_F(UpstreamTlsTest, Http2ToAnUnverifiedServerFailsAsUnavailable) {
  GrpcTlsBackend backend(pki_, false);
  ASSERT_NE(backend.server, nullptr);
  auto config = configFor(static_cast<uint16_t>(backend.port), simple("other.crt"), weft::v1::ConnectionPool::HTTP2);
  ASSERT_TRUE(config) << config.error().message;
  start(*config);
  auto answer = testing::callThroughGateway(gatewayPort_, "tls", "backend.example.com");
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(answer.status.error_message().find("certificate verify failed"), std::string::npos) << answer.status.error_message();
  EXPECT_EQ(backend.service.calls, 0);
  EXPECT_EQ(onIo([this] { return server_.upstreamTlsFailures(); }), 1u);
}

// Passes bytes between its clients and 127.0.0.1:`port`, but holds each new connection for
// `delay` first: an upstream whose TLS handshake takes that long.
class SlowRelay {
 public:
  SlowRelay(uint16_t port, std::chrono::milliseconds delay) : port_(port), delay_(delay) {
    listener_ = testing::loopbackListener(listenPort_);
    acceptor_ = std::thread([this] {
      while (true) {
        int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) return;
        relays_.emplace_back([this, client] { relay(client); });
      }
    });
  }
  ~SlowRelay() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : relays_) t.join();
    ::close(listener_);
  }
  uint16_t port() const { return listenPort_; }

 private:
  void relay(int client) {
    std::this_thread::sleep_for(delay_);
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
      char chunk[16384];
      pollfd both[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      while (!stopping_) {
        if (::poll(both, 2, 100) < 0) break;
        bool ended = false;
        for (int i = 0; i < 2 && !ended; ++i) {
          if (both[i].revents == 0) continue;
          ssize_t got = ::recv(both[i].fd, chunk, sizeof chunk, 0);
          ended = got <= 0 || ::send(both[1 - i].fd, chunk, static_cast<size_t>(got), MSG_NOSIGNAL) != got;
        }
        if (ended) break;
      }
    }
    ::close(server);
    ::close(client);
  }

  uint16_t port_;
  std::chrono::milliseconds delay_;
  int listener_ = -1;
  uint16_t listenPort_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> relays_;
};

TEST_F(UpstreamTlsTest, AnHttp2ExchangeWithAShortDeadlineDoesNotFailThoseWaitingOnItsConnection) {
  GrpcTlsBackend backend(pki_, false);
  ASSERT_NE(backend.server, nullptr);
  SlowRelay slow(static_cast<uint16_t>(backend.port), std::chrono::milliseconds(400));
  auto config = configFor(slow.port(), simple("ca.crt"), weft::v1::ConnectionPool::HTTP2);
  ASSERT_TRUE(config) << config.error().message;
  const ClusterTls* tls = (*config)->clusterTls(kCluster);
  ASSERT_TRUE(tls != nullptr && tls->tls != nullptr);
  H2UpstreamPool pool(io_, H2UpstreamOptions{});
  H2Destination destination{fmt::format("127.0.0.1:{}", slow.port()), "", nullptr, tls->tls.get(), "backend.example.com"};
  H2UpstreamPool::Request request{http::verb::post, "/weft.test.Nothing/Call", 11};
  request.set(http::field::host, "backend.example.com");
  request.set(http::field::content_type, "application/grpc");
  // The first opens the connection with 100 ms to live; the second joins it at once with
  // no deadline. The handshake takes 400 ms: the first times out, the second is answered.
  std::promise<H2Exchange::Status> first, second;
  asio::post(io_, [&] {
    asio::co_spawn(io_, pool.exchange(destination, request, std::chrono::steady_clock::now() + std::chrono::milliseconds(100), {}),
                   [&](std::exception_ptr, H2Exchange answered) { first.set_value(answered.status); });
    asio::co_spawn(io_, pool.exchange(destination, request, std::nullopt, {}),
                   [&](std::exception_ptr, H2Exchange answered) { second.set_value(answered.status); });
  });
  auto busy = asio::make_work_guard(io_);
  thread_ = std::thread([this] { io_.run(); });
  auto firstDone = first.get_future();
  auto secondDone = second.get_future();
  ASSERT_EQ(secondDone.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  EXPECT_EQ(firstDone.get(), H2Exchange::Status::kTimeout);
  EXPECT_EQ(secondDone.get(), H2Exchange::Status::kOk) << "the connection was not closed under it when the first gave up";
  EXPECT_EQ(onIo([&] { return pool.connectionCount(destination.poolKey()); }), 1u);
  onIo([&] {
    pool.clear();
    return 0;
  });
  io_.stop();
  thread_.join();
}

}  // namespace
}  // namespace weft::proxy
