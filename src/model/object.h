#pragma once
// One Kubernetes-style object: its kind's catalogue entry, its whole content as typed JSON,
// and, when it came from a file, where its fields sat. Accessors read the common metadata;
// anything kind-specific is read from value() by the component that understands it.

#include <boost/json/value.hpp>

#include <memory>
#include <string>

#include "model/document.h"
#include "model/kinds.h"

namespace weft::model {

struct ObjectKey {
  std::string kind;  // "ConfigMap", or qualified by group: "Gateway.gateway.networking.k8s.io"
  std::string ns;    // empty for cluster-scoped kinds
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
};

// "ConfigMap", "Gateway.networking.istio.io": a kind name no other kind shares.
inline std::string qualifiedKind(const KindInfo& info) { return info.group.empty() ? info.kind : info.kind + "." + info.group; }

class Object {
 public:
  Object(const KindInfo* info, boost::json::value value, std::shared_ptr<const Document> source = nullptr)
      : info_(info), value_(std::move(value)), source_(std::move(source)) {}

  const KindInfo& info() const { return *info_; }
  const std::string& kind() const { return info_->kind; }
  std::string apiVersion() const { return stringAt("apiVersion"); }
  std::string name() const { return metadataString("name"); }
  std::string ns() const { return metadataString("namespace"); }
  // The kind is qualified by its group, since Istio and the Gateway API both have a Gateway.
  ObjectKey key() const { return {qualifiedKind(*info_), ns(), name()}; }

  const boost::json::value& value() const { return value_; }
  boost::json::value& mutableValue() { return value_; }
  const boost::json::object& metadata() const;
  boost::json::object& mutableMetadata();
  // The labels or annotations map; an empty object when absent.
  const boost::json::object& labels() const { return metadataMap("labels"); }
  const boost::json::object& annotations() const { return metadataMap("annotations"); }
  std::string label(std::string_view key) const;
  // Field `name` of the object ("spec", "data"); null when absent.
  const boost::json::value& field(std::string_view name) const;

  // "file:line" of the field at `pointer` when the object came from a file, else "".
  std::string sourceLocation(std::string_view pointer = "") const;
  const Document* source() const { return source_.get(); }

  // "VirtualService istio-system/traffic-rules", "Namespace default" (as istioctl prints).
  std::string friendlyName() const;

 private:
  std::string stringAt(std::string_view field) const;
  std::string metadataString(std::string_view field) const;
  const boost::json::object& metadataMap(std::string_view field) const;

  const KindInfo* info_;
  boost::json::value value_;
  std::shared_ptr<const Document> source_;
};

}  // namespace weft::model
