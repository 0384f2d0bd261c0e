#include "hbone/h2_codec.h"

#include <nghttp2/nghttp2.h>

#include <gtest/gtest.h>

namespace weft::hbone {
namespace {

std::span<const uint8_t> asBytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// A client and a server codec joined in memory; pump() carries bytes until both are quiet.
struct CodecPair {
  std::chrono::steady_clock::time_point now{};
  std::unique_ptr<H2Codec> client;
  std::unique_ptr<H2Codec> server;
  std::vector<H2Event> clientEvents;
  std::vector<H2Event> serverEvents;

  explicit CodecPair(H2Settings serverSettings = H2Settings::server()) {
    auto clock = [this] { return now; };
    client = std::move(H2Codec::make(H2Role::kClient, H2Settings::client(), clock).value());
    server = std::move(H2Codec::make(H2Role::kServer, serverSettings, clock).value());
    pump();
  }

  void pump() {
    for (int round = 0; round < 1000; ++round) {
      std::string toServer = client->takeOutput();
      std::string toClient = server->takeOutput();
      if (toServer.empty() && toClient.empty()) return;
      if (!toServer.empty()) server->receive(asBytes(toServer));
      if (!toClient.empty()) client->receive(asBytes(toClient));
      for (auto& e : client->takeEvents()) clientEvents.push_back(std::move(e));
      for (auto& e : server->takeEvents()) serverEvents.push_back(std::move(e));
    }
    FAIL() << "codecs never went quiet";
  }

  template <class T>
  static std::vector<T> of(const std::vector<H2Event>& events) {
    std::vector<T> out;
    for (const auto& e : events)
      if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
    return out;
  }
  static size_t dataBytes(const std::vector<H2Event>& events, int32_t id) {
    size_t n = 0;
    for (const auto& d : of<StreamDataEvent>(events))
      if (d.streamId == id) n += d.data.size();
    return n;
  }

  int32_t openAccepted() {
    int32_t id = client->submitConnect("10.0.0.1:80", {{"baggage", "k=v"}}).value();
    pump();
    EXPECT_TRUE(server->submitResponse(id, 200, {}, false).ok());
    pump();
    return id;
  }
};

TEST(H2Codec, ConnectRequestCarriesAuthorityAndHeaders) {
  CodecPair pair;
  int32_t id = pair.client->submitConnect("10.0.0.1:8080", {{"forwarded", "for=\"1.2.3.4\""}, {"traceparent", "00-x"}})
                   .value();
  pair.pump();
  auto requests = CodecPair::of<StreamHeadersEvent>(pair.serverEvents);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].streamId, id);
  EXPECT_EQ(findHeader(requests[0].headers, ":method"), "CONNECT");
  EXPECT_EQ(findHeader(requests[0].headers, ":authority"), "10.0.0.1:8080");
  EXPECT_EQ(findHeader(requests[0].headers, "forwarded"), "for=\"1.2.3.4\"");
  EXPECT_EQ(findHeader(requests[0].headers, "traceparent"), "00-x");
  EXPECT_FALSE(findHeader(requests[0].headers, ":path"));

  ASSERT_TRUE(pair.server->submitResponse(id, 200, {{"baggage", "a=b"}}, false).ok());
  pair.pump();
  auto responses = CodecPair::of<StreamHeadersEvent>(pair.clientEvents);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(findHeader(responses[0].headers, ":status"), "200");
  EXPECT_EQ(findHeader(responses[0].headers, "baggage"), "a=b");
}

TEST(H2Codec, RefusesUpperCaseAndPseudoHeadersWeWouldSend) {
  CodecPair pair;
  EXPECT_FALSE(pair.client->submitConnect("10.0.0.1:80", {{"Baggage", "x"}}).ok());
  EXPECT_FALSE(pair.client->submitConnect("10.0.0.1:80", {{":path", "/"}}).ok());
  EXPECT_FALSE(pair.client->submitConnect("10.0.0.1:80", {{"connection", "close"}}).ok());
}

TEST(H2Codec, DataBothWaysAndHalfClose) {
  CodecPair pair;
  int32_t id = pair.openAccepted();
  ASSERT_TRUE(pair.client->submitData(id, asBytes("hello")).ok());
  ASSERT_TRUE(pair.client->submitEnd(id).ok());
  pair.pump();
  EXPECT_EQ(CodecPair::dataBytes(pair.serverEvents, id), 5u);
  ASSERT_EQ(CodecPair::of<StreamEndEvent>(pair.serverEvents).size(), 1u);
  EXPECT_TRUE(CodecPair::of<StreamClosedEvent>(pair.serverEvents).empty()) << "half-closed, not closed";

  // The server can still answer after the client half-closed.
  ASSERT_TRUE(pair.server->submitData(id, asBytes("world!")).ok());
  ASSERT_TRUE(pair.server->submitEnd(id).ok());
  pair.pump();
  EXPECT_EQ(CodecPair::dataBytes(pair.clientEvents, id), 6u);
  auto closed = CodecPair::of<StreamClosedEvent>(pair.serverEvents);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].errorCode, 0u);
  EXPECT_FALSE(pair.client->submitData(id, asBytes("late")).ok());
}

