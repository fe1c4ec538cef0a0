#pragma once
// The display name of a third-party invite: the address with most of it hidden, so that the room's members
// do not learn it (identity.md §6): "alice@example.org" -> "ali...@exa...".
#include <string>
#include <string_view>

namespace herald::identity {

std::string redact_address(std::string_view address, std::size_t keep_chars = 3);

}  // namespace herald::identity
