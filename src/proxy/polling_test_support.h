#pragma once
// Test support: waiting, bounded, for something another thread does, and running a
// function on an io_context's thread from the test's.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <thread>

namespace weft::proxy::testing {

// Polls `done` every 5 ms for up to 2 s; its last answer.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// Runs `f` on the thread running `io` and returns what it returns (the io thread's state,
// such as a server's counters, is read there).
template <class F>
auto runOnIo(boost::asio::io_context& io, F f) {
  std::promise<decltype(f())> result;
  boost::asio::post(io, [&] { result.set_value(f()); });
  return result.get_future().get();
}

}  // namespace weft::proxy::testing
