#include "proxy/client_hello.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

#include "base/ascii.h"

namespace weft::proxy {
namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHelloType = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint8_t kHostNameType = 0;
constexpr size_t kRecordHeaderBytes = 5;
constexpr size_t kMaxRecordBytes = 16384 + 2048;  // TLSPlaintext.length may not exceed 2^14 (RFC 8446 §5.1); TLS 1.2 allowed more for ciphertext

// A cursor over the ClientHello's body; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  std::optional<uint32_t> number(size_t width) {
    if (bytes_.size() < width) return std::nullopt;
    uint32_t value = 0;
    for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<uint8_t>(bytes_[i]);
    bytes_.remove_prefix(width);
    return value;
  }
  std::optional<std::string_view> take(size_t n) {
    if (bytes_.size() < n) return std::nullopt;
    auto out = bytes_.substr(0, n);
    bytes_.remove_prefix(n);
    return out;
  }
  // A vector with a length prefix of `width` bytes.
  std::optional<std::string_view> vector(size_t width) {
    auto length = number(width);
    if (!length) return std::nullopt;
    return take(*length);
  }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

ClientHelloScan refused(std::string error) { return {ClientHelloScan::State::kRefused, "", std::move(error)}; }

// A DNS name as SNI carries it (RFC 6066: no IP literals; a trailing dot is stripped
// before): letters, digits, '-', '_' and dots, at most 255 bytes.
bool plausibleHostName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.' || name.back() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

ClientHelloScan scanBody(std::string_view body) {
  Reader hello(body);
  auto version = hello.number(2);
  if (!version || (*version >> 8) != 3) return refused("ClientHello: not a TLS version");
  if (!hello.take(32)) return refused("ClientHello: truncated random");
  auto session = hello.vector(1);
  if (!session || session->size() > 32) return refused("ClientHello: bad legacy_session_id");
  auto suites = hello.vector(2);
  if (!suites || suites->empty() || suites->size() % 2 != 0) return refused("ClientHello: bad cipher_suites");
  auto compression = hello.vector(1);
  if (!compression || compression->empty()) return refused("ClientHello: bad legacy_compression_methods");
  ClientHelloScan out{ClientHelloScan::State::kComplete, "", ""};
  if (hello.empty()) return out;  // no extensions: no server name
  auto extensions = hello.vector(2);
  if (!extensions || !hello.empty()) return refused("ClientHello: extensions do not fill the message");
  Reader list(*extensions);
  bool seen = false;
  while (!list.empty()) {
    auto type = list.number(2);
    auto data = type ? list.vector(2) : std::nullopt;
    if (!data) return refused("ClientHello: truncated extension");
    if (*type != kServerNameExtension) continue;
    if (seen) return refused("ClientHello: server_name twice");
    seen = true;
    Reader names(*data);
    auto entries = names.vector(2);
    if (!entries || !names.empty() || entries->empty()) return refused("ClientHello: bad server_name list");
    Reader entry(*entries);
    while (!entry.empty()) {
      auto nameType = entry.number(1);
      auto name = nameType ? entry.vector(2) : std::nullopt;
      if (!name) return refused("ClientHello: truncated server name");
      if (*nameType != kHostNameType) continue;
      if (!out.sni.empty()) return refused("ClientHello: more than one host_name");
      // RFC 6066 forbids the trailing dot, but OpenSSL servers accept it: so does routing.
      std::string_view host = *name;
      if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
      if (!plausibleHostName(host)) return refused("ClientHello: server name is not a DNS name");
      out.sni = asciiLower(host);
    }
  }
  return out;
}

}  // namespace

ClientHelloScan scanClientHello(std::string_view bytes) {
  // The handshake message, reassembled from the fragments of consecutive records.
  std::string handshake;
  std::string_view rest = bytes;
  while (true) {
    if (rest.size() < kRecordHeaderBytes) return {};
    auto type = static_cast<uint8_t>(rest[0]);
    auto major = static_cast<uint8_t>(rest[1]);
    size_t length = static_cast<uint8_t>(rest[3]) << 8 | static_cast<uint8_t>(rest[4]);
    if (type != kHandshakeRecord || major != 3) return refused("not a TLS handshake record");
    if (length == 0 || length > kMaxRecordBytes) return refused(fmt::format("TLS record length {} is out of range", length));
    if (rest.size() < kRecordHeaderBytes + length) {
      // The partial fragment may already tell a wrong message type or size.
      handshake.append(rest.substr(kRecordHeaderBytes));
      rest = {};
    } else {
      handshake.append(rest.substr(kRecordHeaderBytes, length));
      rest.remove_prefix(kRecordHeaderBytes + length);
    }
    if (!handshake.empty() && static_cast<uint8_t>(handshake[0]) != kClientHelloType) return refused("the first handshake message is not a ClientHello");
    if (handshake.size() >= 4) {
      size_t messageLength = static_cast<uint8_t>(handshake[1]) << 16 | static_cast<uint8_t>(handshake[2]) << 8 | static_cast<uint8_t>(handshake[3]);
      if (messageLength + 4 > kMaxClientHelloBytes) return refused(fmt::format("ClientHello of {} bytes is over {} bytes", messageLength, kMaxClientHelloBytes));
      if (handshake.size() >= messageLength + 4) return scanBody(std::string_view(handshake).substr(4, messageLength));
    }
    if (rest.empty()) return {};
  }
}

}  // namespace weft::proxy
