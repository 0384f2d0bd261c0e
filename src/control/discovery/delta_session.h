#pragma once
// The delta-xDS protocol of one stream, without I/O: requests in, responses out.
// DiscoveryStream feeds it from one thread; unit tests drive it directly.
//
// The rules, following Envoy's incremental xDS:
//   - The first request names the node (validateRequest refuses a stream without one); it
//     may carry a subscription or nothing else.
//   - Each type is independent. subscribe/unsubscribe change its subscription ("*" for every
//     name). initial_resource_versions counts on the request that creates the subscription
//     of a type (the first one, or the first after the subscription became empty), as on a
//     reconnect; later it is ignored.
//   - A response goes out only when it carries something new: a request that subscribes is
//     always answered (even with nothing, so the client knows its initial state is complete);
//     a snapshot is pushed only to types whose diff is non-empty. An unanswered response is
//     therefore never followed by a copy of itself; a newer snapshot is sent at once, without
//     waiting for the ACK, as incremental xDS allows.
//   - response_nonce equal to the latest nonce of the type: ACK, or NACK with error_detail.
//     Any other nonce is stale and changes nothing.
//   - After a NACK the client is taken to hold its previous versions, and the rejected
//     content is not sent again until the resource changes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "control/discovery/snapshot.h"
#include "control/discovery/type_subscription.h"
#include "weft/v1/discovery.pb.h"

namespace weft::control::discovery {

// Checks what can be checked of a request on its own: the first must name the node, and a
// request that subscribes or answers must name its type. A failure ends the stream with
// INVALID_ARGUMENT.
Status validateRequest(const weft::v1::DeltaRequest& request, bool first);

class DeltaSession {
 public:
  // Nonces are "<prefix>-<n>": a prefix unique to the stream keeps nonces unique across
  // streams, so an answer meant for an old stream is stale on a new one.
  explicit DeltaSession(std::string noncePrefix);

  // Applies a validated request; says what its nonce turned out to be.
  Acknowledgement apply(const weft::v1::DeltaRequest& request);

  // The responses the client needs now to catch up with `snapshot`, at most one per type.
  std::vector<weft::v1::DeltaResponse> respond(const Snapshot& snapshot);

  // The subscription of `typeUrl`, or null when there is none.
  const TypeSubscription* subscription(std::string_view typeUrl) const;

 private:
  std::string noncePrefix_;
  uint64_t noncesIssued_ = 0;
  std::map<std::string, TypeSubscription, std::less<>> subscriptions_;
};

}  // namespace weft::control::discovery
