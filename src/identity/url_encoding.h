#pragma once
// Percent-encoding of query values in the links the identity server mails and the URLs it calls.
#include <string>
#include <string_view>

namespace herald::identity {

std::string url_encode(std::string_view value);

}  // namespace herald::identity
