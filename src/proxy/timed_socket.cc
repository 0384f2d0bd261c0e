#include "proxy/timed_socket.h"

#include <sys/socket.h>

namespace weft::proxy {

namespace asio = boost::asio;

struct TimedSocket::Deadline {
  explicit Deadline(const asio::any_io_executor& executor) : timer(executor) {}

  asio::steady_timer timer;
  Clock::time_point at = Clock::time_point::max();      // the deadline as last set
  Clock::time_point armedFor = Clock::time_point::max();  // when the timer fires; max: not armed
  int descriptor = -1;                                    // -1 once disarmed
  bool expired = false;

  static void arm(const std::shared_ptr<Deadline>& self, Clock::time_point when) {
    self->armedFor = when;
    self->timer.expires_at(when);  // cancels a wait for a later time, if any
    self->timer.async_wait([weak = std::weak_ptr<Deadline>(self), when](const boost::system::error_code& ec) {
      auto deadline = weak.lock();
      // Cancelled (re-armed earlier, or disarmed), or a stale wait for an older arming.
      if (ec || deadline == nullptr || deadline->armedFor != when || deadline->descriptor < 0) return;
      deadline->armedFor = Clock::time_point::max();
      if (deadline->at == Clock::time_point::max()) return;  // no deadline any more
      if (Clock::now() < deadline->at) {
        arm(deadline, deadline->at);  // it moved later meanwhile
        return;
      }
      deadline->expired = true;
      ::shutdown(deadline->descriptor, SHUT_RDWR);
    });
  }
};

TimedSocket::TimedSocket(asio::ip::tcp::socket socket) : asio::ip::tcp::socket(std::move(socket)) {}

TimedSocket::TimedSocket(const executor_type& executor) : asio::ip::tcp::socket(executor) {}

TimedSocket& TimedSocket::operator=(TimedSocket&& other) noexcept {
  disarm();
  asio::ip::tcp::socket::operator=(std::move(other));
  deadline_ = std::move(other.deadline_);
  return *this;
}

TimedSocket::~TimedSocket() { disarm(); }

bool TimedSocket::expired() const { return deadline_ != nullptr && deadline_->expired; }

void TimedSocket::expires_at(Clock::time_point at) {
  if (deadline_ == nullptr) deadline_ = std::make_shared<Deadline>(get_executor());
  deadline_->at = at;
  deadline_->descriptor = is_open() ? native_handle() : -1;
  // A later deadline leaves the armed timer alone: it re-arms when it fires.
  if (at < deadline_->armedFor) Deadline::arm(deadline_, at);
}

void TimedSocket::expires_never() {
  if (deadline_ != nullptr) deadline_->at = Clock::time_point::max();
}

void TimedSocket::disarm() {
  if (deadline_ == nullptr) return;
  deadline_->descriptor = -1;
  deadline_->armedFor = Clock::time_point::max();
  deadline_->timer.cancel();
}

void TimedSocket::close() {
  disarm();
  asio::ip::tcp::socket::close();
}

void TimedSocket::close(boost::system::error_code& ec) {
  disarm();
  asio::ip::tcp::socket::close(ec);
}

}  // namespace weft::proxy
