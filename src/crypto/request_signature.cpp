#include "crypto/request_signature.h"

#include "crypto/signed_json.h"
#include "crypto/signing_key.h"

namespace herald::crypto {

nlohmann::json request_signing_json(std::string_view method, std::string_view uri, std::string_view origin,
                                    std::string_view destination_key, std::string_view destination,
                                    const nlohmann::json* content) {
  nlohmann::json j = {{"method", method}, {"uri", uri}, {"origin", origin}, {std::string(destination_key), destination}};
  if (content) j["content"] = *content;
  return j;
}

std::string x_matrix_header(const nlohmann::json& signing_json, std::string_view origin, std::string_view destination,
                            const SigningKey& key) {
  nlohmann::json signed_copy = signing_json;
  sign_json(signed_copy, origin, key);
  const std::string sig = signed_copy["signatures"][std::string(origin)][key.key_id()].get<std::string>();
  return "X-Matrix origin=\"" + std::string(origin) + "\",destination=\"" + std::string(destination) + "\",key=\"" +
         key.key_id() + "\",sig=\"" + sig + "\"";
}

std::optional<XMatrixAuth> parse_x_matrix_header(std::string_view header) {
  constexpr std::string_view kScheme = "X-Matrix ";
  if (header.size() <= kScheme.size() || header.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  std::string_view rest = header.substr(kScheme.size());
  XMatrixAuth out;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string name(rest.substr(0, eq));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      const auto close = rest.find('"');
      if (close == std::string_view::npos) return std::nullopt;
      value = std::string(rest.substr(0, close));
      rest.remove_prefix(close + 1);
    } else {
      const auto comma = rest.find(',');
      value = std::string(rest.substr(0, comma));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
    }
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "origin") out.origin = value;
    else if (name == "key") out.key_id = value;
    else if (name == "sig") out.signature = value;
    else if (name == "destination") out.destination = value;
  }
  if (out.origin.empty() || out.key_id.empty() || out.signature.empty()) return std::nullopt;
  return out;
}

}  // namespace herald::crypto
