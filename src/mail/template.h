#pragma once
// Mail and page templates: "{{ name }}" is replaced by the variable's value, HTML-escaped when the template
// is HTML. Unknown names render empty, so a template cannot leak anything it was not given.
#include <map>
#include <string>
#include <string_view>

namespace herald::mail {

using TemplateVars = std::map<std::string, std::string, std::less<>>;

enum class Escape { none, html };

std::string render_template(std::string_view text, const TemplateVars& vars, Escape escape);

}  // namespace herald::mail
