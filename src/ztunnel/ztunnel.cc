#include "ztunnel/ztunnel.h"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include "ztunnel/config_dump.h"

namespace weft::ztunnel {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

}  // namespace

Result<std::unique_ptr<Ztunnel>> Ztunnel::create(ZtunnelSettings settings) {
  auto credential = xds::loadNodeCredential(settings.store, settings.credentialSecretName());
  if (!credential) return credential.error();
  return std::unique_ptr<Ztunnel>(new Ztunnel(std::move(settings), std::move(*credential)));
}

Ztunnel::Ztunnel(ZtunnelSettings settings, xds::NodeCredential credential) : settings_(std::move(settings)), credential_(std::move(credential)) {
  certificates_ = std::make_unique<CertificateManager>(xds::controlPlaneChannel(settings_.caAddress, credential_), systemClock());
  weft::v1::ClientNode node;
  node.set_id(fmt::format("ztunnel~{}~{}", settings_.instanceIp, settings_.podName));
  node.set_node_name(settings_.nodeName);
  node.set_role("ztunnel");
  xds::DeltaClient::Options options{{std::string(kWorkloadType), std::string(kServiceType), std::string(kAuthorizationType),
                                     std::string(kMeshConfigType)},
                                    node};
  discovery_ = std::make_unique<xds::DeltaClient>(
      xds::controlPlaneChannel(settings_.xdsAddress, credential_), options,
      [](const xds::HeldResources& candidate) -> Status {
        auto built = ConfigSnapshot::build(candidate);
        if (!built) return built.error();
        return {};
      },
      [this](const xds::HeldResources& held) {
        auto built = ConfigSnapshot::build(held);
        if (!built) return;
        bool trustDomainChanged = (*built)->trustDomain() != config_.get()->trustDomain();
        config_.set(*built);
        if (trustDomainChanged) asio::post(io_, [this] { updateWantedCertificates(); });
      });
  context_.reset(new ProxyContext{config_, *certificates_, metrics_, hboneCounters_});
}

Ztunnel::~Ztunnel() {
  stopping_ = true;
  if (int fd = agentFd_.load(); fd >= 0) shutdown(fd, SHUT_RDWR);
  if (agentThread_.joinable()) agentThread_.join();
  onIoThread([this] {
    for (auto& [uid, pod] : pods_) pod->stop();
    pods_.clear();
    return 0;
  });
  work_.reset();
  io_.stop();
  if (ioThread_.joinable()) ioThread_.join();
  discovery_->stop();
  certificates_->stop();
}

template <class F>
auto Ztunnel::onIoThread(F work) -> decltype(work()) {
  // Before run() started the io thread, or after it ended, the caller's thread is the only one.
  if (!ioThread_.joinable() || !work_) return work();
  std::packaged_task<decltype(work())()> task(std::move(work));
  auto result = task.get_future();
  asio::post(io_, [&task] { task(); });
  return result.get();
}

bool Ztunnel::ready() const { return discovery_->synced() && snapshotReceived_.load() && !stopping_.load(); }

std::string Ztunnel::configDumpJson() {
  std::vector<ServedPod> pods;
  {
    std::lock_guard lock(servedMutex_);
    pods = servedView_;
  }
  return json::serialize(configDump(*config_.get(), certificates_->all(), pods, settings_.nodeName));
}

