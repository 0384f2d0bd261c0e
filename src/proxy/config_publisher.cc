#include "proxy/config_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/dns_endpoints.h"

namespace weft::proxy {

ConfigPublisher::ConfigPublisher(Options options, Publish publish, DnsNames::Lookup lookup)
    : options_(std::move(options)),
      publish_(std::move(publish)),
      dns_([this] { rebuild(); }, options_.dns, std::move(lookup)) {}

void ConfigPublisher::accepted(const xds::HeldResources& held) {
  // Istio's Envoy follows each record's TTL (respect_dns_ttl), so meshConfig.dnsRefreshRate
  // (60 s by default) rarely decides; getaddrinfo tells no TTL, so the stand-in TTL is a
  // ceiling and a shorter dnsRefreshRate wins.
  dns_.setRefresh(std::min(dnsRefreshOf(held).value_or(options_.dns.refresh), options_.dns.refresh));
  // Outside the lock: a rebuild on a lookup thread may need it meanwhile. Names only the
  // previous resources used are forgotten once the new ones are built, so a rebuild from
  // the previous ones meanwhile still finds them.
  auto names = dnsNamesOf(held);
  dns_.track(names);
  std::lock_guard lock(mutex_);
  held_ = held;
  build();
  dns_.forgetExcept(names);
}

void ConfigPublisher::rebuild() {
  std::lock_guard lock(mutex_);
  if (held_) build();
}

void ConfigPublisher::build() {
  auto built = ProxyConfig::build(*held_, options_.podLabels, options_.credentials, options_.podNamespace, dns_.current(), options_.workload);
  if (!built) {
    // Discovery validated these resources before accepting them; only a Secret or file
    // read since can fail now, and the snapshot in use stays.
    spdlog::error("gateway: config not rebuilt: {}", built.error().message);
    return;
  }
  publish_(*built);
}

}  // namespace weft::proxy
