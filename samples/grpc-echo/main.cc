// weft-grpc-echo: a gRPC server and client for the local cluster's tests, on real gRPC C++
// (what Istio's samples use fortio's gRPC ping for). It needs no .proto: the server
// registers a generic service that answers every method, and the client calls any method
// by name, so gateways and waypoints see ordinary gRPC over HTTP/2.
//
//   weft-grpc-echo serve [--port 9000] [--name v1]
//     A method ending in "/Fail" answers UNAVAILABLE; any other answers
//     "<name> <method> <request>" with the trailer x-echo-server: <name>.
//   weft-grpc-echo call ADDRESS [--method /echo.Echo/Say] [--message hi] [--authority HOST]
//                  [--count 1] [--timeout-ms 5000] [--header name=value]...
//     One line per call: "OK <reply> server=<trailer>" or "<STATUS> <message>"; exits 0
//     when every call succeeded, 2 otherwise.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <condition_variable>
#include <pthread.h>
#include <signal.h>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace {

std::string bytesOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return "";
  std::string out;
  for (const auto& slice : slices) out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return out;
}

grpc::ByteBuffer bufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// One call: read the request, answer once, finish.
class EchoReactor : public grpc::ServerGenericBidiReactor {
 public:
  EchoReactor(grpc::GenericCallbackServerContext* context, const std::string& name) : context_(context), name_(name) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    const std::string& method = context_->method();
    if (method.size() >= 5 && method.compare(method.size() - 5, 5, "/Fail") == 0) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "asked to fail"));
      return;
    }
    context_->AddTrailingMetadata("x-echo-server", name_);
    response_ = bufferOf(name_ + " " + method + " " + bytesOf(request_));
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  grpc::GenericCallbackServerContext* context_;
  std::string name_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class EchoService : public grpc::CallbackGenericService {
 public:
  explicit EchoService(std::string name) : name_(std::move(name)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    return new EchoReactor(context, name_);
  }

 private:
  std::string name_;
};

int serve(int port, const std::string& name) {
  // SIGTERM and SIGINT are blocked before gRPC starts its threads (they inherit the mask),
  // and this thread waits for them: no work in a signal handler.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  EchoService service(name);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("0.0.0.0:" + std::to_string(port), grpc::InsecureServerCredentials(), &bound);
  builder.RegisterCallbackGenericService(&service);
  auto server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::fprintf(stderr, "weft-grpc-echo: cannot listen on port %d\n", port);
    return 1;
  }
  std::printf("weft-grpc-echo %s: serving gRPC (h2c) on 0.0.0.0:%d\n", name.c_str(), bound);
  std::fflush(stdout);
  int received = 0;
  sigwait(&stopSignals, &received);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

struct CallOptions {
  std::string address;
  std::string method = "/echo.Echo/Say";
  std::string message = "hi";
  std::string authority;
  int count = 1;
  int timeoutMs = 5000;
  std::vector<std::string> headers;
};

// A blocking unary call on the generic stub.
grpc::Status callOnce(grpc::GenericStub& stub, const CallOptions& options, std::string& reply, std::string& server) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options.timeoutMs));
  for (const auto& header : options.headers) {
    auto equals = header.find('=');
    if (equals != std::string::npos) context.AddMetadata(header.substr(0, equals), header.substr(equals + 1));
  }
  grpc::ByteBuffer request = bufferOf(options.message);
  grpc::ByteBuffer response;
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  grpc::Status status;
  stub.UnaryCall(&context, options.method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard lock(mutex);
    status = std::move(s);
    finished = true;
    done.notify_one();
  });
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return finished; });
  reply = bytesOf(response);
  auto trailer = context.GetServerTrailingMetadata().find("x-echo-server");
  server = trailer == context.GetServerTrailingMetadata().end() ? "" : std::string(trailer->second.data(), trailer->second.size());
  return status;
}

const char* statusName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",        "CANCELLED",         "UNKNOWN",        "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                       "NOT_FOUND", "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                       "ABORTED",   "OUT_OF_RANGE",      "UNIMPLEMENTED",  "INTERNAL",         "UNAVAILABLE",
                                       "DATA_LOSS", "UNAUTHENTICATED"};
  auto index = static_cast<size_t>(code);
  return index < sizeof kNames / sizeof kNames[0] ? kNames[index] : "UNKNOWN";
}

int call(const CallOptions& options) {
  grpc::ChannelArguments args;
  if (!options.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, options.authority);
  auto channel = grpc::CreateCustomChannel(options.address, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  bool allOk = true;
  for (int i = 0; i < options.count; ++i) {
    std::string reply, server;
    grpc::Status status = callOnce(stub, options, reply, server);
    if (status.ok()) {
      std::printf("OK %s server=%s\n", reply.c_str(), server.c_str());
    } else {
      allOk = false;
      std::printf("%s %s\n", statusName(status.error_code()), status.error_message().c_str());
    }
  }
  return allOk ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft-grpc-echo: a gRPC echo server and client for tests"};
  app.require_subcommand(1);
  int port = 9000;
  std::string name = "echo";
  auto* serveCommand = app.add_subcommand("serve", "Answer every gRPC method (h2c)");
  serveCommand->add_option("--port", port, "Port to listen on");
  serveCommand->add_option("--name", name, "Name put in answers and the x-echo-server trailer");
  CallOptions options;
  auto* callCommand = app.add_subcommand("call", "Call a method and print the answers");
  callCommand->add_option("address", options.address, "host:port")->required();
  callCommand->add_option("--method", options.method, "Full method name");
  callCommand->add_option("--message", options.message, "Request bytes");
  callCommand->add_option("--authority", options.authority, "The :authority to send");
  callCommand->add_option("--count", options.count, "How many calls, one after another")->check(CLI::Range(1, 1000));
  callCommand->add_option("--timeout-ms", options.timeoutMs, "Deadline of each call")->check(CLI::Range(1, 60000));
  callCommand->add_option("--header", options.headers, "Request metadata name=value (repeatable)");
  CLI11_PARSE(app, argc, argv);
  if (*serveCommand) return serve(port, name);
  return call(options);
}
