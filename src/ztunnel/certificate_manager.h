#pragma once
// ztunnel's certificates come from the data-plane library's CertificateManager, which the
// waypoint shares (src/xds/certificate_manager.h).

#include "xds/certificate_manager.h"
#include "ztunnel/workload_certificate.h"

namespace weft::ztunnel {

using xds::CertificateCounters;
using xds::CertificateManager;

}  // namespace weft::ztunnel
