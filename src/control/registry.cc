#include "control/registry.h"

#include <boost/json.hpp>

#include "control/authorization_compiler.h"
#include "control/mesh_settings.h"
#include "control/proxy_view.h"
#include "control/request_authentication_compiler.h"
#include "model/json_access.h"
#include "model/service_ports.h"

namespace weft::control {

namespace json = boost::json;
using model::at;
using model::Object;
using model::stringAt;

namespace {

std::string labelOr(const Object& o, std::initializer_list<std::string_view> keys, std::string fallback) {
  for (auto key : keys) {
    if (auto value = o.label(key); !value.empty()) return value;
  }
  return fallback;
}

// The owning workload's name: a ReplicaSet's Deployment (the pod-template-hash suffix
// removed), a DaemonSet or other controller, else the pod itself.
std::string workloadName(const Object& pod) {
  const auto& refs = at(pod.value(), {"metadata", "ownerReferences"});
  if (refs.is_array()) {
    for (const auto& ref : refs.get_array()) {
      if (at(ref, {"controller"}) != json::value(true)) continue;
      std::string name = stringAt(ref, {"name"});
      std::string hash = pod.label("pod-template-hash");
      if (stringAt(ref, {"kind"}) == "ReplicaSet" && !hash.empty() && name.ends_with("-" + hash)) {
        return name.substr(0, name.size() - hash.size() - 1);
      }
      return name;
    }
  }
  return pod.name();
}

// istio.io/use-waypoint on the object, else on its namespace; "none" opts out. A
// waypoint's own Service and pods (gateway.istio.io/managed: istio.io-mesh-controller) never
// use one, or a namespace enrolled with --enroll-namespace would route the waypoint's
// traffic through itself.
std::string waypointFor(const Object& o, const Object* ns) {
  if (o.label("gateway.istio.io/managed") == "istio.io-mesh-controller") return {};
  std::string name = o.label("istio.io/use-waypoint");
  std::string waypointNs = o.label("istio.io/use-waypoint-namespace");
  if (name.empty() && ns != nullptr) {
    name = ns->label("istio.io/use-waypoint");
    waypointNs = ns->label("istio.io/use-waypoint-namespace");
  }
  if (name.empty() || name == "none") return {};
  return (waypointNs.empty() ? o.ns() : waypointNs) + "/" + name;
}

// A pod running weft-proxy (a gateway or waypoint, as `weft install` and the gateway
// deployer render them: image docker.io/weft/proxy:<version>). Never enrolled, it still
// needs a certificate of its own service account: for HBONE to mesh endpoints, and a
// waypoint for HBONE in.
bool runsWeftProxy(const Object& pod) {
  const auto& containers = at(pod.value(), {"spec", "containers"});
  if (!containers.is_array()) return false;
  for (const auto& container : containers.get_array()) {
    std::string image = stringAt(container, {"image"});
    if (auto digest = image.find('@'); digest != std::string::npos) image.resize(digest);
    auto slash = image.rfind('/');
    if (auto colon = image.rfind(':'); colon != std::string::npos && (slash == std::string::npos || colon > slash)) image.resize(colon);
    if (image == "weft/proxy" || image.ends_with("/weft/proxy")) return true;
  }
  return false;
}

std::string serviceHostname(const Object& service) { return service.name() + "." + service.ns() + ".svc.cluster.local"; }

weft::v1::Resource resourceNamed(const std::string& name) {
  weft::v1::Resource r;
  r.set_name(name);
  return r;
}

void addServices(const ObjectsByKind& objects, const std::map<std::string, const Object*>& namespaces, ResourceSet& out) {
  for (const auto& service : objectsOf(objects, "Service")) {
    const auto& spec = at(service.value(), {"spec"});
    if (stringAt(spec, {"type"}) == "ExternalName") continue;
    auto r = resourceNamed(service.ns() + "/" + serviceHostname(service));
    auto* s = r.mutable_service();
    s->set_name(service.name());
    s->set_namespace_(service.ns());
    s->set_hostname(serviceHostname(service));
    std::string clusterIp = stringAt(spec, {"clusterIP"});
    if (!clusterIp.empty() && clusterIp != "None") s->add_addresses(clusterIp);
    for (const auto& port : at(spec, {"ports"}).is_array() ? at(spec, {"ports"}).get_array() : json::array()) {
      auto* p = s->add_ports();
      p->set_name(stringAt(port, {"name"}));
      p->set_port(static_cast<uint32_t>(at(port, {"port"}).is_int64() ? at(port, {"port"}).get_int64() : 0));
      p->set_target_port(static_cast<uint32_t>(at(port, {"targetPort"}).is_int64() ? at(port, {"targetPort"}).get_int64() : p->port()));
      p->set_protocol(model::servicePortProtocol(port));
      p->set_protocol_unset(model::declaredServicePortProtocol(port).empty());
    }
    auto ns = namespaces.find(service.ns());
    s->set_waypoint(waypointFor(service, ns == namespaces.end() ? nullptr : ns->second));
    out[kServiceType][r.name()] = std::move(r);
  }
  for (const auto& entry : objectsOf(objects, "ServiceEntry.networking.istio.io")) {
    const auto& spec = at(entry.value(), {"spec"});
    for (const auto& host : at(spec, {"hosts"}).is_array() ? at(spec, {"hosts"}).get_array() : json::array()) {
      if (!host.is_string()) continue;
      auto r = resourceNamed(entry.ns() + "/" + std::string(host.get_string()));
      auto* s = r.mutable_service();
      s->set_name(entry.name());
      s->set_namespace_(entry.ns());
      s->set_hostname(std::string(host.get_string()));
      s->set_from_service_entry(true);
      s->set_resolution(stringAt(spec, {"resolution"}).empty() ? "NONE" : stringAt(spec, {"resolution"}));
      for (const auto& address : at(spec, {"addresses"}).is_array() ? at(spec, {"addresses"}).get_array() : json::array()) {
        if (address.is_string()) s->add_addresses(std::string(address.get_string()));
      }
      for (const auto& port : at(spec, {"ports"}).is_array() ? at(spec, {"ports"}).get_array() : json::array()) {
        auto* p = s->add_ports();
        p->set_name(stringAt(port, {"name"}));
        p->set_port(static_cast<uint32_t>(at(port, {"number"}).is_int64() ? at(port, {"number"}).get_int64() : 0));
        p->set_target_port(static_cast<uint32_t>(at(port, {"targetPort"}).is_int64() ? at(port, {"targetPort"}).get_int64() : p->port()));
        p->set_protocol(model::serviceEntryPortProtocol(port));
      }
      out[kServiceType][r.name()] = std::move(r);
    }
  }
}

void addWorkloads(const ObjectsByKind& objects, const std::map<std::string, const Object*>& namespaces,
                  const RegistrySettings& settings, RegistryBuild& build) {
  const auto& services = objectsOf(objects, "Service");
  for (const auto& pod : objectsOf(objects, "Pod")) {
    std::string ip = stringAt(pod.value(), {"status", "podIP"});
    if (ip.empty() || at(pod.value(), {"spec", "hostNetwork"}) == json::value(true)) continue;
    auto ns = namespaces.find(pod.ns());
    const Object* nsObject = ns == namespaces.end() ? nullptr : ns->second;
    std::string uid = fmt::format("{}//Pod/{}/{}", settings.clusterId, pod.ns(), pod.name());
    auto r = resourceNamed(uid);
    auto* w = r.mutable_workload();
    w->set_uid(uid);
    w->set_name(pod.name());
    w->set_namespace_(pod.ns());
    w->add_addresses(ip);
    w->set_node(stringAt(pod.value(), {"spec", "nodeName"}));
    std::string sa = stringAt(pod.value(), {"spec", "serviceAccountName"});
    w->set_service_account(sa.empty() ? "default" : sa);
    w->set_trust_domain(settings.mesh.trust_domain());
    w->set_workload_name(workloadName(pod));
    w->set_canonical_name(labelOr(pod, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}, w->workload_name()));
    w->set_canonical_revision(labelOr(pod, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}, "latest"));
    for (const auto& [key, value] : pod.labels()) {
      if (value.is_string()) (*w->mutable_labels())[std::string(key)] = std::string(value.get_string());
    }
    bool enrolled = podEnrolled(pod, nsObject, settings.revision);
    w->set_tunnel_protocol(enrolled ? weft::v1::Workload::HBONE : weft::v1::Workload::TCP);
    w->set_waypoint(enrolled ? waypointFor(pod, nsObject) : "");
    w->set_healthy(model::podReady(pod));
    for (const auto& service : services) {
      if (service.ns() != pod.ns() || !model::selectorMatches(at(service.value(), {"spec", "selector"}), pod)) continue;
      weft::v1::PortList ports;
      const auto& list = at(service.value(), {"spec", "ports"});
      for (const auto& port : list.is_array() ? list.get_array() : json::array()) {
        auto* p = ports.add_ports();
        p->set_service_port(static_cast<uint32_t>(at(port, {"port"}).is_int64() ? at(port, {"port"}).get_int64() : 0));
        p->set_target_port(static_cast<uint32_t>(model::resolveTargetPort(port, pod)));
      }
      (*w->mutable_services())[service.ns() + "/" + serviceHostname(service)] = std::move(ports);
    }
    if (enrolled) {
      ++build.enrolledWorkloads;
      build.placements.push_back({pod.ns(), w->service_account(), w->node()});
    } else if (!pod.label("gateway.networking.k8s.io/gateway-name").empty() || runsWeftProxy(pod)) {
      // A waypoint or gateway pod is never enrolled, yet speaks HBONE with its own
      // identity: its proxy asks with its node's credential, as ztunnel does.
      build.placements.push_back({pod.ns(), w->service_account(), w->node()});
    }
    build.resources[kWorkloadType][uid] = std::move(r);
  }
}

