#include "control/discovery/resource_version.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <array>
#include <atomic>

#include "control/discovery/resource_types.h"

namespace weft::control::discovery {

namespace {

std::string deterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }  // the coded stream flushes into `bytes` when it goes
  return bytes;
}

}  // namespace

std::string resourceVersion(const weft::v1::Resource& resource) {
  const google::protobuf::Message* body = bodyOf(resource);
  // A resource without a body never reaches a snapshot (SnapshotBuilder refuses it); hash
  // the empty string rather than fail so this stays a total function.
  std::string bytes = body == nullptr ? std::string() : deterministicBytes(*body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    // Only an allocation failure gets here. Err towards sending: a version nothing else
    // has, so the resource counts as changed rather than silently as unchanged.
    static std::atomic<uint64_t> unhashed{0};
    return fmt::format("unhashed-{}", ++unhashed);
  }
  std::string hex;
  hex.reserve(32);
  for (unsigned int i = 0; i < 16 && i < length; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

}  // namespace weft::control::discovery
