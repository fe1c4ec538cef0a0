#include "identity/required_params.h"

#include <nlohmann/json.hpp>
#include <string>

#include "core/matrix_error.h"

namespace herald::identity {

void require_params(const nlohmann::json& params, std::initializer_list<const char*> keys) {
  std::string missing;
  for (const char* key : keys) {
    if (!params.contains(key)) missing += (missing.empty() ? "" : ", ") + std::string(key);
  }
  if (!missing.empty()) throw MatrixError(Errc::missing_params, "Missing parameters: " + missing);
}

}  // namespace herald::identity
