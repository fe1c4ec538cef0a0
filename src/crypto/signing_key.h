#pragma once
// An ed25519 signing key (libsodium) with its Matrix key ID, stored in Synapse's file format:
// "ed25519 <version> <unpadded base64 seed>".
#include <filesystem>
#include <string>
#include <string_view>

namespace herald::crypto {

class SigningKey {
 public:
  static SigningKey generate(std::string version);
  static SigningKey from_seed(std::string_view seed32, std::string version);
  // Reads the key file; creates it (mode 0600) with a fresh key when missing, named `new_version` or, when
  // that is empty, a random "a_XXXX". Throws on a malformed file.
  static SigningKey load_or_create(const std::filesystem::path& path, const std::string& new_version = "");

  std::string key_id() const { return "ed25519:" + version_; }
  const std::string& version() const { return version_; }
  std::string public_key_base64() const;
  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  std::string sign(std::string_view message) const;               // 64 raw bytes
  std::string to_file_line() const;

 private:
  SigningKey(std::string secret, std::string public_key, std::string version);
  std::string secret_;      // 64 bytes: libsodium's seed || public key
  std::string public_key_;  // 32 bytes
  std::string version_;
};

bool verify_ed25519(std::string_view public_key32, std::string_view message, std::string_view signature64);

}  // namespace herald::crypto
