#pragma once
// Email addresses as the identity server keeps them: checked for a plausible shape and case-folded, so that
// "Alice@Example.org" and "alice@example.org" are one address for binding, lookup and invites.
#include <optional>
#include <string>
#include <string_view>

namespace herald::identity {

inline constexpr std::size_t kMaxEmailLength = 500;

// The canonical form, or nullopt when the text is not an address we would send mail to.
std::optional<std::string> canonical_email(std::string_view text);

// The address as bindings store it: case-folded emails, other media as given (up to kMaxEmailLength bytes).
std::optional<std::string> canonical_address(const std::string& medium, const std::string& address);

// client_secret grammar of the spec: [0-9a-zA-Z.=_-]{1,255}.
bool is_valid_client_secret(std::string_view secret);

}  // namespace herald::identity
