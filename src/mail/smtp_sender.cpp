// The SMTP sender: libcurl (the only file that includes curl), one connection per message.
#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "mail/sender.h"

namespace herald::mail {
namespace {

struct Upload {
  std::string data;
  std::size_t offset = 0;
};

std::size_t read_chunk(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, up->data.size() - up->offset);
  std::memcpy(buffer, up->data.data() + up->offset, n);
  up->offset += n;
  return n;
}

class SmtpSender final : public Sender {
 public:
  explicit SmtpSender(SmtpOptions options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  void send(const Message& message) override {
    CURL* curl = curl_easy_init();
    if (!curl) throw SendError("cannot start libcurl", false);
    Upload upload{render_mime_now(message)};
    const std::string from = "<" + sanitize_header(bare_address(message.from)) + ">";
    const std::string to = "<" + sanitize_header(message.to) + ">";
    curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_chunk);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (options_.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!options_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
    }
    const CURLcode rc = curl_easy_perform(curl);
    long smtp_code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      // A 5xx reply (typically to RCPT TO): the server will never take this message for this address.
      const bool permanent = smtp_code >= 500 && smtp_code < 600;
      throw SendError(std::string("SMTP: ") + (error[0] ? error : curl_easy_strerror(rc)), permanent);
    }
  }

 private:
  SmtpOptions options_;
};

}  // namespace

std::unique_ptr<Sender> make_smtp_sender(SmtpOptions options) { return std::make_unique<SmtpSender>(std::move(options)); }

}  // namespace herald::mail