void addAuthorizations(const ObjectsByKind& objects, const RegistrySettings& settings, RegistryBuild& build) {
  auto add = [&](const Object& policy, CompiledPolicy compiled) {
    if (!compiled.authorization) {
      build.notes.push_back(fmt::format("{}: {}", policy.friendlyName(), compiled.skipped));
      return;
    }
    auto r = resourceNamed(policy.ns() + "/" + compiled.authorization->name());
    *r.mutable_authorization() = std::move(*compiled.authorization);
    build.resources[kAuthorizationType][r.name()] = std::move(r);
  };
  const std::string& root = settings.mesh.root_namespace();
  for (const auto& policy : objectsOf(objects, "AuthorizationPolicy.security.istio.io")) {
    add(policy, compileAuthorizationPolicy(policy, root));
    if (auto http = compileHttpAuthorization(policy, root)) {
      auto resource = resourceNamed(policy.ns() + "/" + policy.name());
      *resource.mutable_http_authorization() = std::move(*http);
      build.resources[kHttpAuthorizationType][resource.name()] = std::move(resource);
    }
  }
  for (const auto& policy : objectsOf(objects, "PeerAuthentication.security.istio.io")) add(policy, compilePeerAuthentication(policy, root));
  for (const auto& policy : objectsOf(objects, "RequestAuthentication.security.istio.io")) {
    if (auto jwt = compileRequestAuthentication(policy, root, {settings.jwks, build.jwksSources}, build.notes)) {
      auto resource = resourceNamed(policy.ns() + "/" + policy.name());
      *resource.mutable_jwt_authentication() = std::move(*jwt);
      build.resources[kJwtAuthenticationType][resource.name()] = std::move(resource);
    }
  }
}

}  // namespace

