// Identifier grammar: UserId::parse, is_valid_server_name and is_room_alias on arbitrary bytes. Properties:
// no crash; a parsed ID splits into a valid server name and rebuilds to the same text; an alias has the
// '#' sigil, no NUL, at most 255 bytes and a valid server name after its first ':'; a user ID with '#' for
// '@' is an alias.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/ids.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)herald::is_valid_server_name(text);
  (void)herald::is_valid_user_localpart(text);
  if (herald::is_room_alias(text)) {
    const auto colon = text.find(':');
    if (text.size() > 255 || text.front() != '#' || colon == std::string_view::npos || colon < 2) std::abort();
    if (text.substr(0, colon).find('\0') != std::string_view::npos) std::abort();
    if (!herald::is_valid_server_name(text.substr(colon + 1))) std::abort();
  }
  const auto id = herald::UserId::parse(text);
  if (!id) {
    (void)herald::describe(id.error());
    return 0;
  }
  if (id->str() != text) std::abort();
  if (!herald::is_valid_server_name(id->server_name())) std::abort();
  if (herald::UserId::from_parts(id->localpart(), id->server_name()).str() != id->str()) std::abort();
  if (!herald::is_room_alias("#" + id->str().substr(1))) std::abort();
  return 0;
}
