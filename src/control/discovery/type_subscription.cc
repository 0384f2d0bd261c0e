#include "control/discovery/type_subscription.h"

#include "control/discovery/resource_types.h"

namespace weft::control::discovery {

void TypeSubscription::subscribe(const google::protobuf::RepeatedPtrField<std::string>& names) {
  if (names.empty()) return;  // an unsubscribe-only request: nothing to answer
  for (const auto& name : names) {
    if (name == kWildcard) {
      wildcard_ = true;
    } else if (names_.insert(name).second) {
      announceIfMissing_.insert(name);
    }
  }
  answerDue_ = true;
}

void TypeSubscription::unsubscribe(const google::protobuf::RepeatedPtrField<std::string>& names) {
  for (const auto& name : names) {
    if (name == kWildcard) {
      wildcard_ = false;
    } else {
      names_.erase(name);
      announceIfMissing_.erase(name);
    }
  }
  forgetOutOfScope();
}

void TypeSubscription::forgetOutOfScope() {
  std::erase_if(sent_, [this](const auto& entry) { return !inScope(entry.first); });
  std::erase_if(acked_, [this](const auto& entry) { return !inScope(entry.first); });
  std::erase_if(inFlight_, [this](const auto& entry) { return !inScope(entry.first); });
}

void TypeSubscription::assumeHeld(const google::protobuf::Map<std::string, std::string>& versions) {
  for (const auto& [name, version] : versions) {
    if (!inScope(name)) continue;
    sent_.insert_or_assign(name, version);
    acked_.insert_or_assign(name, version);
    // It is held, so it is not news that it is missing: a removal comes from the diff.
    announceIfMissing_.erase(name);
  }
}

Acknowledgement TypeSubscription::acknowledge(const std::string& nonce, bool rejected) {
  if (nonce.empty()) return Acknowledgement::kNone;
  if (latestNonce_.empty() || nonce != latestNonce_) return Acknowledgement::kStale;
  latestNonce_.clear();
  if (!rejected) {
    for (auto& [name, version] : inFlight_) {
      if (version) {
        acked_.insert_or_assign(name, std::move(*version));
      } else {
        acked_.erase(name);
      }
    }
  }
  inFlight_.clear();
  return rejected ? Acknowledgement::kNack : Acknowledgement::kAck;
}

void TypeSubscription::diffEverything(const ResourceMap& resources, weft::v1::DeltaResponse& response) const {
  // Both maps are sorted by name: one merge walk finds additions, changes and removals.
  auto resource = resources.begin();
  auto sent = sent_.begin();
  while (resource != resources.end() || sent != sent_.end()) {
    if (sent == sent_.end() || (resource != resources.end() && resource->first < sent->first)) {
      *response.add_resources() = resource->second;
      ++resource;
    } else if (resource == resources.end() || sent->first < resource->first) {
      response.add_removed_resources(sent->first);
      ++sent;
    } else {
      if (resource->second.version() != sent->second) *response.add_resources() = resource->second;
      ++resource;
      ++sent;
    }
  }
}

void TypeSubscription::diffNamed(const ResourceMap& resources, weft::v1::DeltaResponse& response) const {
  for (const auto& name : names_) {
    auto resource = resources.find(name);
    auto sent = sent_.find(name);
    if (resource != resources.end()) {
      if (sent == sent_.end() || sent->second != resource->second.version())
        *response.add_resources() = resource->second;
    } else if (sent != sent_.end()) {
      response.add_removed_resources(name);
    }
  }
}

std::optional<weft::v1::DeltaResponse> TypeSubscription::respond(const Snapshot& snapshot, std::string_view typeUrl,
                                                                 const NonceSource& nextNonce) {
  if (!answerDue_ && diffedSequence_ == snapshot.sequence()) return std::nullopt;
  static const ResourceMap kNothing;
  const ResourceMap* found = snapshot.resources(typeUrl);
  const ResourceMap& resources = found != nullptr ? *found : kNothing;

  weft::v1::DeltaResponse response;
  if (wildcard_) {
    diffEverything(resources, response);
  } else {
    diffNamed(resources, response);
  }
  // The diff reported the removal of everything sent that is gone; names just asked for
  // that were never sent and do not exist are reported removed too.
  for (const auto& name : announceIfMissing_) {
    if (!resources.contains(name) && !sent_.contains(name)) response.add_removed_resources(name);
  }
  for (const auto& resource : response.resources()) {
    sent_.insert_or_assign(resource.name(), resource.version());
    inFlight_.insert_or_assign(resource.name(), resource.version());
  }
  for (const auto& name : response.removed_resources()) {
    sent_.erase(name);
    inFlight_.insert_or_assign(name, std::nullopt);
  }

  bool answerDue = answerDue_;
  answerDue_ = false;
  announceIfMissing_.clear();
  diffedSequence_ = snapshot.sequence();
  if (!answerDue && response.resources().empty() && response.removed_resources().empty()) return std::nullopt;

  response.set_type_url(std::string(typeUrl));
  response.set_system_version_info(snapshot.version());
  response.set_nonce(nextNonce());
  latestNonce_ = response.nonce();
  return response;
}

}  // namespace weft::control::discovery
