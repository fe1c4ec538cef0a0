#include "identity/templates.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace herald::embedded {
std::string_view identity_template(std::string_view file_name);
}

namespace herald::identity {
namespace {
constexpr const char* kNames[] = {"invite_email.txt", "invite_email.html", "validation_email.txt",
                                  "validation_email.html", "validation_page.html"};
}

Templates::Templates(const std::optional<std::filesystem::path>& override_dir) {
  for (const char* name : kNames) {
    if (override_dir && std::filesystem::exists(*override_dir / name)) {
      std::ifstream in(*override_dir / name, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) throw std::runtime_error("cannot read template " + (*override_dir / name).string());
      texts_[name] = text.str();
    } else {
      texts_[name] = std::string(embedded::identity_template(name));
    }
  }
}

const std::string& Templates::get(const std::string& name) const { return texts_.at(name); }

SubjectAndBody split_subject(const std::string& text) {
  constexpr std::string_view kPrefix = "Subject:";
  if (text.rfind(kPrefix, 0) != 0) return {"", text};
  const auto eol = text.find('\n');
  std::string subject = text.substr(kPrefix.size(), eol == std::string::npos ? std::string::npos : eol - kPrefix.size());
  while (!subject.empty() && (subject.front() == ' ')) subject.erase(0, 1);
  while (!subject.empty() && (subject.back() == ' ' || subject.back() == '\r')) subject.pop_back();
  return {subject, eol == std::string::npos ? "" : text.substr(eol + 1)};
}

}  // namespace herald::identity
