#pragma once
// From what discovery accepted to the snapshot the io thread serves: looks up the host
// names of DNS clusters, builds the ProxyConfig with their addresses, and hands it on; and
// builds again from the same accepted resources whenever a name's addresses change, so a
// DNS answer moves endpoints without a push from weftd (as Envoy's DNS clusters do).
//
// accepted() runs on discovery's thread; rebuilds run on the lookup thread. One lock keeps
// builds in order, and each uses the newest resources and addresses, so an older
// snapshot never replaces a newer one. rebuild() may be called from any thread.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "proxy/dns_names.h"
#include "proxy/proxy_config.h"

namespace weft::proxy {

class ConfigPublisher {
 public:
  using Publish = std::function<void(std::shared_ptr<const ProxyConfig>)>;

  struct Options {
    Labels podLabels;
    CredentialLoader credentials;
    std::string podNamespace = "istio-system";
    DnsNames::Options dns;
    WorkloadCredential workload;  // ISTIO_MUTUAL servers' certificate
  };

  ConfigPublisher(Options options, Publish publish, DnsNames::Lookup lookup = DnsNames::systemLookup);

  // Waits (bounded) for the first lookup of names it has not seen before building.
  void accepted(const xds::HeldResources& held);
  // Builds again from the resources last accepted (none yet: nothing): for what changed
  // outside them, such as the proxy's own certificate.
  void rebuild();

 private:
  void build();  // under mutex_

  Options options_;
  Publish publish_;
  std::mutex mutex_;
  std::optional<xds::HeldResources> held_;
  DnsNames dns_;  // last: its lookup thread stops before the rest goes
};

}  // namespace weft::proxy
