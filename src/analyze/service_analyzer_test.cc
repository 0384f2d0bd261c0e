#include <gtest/gtest.h>

#include "analyze/analyzer_test_harness.h"

namespace weft::analyze {
namespace {

using testing::AnalyzerCase;
using testing::expectCase;

TEST(ServiceAnalyzers, PortNames) {
  std::vector<AnalyzerCase> cases{
      {"port names off convention", {"service_port_names.yaml"}, "service.PortNameAnalyzer",
       {"IST0118 Service shop/storefront", "IST0118 Service shop/storefront", "IST0118 Service data/cache"}},
      {"port names by convention", {"service_port_names_ok.yaml"}, "service.PortNameAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(ServiceAnalyzers, ServiceEntryAddresses) {
  std::vector<AnalyzerCase> cases{
      {"addresses required", {"serviceentry_addresses.yaml"}, "serviceentry.ProtocolAddressesAnalyzer",
       {"IST0134 ServiceEntry default/tcp-no-addresses", "IST0134 ServiceEntry default/unset-protocol",
        "IST0134 ServiceEntry default/lowercase-tcp", "IST0134 ServiceEntry egress/mixed-ports",
        "IST0134 ServiceEntry egress/mixed-ports"}},
      {"addresses auto-allocated", {"serviceentry_addresses_autoallocate.yaml"}, "serviceentry.ProtocolAddressesAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

TEST(ServiceAnalyzers, ConflictingServiceEntryProtocols) {
  std::vector<AnalyzerCase> cases{
      {"conflicting", {"serviceentry_conflicting_protocol.yaml"}, "serviceentry.ConflictingServiceEntryProtocolAnalyzer",
       {"IST0177 ServiceEntry default/se-https", "IST0177 ServiceEntry default/se-tls", "IST0177 ServiceEntry team/se-tcp-local"}},
      {"none", {"serviceentry_conflicting_protocol_none.yaml"}, "serviceentry.ConflictingServiceEntryProtocolAnalyzer", {}},
  };
  for (const auto& c : cases) expectCase(c);
}

}  // namespace
}  // namespace weft::analyze
