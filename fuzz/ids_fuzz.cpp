// Identifier grammar: UserId::parse and is_valid_server_name on arbitrary bytes. Properties: no crash;
// a parsed ID splits into a valid server name and rebuilds to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/ids.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)herald::is_valid_server_name(text);
  (void)herald::is_valid_user_localpart(text);
  const auto id = herald::UserId::parse(text);
  if (!id) {
    (void)herald::describe(id.error());
    return 0;
  }
  if (id->str() != text) std::abort();
  if (!herald::is_valid_server_name(id->server_name())) std::abort();
  if (herald::UserId::from_parts(id->localpart(), id->server_name()).str() != id->str()) std::abort();
  return 0;
}
