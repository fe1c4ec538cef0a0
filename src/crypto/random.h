#pragma once
// Randomness from libsodium's CSPRNG only.
#include <cstddef>
#include <string>

namespace herald::crypto {

void init();  // sodium_init; safe to call more than once
std::string random_bytes(std::size_t n);
// n characters from [A-Za-z0-9]; 43 characters carry > 256 bits.
std::string random_alnum(std::size_t n);
// n characters from [a-z].
std::string random_lower(std::size_t n);
// n characters from [A-Z].
std::string random_upper(std::size_t n);

}  // namespace herald::crypto
