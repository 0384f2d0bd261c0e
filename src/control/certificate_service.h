#pragma once
// weft.v1.CertificateService: authenticates the caller from its client certificate,
// decides with authorizeCertificate, and signs with the mesh CA. Every refusal is logged
// with its reason and counted.

#include <atomic>
#include <functional>
#include <memory>

#include "base/clock.h"
#include "ca/workload_issuer.h"
#include "control/certificate_policy.h"
#include "weft/v1/ca.grpc.pb.h"

namespace weft::control {

class CertificateService final : public weft::v1::CertificateService::Service {
 public:
  using PodPlacements = std::function<std::vector<PodPlacement>()>;

  CertificateService(std::shared_ptr<const ca::CaBundle> ca, std::string trustDomain, PodPlacements pods, Clock clock);

  grpc::Status CreateCertificate(grpc::ServerContext* context, const weft::v1::CertificateRequest* request,
                                 weft::v1::CertificateResponse* response) override;

  uint64_t issued() const { return issued_; }
  uint64_t refused() const { return refused_; }

 private:
  grpc::Status refuse(grpc::StatusCode code, const std::string& caller, const std::string& reason);

  ca::WorkloadIssuer issuer_;
  std::string trustDomain_;
  PodPlacements pods_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace weft::control
