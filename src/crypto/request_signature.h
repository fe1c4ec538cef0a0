#pragma once
// Signed server-to-server requests: the X-Matrix Authorization header (federation.md; identity.md §5 for
// the identity-server form, whose signed JSON names `destination_is` instead of `destination`).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace herald::crypto {

class SigningKey;

struct XMatrixAuth {
  std::string origin;
  std::string key_id;
  std::string signature;  // unpadded base64, as sent
  std::optional<std::string> destination;
};

// The JSON a request signature covers. `destination_key` is "destination" or "destination_is".
nlohmann::json request_signing_json(std::string_view method, std::string_view uri, std::string_view origin,
                                    std::string_view destination_key, std::string_view destination,
                                    const nlohmann::json* content);
// `X-Matrix origin="...",destination="...",key="...",sig="..."` signing `signing_json` with `key`.
std::string x_matrix_header(const nlohmann::json& signing_json, std::string_view origin, std::string_view destination,
                            const SigningKey& key);
// nullopt when the header is not a well-formed X-Matrix header.
std::optional<XMatrixAuth> parse_x_matrix_header(std::string_view header);

}  // namespace herald::crypto
