#pragma once
// Argon2id password hashes (libsodium crypto_pwhash_str). Slow on purpose: call on a worker thread.
#include <string>
#include <string_view>

namespace herald::crypto {

struct PasswordCost {
  unsigned long long ops_limit;
  std::size_t mem_limit;
  static PasswordCost interactive();
  static PasswordCost minimal();  // for tests only
};

std::string hash_password(std::string_view password, PasswordCost cost = PasswordCost::interactive());
bool verify_password(std::string_view hash, std::string_view password);

}  // namespace herald::crypto
