#include "federation/server_name.h"

#include "http/ip_range.h"

namespace herald::federation {
namespace {

bool is_dns_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool looks_like_ipv4(std::string_view host) {
  for (char c : host)
    if (!(c >= '0' && c <= '9') && c != '.') return false;
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<ServerName> ServerName::parse(std::string_view text) {
  ServerName out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inner = text.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos || inner.find('%') != std::string_view::npos) return std::nullopt;
    if (!http::parse_ip(inner)) return std::nullopt;
    out.host = std::string(inner);
    out.ip_literal = true;
    out.ipv6 = true;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    if (host.empty() || host.size() > 255) return std::nullopt;
    for (char c : host)
      if (!is_dns_char(c)) return std::nullopt;
    if (looks_like_ipv4(host)) {
      // Digits and dots only: it must be a dotted quad (a DNS name cannot end in an all-numeric label).
      if (!http::parse_ip(host)) return std::nullopt;
      out.ip_literal = true;
    }
    out.host = std::string(host);
  }
  if (has_port) {
    out.port = parse_port(port_text);
    if (!out.port) return std::nullopt;
  }
  return out;
}

std::string ServerName::host_for_url() const { return ipv6 ? "[" + host + "]" : host; }

std::string ServerName::str() const {
  std::string s = host_for_url();
  if (port) s += ":" + std::to_string(*port);
  return s;
}

}  // namespace herald::federation