Status Ztunnel::startAdmin() {
  auto readyAnswer = [this] {
    auto answer = ready() ? admin::HttpAnswer{200, "text/plain", "ready\n"} : admin::HttpAnswer{503, "text/plain", "not ready\n"};
    // During a rollout the old and the new ztunnel share the node's readiness port
    // (SO_REUSEPORT): saying which pod answered lets the local kubelet ignore the old one's
    // "ready" when it probes the new pod (see localcluster/tcp_probe.h).
    if (!settings_.podName.empty()) answer.headers.emplace_back(std::string(admin::kAnsweringPodHeader), settings_.podName);
    return answer;
  };
  auto metricsAnswer = [this] {
    std::string extra = fmt::format(
        "# TYPE weft_ztunnel_hbone_tls_handshake_failures_total counter\nweft_ztunnel_hbone_tls_handshake_failures_total {}\n"
        "# TYPE weft_ztunnel_hbone_trust_domain_refusals_total counter\nweft_ztunnel_hbone_trust_domain_refusals_total {}\n"
        "# TYPE weft_ztunnel_hbone_bad_connects_total counter\nweft_ztunnel_hbone_bad_connects_total {}\n"
        "# TYPE weft_ztunnel_hbone_rapid_reset_goaways_total counter\nweft_ztunnel_hbone_rapid_reset_goaways_total {}\n"
        "# TYPE weft_ztunnel_hbone_protocol_errors_total counter\nweft_ztunnel_hbone_protocol_errors_total {}\n"
        "# TYPE weft_ztunnel_certificates_issued_total counter\nweft_ztunnel_certificates_issued_total {}\n"
        "# TYPE weft_ztunnel_certificate_failures_total counter\nweft_ztunnel_certificate_failures_total {}\n"
        "# TYPE weft_ztunnel_xds_nacks_total counter\nweft_ztunnel_xds_nacks_total {}\n",
        hboneCounters_.tlsHandshakeFailures.load(), hboneCounters_.trustDomainRefusals.load(), hboneCounters_.badConnects.load(),
        hboneCounters_.rapidResetGoaways.load(), hboneCounters_.h2ProtocolErrors.load(), certificates_->counters().issued.load(),
        certificates_->counters().failed.load(), discovery_->counters().nacks.load());
    return admin::HttpAnswer{200, "text/plain; version=0.0.4", metrics_.prometheusText(extra)};
  };
  // Admin ports bind the node's address, not loopback: on the local cluster every node's
  // ztunnel shares one network namespace.
  auto adminServer = admin::HttpEndpoints::bind(
      settings_.instanceIp, settings_.adminPort,
      {{"/config_dump", [this] { return admin::HttpAnswer{200, "application/json", configDumpJson()}; }},
       {"/healthz/ready", readyAnswer}},
      true);
  if (!adminServer) return adminServer.error();
  auto stats = admin::HttpEndpoints::bind(settings_.instanceIp, settings_.statsPort,
                                          {{"/stats/prometheus", metricsAnswer}, {"/metrics", metricsAnswer}}, true);
  if (!stats) return stats.error();
  auto readiness = admin::HttpEndpoints::bind(settings_.instanceIp, settings_.readinessPort, {{"/healthz/ready", readyAnswer}}, true);
  if (!readiness) return readiness.error();
  admin_ = std::move(*adminServer);
  stats_ = std::move(*stats);
  readiness_ = std::move(*readiness);
  admin_->start();
  stats_->start();
  readiness_->start();
  return {};
}

void Ztunnel::updateWantedCertificates() {
  std::set<std::string> identities;
  std::vector<ServedPod> view;
  std::string trustDomain = config_.get()->trustDomain();
  for (const auto& [uid, proxy] : pods_) {
    const auto& p = proxy->pod();
    identities.insert(p.identity(trustDomain));
    view.push_back({p.uid, p.name, p.ns, p.address.str(), p.identity(trustDomain), "serving"});
  }
  certificates_->setWanted(identities);
  std::lock_guard lock(servedMutex_);
  servedView_ = std::move(view);
}

std::string Ztunnel::addPod(nodeagent::AddWorkload add, net::UniqueFd netns) {
  auto address = Ipv4Address::parse(add.address);
  if (!address) return fmt::format("pod {}/{}: address {:?} is not IPv4", add.ns, add.name, add.address);
  if (auto existing = pods_.find(add.uid); existing != pods_.end()) {
    // A replay after the agent reconnected, or after our own restart: already serving.
    return {};
  }
  PodInfo pod{add.uid, add.name, add.ns, add.serviceAccount.empty() ? "default" : add.serviceAccount, *address};
  auto proxy = InpodProxy::start(io_, *context_, pod, std::move(netns));
  if (!proxy) {
    spdlog::error("pod {}/{}: cannot serve: {}", pod.ns, pod.name, proxy.error().message);
    return proxy.error().message;
  }
  pods_[add.uid] = *proxy;
  updateWantedCertificates();
  spdlog::info("pod {}/{} ({}) enrolled as {}", pod.ns, pod.name, pod.address.str(), pod.identity(config_.get()->trustDomain()));
  return {};
}

