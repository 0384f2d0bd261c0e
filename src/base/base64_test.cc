#include "base/base64.h"

#include <gtest/gtest.h>

namespace weft {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    EXPECT_EQ(*base64Decode(encoded), plain);
  }
  std::string binary("\x00\xff\x10\x80", 4);
  EXPECT_EQ(*base64Decode(base64Encode(binary)), binary);
}

TEST(Base64, RefusesMalformed) {
  EXPECT_EQ(base64Decode("abc").error().message, "illegal base64 data: length is not a multiple of 4");
  EXPECT_EQ(base64Decode("ab!d").error().message, "illegal base64 data at input byte 2");
  EXPECT_FALSE(base64Decode("a=bc"));
  EXPECT_FALSE(base64Decode("ab=c"));
}

TEST(Base64Url, UrlSafeAlphabetWithoutPadding) {
  std::string binary("\xfb\xff\xbf", 3);  // "+/+/" in the standard alphabet
  EXPECT_EQ(base64UrlEncode(binary), "-_-_");
  EXPECT_EQ(*base64UrlDecode("-_-_"), binary);
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(*base64UrlDecode("Zg"), "f");
  EXPECT_EQ(*base64UrlDecode("Zg=="), "f") << "padding is accepted";
  EXPECT_EQ(*base64UrlDecode("Zm9vYmE"), "fooba");
  EXPECT_FALSE(base64UrlDecode("+/+/")) << "the standard alphabet's characters";
  EXPECT_FALSE(base64UrlDecode("Zm9vY")) << "4n+1 characters";
  EXPECT_FALSE(base64UrlDecode("Zm!v"));
}

}  // namespace
}  // namespace weft
