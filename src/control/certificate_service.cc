#include "control/certificate_service.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "tls/pem.h"

namespace weft::control {

CertificateService::CertificateService(std::shared_ptr<const ca::CaBundle> ca, std::string trustDomain, PodPlacements pods, Clock clock)
    : issuer_(std::move(ca), std::move(clock)), trustDomain_(std::move(trustDomain)), pods_(std::move(pods)) {}

grpc::Status CertificateService::refuse(grpc::StatusCode code, const std::string& caller, const std::string& reason) {
  ++refused_;
  spdlog::warn("certificate refused: caller {}: {}", caller, reason);
  return {code, reason};
}

grpc::Status CertificateService::CreateCertificate(grpc::ServerContext* context, const weft::v1::CertificateRequest* request,
                                                   weft::v1::CertificateResponse* response) {
  // The TLS layer verified the chain when a certificate was presented; without one the
  // caller is anonymous, and anonymous callers get nothing.
  auto peerPem = context->auth_context()->FindPropertyValues("x509_pem_cert");
  if (peerPem.empty()) return refuse(grpc::StatusCode::UNAUTHENTICATED, context->peer(), "no client certificate");
  auto peerCerts = tls::parseCertificates(std::string_view(peerPem[0].data(), peerPem[0].size()));
  if (!peerCerts || peerCerts->empty()) return refuse(grpc::StatusCode::UNAUTHENTICATED, context->peer(), "unreadable client certificate");
  auto caller = callerFromCertificate((*peerCerts)[0].get(), trustDomain_);
  if (!caller) return refuse(grpc::StatusCode::UNAUTHENTICATED, context->peer(), caller.error().message);

  std::string ns = request->namespace_();
  std::string serviceAccount = request->service_account();
  if (ns.empty() && serviceAccount.empty() && caller->kind == Caller::Kind::kWorkload) {
    ns = caller->identity.ns;
    serviceAccount = caller->identity.serviceAccount;
  }
  auto requested = tls::SpiffeId::make(trustDomain_, ns, serviceAccount);
  if (!requested) return refuse(grpc::StatusCode::INVALID_ARGUMENT, caller->describe(), requested.error().message);
  if (auto allowed = authorizeCertificate(*caller, *requested, pods_()); !allowed) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED, caller->describe(), allowed.error().message);
  }
  auto issued = issuer_.issue({request->csr(), *requested, std::chrono::seconds(request->validity_seconds())});
  if (!issued) return refuse(grpc::StatusCode::INVALID_ARGUMENT, caller->describe(), issued.error().message);
  auto chain = tls::parseCertificates(issued->certChainPem);
  if (!chain) return refuse(grpc::StatusCode::INTERNAL, caller->describe(), chain.error().message);
  for (const auto& cert : *chain) response->add_cert_chain(tls::toPem(cert.get()));
  ++issued_;
  spdlog::info("certificate issued: {} for {}", requested->uri(), caller->describe());
  return grpc::Status::OK;
}

}  // namespace weft::control
