#pragma once
// One weft-ztunnel: the node's L4 data plane. It meets its node agent (which hands over
// each enrolled pod's network namespace), keeps config from weftd's discovery service and
// certificates from weftd's CA, runs one InpodProxy per pod, and serves admin (15000),
// metrics (15020) and readiness (15021) on its node's address.
//
// Threads: the io thread runs every pod proxy and connection; the node-agent thread
// blocks on the agent's socket and posts adds and deletes to the io thread; discovery and
// the certificate manager have their own threads; admin endpoints one each.

#include <atomic>
#include <future>
#include <map>
#include <optional>
#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "admin/http_endpoints.h"
#include "hbone/hbone_counters.h"
#include "nodeagent/node_agent_client.h"
#include "xds/delta_client.h"
#include "ztunnel/certificate_manager.h"
#include "ztunnel/config_snapshot.h"
#include "ztunnel/config_dump.h"
#include "ztunnel/inpod_proxy.h"
#include "xds/control_plane_credential.h"
#include "ztunnel/proxy_context.h"
#include "ztunnel/tcp_metrics.h"
#include "ztunnel/ztunnel_settings.h"

namespace weft::ztunnel {

class Ztunnel {
 public:
  static Result<std::unique_ptr<Ztunnel>> create(ZtunnelSettings settings);
  ~Ztunnel();

  // Serves until SIGTERM or SIGINT, then drains. Returns the process exit code.
  int run();

 private:
  Ztunnel(ZtunnelSettings settings, xds::NodeCredential credential);

  Status startAdmin();
  void nodeAgentLoop();
  // On the io thread: start or stop a pod's proxy. The error goes back in the ack.
  std::string addPod(nodeagent::AddWorkload add, net::UniqueFd netns);
  void removePod(const std::string& uid);
  void dropPodsNotIn(const std::set<std::string>& uids);
  void updateWantedCertificates();
  template <class F>
  auto onIoThread(F work) -> decltype(work());
  std::string configDumpJson();
  bool ready() const;

  ZtunnelSettings settings_;
  xds::NodeCredential credential_;
  ConfigHolder config_;
  TcpMetrics metrics_;
  hbone::HboneCounters hboneCounters_;
  std::unique_ptr<CertificateManager> certificates_;
  std::unique_ptr<xds::DeltaClient> discovery_;
  std::unique_ptr<ProxyContext> context_;
  // Declared after everything a connection's coroutine uses (config, certificates,
  // metrics, counters, the context), so destroying it (and any coroutine still suspended
  // on it) happens while those are alive; and before the pods, which hold its sockets.
  boost::asio::io_context io_;
  // Keeps the io thread running until the destructor has stopped every pod on it.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::map<std::string, std::shared_ptr<InpodProxy>> pods_;  // by uid; io thread only
  std::vector<ServedPod> servedView_;                       // copy for the admin thread
  mutable std::mutex servedMutex_;
  std::unique_ptr<admin::HttpEndpoints> admin_, stats_, readiness_;
  std::atomic<bool> snapshotReceived_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> agentFd_{-1};
  std::thread ioThread_;
  std::thread agentThread_;
};

}  // namespace weft::ztunnel
