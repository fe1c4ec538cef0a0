#pragma once
// A Matrix server name, split for server discovery (federation.md §2): `hostname[:port]`, `IPv4[:port]`
// or `[IPv6][:port]`. Request signing keeps using the name as written; this is only for finding where
// the server answers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::federation {

struct ServerName {
  std::string host;  // a DNS name, or an IP literal without brackets
  std::optional<std::uint16_t> port;
  bool ip_literal = false;
  bool ipv6 = false;

  // nullopt for anything that is not a valid server name (empty host, bad characters, port 0 or
  // > 65535, an IPv6 literal without brackets, a bracketed text that is not IPv6).
  static std::optional<ServerName> parse(std::string_view text);

  // The host as it appears in a URL or a Host header: brackets around IPv6.
  std::string host_for_url() const;
  // host_for_url() plus ":port" when there is a port.
  std::string str() const;
};

}  // namespace herald::federation
