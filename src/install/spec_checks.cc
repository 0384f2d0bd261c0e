#include "install/spec_checks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <string>

#include "install/install_names.h"
#include "install/spec_access.h"
#include "model/decoder.h"

namespace weft::install {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 7> kComponents = {"base",         "pilot",           "cni",           "ztunnel",
                                                         "istiodRemote", "ingressGateways", "egressGateways"};

Status checkComponentNames(const json::object& spec, std::string_view source) {
  const auto& components = specAt(spec, {"components"});
  if (!components.is_object()) return {};  // the schema reports a wrong type
  for (const auto& entry : components.get_object()) {
    if (std::find(kComponents.begin(), kComponents.end(), entry.key()) == kComponents.end()) {
      return makeError("{}: spec.components.{}: unknown component \"{}\": known components are {}", source,
                       std::string_view(entry.key()), std::string_view(entry.key()), fmt::join(kComponents, ", "));
    }
  }
  return {};
}

Status checkOverlays(const json::value& component, const std::string& where) {
  if (!component.is_object()) return {};
  const auto& overlays = specAt(component.get_object(), {"k8s", "overlays"});
  if (overlays.is_array() && !overlays.get_array().empty()) {
    return makeError(
        "{}.k8s.overlays: not supported by weft install (Weft's objects differ from Istio's charts); "
        "change the installed objects with `weft apply` instead",
        where);
  }
  return {};
}

}  // namespace

Status validateSpec(const json::object& spec, std::string_view source) {
  WEFT_TRY(checkComponentNames(spec, source));
  model::Document document;
  document.file = std::string(source);
  document.value = json::object{
      {"apiVersion", "install.istio.io/v1alpha1"},
      {"kind", "IstioOperator"},
      {"metadata", json::object{{"name", "installed-state"}, {"namespace", kIstioNamespace}}},
      {"spec", spec},
  };
  auto decoded = model::decodeDocument(std::move(document), {});
  if (!decoded.ok()) return Error{fmt::format("{}", fmt::join(decoded.errors, "\n"))};
  return {};
}

Status checkSupported(const json::object& spec) {
  auto inIstioNamespace = [](std::string_view where, const json::value& ns) -> Status {
    if (ns.is_string() && !ns.get_string().empty() && ns.get_string() != kIstioNamespace) {
      return makeError("spec.{}: Weft runs its control plane and ztunnel in {}, not \"{}\"", where, kIstioNamespace,
                       std::string_view(ns.get_string()));
    }
    return {};
  };
  WEFT_TRY(inIstioNamespace("namespace", specAt(spec, {"namespace"})));
  WEFT_TRY(inIstioNamespace("components.pilot.namespace", specAt(spec, {"components", "pilot", "namespace"})));
  WEFT_TRY(inIstioNamespace("components.ztunnel.namespace", specAt(spec, {"components", "ztunnel", "namespace"})));
  if (specAt(spec, {"components", "istiodRemote", "enabled"}) == json::value(true)) {
    return makeError("spec.components.istiodRemote: a remote control plane is not supported by weft install");
  }
  const auto& components = specAt(spec, {"components"});
  if (!components.is_object()) return {};
  for (const auto& entry : components.get_object()) {
    std::string where = fmt::format("spec.components.{}", std::string_view(entry.key()));
    if (entry.value().is_array()) {
      for (size_t i = 0; i < entry.value().get_array().size(); ++i) {
        WEFT_TRY(checkOverlays(entry.value().get_array()[i], fmt::format("{}[{}]", where, i)));
      }
    } else {
      WEFT_TRY(checkOverlays(entry.value(), where));
    }
  }
  return {};
}

}  // namespace weft::install
