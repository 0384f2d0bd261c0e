#pragma once
// The telemetry view of a workload (its owner, namespace, identity, canonical name and
// revision), and the HBONE headers that describe a source to its destination
// (reference §1.2: forwarded, baggage, traceparent).

#include <string>

#include "hbone/h2_codec.h"
#include "weft/v1/discovery.pb.h"
#include "ztunnel/connection_report.h"

namespace weft::ztunnel {

PeerFacts workloadFacts(const weft::v1::Workload& workload, const std::string& address);
PeerFacts unknownPeer(const std::string& address);

// forwarded (for="<client ip:port>", plus host=<service> when a service was dialled),
// baggage (the source's metadata) and a fresh W3C traceparent per connection.
hbone::Headers hboneRequestHeaders(const weft::v1::Workload* source, const std::string& clientAddress, const std::string& serviceHost,
                                   const std::string& clusterName);

}  // namespace weft::ztunnel
