#include "ztunnel/peer_facts.h"

#include <openssl/rand.h>

#include <fmt/format.h>

#include "ztunnel/config_snapshot.h"

namespace weft::ztunnel {
namespace {

std::string randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) raw.assign(bytes, '\1');
  std::string out;
  for (unsigned char c : raw) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

PeerFacts workloadFacts(const weft::v1::Workload& w, const std::string& address) {
  return PeerFacts{address,
                   w.workload_name().empty() ? w.name() : w.workload_name(),
                   w.namespace_(),
                   workloadIdentity(w),
                   w.canonical_name().empty() ? w.name() : w.canonical_name(),
                   w.canonical_revision().empty() ? "latest" : w.canonical_revision()};
}

PeerFacts unknownPeer(const std::string& address) { return PeerFacts{address, "unknown", "unknown", "unknown", "unknown", "unknown"}; }

hbone::Headers hboneRequestHeaders(const weft::v1::Workload* source, const std::string& clientAddress, const std::string& serviceHost,
                                   const std::string& clusterName) {
  hbone::Headers headers;
  std::string forwarded = fmt::format("for=\"{}\"", clientAddress);
  if (!serviceHost.empty()) forwarded += fmt::format(";host={}", serviceHost);
  headers.emplace_back("forwarded", forwarded);
  if (source != nullptr) {
    PeerFacts facts = workloadFacts(*source, clientAddress);
    headers.emplace_back("baggage", fmt::format("k8s.cluster.name={},k8s.namespace.name={},k8s.deployment.name={},service.name={},service.version={}",
                                                clusterName, facts.ns, facts.workload, facts.app, facts.version));
  }
  headers.emplace_back("traceparent", fmt::format("00-{}-{}-00", randomHex(16), randomHex(8)));
  return headers;
}

}  // namespace weft::ztunnel
