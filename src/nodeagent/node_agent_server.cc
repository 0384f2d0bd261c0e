#include "nodeagent/node_agent_server.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "net/netns_socket.h"
#include "nodeagent/seqpacket.h"

namespace weft::nodeagent {

namespace {
// More would only be ztunnels that never said hello, or a misbehaving local process.
constexpr size_t kMaxConnections = 8;
}  // namespace

Result<std::unique_ptr<NodeAgentServer>> NodeAgentServer::listen(NodeAgentServerOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.socketPath.parent_path(), ec);
  auto listener = listenSeqpacket(options.socketPath);
  if (!listener) return listener.error();
  return std::unique_ptr<NodeAgentServer>(new NodeAgentServer(std::move(options), std::move(*listener)));
}

NodeAgentServer::NodeAgentServer(NodeAgentServerOptions options, net::UniqueFd listener)
    : options_(std::move(options)), listener_(std::move(listener)) {}

NodeAgentServer::~NodeAgentServer() {
  std::error_code ec;
  std::filesystem::remove(options_.socketPath, ec);
}

std::vector<int> NodeAgentServer::pollFds() const {
  std::vector<int> fds{listener_.get()};
  for (const auto& c : connections_) fds.push_back(c->fd.get());
  return fds;
}

std::optional<Hello> NodeAgentServer::connectedZtunnel() const {
  if (active_ == nullptr) return std::nullopt;
  return active_->session.hello();
}

std::set<std::string> NodeAgentServer::held() const { return active_ ? active_->session.held() : std::set<std::string>{}; }

void NodeAgentServer::setWorkloads(WorkloadSet workloads) {
  workloads_ = std::move(workloads);
  if (active_) active_->session.setWanted(workloads_);
  pump();
  if (!reading_) sweep();
}

void NodeAgentServer::onReadable() {
  acceptAll();
  // onHello may re-enter setWorkloads; broken connections are only marked until the end.
  reading_ = true;
  for (size_t i = 0; i < connections_.size(); ++i) {
    Connection& c = *connections_[i];
    if (!c.broken && !readAll(c)) drop(&c, "");
  }
  pump();
  reading_ = false;
  sweep();
}

void NodeAgentServer::sweep() {
  std::erase_if(connections_, [](const auto& c) { return c->broken; });
}

void NodeAgentServer::acceptAll() {
  while (true) {
    net::UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;
    if (connections_.size() >= kMaxConnections) {
      spdlog::warn("node agent {}: refusing a connection, {} are open already", options_.node, connections_.size());
      continue;
    }
    auto c = std::make_unique<Connection>(Connection{std::move(fd), AgentSession(options_.node), nextId_++});
    spdlog::debug("node agent {}: connection {} accepted", options_.node, c->id);
    connections_.push_back(std::move(c));
  }
}

bool NodeAgentServer::readAll(Connection& c) {
  while (true) {
    auto received = receivePacket(c.fd.get());
    if (!received) {
      spdlog::warn("node agent {}: connection {}: {}", options_.node, c.id, received.error().message);
      return false;
    }
    if (received->kind == Received::kWouldBlock) return true;
    if (received->kind == Received::kClosed) {
      spdlog::info("node agent {}: connection {} closed{}", options_.node, c.id, received->reason.empty() ? "" : ": " + received->reason);
      return false;
    }
    auto message = decodeZtunnelMessage(received->packet.bytes, received->packet.fds.size());
    if (!message) {
      spdlog::warn("node agent {}: connection {}: {}", options_.node, c.id, message.error().message);
      return false;
    }
    if (&c != active_ && c.session.phase() != AgentSession::Phase::kAwaitingHello) continue;  // superseded
    if (auto handled = c.session.onMessage(*message); !handled) {
      spdlog::warn("node agent {}: connection {}: {}", options_.node, c.id, handled.error().message);
      return false;
    }
    if (const auto* hello = std::get_if<Hello>(&*message)) {
      if (active_ != nullptr) spdlog::info("node agent {}: connection {} replaces connection {}", options_.node, c.id, active_->id);
      spdlog::info("node agent {}: ztunnel connected (connection {}, revision \"{}\")", options_.node, c.id, hello->revision);
      active_ = &c;
      c.session.setWanted(workloads_);
      if (options_.onHello) options_.onHello(*hello);
      if (c.broken) return false;
    } else if (const auto* ack = std::get_if<Ack>(&*message); ack && !ack->error.empty()) {
      spdlog::warn("node agent {}: ztunnel refused: {}", options_.node, ack->error);
    }
    pump();
    if (c.broken) return false;
  }
}

void NodeAgentServer::drop(Connection* c, const std::string& why) {
  if (!why.empty()) spdlog::warn("node agent {}: connection {}: {}", options_.node, c->id, why);
  if (c == active_) {
    active_ = nullptr;
    spdlog::info("node agent {}: ztunnel disconnected", options_.node);
  }
  c->broken = true;
}

void NodeAgentServer::pump() {
  while (active_ != nullptr) {
    auto out = active_->session.next();
    if (!out) return;
    net::UniqueFd netns;
    if (const auto* add = std::get_if<AddWorkload>(&out->message)) {
      auto opened = net::openNetns(out->netnsPath);
      if (!opened) {
        spdlog::warn("node agent {}: not sending pod {}/{}: {}", options_.node, add->ns, add->name, opened.error().message);
        active_->session.fail(opened.error().message);
        continue;
      }
      netns = std::move(*opened);
    }
    if (auto sent = sendPacket(active_->fd.get(), encode(out->message), netns.get()); !sent) {
      drop(active_, sent.error().message);
      return;
    }
    if (const auto* add = std::get_if<AddWorkload>(&out->message)) {
      spdlog::info("node agent {}: add {}/{} ({})", options_.node, add->ns, add->name, add->address);
    } else if (const auto* del = std::get_if<DelWorkload>(&out->message)) {
      spdlog::info("node agent {}: del {}", options_.node, del->uid);
    }
  }
}

}  // namespace weft::nodeagent
