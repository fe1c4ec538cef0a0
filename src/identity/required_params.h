#pragma once
// The identity API's missing-parameter error (identity.md §1.2): 400 M_MISSING_PARAMS naming every absent key.
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>

namespace herald::identity {

void require_params(const nlohmann::json& params, std::initializer_list<const char*> keys);

}  // namespace herald::identity
