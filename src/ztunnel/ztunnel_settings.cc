#include "ztunnel/ztunnel_settings.h"

#include <cstdlib>

#include "base/ipv4.h"

namespace weft::ztunnel {
namespace {

std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

}  // namespace

Result<ZtunnelSettings> ZtunnelSettings::fromEnvironment() {
  ZtunnelSettings s;
  s.nodeName = env("NODE_NAME");
  s.instanceIp = env("INSTANCE_IP");
  s.podName = env("POD_NAME");
  s.revision = env("REVISION", "default");
  s.caAddress = env("CA_ADDRESS", "istiod.istio-system.svc:15012");
  s.xdsAddress = env("XDS_ADDRESS", s.caAddress.c_str());
  s.store = env("WEFT_STORE");
  s.credentialSecret = env("NODE_CREDENTIAL_SECRET", "weft-node-credential");
  s.nodeAgentDir = env("WEFT_NODE_AGENT_DIR");
  if (s.nodeName.empty()) return makeError("NODE_NAME is not set: ztunnel must know which node it serves");
  if (!Ipv4Address::parse(s.instanceIp)) return makeError("INSTANCE_IP {:?} is not an IPv4 address", s.instanceIp);
  if (s.store.empty()) return makeError("WEFT_STORE is not set: ztunnel reads its node credential from the store");
  if (s.nodeAgentDir.empty()) return makeError("WEFT_NODE_AGENT_DIR is not set: ztunnel cannot meet its node agent");
  return s;
}

}  // namespace weft::ztunnel
