// Unary gRPC through the gateway, with real gRPC on both ends: a gRPC C++ client speaks h2c
// to weft-proxy's GatewayServer, which routes to a gRPC C++ server over its HTTP/2 upstream
// pool. The service is weftd's CertificateService (the one unary RPC the repository already
// compiles), implemented here as a stand-in that answers from what it is asked.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <atomic>
#include <future>
#include <string_view>
#include <thread>

#include <sys/socket.h>
#include <sys/time.h>

#include "proxy/gateway_server.h"
#include "proxy/grpc_test_support.h"
#include "proxy/grpc_status.h"
#include "proxy/polling_test_support.h"
#include "weft/v1/ca.grpc.pb.h"

namespace weft::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class GrpcGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = testing::startGrpcBackend(service_, backendPort_);
    ASSERT_NE(backend_, nullptr);
    ASSERT_GT(backendPort_, 0);
    gatewayPort_ = testing::freePort();
  }

  void TearDown() override {
    if (thread_.joinable()) {
      std::promise<void> stopped;
      asio::post(io_, [&] {
        server_.stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
      keepRunning_.reset();
      io_.stop();
      thread_.join();
    }
    backend_->Shutdown();
  }

  // grpc.example.com: /weft.v1.CertificateService/ to the stand-in over HTTP/2 (retrying
  // `retryOn`); empty.example.com to a cluster without endpoints; other hosts: no route.
  void start(const std::string& retryOn = "", weft::v1::ConnectionPool::UpstreamProtocol protocol = weft::v1::ConnectionPool::HTTP2) {
    xds::HeldResources held;
    auto* routes = testing::addGatewayListener(held, gatewayPort_);
    auto* vhost = routes->add_virtual_hosts();
    vhost->set_name("grpc.example.com:80");
    vhost->add_domains("grpc.example.com");
    auto* toService = vhost->add_routes();
    toService->set_name("grpc");
    toService->mutable_match()->mutable_path()->set_prefix("/weft.v1.CertificateService/");
    auto* cluster = toService->mutable_route()->add_clusters();
    cluster->set_cluster("outbound|9000||standin.default.svc.cluster.local");
    cluster->set_weight(1);
    if (!retryOn.empty()) {
      toService->mutable_route()->mutable_retries()->set_attempts(2);
      toService->mutable_route()->mutable_retries()->set_retry_on(retryOn);
    }
    auto* emptyHost = routes->add_virtual_hosts();
    emptyHost->set_name("empty.example.com:80");
    emptyHost->add_domains("empty.example.com");
    auto* toNothing = emptyHost->add_routes();
    toNothing->set_name("empty");
    toNothing->mutable_match()->mutable_path()->set_prefix("/");
    auto* empty = toNothing->mutable_route()->add_clusters();
    empty->set_cluster("outbound|9000||empty.default.svc.cluster.local");
    empty->set_weight(1);
    // slow.example.com: 300 ms of fault delay, then the empty cluster's 503 (a request that
    // stays in flight for a while, for drain()).
    auto* slowHost = routes->add_virtual_hosts();
    slowHost->set_name("slow.example.com:80");
    slowHost->add_domains("slow.example.com");
    auto* slowly = slowHost->add_routes();
    slowly->set_name("slow");
    slowly->mutable_match()->mutable_path()->set_prefix("/");
    slowly->mutable_fault()->set_delay_ms(300);
    slowly->mutable_fault()->set_delay_percent(100);
    auto* slowTo = slowly->mutable_route()->add_clusters();
    slowTo->set_cluster("outbound|9000||empty.default.svc.cluster.local");
    slowTo->set_weight(1);
    // faulty.example.com: fault.abort.grpcStatus UNAVAILABLE for every call.
    auto* faultyHost = routes->add_virtual_hosts();
    faultyHost->set_name("faulty.example.com:80");
    faultyHost->add_domains("faulty.example.com");
    auto* aborted = faultyHost->add_routes();
    aborted->set_name("faulty");
    aborted->mutable_match()->mutable_path()->set_prefix("/");
    aborted->mutable_fault()->set_abort_grpc(true);
    aborted->mutable_fault()->set_abort_grpc_status(14);
    aborted->mutable_fault()->set_abort_percent(100);
    auto* abortedTo = aborted->mutable_route()->add_clusters();
    abortedTo->set_cluster("outbound|9000||standin.default.svc.cluster.local");
    abortedTo->set_weight(1);
    for (const char* name : {"outbound|9000||standin.default.svc.cluster.local", "outbound|9000||empty.default.svc.cluster.local"}) {
      auto& c = held[kClusterType][name];
      c.set_name(name);
      c.mutable_cluster()->set_name(name);
      c.mutable_cluster()->set_service_hostname("standin.default.svc.cluster.local");
      c.mutable_cluster()->set_service_namespace("default");
      c.mutable_cluster()->mutable_connection_pool()->set_upstream_protocol(protocol);
    }
    held[kClusterType]["outbound|9000||standin.default.svc.cluster.local"].mutable_cluster()->add_endpoints(
        fmt::format("127.0.0.1:{}", backendPort_));
    auto config = ProxyConfig::build(held, {{"istio", "ingressgateway"}});
    ASSERT_TRUE(config) << config.error().message;
    server_.setConfig(*config);
    ASSERT_TRUE(server_.applyListeners(**config));
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the io thread (where the server's state lives) and returns its result.
  template <class F>
  auto onIo(F f) {
    return testing::runOnIo(io_, std::move(f));
  }

  testing::GrpcCall call(const std::string& csr, const std::string& authority = "grpc.example.com") { return testing::callThroughGateway(gatewayPort_, csr, authority); }

  testing::StandIn service_;
  std::unique_ptr<grpc::Server> backend_;
  int backendPort_ = 0;
  uint16_t gatewayPort_ = 0;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keepRunning_;
  RequestMetrics metrics_{SourceWorkload{"gw", "istio-system", "gw"}};
  GatewayServer server_{io_, metrics_, ServerOptions{}};
  std::thread thread_;
};

TEST_F(GrpcGatewayTest, AUnaryCallGoesThroughAndItsTrailersComeBack) {
  start();
  auto answer = call("world");
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_code() << " " << answer.status.error_message();
  ASSERT_EQ(answer.response.cert_chain_size(), 2);
  EXPECT_EQ(answer.response.cert_chain(0), "hello world");
  EXPECT_EQ(answer.response.cert_chain(1), "http") << "the gateway's request edits reached the backend";
  // grpc-status 0 and the server's own trailing metadata came in the trailing HEADERS.
  ASSERT_EQ(answer.trailers.count("x-stand-in"), 1u);
  EXPECT_EQ(answer.trailers.find("x-stand-in")->second, "trailer");
  EXPECT_EQ(service_.calls, 1);
  // Telemetry: a gRPC request with its grpc-status (Istio's request_protocol "grpc").
  std::promise<std::string> text;
  asio::post(io_, [&] { text.set_value(metrics_.prometheusText()); });
  std::string metrics = text.get_future().get();
  EXPECT_NE(metrics.find("request_protocol=\"grpc\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("grpc_response_status=\"0\""), std::string::npos) << metrics;
}

TEST_F(GrpcGatewayTest, StopEndsClientConnectionsStillOpen) {
  start();
  asio::io_context client;
  tcp::socket socket(client);
  socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
  asio::write(socket, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n")));
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> response;
  boost::beast::http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 404u);
  EXPECT_TRUE(response.keep_alive()) << "the connection stays open for the next request";
  EXPECT_EQ(onIo([this] { return server_.openConnections(); }), 1u);
  onIo([this] {
    server_.stop();
    return 0;
  });
  // The client sees the end of the stream.
  char byte;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  // With its listeners, pools and sessions gone, the io_context runs out of work and its
  // thread ends on its own (bounded: a session left behind fails the test, not hangs it).
  for (int i = 0; i < 500 && !io_.stopped(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(io_.stopped()) << "something still runs after stop()";
  thread_.join();
  EXPECT_EQ(server_.openConnections(), 0u);
}

TEST_F(GrpcGatewayTest, DrainClosesIdleConnectionsAndAnswersRequestsInFlightWithConnectionClose) {
  // Once every connection has ended the io_context would run out of work; it must stay up
  // to answer this test's questions (and TearDown's).
  keepRunning_.emplace(io_.get_executor());
  start();
  auto connect = [this](asio::io_context& client) {
    tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_});
    // A read the gateway never ends fails the test after 5 s instead of hanging it.
    timeval limit{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    return socket;
  };
  asio::io_context client;
  tcp::socket idle = connect(client);
  asio::write(idle, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: nowhere.example.com\r\n\r\n")));
  boost::beast::flat_buffer idleBuffer;
  boost::beast::http::response<boost::beast::http::string_body> first;
  boost::beast::http::read(idle, idleBuffer, first);
  ASSERT_TRUE(first.keep_alive());
  tcp::socket busy = connect(client);
  asio::write(busy, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: slow.example.com\r\n\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // in its 300 ms delay now
  EXPECT_EQ(onIo([this] { return server_.openConnections(); }), 2u);
  onIo([this] {
    server_.drain();
    return 0;
  });
  // The idle keep-alive connection is closed by the drain, not by its header timeout
  // (15 s, which would close it too: the bound only tells the two apart).
  char byte;
  boost::system::error_code ec;
  auto drainedAt = std::chrono::steady_clock::now();
  idle.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - drainedAt, std::chrono::seconds(10)) << "closed by the header timeout, not the drain";
  // The request in flight is answered, marked as the connection's last.
  boost::beast::flat_buffer busyBuffer;
  boost::beast::http::response<boost::beast::http::string_body> answer;
  boost::beast::http::read(busy, busyBuffer, answer, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(answer.result_int(), 503u);
  EXPECT_FALSE(answer.keep_alive()) << "Connection: close";
  busy.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  // No new connections, and nothing left open.
  tcp::socket late(client);
  late.connect({asio::ip::make_address("127.0.0.1"), gatewayPort_}, ec);
  EXPECT_TRUE(ec) << "the listener is closed";
  for (int i = 0; i < 200 && onIo([this] { return server_.openConnections(); }) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(onIo([this] { return server_.openConnections(); }), 0u);
}

TEST_F(GrpcGatewayTest, DrainSendsHttp2ClientsAGoawayAndTheirConnectionsEnd) {
  // Once every connection has ended the io_context would run out of work; it must stay up
  // to answer this test's questions (and TearDown's).
  keepRunning_.emplace(io_.get_executor());
  start();
  // The channel keeps its HTTP/2 connection open after the call.
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "grpc.example.com");
  auto channel = grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", gatewayPort_), grpc::InsecureChannelCredentials(), args);
  auto stub = weft::v1::CertificateService::NewStub(channel);
  auto callOnce = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    weft::v1::CertificateRequest request;
    request.set_csr("drain");
    weft::v1::CertificateResponse response;
    return stub->CreateCertificate(&context, request, &response);
  };
  ASSERT_TRUE(callOnce().ok());
  ASSERT_EQ(onIo([this] { return server_.openConnections(); }), 1u);
  onIo([this] {
    server_.drain();
    return 0;
  });
  // With no stream open, the GOAWAY ends the connection at once (its idle timeout is 60 s).
  for (int i = 0; i < 200 && onIo([this] { return server_.openConnections(); }) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(onIo([this] { return server_.openConnections(); }), 0u);
  EXPECT_EQ(callOnce().error_code(), grpc::StatusCode::UNAVAILABLE) << "nothing listens any more";
}

TEST_F(GrpcGatewayTest, UseClientProtocolFollowsAnHttp2Client) {
  // The gRPC server speaks only HTTP/2: the call works only if the client's protocol was
  // carried through the gateway's request edits to the attempt.
  start("", weft::v1::ConnectionPool::CLIENT);
  auto answer = call("client");
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_code() << " " << answer.status.error_message();
  EXPECT_EQ(answer.response.cert_chain(0), "hello client");
}

TEST_F(GrpcGatewayTest, AnErrorStatusPassesThroughWithItsMessage) {
  start();
  auto answer = call("fail");
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(answer.status.error_message(), "no such greeting");
}

TEST_F(GrpcGatewayTest, TheGatewaysOwnAnswersAreGrpcStatuses) {
  start();
  auto noRoute = call("x", "elsewhere.example.com");
  EXPECT_EQ(noRoute.status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << noRoute.status.error_message();
  EXPECT_EQ(noRoute.status.error_message(), "no route");
  auto noUpstream = call("x", "empty.example.com");
  EXPECT_EQ(noUpstream.status.error_code(), grpc::StatusCode::UNAVAILABLE) << noUpstream.status.error_message();
  EXPECT_EQ(noUpstream.status.error_message(), "no healthy upstream");
  EXPECT_EQ(service_.calls, 0);
}

// VirtualService fault.abort.grpcStatus: the call ends with that status and Envoy's
// message, and never reaches the backend.
TEST_F(GrpcGatewayTest, AFaultAbortWithAGrpcStatusEndsTheCallWithIt) {
  start();
  auto answer = call("x", "faulty.example.com");
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE) << answer.status.error_message();
  EXPECT_EQ(answer.status.error_message(), "fault filter abort");
  EXPECT_EQ(service_.calls, 0);
}

TEST_F(GrpcGatewayTest, RetryOnUnavailableActsOnTheGrpcStatus) {
  start("unavailable");
  auto answer = call("flaky");
  ASSERT_TRUE(answer.status.ok()) << answer.status.error_code() << " " << answer.status.error_message();
  EXPECT_EQ(answer.response.cert_chain(0), "hello flaky");
  EXPECT_EQ(service_.calls, 2) << "UNAVAILABLE, retried, then OK";
}

TEST_F(GrpcGatewayTest, WithoutTheRetryPolicyUnavailableReachesTheClient) {
  start("5xx");  // an HTTP 200 carrying grpc-status 14 is no 5xx
  auto answer = call("flaky");
  EXPECT_EQ(answer.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(answer.status.error_message(), "try again");
  EXPECT_EQ(service_.calls, 1);
}

TEST(GrpcLocalReply, EnvoysMappingAndShape) {
  EXPECT_EQ(grpcStatusForHttp(404), grpc_code::kUnimplemented);
  EXPECT_EQ(grpcStatusForHttp(403), grpc_code::kPermissionDenied);
  EXPECT_EQ(grpcStatusForHttp(429), grpc_code::kUnavailable) << "Envoy's httpToGrpcStatus, not RESOURCE_EXHAUSTED";
  EXPECT_EQ(grpcStatusForHttp(503), grpc_code::kUnavailable);
  EXPECT_EQ(grpcStatusForHttp(504), grpc_code::kUnavailable);
  EXPECT_EQ(grpcStatusForHttp(401), grpc_code::kUnauthenticated);
  EXPECT_EQ(grpcStatusForHttp(400), grpc_code::kInternal);
  EXPECT_EQ(grpcStatusForHttp(500), grpc_code::kUnknown);
  auto reply = localResponse(403, "RBAC: access denied\n");
  toGrpcLocalReply(reply);
  EXPECT_EQ(reply.result_int(), 200u);
  EXPECT_EQ(reply["content-type"], "application/grpc");
  EXPECT_EQ(reply["grpc-status"], "7");
  EXPECT_EQ(reply["grpc-message"], "RBAC: access denied");
  EXPECT_TRUE(reply.body().empty());
  EXPECT_EQ(percentEncodeGrpcMessage("50% \xc3\xa9"), "50%25 %C3%A9");
  {
    boost::beast::http::fields headers;
    headers.set("grpc-status", "14");
    EXPECT_TRUE(retriableGrpcStatus("connect-failure, unavailable", headers));
    EXPECT_FALSE(retriableGrpcStatus("cancelled,5xx", headers));
    headers.set("grpc-status", "14x");
    EXPECT_FALSE(retriableGrpcStatus("unavailable", headers)) << "not a number: no status";
  }
}

}  // namespace
}  // namespace weft::proxy
