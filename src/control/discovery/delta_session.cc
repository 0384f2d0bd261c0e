#include "control/discovery/delta_session.h"

#include <fmt/format.h>

namespace weft::control::discovery {

Status validateRequest(const weft::v1::DeltaRequest& request, bool first) {
  if (first && (!request.has_node() || request.node().id().empty()))
    return makeError("the first request must name the node");
  bool saysSomething = !request.subscribe().empty() || !request.unsubscribe().empty() ||
                       !request.initial_resource_versions().empty() || !request.response_nonce().empty() ||
                       request.has_error_detail();
  if (saysSomething && request.type_url().empty())
    return makeError("a request that subscribes or answers must name its type_url");
  return {};
}

DeltaSession::DeltaSession(std::string noncePrefix) : noncePrefix_(std::move(noncePrefix)) {}

Acknowledgement DeltaSession::apply(const weft::v1::DeltaRequest& request) {
  if (request.type_url().empty()) return Acknowledgement::kNone;  // the node alone
  auto it = subscriptions_.find(request.type_url());
  Acknowledgement acknowledgement = Acknowledgement::kNone;
  if (!request.response_nonce().empty()) {
    acknowledgement = it == subscriptions_.end()
                          ? Acknowledgement::kStale
                          : it->second.acknowledge(request.response_nonce(), request.has_error_detail());
  }
  if (request.subscribe().empty() && request.unsubscribe().empty()) return acknowledgement;

  bool created = it == subscriptions_.end();
  if (created) it = subscriptions_.try_emplace(request.type_url()).first;
  it->second.subscribe(request.subscribe());
  it->second.unsubscribe(request.unsubscribe());
  if (created) it->second.assumeHeld(request.initial_resource_versions());
  if (it->second.empty()) subscriptions_.erase(it);
  return acknowledgement;
}

std::vector<weft::v1::DeltaResponse> DeltaSession::respond(const Snapshot& snapshot) {
  NonceSource nextNonce = [this] { return fmt::format("{}-{}", noncePrefix_, ++noncesIssued_); };
  std::vector<weft::v1::DeltaResponse> responses;
  for (auto& [type, subscription] : subscriptions_) {
    if (auto response = subscription.respond(snapshot, type, nextNonce)) responses.push_back(std::move(*response));
  }
  return responses;
}

const TypeSubscription* DeltaSession::subscription(std::string_view typeUrl) const {
  auto it = subscriptions_.find(typeUrl);
  return it == subscriptions_.end() ? nullptr : &it->second;
}

}  // namespace weft::control::discovery
