#include "mail/message.h"

#include <gtest/gtest.h>

#include "mail/template.h"

namespace herald::mail {

TEST(MailHeaders, UserTextCannotStartANewHeader) {
  EXPECT_EQ(sanitize_header("Alice\r\nBcc: victim@example.org"), "Alice Bcc: victim@example.org");
  EXPECT_EQ(sanitize_header("a\nb\x01" "c"), "a bc");
  Message m{.from = "Herald <noreply@example.org>", .to = "bob@example.org\r\nX: y",
            .subject = "Hi\r\nBcc: x@y", .text = "t", .html = "<p>h</p>"};
  const std::string mime = render_mime(m, "Sun, 22 Nov 2026 15:00:00 +0000", "b1", "id@example.org");
  EXPECT_NE(mime.find("To: bob@example.org X: y\r\n"), std::string::npos);
  EXPECT_NE(mime.find("Subject: Hi Bcc: x@y\r\n"), std::string::npos);
  EXPECT_EQ(mime.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(mime.find("\r\nX: y"), std::string::npos);
}

TEST(MailHeaders, NonAsciiSubjectsAreEncodedWords) {
  Message m{.from = "a@b", .to = "c@d", .subject = "Zoë invited you", .text = "", .html = ""};
  const std::string mime = render_mime(m, "date", "b", "id@b");
  EXPECT_NE(mime.find("Subject: =?UTF-8?B?Wm/DqyBpbnZpdGVkIHlvdQ==?=\r\n"), std::string::npos);
}

TEST(MailBody, MultipartAlternativeWithBase64Parts) {
  Message m{.from = "a@b", .to = "c@d", .subject = "s", .text = "hello", .html = "<b>hi</b>"};
  const std::string mime = render_mime(m, "date", "BOUNDARY", "id@b");
  EXPECT_NE(mime.find("Content-Type: multipart/alternative; boundary=\"BOUNDARY\""), std::string::npos);
  EXPECT_NE(mime.find("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"),
            std::string::npos);
  EXPECT_NE(mime.find("PGI+aGk8L2I+\r\n"), std::string::npos);
  EXPECT_NE(mime.find("--BOUNDARY--\r\n"), std::string::npos);
  EXPECT_EQ(bare_address("Herald <noreply@example.org>"), "noreply@example.org");
}

TEST(Templates, SubstituteEscapeAndIgnoreUnknownNames) {
  const TemplateVars vars{{"name", "<script>alert('x')</script> & co"}, {"room", "Tea"}};
  EXPECT_EQ(render_template("Hi {{ name }} in {{room}}{{unknown}}!", vars, Escape::none),
            "Hi <script>alert('x')</script> & co in Tea!");
  EXPECT_EQ(render_template("<p>{{ name }}</p>", vars, Escape::html),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</p>");
  EXPECT_EQ(render_template("{{ unterminated", vars, Escape::html), "{{ unterminated");
}

}  // namespace herald::mail
