#include "mail/template.h"

#include "core/strings.h"

namespace herald::mail {

std::string render_template(std::string_view text, const TemplateVars& vars, Escape escape) {
  std::string out;
  out.reserve(text.size() + 256);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    std::string_view name = text.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (auto it = vars.find(name); it != vars.end()) out += escape == Escape::html ? strings::html_escape(it->second) : it->second;
    i = close + 2;
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace herald::mail
