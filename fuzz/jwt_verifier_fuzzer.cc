// Fuzzes the JWT checks RequestAuthentication runs on every token a client sends
// (proxy/jwt_verifier.h): any bytes as a token against a fixed RSA and EC key set, and as a
// JSON Web Key Set, must give an answer without reading out of bounds or undefined
// behaviour; the answer must not depend on anything but the bytes (the same twice); and a
// token that verifies must carry a signature made by one of the keys, which random bytes
// never are (the seeds hold tokens those keys signed, so mutations start from real ones).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/jwt_verifier.h"

namespace {

// The public halves of keys whose private halves signed the seed tokens (then discarded).
constexpr const char* kJwks =
    R"({"keys":[{"kty":"RSA","kid":"rsa","e":"AQAB","n":"0mir5cPECvxAXt-Kp0zdu7AXrODLogSURe-CIvIxmTQimbuE5T3-DmWew6Yv9jd6rxXQJM7It0IfYfErFLs2fu_oL_VIiyoWt9xUposj4C_M9WjGQkXARMxe_JMmLQJqoJDH6qJ9fya7WbJEBb5VtofP5XX4nUF7A1niJ6LXBOiQudXIrGJs6Tzk1zCoR61k3THOBDIO_DT2Ecl0PylAuvR7AsaN2KnRBFOJqsuaUiBobCwxczkqERVk_m7aqhMtSm9q3yRoIRm0zJAh5hAjtY6LmuOWyMtQN46uC4AmsaxyLtCf7MlA3ZpU5YQ0YikhClIb1Krv4MngdSK_J7V72w"},)"
    R"({"kty":"EC","kid":"ec","crv":"P-256","x":"qvcHvlh4Wg8sVn11-BRussZl1eSB9z0H3rFLwhmGnN4","y":"rz9--vKFSk_qxVT8yV8oJymuKjC9rmaGrSFVwCJc8RQ"}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::proxy;
  static const JwtKeys keys = *JwtKeys::parse(kJwks);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::string input(reinterpret_cast<const char*>(data), size);
  auto first = verifyJwt(input, keys, now);
  auto second = verifyJwt(input, keys, now);
  if (first.ok() != second.ok()) std::abort();
  if (!first.ok() && first.error().message != second.error().message) std::abort();
  if (first.ok() && first->subject != second->subject) std::abort();
  if (auto parsed = parseJwt(input); parsed && first.ok() && parsed->issuer() != first->issuer) std::abort();
  auto parsed = JwtKeys::parse(input);
  if (parsed && parsed->keys().empty()) std::abort();  // a parsed set always holds a key
  return 0;
}