TEST(H2Codec, RequestStreamsAndTrailersAfterTheBody) {
  CodecPair pair;
  // A request without body ends on its HEADERS; one with a body ends on its last DATA.
  int32_t bare = pair.client->submitRequest({"GET", "http", "api:80", "/a"}, {{"x-k", "v"}}, true).value();
  int32_t posted = pair.client->submitRequest({"POST", "http", "api:80", "/pkg.Svc/Call"}, {{"te", "trailers"}}, false).value();
  ASSERT_TRUE(pair.client->submitData(posted, asBytes("msg")).ok());
  ASSERT_TRUE(pair.client->submitEnd(posted).ok());
  pair.pump();
  auto requests = CodecPair::of<StreamHeadersEvent>(pair.serverEvents);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(findHeader(requests[0].headers, ":method"), "GET");
  EXPECT_EQ(findHeader(requests[0].headers, ":scheme"), "http");
  EXPECT_EQ(findHeader(requests[0].headers, ":authority"), "api:80");
  EXPECT_EQ(findHeader(requests[0].headers, ":path"), "/a");
  EXPECT_EQ(findHeader(requests[0].headers, "x-k"), "v");
  EXPECT_EQ(CodecPair::dataBytes(pair.serverEvents, posted), 3u);
  EXPECT_EQ(CodecPair::of<StreamEndEvent>(pair.serverEvents).size(), 2u);
  EXPECT_FALSE(pair.server->submitRequest({"GET", "http", "a", "/"}, {}, true).ok()) << "a server opens no requests";

  // Body, then trailers carrying END_STREAM: the client sees headers, data, headers, end.
  ASSERT_TRUE(pair.server->submitResponse(posted, 200, {{"content-type", "application/grpc"}}, false).ok());
  ASSERT_TRUE(pair.server->submitData(posted, asBytes("reply")).ok());
  EXPECT_FALSE(pair.server->submitEnd(posted, {{"Grpc-Status", "0"}}).ok()) << "upper case refused";
  ASSERT_TRUE(pair.server->submitEnd(posted, {{"grpc-status", "0"}, {"grpc-message", "ok"}}).ok());
  pair.pump();
  std::vector<std::string> order;
  for (const auto& e : pair.clientEvents) {
    if (auto* h = std::get_if<StreamHeadersEvent>(&e); h && h->streamId == posted) order.push_back(findHeader(h->headers, ":status") ? "head" : "trailers");
    if (auto* d = std::get_if<StreamDataEvent>(&e); d && d->streamId == posted) order.push_back("data");
    if (auto* end = std::get_if<StreamEndEvent>(&e); end && end->streamId == posted) order.push_back("end");
  }
  EXPECT_EQ(order, (std::vector<std::string>{"head", "data", "trailers", "end"}));
  auto headers = CodecPair::of<StreamHeadersEvent>(pair.clientEvents);
  EXPECT_EQ(findHeader(headers.back().headers, "grpc-status"), "0");
  EXPECT_EQ(findHeader(headers.back().headers, "grpc-message"), "ok");
  (void)bare;
}

TEST(H2Codec, UnconsumedDataStopsAtTheStreamWindow) {
  CodecPair pair;
  int32_t id = pair.openAccepted();
  std::string big(6u << 20, 'x');
  ASSERT_TRUE(pair.server->submitData(id, asBytes(big)).ok());
  pair.pump();
  EXPECT_EQ(CodecPair::dataBytes(pair.clientEvents, id), 4u << 20) << "exactly the 4 MiB stream window";
  EXPECT_EQ(pair.server->queuedToSend(id), 2u << 20);

  // nghttp2 sends WINDOW_UPDATE once half the window is consumed.
  pair.client->consume(id, 1u << 20);
  pair.pump();
  EXPECT_EQ(CodecPair::dataBytes(pair.clientEvents, id), 4u << 20);
  pair.client->consume(id, 1u << 20);
  pair.pump();
  EXPECT_EQ(CodecPair::dataBytes(pair.clientEvents, id), 6u << 20);
  EXPECT_EQ(pair.server->queuedToSend(id), 0u);
}

