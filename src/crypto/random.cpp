#include "crypto/random.h"

#include <sodium.h>

#include <stdexcept>
#include <string_view>

namespace herald::crypto {
namespace {
std::string from_alphabet(std::size_t n, std::string_view alphabet) {
  std::string out(n, '\0');
  for (auto& c : out) c = alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
  return out;
}
}  // namespace

void init() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string random_alnum(std::size_t n) {
  return from_alphabet(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}
std::string random_lower(std::size_t n) { return from_alphabet(n, "abcdefghijklmnopqrstuvwxyz"); }
std::string random_upper(std::size_t n) { return from_alphabet(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"); }

}  // namespace herald::crypto
