#pragma once
// Terms of service (identity.md §2): the configured policies, and whether a set of accepted URLs covers
// every policy (any language version of a policy counts).
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

namespace herald::identity {

// Every URL the policies name, in every language.
std::set<std::string> term_urls(const nlohmann::json& policies);
bool terms_accepted(const nlohmann::json& policies, const std::vector<std::string>& accepted_urls);

}  // namespace herald::identity
