#pragma once
// Per-invite ephemeral ed25519 keys (identity.md §6): the public half is published with the invite and
// answered as valid on /pubkey/ephemeral/isvalid; the private half only travels in the invitation email, so
// the invitee's client can have /sign-ed25519 sign with it. The server never stores the private half.
#include <string>
#include <string_view>

namespace herald::identity {

struct EphemeralKey {
  std::string public_key;   // URL-safe unpadded base64 of the 32-byte public key (as Sydent hands it out)
  std::string private_key;  // URL-safe unpadded base64 of the 32-byte seed
};

EphemeralKey generate_ephemeral_key();
// The URL-safe public key that belongs to a private key (seed) in either base64 alphabet; empty when the
// text is not a 32-byte seed.
std::string ephemeral_public_key_of(std::string_view private_key_b64);
// The same key in one spelling (URL-safe, unpadded), whichever alphabet or padding a client used.
std::string normalize_public_key(std::string_view key_b64);

}  // namespace herald::identity
