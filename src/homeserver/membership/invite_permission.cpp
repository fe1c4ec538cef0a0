#include "homeserver/membership/invite_permission.h"

#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "storage/account_data_store.h"

namespace herald::homeserver::invite_permission {

bool blocks_invites(const nlohmann::json& config) {
  if (!config.is_object()) return false;
  const auto action = config.find("default_action");
  return action != config.end() && action->is_string() && action->get<std::string>() == "block";
}

bool blocks_invites(storage::sql::Connection& c, const std::string& user) {
  const auto config = storage::account_data_store::find(c, user, "", kAccountDataType);
  return config && blocks_invites(nlohmann::json::parse(*config, nullptr, false));
}

void refuse() { throw MatrixError(Errc::invite_blocked, "The user does not accept invites"); }

}  // namespace herald::homeserver::invite_permission
