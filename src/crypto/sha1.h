#pragma once
// SHA-1, for one old rule only: room version 1's state resolution orders events by sha1(event_id).
// Never use it for anything that needs collision resistance.
#include <string>
#include <string_view>

namespace herald::crypto {
// Lower-case hex of the 20-byte digest.
std::string sha1_hex(std::string_view data);
}  // namespace herald::crypto
