#pragma once
// The identity server's email and page templates: shipped in the binary (identity/templates/), each one
// replaceable by a file of the same name in the configured templates_dir. Read once at start-up.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace herald::identity {

class Templates {
 public:
  // Throws std::runtime_error when an override file exists but cannot be read.
  explicit Templates(const std::optional<std::filesystem::path>& override_dir);
  // invite_email.txt, invite_email.html, validation_email.txt, validation_email.html, validation_page.html.
  const std::string& get(const std::string& name) const;

 private:
  std::map<std::string, std::string> texts_;
};

// A text template's first line "Subject: ..." split from its body.
struct SubjectAndBody {
  std::string subject;
  std::string body;
};
SubjectAndBody split_subject(const std::string& text_template_output);

}  // namespace herald::identity
