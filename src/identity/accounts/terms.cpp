#include "identity/accounts/terms.h"

#include <nlohmann/json.hpp>

namespace herald::identity {

std::set<std::string> term_urls(const nlohmann::json& policies) {
  std::set<std::string> out;
  for (const auto& [id, policy] : policies.items()) {
    if (!policy.is_object()) continue;
    for (const auto& [lang, doc] : policy.items()) {
      if (doc.is_object() && doc.contains("url") && doc["url"].is_string()) out.insert(doc["url"].get<std::string>());
    }
  }
  return out;
}

bool terms_accepted(const nlohmann::json& policies, const std::vector<std::string>& accepted_urls) {
  const std::set<std::string> accepted(accepted_urls.begin(), accepted_urls.end());
  for (const auto& [id, policy] : policies.items()) {
    bool covered = false;
    for (const auto& [lang, doc] : policy.items()) {
      if (doc.is_object() && doc.contains("url") && doc["url"].is_string() && accepted.contains(doc["url"].get<std::string>())) {
        covered = true;
      }
    }
    if (!covered) return false;
  }
  return true;
}

}  // namespace herald::identity
