#include "ztunnel/config_dump.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <google/protobuf/util/json_util.h>

#include "tls/pem.h"
#include "tls/x509_info.h"

namespace weft::ztunnel {
namespace {

namespace json = boost::json;

json::value protoJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  return ec ? json::value(json::object{}) : parsed;
}

std::string rfc3339(SystemTime at) { return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(at)); }

json::object certificateEntry(const std::string& pem) {
  json::object entry{{"pem", pem}};
  if (auto parsed = tls::parseCertificates(pem); parsed && !parsed->empty()) {
    X509* cert = (*parsed)[0].get();
    entry["serial_number"] = tls::serialHex(cert);
    entry["valid_from"] = rfc3339(tls::notBefore(cert));
    entry["expiration_time"] = rfc3339(tls::notAfter(cert));
  }
  return entry;
}

}  // namespace

json::object configDump(const ConfigSnapshot& config, const std::map<std::string, std::shared_ptr<const WorkloadCertificate>>& certificates,
                        const std::vector<ServedPod>& pods, const std::string& nodeName) {
  json::array workloads, services, policies, certs, served;
  for (const auto& [uid, workload] : config.workloads()) workloads.push_back(protoJson(workload));
  for (const auto& [key, view] : config.services()) {
    json::value service = protoJson(view.service);
    json::array endpoints;
    for (const auto& endpoint : view.endpoints) {
      endpoints.push_back(json::object{{"workload_uid", endpoint.workload->uid()},
                                       {"address", endpoint.workload->addresses().empty() ? "" : endpoint.workload->addresses(0)},
                                       {"healthy", endpoint.workload->healthy()}});
    }
    service.as_object()["endpoints"] = std::move(endpoints);
    services.push_back(std::move(service));
  }
  for (const auto& policy : config.authorizations()) policies.push_back(protoJson(policy));
  for (const auto& [identity, certificate] : certificates) {
    json::array chain;
    for (const auto& pem : certificate->chainPem) chain.push_back(certificateEntry(pem));
    certs.push_back(json::object{{"identity", identity},
                                 {"state", "Available"},
                                 {"cert_chain", std::move(chain)},
                                 {"refresh_at", rfc3339(certificate->refreshAt())}});
  }
  for (const auto& pod : pods) {
    served.push_back(json::object{{"uid", pod.uid}, {"name", pod.name}, {"namespace", pod.ns}, {"address", pod.address},
                                  {"identity", pod.identity}, {"state", pod.state}});
  }
  return json::object{{"node", nodeName},
                      {"meshConfig", protoJson(config.mesh())},
                      {"workloads", std::move(workloads)},
                      {"services", std::move(services)},
                      {"policies", std::move(policies)},
                      {"certificates", std::move(certs)},
                      {"pods", std::move(served)}};
}

}  // namespace weft::ztunnel
