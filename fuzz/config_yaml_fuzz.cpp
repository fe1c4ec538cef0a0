// Homeserver and identity-server config text. ConfigError (naming the key) is the expected refusal;
// anything else escaping is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)herald::app::parse_homeserver_config(text);
  } catch (const herald::app::ConfigError&) {
  }
  try {
    (void)herald::app::parse_identity_config(text);
  } catch (const herald::app::ConfigError&) {
  }
  return 0;
}
