#include "control/discovery/discovery_test_client.h"

namespace weft::control::discovery {

const weft::v1::Resource* DiscoveryTestClient::State::find(const std::string& type, const std::string& name) const {
  auto byType = resources.find(type);
  if (byType == resources.end()) return nullptr;
  auto it = byType->second.find(name);
  return it == byType->second.end() ? nullptr : &it->second;
}

std::map<std::string, std::string> DiscoveryTestClient::State::versions(const std::string& type) const {
  std::map<std::string, std::string> versions;
  auto byType = resources.find(type);
  if (byType == resources.end()) return versions;
  for (const auto& [name, resource] : byType->second) versions.emplace(name, resource.version());
  return versions;
}

std::shared_ptr<grpc::Channel> DiscoveryTestClient::makeChannel(const std::string& target,
                                                                std::shared_ptr<grpc::ChannelCredentials> credentials,
                                                                grpc::ChannelArguments arguments) {
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, std::move(credentials), arguments);
}

DiscoveryTestClient::DiscoveryTestClient(std::shared_ptr<grpc::Channel> channel, weft::v1::ClientNode node)
    : stub_(weft::v1::DiscoveryService::NewStub(std::move(channel))), node_(std::move(node)) {}

DiscoveryTestClient::~DiscoveryTestClient() { disconnect(); }

void DiscoveryTestClient::connect() {
  disconnect();
  {
    std::lock_guard lock(stateMutex_);
    state_.connected = true;
    state_.ended.reset();
    subscribedOnThisStream_.clear();
  }
  grpc::ClientReaderWriter<weft::v1::DeltaRequest, weft::v1::DeltaResponse>* stream;
  {
    std::lock_guard lock(writeMutex_);
    context_ = std::make_unique<grpc::ClientContext>();
    stream_ = stub_->DeltaStream(context_.get());
    stream = stream_.get();
  }
  reader_ = std::thread([this, stream] { readLoop(stream); });
  weft::v1::DeltaRequest hello;
  *hello.mutable_node() = node_;
  write(hello);
}

void DiscoveryTestClient::disconnect() {
  {
    std::lock_guard lock(writeMutex_);
    if (context_) context_->TryCancel();
  }
  if (reader_.joinable()) reader_.join();
  std::lock_guard lock(writeMutex_);
  stream_.reset();
  context_.reset();
}

void DiscoveryTestClient::reconnect() {
  connect();
  std::map<std::string, std::set<std::string>> subscriptions;
  {
    std::lock_guard lock(stateMutex_);
    subscriptions = subscriptions_;
  }
  for (const auto& [type, names] : subscriptions) {
    if (!names.empty()) subscribe(type, {names.begin(), names.end()});
  }
}

bool DiscoveryTestClient::subscribe(const std::string& type, const std::vector<std::string>& names) {
  weft::v1::DeltaRequest request;
  request.set_type_url(type);
  {
    std::lock_guard lock(stateMutex_);
    for (const auto& name : names) {
      subscriptions_[type].insert(name);
      request.add_subscribe(name);
    }
    if (subscribedOnThisStream_.insert(type).second) {
      for (const auto& [name, version] : state_.versions(type))
        (*request.mutable_initial_resource_versions())[name] = version;
    }
  }
  return write(request);
}

bool DiscoveryTestClient::unsubscribe(const std::string& type, const std::vector<std::string>& names) {
  weft::v1::DeltaRequest request;
  request.set_type_url(type);
  {
    std::lock_guard lock(stateMutex_);
    auto& subscribed = subscriptions_[type];
    for (const auto& name : names) {
      subscribed.erase(name);
      request.add_unsubscribe(name);
    }
    if (!subscribed.contains("*")) {
      std::erase_if(state_.resources[type], [&](const auto& entry) { return !subscribed.contains(entry.first); });
    }
  }
  return write(request);
}

void DiscoveryTestClient::rejectWhen(Rejecter rejecter) {
  std::lock_guard lock(stateMutex_);
  rejecter_ = std::move(rejecter);
}

bool DiscoveryTestClient::waitUntil(const Condition& condition, std::chrono::milliseconds timeout) {
  std::unique_lock lock(stateMutex_);
  return changed_.wait_for(lock, timeout, [&] { return condition(state_); });
}

DiscoveryTestClient::State DiscoveryTestClient::state() const {
  std::lock_guard lock(stateMutex_);
  return state_;
}

bool DiscoveryTestClient::write(const weft::v1::DeltaRequest& request) {
  std::lock_guard lock(writeMutex_);
  return stream_ && stream_->Write(request);
}

weft::v1::DeltaRequest DiscoveryTestClient::answer(const weft::v1::DeltaResponse& response) {
  weft::v1::DeltaRequest reply;
  reply.set_type_url(response.type_url());
  reply.set_response_nonce(response.nonce());
  if (auto rejection = rejecter_ ? rejecter_(response) : std::nullopt)
    reply.mutable_error_detail()->set_message(*rejection);
  return reply;
}

void DiscoveryTestClient::apply(const weft::v1::DeltaResponse& response, bool rejected) {
  state_.responses.push_back(response);
  if (rejected) {
    // A data plane that rejects an update keeps what it had, all of it.
    ++state_.nacks;
    return;
  }
  auto& held = state_.resources[response.type_url()];
  for (const auto& resource : response.resources()) held.insert_or_assign(resource.name(), resource);
  for (const auto& name : response.removed_resources()) held.erase(name);
  ++state_.acks;
}

void DiscoveryTestClient::readLoop(grpc::ClientReaderWriter<weft::v1::DeltaRequest, weft::v1::DeltaResponse>* stream) {
  weft::v1::DeltaResponse response;
  while (stream->Read(&response)) {
    weft::v1::DeltaRequest reply;
    {
      std::lock_guard lock(stateMutex_);
      reply = answer(response);
    }
    // The answer goes out before the state shows the response, so a test that saw an
    // update knows the server has been (or is being) told about it.
    write(reply);
    {
      std::lock_guard lock(stateMutex_);
      apply(response, reply.has_error_detail());
    }
    changed_.notify_all();
  }
  grpc::Status status;
  {
    // Finish may not overlap a Write.
    std::lock_guard lock(writeMutex_);
    status = stream->Finish();
  }
  std::lock_guard lock(stateMutex_);
  state_.connected = false;
  state_.ended = std::move(status);
  changed_.notify_all();
}

}  // namespace weft::control::discovery
