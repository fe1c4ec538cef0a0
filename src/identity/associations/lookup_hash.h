#pragma once
// Hashed lookup (identity.md §4): URL-safe unpadded base64 of SHA-256("<address> <medium> <pepper>").
#include <string>
#include <string_view>

namespace herald::identity {

std::string lookup_hash(std::string_view address, std::string_view medium, std::string_view pepper);

}  // namespace herald::identity