void Ztunnel::removePod(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  spdlog::info("pod {}/{} left the mesh", it->second->pod().ns, it->second->pod().name);
  it->second->stop();
  pods_.erase(it);
  updateWantedCertificates();
}

void Ztunnel::dropPodsNotIn(const std::set<std::string>& uids) {
  std::vector<std::string> gone;
  for (const auto& [uid, proxy] : pods_) {
    if (!uids.contains(uid)) gone.push_back(uid);
  }
  for (const auto& uid : gone) removePod(uid);
}

void Ztunnel::nodeAgentLoop() {
  nodeagent::Hello hello{nodeagent::kProtocolVersion, settings_.nodeName, settings_.revision};
  while (!stopping_) {
    auto client = nodeagent::NodeAgentClient::connect(settings_.nodeAgentSocket(), hello, std::chrono::seconds(5));
    if (!client) {
      spdlog::warn("node agent at {}: {}", settings_.nodeAgentSocket().string(), client.error().message);
      continue;
    }
    agentFd_ = client->fd();
    spdlog::info("connected to the node agent at {}", settings_.nodeAgentSocket().string());
    std::set<std::string> replayed;
    bool inSnapshot = true;
    while (!stopping_) {
      auto received = client->receive();
      if (!received) {
        if (client->connectionLost()) break;
        spdlog::warn("node agent: {}", received.error().message);
        (void)client->ack(received.error().message);
        continue;
      }
      std::string error;
      if (auto* add = std::get_if<nodeagent::AddWorkload>(&received->message)) {
        if (inSnapshot) replayed.insert(add->uid);
        auto netns = std::make_shared<net::UniqueFd>(std::move(received->netns));
        error = onIoThread([this, add = *add, netns] { return addPod(add, std::move(*netns)); });
      } else if (auto* del = std::get_if<nodeagent::DelWorkload>(&received->message)) {
        onIoThread([this, uid = del->uid] {
          removePod(uid);
          return 0;
        });
      } else {
        inSnapshot = false;
        onIoThread([this, &replayed] {
          dropPodsNotIn(replayed);
          return 0;
        });
        snapshotReceived_ = true;
      }
      if (auto acked = client->ack(error); !acked) break;
    }
    agentFd_ = -1;
    if (!stopping_) spdlog::warn("lost the node agent; pods keep being served, reconnecting");
  }
}

int Ztunnel::run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Blocked in every thread started from here on, so sigwait below is the one to get them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (auto started = startAdmin(); !started) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  work_.emplace(io_.get_executor());
  ioThread_ = std::thread([this] { io_.run(); });
  certificates_->start();
  discovery_->start();
  // Pods are taken on once the mesh's trust domain is known (their identities need it),
  // or after a while without weftd, with the default one.
  for (int i = 0; i < 100 && !discovery_->synced(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  agentThread_ = std::thread([this] { nodeAgentLoop(); });
  spdlog::info("weft-ztunnel on node {} ({}) serving; admin {}:{}", settings_.nodeName, settings_.instanceIp, settings_.instanceIp,
               settings_.adminPort);

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("signal {}: draining for up to {}s", signal, settings_.drainSeconds);
  stopping_ = true;
  onIoThread([this] {
    for (auto& [uid, pod] : pods_) pod->stopAccepting();
    return 0;
  });
  // Open connections get the drain period to finish; the successor already accepts new ones.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(settings_.drainSeconds);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t open = onIoThread([this] {
      size_t n = 0;
      for (auto& [uid, pod] : pods_) n += pod->activeConnections();
      return n;
    });
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace weft::ztunnel