TEST(H2Codec, UnconsumedDataStopsAtTheConnectionWindow) {
  CodecPair pair;
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(pair.openAccepted());
  std::string big(4u << 20, 'y');
  for (int32_t id : ids) ASSERT_TRUE(pair.server->submitData(id, asBytes(big)).ok());
  pair.pump();
  size_t total = 0;
  for (int32_t id : ids) total += CodecPair::dataBytes(pair.clientEvents, id);
  EXPECT_EQ(total, 16u << 20) << "the 16 MiB connection window bounds all streams together";
}

TEST(H2Codec, AdvertisesServerLimits) {
  CodecPair pair;
  EXPECT_EQ(pair.client->peerMaxConcurrentStreams(), 200u);
  EXPECT_EQ(CodecPair::of<SettingsEvent>(pair.clientEvents).size(), 1u);
}

TEST(H2Codec, PingIsAcknowledged) {
  CodecPair pair;
  pair.client->submitPing();
  pair.pump();
  EXPECT_EQ(CodecPair::of<PingAckEvent>(pair.clientEvents).size(), 1u);
}

TEST(H2Codec, RapidResetEndsTheConnectionWithEnhanceYourCalm) {
  H2Settings settings = H2Settings::server();
  settings.maxResetsPerWindow = 20;
  CodecPair pair(settings);
  for (int i = 0; i < 25 && pair.server->failure() == H2Failure::kNone; ++i) {
    int32_t id = pair.client->submitConnect("10.0.0.1:80", {}).value();
    pair.pump();  // the server sees the stream open, then the reset
    pair.client->submitReset(id, NGHTTP2_CANCEL);
    pair.pump();
  }
  EXPECT_EQ(pair.server->failure(), H2Failure::kRapidReset);
  EXPECT_EQ(pair.server->sentGoawayCode(), NGHTTP2_ENHANCE_YOUR_CALM);
  auto goaways = CodecPair::of<GoawayEvent>(pair.clientEvents);
  ASSERT_EQ(goaways.size(), 1u);
  EXPECT_EQ(goaways[0].errorCode, uint32_t{NGHTTP2_ENHANCE_YOUR_CALM});
  EXPECT_FALSE(pair.client->canOpenStreams());
}

TEST(H2Codec, ResetsSpreadOverTimeAreFine) {
  H2Settings settings = H2Settings::server();
  settings.maxResetsPerWindow = 5;
  settings.resetWindow = std::chrono::seconds(1);
  CodecPair pair(settings);
  for (int i = 0; i < 20; ++i) {
    int32_t id = pair.client->submitConnect("10.0.0.1:80", {}).value();
    pair.pump();
    pair.client->submitReset(id, NGHTTP2_CANCEL);
    pair.pump();
    pair.now += std::chrono::milliseconds(300);
  }
  EXPECT_EQ(pair.server->failure(), H2Failure::kNone);
}

TEST(H2Codec, GarbagePrefaceFailsTheServer) {
  auto server = H2Codec::make(H2Role::kServer, H2Settings::server()).value();
  EXPECT_EQ(server->receive(asBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), H2Failure::kBadPreface);
  EXPECT_FALSE(server->wantsRead());
}

TEST(H2Codec, OversizedHeaderListResetsOnlyThatStream) {
  H2Settings settings = H2Settings::server();
  settings.maxHeaderList = 4096;
  CodecPair pair(settings);
  int32_t id = pair.client->submitConnect("10.0.0.1:80", {{"baggage", std::string(6000, 'b')}}).value();
  pair.pump();
  EXPECT_TRUE(CodecPair::of<StreamHeadersEvent>(pair.serverEvents).empty());
  auto closed = CodecPair::of<StreamClosedEvent>(pair.clientEvents);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].streamId, id);
  EXPECT_NE(closed[0].errorCode, 0u);
  EXPECT_EQ(pair.server->failure(), H2Failure::kNone);
  pair.openAccepted();  // the connection still works
  EXPECT_EQ(CodecPair::of<StreamHeadersEvent>(pair.serverEvents).size(), 1u);
}

TEST(H2Codec, ResetIsSeenByThePeer) {
  CodecPair pair;
  int32_t id = pair.openAccepted();
  pair.server->submitReset(id, NGHTTP2_CONNECT_ERROR);
  pair.pump();
  auto closed = CodecPair::of<StreamClosedEvent>(pair.clientEvents);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].errorCode, uint32_t{NGHTTP2_CONNECT_ERROR});
}

}  // namespace
}  // namespace weft::hbone
