#pragma once
// An email as Herald sends it: a text and an HTML part, rendered to MIME with headers that user text cannot
// break (CR/LF and other control characters removed, non-ASCII encoded per RFC 2047).
#include <string>
#include <string_view>

namespace herald::mail {

struct Message {
  std::string from;  // "Herald <noreply@example.org>" or a bare address
  std::string to;    // a bare address
  std::string subject;
  std::string text;
  std::string html;
};

// Removes CR, LF and other control characters, so a value cannot start a new header.
std::string sanitize_header(std::string_view value);
// The bare address inside "Name <addr>", or the value itself.
std::string bare_address(std::string_view from);
// The full RFC 5322 message: headers, then multipart/alternative with base64 text/plain and text/html parts.
// now_rfc2822 is the Date header's value; message_id_domain names the Message-ID's domain.
std::string render_mime(const Message& message, std::string_view now_rfc2822, std::string_view boundary,
                        std::string_view message_id);

// render_mime with the current date, a random boundary and a Message-ID in the sender's domain.
std::string render_mime_now(const Message& message);

}  // namespace herald::mail
