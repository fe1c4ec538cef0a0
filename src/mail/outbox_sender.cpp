// The outbox sender: with no mail server configured (`herald dev`), each message becomes an .eml file a
// person can open in a mail program.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <random>

#include "mail/sender.h"

namespace herald::mail {
namespace {

class OutboxSender final : public Sender {
 public:
  explicit OutboxSender(std::filesystem::path dir) : dir_(std::move(dir)) {}

  void send(const Message& message) override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    ::chmod(dir_.c_str(), 0700);
    std::random_device rd;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    const auto name = std::to_string(now_ms) + "-" + std::to_string(rd() % 1000000) + ".eml";
    const auto tmp = dir_ / (name + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << render_mime_now(message);
      out.flush();
      if (!out) throw SendError("cannot write " + tmp.string(), false);
    }
    std::filesystem::rename(tmp, dir_ / name, ec);
    if (ec) throw SendError("cannot write " + (dir_ / name).string() + ": " + ec.message(), false);
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace

std::unique_ptr<Sender> make_outbox_sender(std::filesystem::path dir) { return std::make_unique<OutboxSender>(std::move(dir)); }

}  // namespace herald::mail