const std::vector<model::Object>& objectsOf(const ObjectsByKind& objects, const std::string& kind) {
  static const std::vector<model::Object> none;
  auto found = objects.find(kind);
  return found == objects.end() ? none : found->second;
}

const model::Object* findObject(const ObjectsByKind& objects, const model::ObjectKey& key) {
  for (const auto& o : objectsOf(objects, key.kind)) {
    if (o.ns() == key.ns && o.name() == key.name) return &o;
  }
  return nullptr;
}

const std::vector<std::string>& registryKinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k{"Namespace", "Pod", "Service", "ConfigMap", "ServiceEntry.networking.istio.io",
                               "AuthorizationPolicy.security.istio.io", "PeerAuthentication.security.istio.io",
                               "RequestAuthentication.security.istio.io"};
    for (const auto& extra : proxyViewKinds()) k.push_back(extra);
    return k;
  }();
  return kinds;
}

namespace {

// The mesh config as the istio-<rev> ConfigMap says now, so an edit reaches the data
// planes without a restart, as istiod's mesh watcher does. The trust domain stays the one
// weftd started with: its CA signs for it, and changing it needs a restart.
weft::v1::MeshConfig liveMeshConfig(const ObjectsByKind& objects, const RegistrySettings& settings, std::vector<std::string>& notes) {
  std::string revision = settings.revision == "default" ? "" : settings.revision;
  std::string name = meshConfigMapName(revision);
  for (const auto& map : objectsOf(objects, "ConfigMap")) {
    if (map.ns() != "istio-system" || map.name() != name) continue;
    auto parsed = parseMeshConfig(model::stringAt(map.value(), {"data", "mesh"}), "ConfigMap istio-system/" + name, revision);
    if (!parsed) {
      notes.push_back(parsed.error().message + ": the previous mesh config stays");
      return settings.mesh;
    }
    if (parsed->trust_domain() != settings.mesh.trust_domain()) {
      notes.push_back(fmt::format("ConfigMap istio-system/{}: trustDomain {} takes effect when weftd restarts", name, parsed->trust_domain()));
      parsed->set_trust_domain(settings.mesh.trust_domain());
    }
    return *parsed;
  }
  return settings.mesh;
}

}  // namespace

RegistryBuild buildRegistry(const ObjectsByKind& objects, const RegistrySettings& startSettings) {
  RegistryBuild build;
  RegistrySettings settings = startSettings;
  settings.mesh = liveMeshConfig(objects, startSettings, build.notes);
  std::map<std::string, const Object*> namespaces;
  for (const auto& ns : objectsOf(objects, "Namespace")) namespaces[ns.name()] = &ns;
  addWorkloads(objects, namespaces, settings, build);
  addServices(objects, namespaces, build.resources);
  addAuthorizations(objects, settings, build);
  addProxyView(objects, build, settings.mesh);
  auto mesh = resourceNamed("mesh");
  *mesh.mutable_mesh_config() = settings.mesh;
  build.resources[kMeshConfigType]["mesh"] = std::move(mesh);
  return build;
}

}  // namespace weft::control
