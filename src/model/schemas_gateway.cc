// networking.istio.io Gateway (Istio's own, not the Gateway API's): the servers a gateway
// proxy listens with, their hosts, protocols and server-side TLS.
//
// As for every networking kind (see schemas_networking.cc), both the CRD's rules and
// istiod's webhook checks are enforced.

#include <boost/json.hpp>

#include <set>
#include <string>
#include <string_view>

#include "model/networking_schemas.h"
#include "model/schema_rules.h"

namespace weft::model {
namespace {

namespace json = boost::json;

// Server hosts: "[namespace/]dnsName". The namespace is "*", "." or a name; the host is a
// full domain name, optionally with a leading "*." wildcard, "*" alone, or an IP address.
std::optional<std::string> checkServerHost(std::string_view entry) {
  std::string_view host = entry;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    std::string_view ns = entry.substr(0, slash);
    host = entry.substr(slash + 1);
    if (ns.empty() || host.empty()) return fmt::format("\"{}\": namespace and host must not be empty", entry);
    if (ns != "*" && ns != "." && !isIstioLabel(ns)) return fmt::format("\"{}\": \"{}\" is not a valid namespace", entry, ns);
  }
  if (host != "*" && host.find('.') == std::string_view::npos) {
    return fmt::format("\"{}\": short host names are not allowed; use a fully qualified name", entry);
  }
  if (!isIpAddress(host)) {
    if (auto why = checkWildcardDomain(host)) return why;
  }
  if (host.find('*') != std::string_view::npos && host != "*" && host.substr(0, 2) != "*.") {
    return fmt::format("\"{}\": a wildcard must be a whole leading label (\"*.example.com\")", entry);
  }
  return std::nullopt;
}

void checkServer(const Site& s) {
  const auto* port = find(s.value, "port");
  if (port == nullptr) return;
  Site portSite = s.child("port");
  bool unixBind = isUnixAddress(stringAt(s.value, "bind"));
  if (auto number = intAt(*port, "number")) {
    if (*number == 0 && !unixBind) portSite.fieldError("number", "must be between 1 and 65535");
    if (*number != 0 && unixBind) portSite.fieldError("number", "must be 0 when bind is a unix:// address");
  }
  std::string_view protocolText = stringAt(*port, "protocol");
  Protocol protocol = parseProtocol(protocolText);
  if (protocol == Protocol::kUnknown) return;
  const auto* tls = find(s.value, "tls");
  if (isTlsProtocol(protocol)) {
    if (tls == nullptr) s.fieldError("tls", fmt::format("is required for protocol {}", protocolText));
    return;
  }
  if (tls == nullptr) return;
  if (!isHttpProtocol(protocol)) {
    s.fieldError("tls", fmt::format("is not allowed for protocol {}; only HTTPS and TLS servers take TLS settings", protocolText));
    return;
  }
  // A plain-text HTTP server may carry tls only to redirect to HTTPS.
  std::string_view mode = stringAt(*tls, "mode");
  bool passthrough = mode.empty() || mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH";
  if (!passthrough || present(*tls, "caCertificates") || present(*tls, "privateKey") || present(*tls, "serverCertificate")) {
    s.fieldError("tls", fmt::format("a plain-text {} server can only set tls.httpsRedirect", protocolText));
  }
}

// TLS_AUTO (or none) is 0: no bound.
int tlsVersionRank(std::string_view version) {
  static constexpr std::string_view kVersions[] = {"TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"};
  for (size_t i = 0; i < std::size(kVersions); ++i) {
    if (version == kVersions[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

void checkServerTls(const Site& s) {
  std::string_view mode = stringAt(s.value, "mode");
  int minVersion = tlsVersionRank(stringAt(s.value, "minProtocolVersion"));
  int maxVersion = tlsVersionRank(stringAt(s.value, "maxProtocolVersion"));
  if (minVersion != 0 && maxVersion != 0 && maxVersion < minVersion) {
    s.fieldError("maxProtocolVersion", fmt::format("{} is below minProtocolVersion {}", stringAt(s.value, "maxProtocolVersion"),
                                                   stringAt(s.value, "minProtocolVersion")));
  }
  if (mode == "ISTIO_MUTUAL") {
    for (const char* f : {"serverCertificate", "privateKey", "caCertificates", "tlsCertificates", "credentialName", "credentialNames"}) {
      if (present(s.value, f)) s.fieldError(f, "cannot be set with mode ISTIO_MUTUAL");
    }
    return;
  }
  int sources = (present(s.value, "serverCertificate") && present(s.value, "privateKey") ? 1 : 0) +
                (present(s.value, "credentialName") ? 1 : 0) + (present(s.value, "credentialNames") ? 1 : 0) +
                (present(s.value, "tlsCertificates") ? 1 : 0);
  if (sources > 1) s.error("only one of credentialName, credentialNames, serverCertificate/privateKey or tlsCertificates may be set");

  bool terminates = mode == "SIMPLE" || mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL";
  if (terminates && (present(s.value, "credentialName") || present(s.value, "credentialNames"))) return;
  if (terminates && sources <= 1) {
    if (mode != "SIMPLE" && !present(s.value, "caCertificates")) {
      s.fieldError("caCertificates", fmt::format("is required for mode {} unless a credential is used", mode));
    }
    const auto* list = arrayAt(s.value, "tlsCertificates");
    if (list != nullptr && !list->empty()) {
      for (size_t i = 0; i < list->size(); ++i) {
        for (const char* f : {"serverCertificate", "privateKey"}) {
          if (!present((*list)[i], f)) itemSite(s.child("tlsCertificates"), i).fieldError(f, fmt::format("is required for mode {}", mode));
        }
      }
    } else {
      for (const char* f : {"serverCertificate", "privateKey"}) {
        if (!present(s.value, f)) s.fieldError(f, fmt::format("is required for mode {} unless a credential is used", mode));
      }
    }
  }
  if (present(s.value, "caCrl")) {
    if (present(s.value, "credentialName")) s.fieldError("caCrl", "cannot be used with credentialName; put the CRL in the credential");
    else if (mode == "SIMPLE") s.fieldError("caCrl", "is not used with mode SIMPLE");
  }
}

SchemaPtr serverTls() {
  auto tlsVersion = enumOf({"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"});
  static const SchemaPtr schema =
      object()
          .field("httpsRedirect", boolean())
          .field("mode", enumOf({"PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"}))
          .field("serverCertificate", str())
          .field("privateKey", str())
          .field("caCertificates", str())
          .field("caCrl", str())
          .field("credentialName", str())
          .field("credentialNames", atMost(listOf(nonEmptyStr(), 1), 2))  // e.g. an RSA and an ECDSA certificate
          .field("caCertCredentialName", str())
          .field("tlsCertificates", atMost(listOf(object()
                                                      .field("serverCertificate", str())
                                                      .field("privateKey", str())
                                                      .field("caCertificates", str()),
                                                  1),
                                           2))
          .field("subjectAltNames", listOf(str()))
          .field("verifyCertificateSpki", listOf(str()))
          .field("verifyCertificateHash", listOf(str()))
          .field("minProtocolVersion", tlsVersion)
          .field("maxProtocolVersion", tlsVersion)
          .field("cipherSuites", listOf(str()))
          .field("insecureSkipVerify", boolean())
          .check(checkServerTls);
  return schema;
}

SchemaPtr server() {
  static const SchemaPtr port =
      object()
          .required("number", portOrZero())  // 0 only with a unix:// bind
          .required("protocol", strRule(checkProtocolName))
          .required("name", nonEmptyStr())
          .field("targetPort", withChecks(integer(0, UINT32_MAX), {[](const json::value& v) -> std::optional<std::string> {
                                              if (asInt(v) > 0) return "has no effect on Gateway servers; remove it";
                                              return std::nullopt;
                                            }}));
  static const SchemaPtr schema =
      object()
          .required("port", port)
          .required("hosts", listOf(strRule(checkServerHost), 1))
          .field("bind", strRule([](std::string_view bind) -> std::optional<std::string> {
                   if (isUnixAddress(bind)) return checkUnixPath(bind);
                   if (isIpAddress(bind)) return std::nullopt;
                   return fmt::format("\"{}\" is not an IP address or a unix:// path", bind);
                 }))
          .field("defaultEndpoint", str())
          .field("tls", serverTls())
          .field("name", str())
          .check(checkServer);
  return schema;
}

}  // namespace

SchemaPtr gatewaySpecSchema() {
  static const SchemaPtr schema = object()
                                      .required("servers", listOf(server(), 1))
                                      .field("selector", labelMap())
                                      .check([](const Site& s) {
                                        // Port names key the listeners istiod builds.
                                        const auto* servers = arrayAt(s.value, "servers");
                                        std::set<std::string_view> names;
                                        for (size_t i = 0; servers != nullptr && i < servers->size(); ++i) {
                                          const auto* port = find((*servers)[i], "port");
                                          std::string_view name = port != nullptr ? stringAt(*port, "name") : std::string_view();
                                          if (!name.empty() && !names.insert(name).second) {
                                            itemSite(s.child("servers"), i).child("port").fieldError("name", fmt::format("duplicate port name \"{}\"", name));
                                          }
                                        }
                                      });
  return schema;
}

}  // namespace weft::model
