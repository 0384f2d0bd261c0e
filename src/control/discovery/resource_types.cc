#include "control/discovery/resource_types.h"

namespace weft::control::discovery {

const google::protobuf::Message* bodyOf(const weft::v1::Resource& resource) {
  // Reflection over the oneof rather than a switch on body_case(), so that adding a body
  // type to discovery.proto is the whole change.
  static const google::protobuf::OneofDescriptor* body = weft::v1::Resource::descriptor()->FindOneofByName("body");
  const google::protobuf::FieldDescriptor* field = resource.GetReflection()->GetOneofFieldDescriptor(resource, body);
  if (field == nullptr) return nullptr;
  return &resource.GetReflection()->GetMessage(resource, field);
}

Result<std::string> typeUrlOf(const weft::v1::Resource& resource) {
  const google::protobuf::Message* body = bodyOf(resource);
  if (body == nullptr) return makeError("resource \"{}\" has no body", resource.name());
  return body->GetDescriptor()->full_name();
}

}  // namespace weft::control::discovery
