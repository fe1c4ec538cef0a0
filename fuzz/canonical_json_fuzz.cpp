// Untrusted JSON text -> json_body (depth-limited parse) -> canonical JSON. Properties: no crash, and
// canonical JSON is a fixed point (its own output re-parsed gives the same text).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/canonical_json.h"
#include "core/json_body.h"
#include "core/matrix_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)herald::json_body::parse_object(text);
  } catch (const herald::MatrixError&) {
  }
  const auto value = herald::json_body::try_parse(text);
  if (!value) return 0;
  const bool compatible = herald::is_canonical_compatible(*value);
  const auto canonical = herald::canonical_json(*value);
  if (!canonical) return 0;
  (void)compatible;
  const auto again = herald::json_body::try_parse(*canonical);
  if (!again) std::abort();  // canonical output must be JSON we accept
  const auto twice = herald::canonical_json(*again);
  if (!twice || *twice != *canonical) std::abort();  // and a fixed point
  if (value->is_object()) {
    try {
      (void)herald::json_body::optional_string(*value, "a");
      (void)herald::json_body::optional_int(*value, "b");
      (void)herald::json_body::optional_bool(*value, "c");
      (void)herald::json_body::optional_object(*value, "d");
      (void)herald::json_body::optional_array(*value, "e");
      (void)herald::json_body::required_string(*value, "f");
    } catch (const herald::MatrixError&) {
    }
  }
  return 0;
}
