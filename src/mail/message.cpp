#include "mail/message.h"

#include <cstdio>
#include <ctime>
#include <random>

namespace herald::mail {
namespace {

// Padded standard base64, as MIME wants (mail/ depends on core only, so it has its own few lines).
std::string base64_padded(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool is_ascii_printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// RFC 2047 encoded-word for a header value that is not plain ASCII.
std::string encode_header_value(std::string_view value) {
  if (is_ascii_printable(value)) return std::string(value);
  std::string out;
  // Encoded words are at most 75 characters; split the UTF-8 text on character boundaries.
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t end = std::min(value.size(), i + 42);
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xc0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_padded(value.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string base64_lines(std::string_view body) {
  const std::string b64 = base64_padded(body);
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

}  // namespace

std::string sanitize_header(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string bare_address(std::string_view from) {
  const auto open = from.rfind('<');
  const auto close = from.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return std::string(from.substr(open + 1, close - open - 1));
  }
  return std::string(from);
}

std::string render_mime(const Message& m, std::string_view now_rfc2822, std::string_view boundary,
                        std::string_view message_id) {
  std::string out;
  out += "From: " + sanitize_header(m.from) + "\r\n";
  out += "To: " + sanitize_header(m.to) + "\r\n";
  out += "Subject: " + encode_header_value(sanitize_header(m.subject)) + "\r\n";
  out += "Date: " + std::string(now_rfc2822) + "\r\n";
  out += "Message-ID: <" + std::string(message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + std::string(boundary) + "\"\r\n";
  out += "\r\n";
  out += "--" + std::string(boundary) + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(m.text);
  out += "--" + std::string(boundary) + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(m.html);
  out += "--" + std::string(boundary) + "--\r\n";
  return out;
}

std::string render_mime_now(const Message& message) {
  std::random_device rd;
  std::uniform_int_distribution<unsigned long long> dist;
  char unique[40];
  std::snprintf(unique, sizeof unique, "%016llx%016llx", dist(rd), dist(rd));
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const std::string from = bare_address(message.from);
  const auto at = from.find('@');
  const std::string domain = at == std::string::npos ? "herald.invalid" : sanitize_header(from.substr(at + 1));
  return render_mime(message, date, std::string("herald-") + unique, std::string(unique) + "@" + domain);
}

}  // namespace herald::mail
