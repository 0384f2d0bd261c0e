#pragma once
// What one client of one stream asked for of one type, and what it was sent and holds.
// Sans I/O: requests' parts in, responses out; DeltaSession owns one per type and
// DiscoveryStream drives it from a single thread, so nothing here locks.
//
// Invariants:
//   - sent_ maps every name the client was last told about to the version it was told
//     (a name sent as removed is absent). It is the base of every diff, whether the client
//     ACKed or NACKed, so rejected content is not offered again until it changes.
//   - acked_ maps every name the client confirmed holding to that version. It never drives
//     a diff; it is the server's best account of the client's state.
//   - inFlight_ holds the changes sent since the client last answered the latest nonce
//     (nullopt: sent as removed). An ACK of the latest nonce folds them into acked_; a NACK
//     drops them, leaving acked_ as it was.
//   - sent_, acked_ and inFlight_ only name resources in scope (wildcard or names_).

#include <google/protobuf/map.h>
#include <google/protobuf/repeated_ptr_field.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "control/discovery/snapshot.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery {

// What a request's response_nonce turned out to be.
enum class Acknowledgement {
  kNone,   // no nonce: a subscription change only
  kAck,    // the latest nonce, no error_detail
  kNack,   // the latest nonce, with error_detail
  kStale,  // not the latest nonce sent for the type (or answered already): ignored
};

using Versions = std::map<std::string, std::string, std::less<>>;
using NonceSource = std::function<std::string()>;

class TypeSubscription {
 public:
  // Adds names to the subscription ("*": every name). Always makes the next respond()
  // answer, even with nothing in it, so the client learns its request was served.
  void subscribe(const google::protobuf::RepeatedPtrField<std::string>& names);
  // Removes names ("*": the wildcard) and forgets what was sent of names no longer in
  // scope: the client drops them itself, so no removal is sent.
  void unsubscribe(const google::protobuf::RepeatedPtrField<std::string>& names);
  // initial_resource_versions of a reconnecting client: it holds these already, so only
  // differences are sent. Names outside the subscription are ignored.
  void assumeHeld(const google::protobuf::Map<std::string, std::string>& versions);

  Acknowledgement acknowledge(const std::string& nonce, bool rejected);

  // The response that brings the client from what it was sent to `snapshot`, or nullopt
  // when nothing changed for it and no subscription request awaits an answer. Records the
  // response as sent.
  std::optional<weft::v1::DeltaResponse> respond(const Snapshot& snapshot, std::string_view typeUrl,
                                                 const NonceSource& nextNonce);

  bool empty() const { return !wildcard_ && names_.empty(); }
  bool inScope(std::string_view name) const { return wildcard_ || names_.contains(name); }
  bool wildcard() const { return wildcard_; }
  const Versions& acked() const { return acked_; }
  const Versions& sent() const { return sent_; }
  const std::string& latestNonce() const { return latestNonce_; }

 private:
  void diffEverything(const ResourceMap& resources, weft::v1::DeltaResponse& response) const;
  void diffNamed(const ResourceMap& resources, weft::v1::DeltaResponse& response) const;
  void forgetOutOfScope();

  bool wildcard_ = false;
  std::set<std::string, std::less<>> names_;
  Versions sent_;
  Versions acked_;
  std::map<std::string, std::optional<std::string>, std::less<>> inFlight_;
  std::string latestNonce_;  // empty once answered
  std::optional<uint64_t> diffedSequence_;
  bool answerDue_ = false;
  // Names just subscribed by name: if they do not exist, the client is told so with a
  // removal, as incremental xDS does, instead of being left waiting.
  std::set<std::string, std::less<>> announceIfMissing_;
};

}  // namespace weft::control::discovery
