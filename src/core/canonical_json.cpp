#include "core/canonical_json.h"

#include <nlohmann/json.hpp>

namespace herald {
namespace {
constexpr std::int64_t kMaxSafe = 9007199254740991;  // 2^53 - 1

std::optional<CanonicalJsonError> check(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::number_float: {
      // Canonical JSON has integers only: every float is refused, an integral one (1e10) too.
      return CanonicalJsonError::float_value;
    }
    case nlohmann::json::value_t::number_integer: {
      const auto i = v.get<std::int64_t>();
      if (i > kMaxSafe || i < -kMaxSafe) return CanonicalJsonError::integer_out_of_range;
      return std::nullopt;
    }
    case nlohmann::json::value_t::number_unsigned:
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxSafe)) return CanonicalJsonError::integer_out_of_range;
      return std::nullopt;
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array:
      for (const auto& child : v)
        if (auto e = check(child)) return e;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}
}  // namespace

bool is_canonical_compatible(const nlohmann::json& value) { return !check(value).has_value(); }

Expected<std::string, CanonicalJsonError> canonical_json(const nlohmann::json& value) {
  if (auto e = check(value)) return unexpected(*e);
  try {
    // nlohmann objects are std::map<std::string>: keys come out in byte order, which is code-point order.
    return value.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error&) {
    return unexpected(CanonicalJsonError::invalid_utf8);
  }
}

}  // namespace herald
