#pragma once
// The certificate type ztunnel holds lives in the data-plane library, shared with the
// waypoint (src/xds/workload_certificate.h).

#include "xds/workload_certificate.h"

namespace weft::ztunnel {

using xds::acceptIssuedChain;
using xds::WorkloadCertificate;

}  // namespace weft::ztunnel
