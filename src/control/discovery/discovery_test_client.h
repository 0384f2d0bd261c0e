#pragma once
// A delta-xDS client for tests, over real gRPC: it sends the node and subscriptions, keeps
// what it receives in a type -> name -> Resource map, ACKs every response (or NACKs the
// ones a test tells it to reject), and reconnects with initial_resource_versions. Tests
// wait on its state with a deadline instead of sleeping.
//
// Threads: a reader thread per stream applies responses and answers them; the test's thread
// subscribes and waits. State is behind one mutex; writes to the stream behind another,
// since gRPC allows one writer at a time.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "weft/v1/discovery.grpc.pb.h"

namespace weft::control::discovery {

class DiscoveryTestClient {
 public:
  // What the client has seen, for a test to assert on.
  struct State {
    std::map<std::string, std::map<std::string, weft::v1::Resource>> resources;  // what it holds
    std::vector<weft::v1::DeltaResponse> responses;  // every response of every stream, in order
    uint64_t acks = 0;
    uint64_t nacks = 0;
    bool connected = false;
    std::optional<grpc::Status> ended;  // how the last stream ended, once it has

    const weft::v1::Resource* find(const std::string& type, const std::string& name) const;
    // The versions held of `type`, as initial_resource_versions spells them.
    std::map<std::string, std::string> versions(const std::string& type) const;
  };
  using Condition = std::function<bool(const State&)>;
  // Returns the rejection message for a response the client should NACK, nullopt to ACK.
  using Rejecter = std::function<std::optional<std::string>(const weft::v1::DeltaResponse&)>;

  // A channel with a connection of its own (not shared with other clients' channels), as
  // separate ztunnels would have.
  static std::shared_ptr<grpc::Channel> makeChannel(const std::string& target,
                                                    std::shared_ptr<grpc::ChannelCredentials> credentials,
                                                    grpc::ChannelArguments arguments = {});

  DiscoveryTestClient(std::shared_ptr<grpc::Channel> channel, weft::v1::ClientNode node);
  ~DiscoveryTestClient();
  DiscoveryTestClient(const DiscoveryTestClient&) = delete;
  DiscoveryTestClient& operator=(const DiscoveryTestClient&) = delete;

  // Opens a stream whose first request names the node. Keeps what the client holds.
  void connect();
  // Cancels the stream and waits for it to end. Keeps what the client holds.
  void disconnect();
  // disconnect(), connect(), and subscribe again to everything, each type's first request
  // carrying the versions held, as a data plane does after losing weftd.
  void reconnect();

  // The first subscribe of a type on a stream carries initial_resource_versions of what is
  // held of it. False when the stream is gone.
  bool subscribe(const std::string& type, const std::vector<std::string>& names);
  // Also drops what is held and no longer subscribed, as a data plane would.
  bool unsubscribe(const std::string& type, const std::vector<std::string>& names);

  void rejectWhen(Rejecter rejecter);

  // Waits until `condition` holds of the state; false if it still does not at the deadline.
  bool waitUntil(const Condition& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  State state() const;

 private:
  bool write(const weft::v1::DeltaRequest& request);
  void readLoop(grpc::ClientReaderWriter<weft::v1::DeltaRequest, weft::v1::DeltaResponse>* stream);
  // Both with stateMutex_ held: the ACK or NACK for a response, then its effect on the state.
  weft::v1::DeltaRequest answer(const weft::v1::DeltaResponse& response);
  void apply(const weft::v1::DeltaResponse& response, bool rejected);

  std::unique_ptr<weft::v1::DiscoveryService::Stub> stub_;
  weft::v1::ClientNode node_;

  std::mutex writeMutex_;  // one writer on the stream; guards context_ and stream_ too
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<weft::v1::DeltaRequest, weft::v1::DeltaResponse>> stream_;
  std::thread reader_;

  mutable std::mutex stateMutex_;
  std::condition_variable changed_;
  State state_;
  std::map<std::string, std::set<std::string>> subscriptions_;  // type -> names ("*" included)
  std::set<std::string> subscribedOnThisStream_;
  Rejecter rejecter_;
};

}  // namespace weft::control::discovery
