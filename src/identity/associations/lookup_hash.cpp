#include "identity/associations/lookup_hash.h"

#include "crypto/base64.h"
#include "crypto/sha256.h"

namespace herald::identity {

std::string lookup_hash(std::string_view address, std::string_view medium, std::string_view pepper) {
  std::string input;
  input.reserve(address.size() + medium.size() + pepper.size() + 2);
  input.append(address).append(" ").append(medium).append(" ").append(pepper);
  return crypto::base64url_encode(crypto::sha256(input));
}

}  // namespace herald::identity
