#include "xds/delta_client.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace weft::xds {

DeltaClient::DeltaClient(std::shared_ptr<grpc::Channel> channel, Options options, Validator validate, Apply apply)
    : stub_(weft::v1::DiscoveryService::NewStub(std::move(channel))),
      options_(std::move(options)),
      validate_(std::move(validate)),
      apply_(std::move(apply)) {}

DeltaClient::~DeltaClient() { stop(); }

void DeltaClient::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void DeltaClient::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HeldResources DeltaClient::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

void DeltaClient::run() {
  auto backoff = options_.initialBackoff;
  while (true) {
    bool progressed = runStream();
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    if (progressed) backoff = options_.initialBackoff;
    // Jitter-free exponential back-off: one data plane per node, so no thundering herd to
    // spread; capped so a returning weftd is found quickly.
    wake_.wait_for(lock, backoff, [this] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.maxBackoff);
  }
}

bool DeltaClient::runStream() {
  grpc::ClientContext* context;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    context_ = std::make_unique<grpc::ClientContext>();
    context = context_.get();
  }
  auto stream = stub_->DeltaStream(context);
  ++counters_.connects;
  bool first = true;
  for (const auto& type : options_.types) {
    weft::v1::DeltaRequest request;
    if (first) *request.mutable_node() = options_.node;
    first = false;
    request.set_type_url(type);
    request.add_subscribe("*");
    {
      // What we hold is what we ask not to be sent again.
      std::lock_guard lock(mutex_);
      for (const auto& [name, resource] : held_[type]) (*request.mutable_initial_resource_versions())[name] = resource.version();
    }
    if (!stream->Write(request)) break;
  }
  bool progressed = false;
  weft::v1::DeltaResponse response;
  while (stream->Read(&response)) {
    if (!progressed) {
      connected_ = true;
      spdlog::info("discovery: connected to weftd");
    }
    progressed = true;
    ++counters_.responses;
    if (!stream->Write(answer(response))) break;
  }
  grpc::Status status = stream->Finish();
  connected_ = false;
  ++counters_.disconnects;
  std::lock_guard lock(mutex_);
  if (!stopping_) {
    spdlog::warn("discovery: stream to weftd ended ({}: {}); serving the last accepted config", static_cast<int>(status.error_code()),
                 status.error_message());
  }
  context_.reset();
  return progressed;
}

weft::v1::DeltaRequest DeltaClient::answer(const weft::v1::DeltaResponse& response) {
  weft::v1::DeltaRequest reply;
  reply.set_type_url(response.type_url());
  reply.set_response_nonce(response.nonce());
  HeldResources candidate;
  {
    std::lock_guard lock(mutex_);
    candidate = held_;
  }
  auto& ofType = candidate[response.type_url()];
  for (const auto& name : response.removed_resources()) ofType.erase(name);
  for (const auto& resource : response.resources()) ofType[resource.name()] = resource;
  if (auto valid = validate_(candidate); !valid) {
    ++counters_.nacks;
    spdlog::warn("discovery: rejected {} version {}: {}", response.type_url(), response.system_version_info(), valid.error().message);
    reply.mutable_error_detail()->set_message(valid.error().message);
    return reply;
  }
  {
    std::lock_guard lock(mutex_);
    held_ = candidate;
    if (std::find(typesSeen_.begin(), typesSeen_.end(), response.type_url()) == typesSeen_.end()) {
      typesSeen_.push_back(response.type_url());
    }
    if (typesSeen_.size() >= options_.types.size()) synced_ = true;
  }
  ++counters_.acks;
  apply_(candidate);
  return reply;
}

}  // namespace weft::xds
