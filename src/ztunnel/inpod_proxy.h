#pragma once
// The proxy of one enrolled pod, inside that pod's network namespace (reference §2.1):
// listeners on 15001 (outbound, captured by REDIRECT), 15006 (inbound plaintext) and 15008
// (inbound HBONE). One per pod, all in one ztunnel process. The capture rules that send
// the pod's traffic here are the node agent's.
//
// Lives on the ztunnel's io_context thread; start and stop are called there. Every
// connection it handles is tracked so stop() can cut them (a pod leaving the mesh loses its
// proxied connections, as with Istio; its plain traffic is untouched).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "base/result.h"
#include "hbone/hbone_client.h"
#include "hbone/hbone_server.h"
#include "net/inpod_capture.h"
#include "net/unique_fd.h"
#include "ztunnel/connection_report.h"
#include "ztunnel/pod_info.h"
#include "ztunnel/proxy_context.h"

namespace weft::ztunnel {

class InpodProxy : public std::enable_shared_from_this<InpodProxy> {
 public:
  // Binds the three listeners in the pod's namespace; nothing is left behind on failure.
  static Result<std::shared_ptr<InpodProxy>> start(boost::asio::io_context& io, ProxyContext& context, PodInfo pod, net::UniqueFd netns);
  ~InpodProxy();

  // Closes the listeners and every connection (the pod left the mesh, or ztunnel exits).
  void stop();
  // Drain: stop accepting (a successor's listeners, bound with SO_REUSEPORT beside ours,
  // take new connections); open ones carry on, and each inbound HBONE connection gets a
  // GOAWAY so the clients' ztunnels open their next tunnels to the successor.
  void stopAccepting();
  const PodInfo& pod() const { return pod_; }
  size_t activeConnections() const { return cancels_.size(); }

 private:
  InpodProxy(boost::asio::io_context& io, ProxyContext& context, PodInfo pod, net::UniqueFd netns);

  using Handler = boost::asio::awaitable<void> (InpodProxy::*)(boost::asio::ip::tcp::socket);
  boost::asio::awaitable<void> acceptLoop(boost::asio::ip::tcp::acceptor& acceptor, Handler handler);
  boost::asio::awaitable<void> handleOutbound(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> handleInboundPlaintext(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> handleHbone(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<hbone::ConnectDecision> decideConnect(hbone::ConnectRequest request);
  // Plain TCP from `socket` to `destination` (passthrough, inbound plaintext), reported.
  boost::asio::awaitable<void> relayPlain(boost::asio::ip::tcp::socket& socket, boost::asio::ip::tcp::endpoint destination,
                                          std::optional<Ipv4Address> source, ConnectionReport& report);

  // A socket in the pod's namespace, marked so the capture rules let it pass, connected to
  // `destination`; with `source`, bound there transparently (the app sees the real client).
  boost::asio::awaitable<Result<boost::asio::ip::tcp::socket>> connectFromPod(boost::asio::ip::tcp::endpoint destination,
                                                                              std::optional<Ipv4Address> source);
  boost::asio::awaitable<std::shared_ptr<const WorkloadCertificate>> certificate();
  // TLS contexts made from the pod's current certificate, remade when it is renewed.
  Result<std::shared_ptr<boost::asio::ssl::context>> serverTls(const WorkloadCertificate& certificate);
  Result<std::shared_ptr<boost::asio::ssl::context>> clientTls(const WorkloadCertificate& certificate);

  PeerFacts selfFacts(const ConfigSnapshot& config) const;
  uint64_t track(std::function<void()> cancel);
  void untrack(uint64_t id) { cancels_.erase(id); }
  void finish(ConnectionReport& report);

  boost::asio::io_context& io_;
  ProxyContext& context_;
  PodInfo pod_;
  net::UniqueFd netns_;
  boost::asio::ip::tcp::acceptor outbound_;
  boost::asio::ip::tcp::acceptor inboundPlain_;
  boost::asio::ip::tcp::acceptor inboundHbone_;
  hbone::HbonePool pool_;
  std::shared_ptr<hbone::OpenConnections> openHbone_ = std::make_shared<hbone::OpenConnections>();
  bool stopped_ = false;
  std::map<uint64_t, std::function<void()>> cancels_;
  uint64_t nextId_ = 0;
  uint64_t tlsSerial_ = 0;
  std::shared_ptr<boost::asio::ssl::context> serverTls_, clientTls_;
};

}  // namespace weft::ztunnel
