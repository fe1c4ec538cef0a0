#include "http/ip_range.h"

#include <algorithm>

#include <arpa/inet.h>

#include <stdexcept>

namespace herald::http {
namespace {

bool has_prefix(const IpBytes& a, const IpBytes& network, int prefix) {
  const int whole = prefix / 8;
  for (int i = 0; i < whole; ++i)
    if (a[static_cast<std::size_t>(i)] != network[static_cast<std::size_t>(i)]) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(whole)] & mask) == (network[static_cast<std::size_t>(whole)] & mask);
}

IpBytes mapped_v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return IpBytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

bool is_v4_mapped(const IpBytes& a) {
  for (int i = 0; i < 10; ++i)
    if (a[static_cast<std::size_t>(i)] != 0) return false;
  return a[10] == 0xff && a[11] == 0xff;
}

// The IPv4 addresses an IPv6 address carries, each in IPv4-mapped form: IPv4-compatible (::a.b.c.d, not
// :: or ::1), 6to4 (2002:AABB:CCDD::/48), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48, the last 32
// bits) and Teredo (2001:0::/32: the server at bits 32-63, the client obfuscated in the last 32). IPv4-mapped
// addresses need nothing: IPv4 ranges are stored in that form.
std::vector<IpBytes> embedded_v4(const IpBytes& a) {
  std::vector<IpBytes> out;
  bool compatible = true;
  for (int i = 0; i < 12; ++i)
    if (a[static_cast<std::size_t>(i)] != 0) compatible = false;
  if (compatible && (a[12] | a[13] | a[14]) != 0) out.push_back(mapped_v4(a[12], a[13], a[14], a[15]));
  if (a[0] == 0x20 && a[1] == 0x02) out.push_back(mapped_v4(a[2], a[3], a[4], a[5]));
  const bool nat64_prefix = a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b;
  bool nat64_well_known = nat64_prefix;
  for (int i = 4; i < 12; ++i)
    if (a[static_cast<std::size_t>(i)] != 0) nat64_well_known = false;
  const bool nat64_local = nat64_prefix && a[4] == 0x00 && a[5] == 0x01;
  if (nat64_well_known || nat64_local) out.push_back(mapped_v4(a[12], a[13], a[14], a[15]));
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) {
    out.push_back(mapped_v4(a[4], a[5], a[6], a[7]));
    out.push_back(mapped_v4(static_cast<std::uint8_t>(~a[12]), static_cast<std::uint8_t>(~a[13]),
                            static_cast<std::uint8_t>(~a[14]), static_cast<std::uint8_t>(~a[15])));
  }
  return out;
}

bool in_any(const std::vector<IpRange>& ranges, const IpBytes& a) {
  for (const auto& r : ranges)
    if (r.contains(a)) return true;
  return false;
}

std::vector<IpRange> parse_all(const std::vector<std::string>& texts, const char* what) {
  std::vector<IpRange> out;
  for (const auto& t : texts) {
    auto r = IpRange::parse(t);
    if (!r) throw std::invalid_argument(std::string(what) + ": '" + t + "' is not an IP address or CIDR range");
    out.push_back(*r);
  }
  return out;
}

}  // namespace

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  IpBytes out{};
  in_addr v4{};
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&v4.s_addr);
    return mapped_v4(b[0], b[1], b[2], b[3]);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  for (std::size_t i = 0; i < 16; ++i) out[i] = v6.s6_addr[i];
  return out;
}

std::optional<IpRange> IpRange::parse(std::string_view cidr) {
  const auto slash = cidr.find('/');
  const std::string_view address_text = cidr.substr(0, slash);
  const auto address = parse_ip(address_text);
  if (!address) return std::nullopt;
  const bool v4 = address_text.find(':') == std::string_view::npos;
  const int width = v4 ? 32 : 128;
  int prefix = width;
  if (slash != std::string_view::npos) {
    const std::string_view p = cidr.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > width) return std::nullopt;
  }
  IpRange r;
  r.prefix = v4 ? 96 + prefix : prefix;
  r.network = *address;
  for (int bit = r.prefix; bit < 128; ++bit) {
    r.network[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  return r;
}

bool IpRange::contains(const IpBytes& address) const { return has_prefix(address, network, prefix); }

const std::vector<std::string>& default_ip_range_blacklist() {
  static const std::vector<std::string> list = {
      "127.0.0.0/8",    "10.0.0.0/8",      "172.16.0.0/12",  "192.168.0.0/16", "100.64.0.0/10",
      "192.0.0.0/24",   "169.254.0.0/16",  "192.88.99.0/24", "198.18.0.0/15",  "192.0.2.0/24",
      "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "::1/128",        "fe80::/10",
      "fc00::/7",       "2001:db8::/32",   "ff00::/8",       "fec0::/10"};
  return list;
}

IpGuard::IpGuard(const std::vector<std::string>& blacklist, const std::vector<std::string>& whitelist)
    : blacklist_(parse_all(blacklist, "ip_range_blacklist")), whitelist_(parse_all(whitelist, "ip_range_whitelist")) {}

IpGuard::IpGuard() : IpGuard(default_ip_range_blacklist(), {}) {}

bool IpGuard::allows(const IpBytes& address) const {
  const IpBytes unspecified{};
  if (address == unspecified) return false;
  if (is_v4_mapped(address) && address[12] == 0) return false;  // 0.0.0.0/8
  const auto embedded = embedded_v4(address);
  bool blocked = in_any(blacklist_, address);
  for (const auto& v4 : embedded) {
    if (v4[12] == 0) return false;  // 0.0.0.0/8 inside
    blocked = blocked || in_any(blacklist_, v4);
  }
  if (!blocked) return true;
  if (in_any(whitelist_, address)) return true;
  // Whitelisted through what it carries only when everything it carries is.
  return !embedded.empty() &&
         std::all_of(embedded.begin(), embedded.end(), [&](const IpBytes& v4) { return in_any(whitelist_, v4); });
}

bool IpGuard::allows(std::string_view ip) const {
  const auto address = parse_ip(ip);
  return address && allows(*address);
}

}  // namespace herald::http
