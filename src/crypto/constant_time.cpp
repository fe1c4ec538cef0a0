#include "crypto/constant_time.h"

#include <sodium.h>

namespace herald::crypto {

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The length is not secret (tokens have a fixed length); the contents are.
  if (a.size() != b.size()) return false;
  return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace herald::crypto
