#include "crypto/base64.h"

#include <gtest/gtest.h>

namespace herald::crypto {

TEST(Base64, SpecExamples) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg");
  EXPECT_EQ(base64_encode("fo"), "Zm8");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesBothAlphabetsPaddedOrNot) {
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  const std::string bytes("\xfb\xff\xfe", 3);
  EXPECT_EQ(base64_encode(bytes), "+//+");
  EXPECT_EQ(base64url_encode(bytes), "-__-");
  EXPECT_EQ(base64_decode("-__-"), bytes);
  EXPECT_EQ(base64_decode("+//+"), bytes);
  EXPECT_FALSE(base64_decode("a"));
  EXPECT_FALSE(base64_decode("ab*d"));
}

}  // namespace herald::crypto
