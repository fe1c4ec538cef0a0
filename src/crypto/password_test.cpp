#include "crypto/password.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace herald::crypto {

TEST(Password, Argon2idHashVerifies) {
  init();
  const std::string hash = hash_password("correct horse", PasswordCost::minimal());
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(hash, "correct horse"));
  EXPECT_FALSE(verify_password(hash, "wrong horse"));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_NE(hash, hash_password("correct horse", PasswordCost::minimal())) << "salted";
}

TEST(Random, TokensHaveTheRequestedAlphabetAndLength) {
  init();
  const std::string t = random_alnum(43);
  EXPECT_EQ(t.size(), 43u);
  for (char c : t) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_NE(t, random_alnum(43));
}

}  // namespace herald::crypto
