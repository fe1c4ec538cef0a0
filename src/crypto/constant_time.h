#pragma once
// Comparing secrets (email tokens, client secrets) without leaking where they differ through timing.
#include <string_view>

namespace herald::crypto {

bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace herald::crypto
