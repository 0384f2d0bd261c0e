#include "model/object.h"

#include <boost/json.hpp>

namespace weft::model {
namespace {

const boost::json::object& emptyObject() {
  static const boost::json::object empty;
  return empty;
}

}  // namespace

const boost::json::object& Object::metadata() const {
  if (const auto* meta = value_.get_object().if_contains("metadata"); meta && meta->is_object()) return meta->get_object();
  return emptyObject();
}

boost::json::object& Object::mutableMetadata() {
  auto& meta = value_.get_object()["metadata"];
  if (!meta.is_object()) meta = boost::json::object();
  return meta.get_object();
}

std::string Object::stringAt(std::string_view field) const {
  const auto* v = value_.get_object().if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string Object::metadataString(std::string_view field) const {
  const auto* v = metadata().if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const boost::json::object& Object::metadataMap(std::string_view field) const {
  const auto* v = metadata().if_contains(field);
  return v && v->is_object() ? v->get_object() : emptyObject();
}

std::string Object::label(std::string_view key) const {
  const auto* v = labels().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const boost::json::value& Object::field(std::string_view name) const {
  static const boost::json::value null;
  const auto* v = value_.get_object().if_contains(name);
  return v ? *v : null;
}

std::string Object::sourceLocation(std::string_view pointer) const {
  if (!source_) return "";
  Position at = pointer.empty() ? source_->start : source_->positions.at(pointer);
  return fmt::format("{}:{}", source_->file, at.line);
}

std::string Object::friendlyName() const {
  if (ns().empty()) return fmt::format("{} {}", kind(), name());
  return fmt::format("{} {}/{}", kind(), ns(), name());
}

}  // namespace weft::model
