#pragma once
// Unpadded base64, standard and URL-safe alphabets (rooms-and-auth.md §2).
#include <optional>
#include <string>
#include <string_view>

namespace herald::crypto {

std::string base64_encode(std::string_view bytes);          // standard, unpadded
std::string base64url_encode(std::string_view bytes);       // URL-safe, unpadded
// Accepts either alphabet, with or without padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace herald::crypto
