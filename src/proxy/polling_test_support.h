#pragma once
// Test support: waiting, bounded, for something another thread does.

#include <chrono>
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

}  // namespace weft::proxy::testing
