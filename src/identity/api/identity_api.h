#pragma once
// The Identity Service API on /_matrix/identity/v2 and the legacy /_matrix/identity/api/v1, registered on a
// router. Handlers see only http/request.h, response.h, router.h and the identity services.
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "core/task.h"
#include "http/router.h"
#include "identity/invites/invite_service.h"

namespace herald::identity {

struct IdentityContext;

inline constexpr std::string_view kV2 = "/_matrix/identity/v2";
inline constexpr std::string_view kV1 = "/_matrix/identity/api/v1";

using IdentityHandler = Task<http::Response> (*)(http::Request, IdentityContext&, ApiVersion);

// Registers fn under the v2 prefix, and under the v1 prefix too when `with_v1`.
void add_identity_route(http::Router& router, IdentityContext& ctx, http::Method method, std::string_view suffix,
                        IdentityHandler fn, bool with_v1);

// The request's parameters: a JSON object body; on v1 (and for the fields clients still send that way) also
// a form-encoded body and the query string, as the legacy API allowed. Values from forms are strings.
nlohmann::json request_params(const http::Request& req, ApiVersion version);

void add_identity_routes(http::Router& router, IdentityContext& ctx);
void add_status_and_account_routes(http::Router& router, IdentityContext& ctx);
void add_key_routes(http::Router& router, IdentityContext& ctx);
void add_validation_routes(http::Router& router, IdentityContext& ctx);
void add_lookup_routes(http::Router& router, IdentityContext& ctx);
void add_invite_routes(http::Router& router, IdentityContext& ctx);

}  // namespace herald::identity
