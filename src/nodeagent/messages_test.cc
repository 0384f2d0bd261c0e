#include "nodeagent/messages.h"

#include <gtest/gtest.h>

namespace weft::nodeagent {
namespace {

AddWorkload sampleAdd() { return {"0b9e-uid", "httpbin-7f9c-abcde", "default", "httpbin", "198.18.1.5", "istio-control-plane"}; }

TEST(NodeAgentMessages, RoundTripsEveryMessage) {
  for (const AgentMessage& m : {AgentMessage(sampleAdd()), AgentMessage(DelWorkload{"0b9e-uid"}), AgentMessage(SnapshotSent{})}) {
    size_t fds = std::holds_alternative<AddWorkload>(m) ? 1 : 0;
    auto decoded = decodeAgentMessage(encode(m), fds);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, m) << typeName(m);
  }
  for (const ZtunnelMessage& m : {ZtunnelMessage(Hello{1, "istio-worker", "prod"}), ZtunnelMessage(Ack{}), ZtunnelMessage(Ack{"no listeners"})}) {
    auto decoded = decodeZtunnelMessage(encode(m), 0);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, m) << typeName(m);
  }
}

TEST(NodeAgentMessages, WireFormatIsPlainJson) {
  EXPECT_EQ(encode(AgentMessage(DelWorkload{"u1"})), R"({"type":"del","uid":"u1"})");
  EXPECT_EQ(encode(ZtunnelMessage(Hello{1, "n", "default"})), R"({"type":"hello","version":1,"node":"n","revision":"default"})");
  EXPECT_EQ(encode(AgentMessage(SnapshotSent{})), R"({"type":"snapshot-sent"})");
  EXPECT_EQ(encode(ZtunnelMessage(Ack{})), R"({"type":"ack","error":""})");
}

TEST(NodeAgentMessages, IgnoresUnknownFields) {
  auto decoded = decodeAgentMessage(R"({"type":"del","uid":"u1","future":{"x":1}})", 0);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<DelWorkload>(*decoded).uid, "u1");
}

void expectAgentError(std::string_view bytes, size_t fds, std::string_view words) {
  auto decoded = decodeAgentMessage(bytes, fds);
  ASSERT_FALSE(decoded) << bytes;
  EXPECT_NE(decoded.error().message.find(words), std::string::npos) << decoded.error().message;
}

void expectZtunnelError(std::string_view bytes, size_t fds, std::string_view words) {
  auto decoded = decodeZtunnelMessage(bytes, fds);
  ASSERT_FALSE(decoded) << bytes;
  EXPECT_NE(decoded.error().message.find(words), std::string::npos) << decoded.error().message;
}

TEST(NodeAgentMessages, RefusesBadInput) {
  std::string add = encode(AgentMessage(sampleAdd()));
  expectAgentError(add, 0, "carries 0 file descriptors, expected 1");
  expectAgentError(add, 2, "carries 2 file descriptors, expected 1");
  expectAgentError(R"({"type":"del","uid":"u"})", 1, "del carries 1 file descriptors");
  expectAgentError(R"({"type":"snapshot-sent"})", 1, "snapshot-sent carries 1");
  expectAgentError("not json", 0, "not JSON");
  expectAgentError("", 0, "not JSON");
  expectAgentError("[1,2]", 0, "not a JSON object");
  expectAgentError(R"({"uid":"u"})", 0, "no \"type\"");
  expectAgentError(R"({"type":7})", 0, "no \"type\"");
  expectAgentError(R"({"type":"keep","uid":"u"})", 0, "unknown message type \"keep\"");
  expectAgentError(R"({"type":"ack","error":""})", 0, "unknown message type \"ack\"");
  expectAgentError(R"({"type":"del"})", 0, "\"uid\" is missing");
  expectAgentError(R"({"type":"del","uid":""})", 0, "\"uid\" is empty");
  expectAgentError(R"({"type":"del","uid":5})", 0, "\"uid\" is not a string");
  expectAgentError(R"({"type":"del","uid":")" + std::string(600, 'u') + "\"}", 0, "longer than");
  expectAgentError(std::string(kMaxMessageSize + 1, ' '), 0, "larger than 4096");
  AddWorkload badAddress = sampleAdd();
  badAddress.address = "198.18.1";
  expectAgentError(encode(AgentMessage(badAddress)), 1, "add: \"address\"");
  AddWorkload noNamespace = sampleAdd();
  noNamespace.ns = "";
  expectAgentError(encode(AgentMessage(noNamespace)), 1, "\"namespace\" is empty");

  expectZtunnelError(R"({"type":"hello","version":2,"node":"n","revision":""})", 0, "version 2 is not supported");
  expectZtunnelError(R"({"type":"hello","node":"n"})", 0, "\"version\" is missing");
  expectZtunnelError(R"({"type":"hello","version":1,"revision":"x"})", 0, "\"node\" is missing");
  expectZtunnelError(R"({"type":"ack"})", 0, "\"error\" is missing");
  expectZtunnelError(R"({"type":"ack","error":""})", 1, "ack carries 1");
  expectZtunnelError(R"({"type":"add"})", 0, "unknown message type \"add\"");
}

}  // namespace
}  // namespace weft::nodeagent
