#pragma once
// What the tests of gRPC through the gateway share: a stand-in gRPC service, one unary call
// through the gateway with a real gRPC C++ client, and the gateway listener they route
// from. The service is weftd's CertificateService, the one unary RPC the repository
// already compiles.

#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "proxy/proxy_config.h"
#include "weft/v1/ca.grpc.pb.h"

namespace weft::proxy::testing {

// csr names what to do: "fail" answers NOT_FOUND, "flaky" answers UNAVAILABLE on every
// other call, anything else succeeds with "hello <csr>" and the x-forwarded-proto the
// proxy added; every answer carries the trailer x-stand-in.
class StandIn final : public weft::v1::CertificateService::Service {
 public:
  grpc::Status CreateCertificate(grpc::ServerContext* context, const weft::v1::CertificateRequest* request,
                                 weft::v1::CertificateResponse* response) override {
    ++calls;
    context->AddTrailingMetadata("x-stand-in", "trailer");
    if (request->csr() == "fail") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such greeting");
    if (request->csr() == "flaky" && calls % 2 == 1) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again");
    response->add_cert_chain("hello " + request->csr());
    auto forwarded = context->client_metadata().find("x-forwarded-proto");
    response->add_cert_chain(forwarded == context->client_metadata().end() ? "" : std::string(forwarded->second.data(), forwarded->second.size()));
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

inline uint16_t freePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

// A listening TCP socket on 127.0.0.1 at a port of the kernel's choosing (`port`), for
// test servers that use blocking calls on threads of their own; -1 on failure.
inline int loopbackListener(uint16_t& port, int backlog = 16) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof at;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 || ::listen(listener, backlog) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &length) != 0) {
    if (listener >= 0) ::close(listener);
    return -1;
  }
  port = ntohs(at.sin_port);
  return listener;
}

// A gRPC server for `service` on 127.0.0.1 at a port of the kernel's choosing (`port`), or
// nullptr.
inline std::unique_ptr<grpc::Server> startGrpcBackend(grpc::Service& service, int& port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

struct GrpcCall {
  grpc::Status status;
  weft::v1::CertificateResponse response;
  std::multimap<std::string, std::string> trailers;
};

// One CreateCertificate call to the gateway on 127.0.0.1:`gatewayPort` (h2c), for
// `authority`, within 10 s.
inline GrpcCall callThroughGateway(uint16_t gatewayPort, const std::string& csr, const std::string& authority) {
  grpc::ChannelArguments args;
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
  auto channel = grpc::CreateCustomChannel(fmt::format("127.0.0.1:{}", gatewayPort), grpc::InsecureChannelCredentials(), args);
  auto stub = weft::v1::CertificateService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  weft::v1::CertificateRequest request;
  request.set_csr(csr);
  GrpcCall out;
  out.status = stub->CreateCertificate(&context, request, &out.response);
  for (const auto& [key, value] : context.GetServerTrailingMetadata()) {
    out.trailers.emplace(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return out;
}

// The ingress gateway's listener "gw/80" (selector istio=ingressgateway) bound to
// `bindPort`; returns its route configuration "gw/http.80", still without hosts.
inline auto* addGatewayListener(xds::HeldResources& held, uint16_t bindPort) {
  auto& l = held[kListenerType]["gw/80"];
  l.set_name("gw/80");
  auto* listener = l.mutable_listener();
  listener->set_name("gw/80");
  listener->set_port(80);
  listener->set_bind_port(bindPort);
  listener->set_route_config_name("gw/http.80");
  (*listener->mutable_selector())["istio"] = "ingressgateway";
  auto& r = held[kRouteConfigurationType]["gw/http.80"];
  r.set_name("gw/http.80");
  return r.mutable_route_configuration();
}

// A gateway listener on `bindPort` whose every host and path go to one cluster of one
// endpoint; the route and the cluster are returned for the caller to add to.
struct CatchAll {
  weft::v1::Route* route;
  weft::v1::Cluster* cluster;
};
inline CatchAll addCatchAllRoute(xds::HeldResources& held, uint16_t bindPort, const std::string& clusterName, const std::string& serviceHost,
                                 const std::string& endpoint) {
  auto* vhost = addGatewayListener(held, bindPort)->add_virtual_hosts();
  vhost->set_name(serviceHost + ":80");
  vhost->add_domains("*");
  auto* route = vhost->add_routes();
  route->set_name("all");
  route->mutable_match()->mutable_path()->set_prefix("/");
  auto* to = route->mutable_route()->add_clusters();
  to->set_cluster(clusterName);
  to->set_weight(1);
  auto& c = held[kClusterType][clusterName];
  c.set_name(clusterName);
  auto* cluster = c.mutable_cluster();
  cluster->set_name(clusterName);
  cluster->set_service_hostname(serviceHost);
  cluster->set_service_known(true);
  cluster->add_endpoints(endpoint);
  return {route, cluster};
}

}  // namespace weft::proxy::testing
