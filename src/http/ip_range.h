#pragma once
// Which addresses outbound requests may reach: CIDR ranges (IPv4 and IPv6), and the guard built from the
// configuration's ip_range_blacklist minus ip_range_whitelist (Synapse's key names and default list). The
// guard is applied to the addresses a name resolves to, so DNS cannot smuggle a private address past it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::http {

// An IP address as 16 bytes; IPv4 is stored in its IPv4-mapped IPv6 form (::ffff:a.b.c.d).
using IpBytes = std::array<std::uint8_t, 16>;

// "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n"; nullopt for anything else. Host bits are cleared, as netaddr
// does for Synapse ("10.1.2.3/8" is 10.0.0.0/8).
struct IpRange {
  IpBytes network{};
  int prefix = 128;  // over the 16-byte form: an IPv4 /n is stored as /(96+n)
  static std::optional<IpRange> parse(std::string_view cidr);
  bool contains(const IpBytes& address) const;
};

// Parses a literal IPv4 or IPv6 address (no brackets, no zone); nullopt when it is not one.
std::optional<IpBytes> parse_ip(std::string_view text);

// Synapse's DEFAULT_IP_RANGE_BLACKLIST (synapse/config/server.py): loopback, RFC 1918, CGNAT, IETF
// protocol assignments, link-local, the 6to4 relay anycast, documentation and benchmarking networks,
// multicast, IPv6 loopback, link-local, unique-local, documentation, multicast and site-local.
const std::vector<std::string>& default_ip_range_blacklist();

class IpGuard {
 public:
  // Throws std::invalid_argument naming the first entry that is not a CIDR range.
  IpGuard(const std::vector<std::string>& blacklist, const std::vector<std::string>& whitelist);
  // The default blacklist, no whitelist.
  IpGuard();

  // False when the address is in a blacklisted range and in no whitelisted one. An IPv4 range also covers
  // the IPv6 forms that carry that IPv4 address (IPv4-mapped, IPv4-compatible, 6to4), as in Synapse's
  // generate_ip_set. The unspecified addresses (0.0.0.0/8, ::) are always refused: connecting to them
  // reaches this host. Text that is not an IP address is refused.
  bool allows(const IpBytes& address) const;
  bool allows(std::string_view ip) const;

 private:
  std::vector<IpRange> blacklist_;
  std::vector<IpRange> whitelist_;
};

}  // namespace herald::http
