#include "nodeagent/messages.h"

#include <boost/json.hpp>

#include "base/ipv4.h"

namespace weft::nodeagent {

namespace json = boost::json;

namespace {

constexpr size_t kMaxFieldLength = 512;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

std::string serialize(json::object o) { return json::serialize(o); }

// The document's object and its "type", after the checks every message shares.
Result<std::pair<json::object, std::string>> parseEnvelope(std::string_view bytes) {
  if (bytes.size() > kMaxMessageSize) return makeError("message of {} bytes is larger than {}", bytes.size(), kMaxMessageSize);
  boost::system::error_code ec;
  json::value value = json::parse(bytes, ec);
  if (ec) return makeError("message is not JSON: {}", ec.message());
  if (!value.is_object()) return makeError("message is not a JSON object");
  json::object& object = value.as_object();
  const json::value* type = object.if_contains("type");
  if (type == nullptr || !type->is_string()) return makeError("message has no \"type\"");
  std::string name(type->get_string());
  return std::pair{std::move(object), std::move(name)};
}

// A string field; `required` ones must be present and non-empty.
Result<std::string> field(const json::object& object, std::string_view type, std::string_view name, bool required = true) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr) {
    if (required) return makeError("{}: \"{}\" is missing", type, name);
    return std::string();
  }
  if (!value->is_string()) return makeError("{}: \"{}\" is not a string", type, name);
  std::string text(value->get_string());
  if (required && text.empty()) return makeError("{}: \"{}\" is empty", type, name);
  if (text.size() > kMaxFieldLength) return makeError("{}: \"{}\" is longer than {} bytes", type, name, kMaxFieldLength);
  return text;
}

Status expectFds(std::string_view type, size_t fds, size_t wanted) {
  if (fds != wanted) return makeError("{} carries {} file descriptors, expected {}", type, fds, wanted);
  return {};
}

#define WEFT_FIELD(var, ...)                        \
  auto var##_ = field(__VA_ARGS__);                 \
  if (!var##_) return var##_.error();               \
  std::string var = std::move(*var##_)

Result<AgentMessage> decodeAdd(const json::object& o, size_t fds) {
  WEFT_TRY(expectFds("add", fds, 1));
  WEFT_FIELD(uid, o, "add", "uid");
  WEFT_FIELD(name, o, "add", "name");
  WEFT_FIELD(ns, o, "add", "namespace");
  WEFT_FIELD(serviceAccount, o, "add", "serviceAccount");
  WEFT_FIELD(address, o, "add", "address");
  WEFT_FIELD(node, o, "add", "node");
  if (auto parsed = Ipv4Address::parse(address); !parsed) return parsed.error().wrap("add: \"address\"");
  return AgentMessage(AddWorkload{uid, name, ns, serviceAccount, address, node});
}

}  // namespace

std::string encode(const AgentMessage& message) {
  return std::visit(Overloaded{[](const AddWorkload& m) {
                                 return serialize({{"type", "add"},
                                                   {"uid", m.uid},
                                                   {"name", m.name},
                                                   {"namespace", m.ns},
                                                   {"serviceAccount", m.serviceAccount},
                                                   {"address", m.address},
                                                   {"node", m.node}});
                               },
                               [](const DelWorkload& m) { return serialize({{"type", "del"}, {"uid", m.uid}}); },
                               [](const SnapshotSent&) { return serialize({{"type", "snapshot-sent"}}); }},
                    message);
}

std::string encode(const ZtunnelMessage& message) {
  return std::visit(
      Overloaded{[](const Hello& m) { return serialize({{"type", "hello"}, {"version", m.version}, {"node", m.node}, {"revision", m.revision}}); },
                 [](const Ack& m) { return serialize({{"type", "ack"}, {"error", m.error}}); }},
      message);
}

Result<AgentMessage> decodeAgentMessage(std::string_view bytes, size_t fds) {
  auto envelope = parseEnvelope(bytes);
  if (!envelope) return envelope.error();
  const auto& [o, type] = *envelope;
  if (type == "add") return decodeAdd(o, fds);
  if (type == "del") {
    WEFT_TRY(expectFds(type, fds, 0));
    WEFT_FIELD(uid, o, type, "uid");
    return AgentMessage(DelWorkload{uid});
  }
  if (type == "snapshot-sent") {
    WEFT_TRY(expectFds(type, fds, 0));
    return AgentMessage(SnapshotSent{});
  }
  return makeError("unknown message type \"{}\"", type.substr(0, 64));
}

Result<ZtunnelMessage> decodeZtunnelMessage(std::string_view bytes, size_t fds) {
  auto envelope = parseEnvelope(bytes);
  if (!envelope) return envelope.error();
  const auto& [o, type] = *envelope;
  if (type != "hello" && type != "ack") return makeError("unknown message type \"{}\"", type.substr(0, 64));
  WEFT_TRY(expectFds(type, fds, 0));
  if (type == "ack") {
    WEFT_FIELD(error, o, type, "error", false);
    if (o.if_contains("error") == nullptr) return makeError("ack: \"error\" is missing");
    return ZtunnelMessage(Ack{error});
  }
  const json::value* version = o.if_contains("version");
  if (version == nullptr || !version->is_int64()) return makeError("hello: \"version\" is missing or not an integer");
  if (version->get_int64() != kProtocolVersion) {
    return makeError("hello: protocol version {} is not supported (this node agent speaks {})", version->get_int64(), kProtocolVersion);
  }
  WEFT_FIELD(node, o, type, "node");
  WEFT_FIELD(revision, o, type, "revision", false);
  return ZtunnelMessage(Hello{kProtocolVersion, node, revision});
}

std::string_view typeName(const AgentMessage& message) {
  return std::visit(Overloaded{[](const AddWorkload&) { return std::string_view("add"); },
                               [](const DelWorkload&) { return std::string_view("del"); },
                               [](const SnapshotSent&) { return std::string_view("snapshot-sent"); }},
                    message);
}

std::string_view typeName(const ZtunnelMessage& message) {
  return std::holds_alternative<Hello>(message) ? "hello" : "ack";
}

}  // namespace weft::nodeagent
