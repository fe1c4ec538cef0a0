#pragma once
// Where mail goes: an SMTP server (libcurl) or, with no mail server configured, .eml files in an outbox
// directory. send() blocks: callers run it on a worker thread, never on an io thread.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "mail/message.h"

namespace herald::mail {

// The message was not accepted. `permanent` when the server refused the recipient (a bad address).
struct SendError : std::runtime_error {
  SendError(const std::string& what, bool permanent) : std::runtime_error(what), permanent(permanent) {}
  bool permanent;
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual void send(const Message& message) = 0;  // throws SendError
};

struct SmtpOptions {
  std::string url = "smtp://127.0.0.1:25";  // smtp:// or smtps://
  bool starttls = false;                    // require STARTTLS on smtp://
  std::string username;
  std::string password;
  long timeout_seconds = 30;
};

std::unique_ptr<Sender> make_smtp_sender(SmtpOptions options);
// Writes each message to <dir>/<time>-<random>.eml (created 0700) and returns.
std::unique_ptr<Sender> make_outbox_sender(std::filesystem::path dir);

}  // namespace herald::mail
