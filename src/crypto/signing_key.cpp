#include "crypto/signing_key.h"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "crypto/base64.h"
#include "crypto/random.h"

namespace herald::crypto {

SigningKey::SigningKey(std::string secret, std::string public_key, std::string version)
    : secret_(std::move(secret)), public_key_(std::move(public_key)), version_(std::move(version)) {}

SigningKey SigningKey::from_seed(std::string_view seed32, std::string version) {
  if (seed32.size() != crypto_sign_SEEDBYTES) throw std::invalid_argument("ed25519 seed must be 32 bytes");
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()), reinterpret_cast<unsigned char*>(sk.data()),
                           reinterpret_cast<const unsigned char*>(seed32.data()));
  return SigningKey(std::move(sk), std::move(pk), std::move(version));
}

SigningKey SigningKey::generate(std::string version) {
  return from_seed(random_bytes(crypto_sign_SEEDBYTES), std::move(version));
}

std::string SigningKey::public_key_base64() const { return base64_encode(public_key_); }

std::string SigningKey::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return sig;
}

std::string SigningKey::to_file_line() const {
  return "ed25519 " + version_ + " " + base64_encode(std::string_view(secret_).substr(0, crypto_sign_SEEDBYTES)) + "\n";
}

SigningKey SigningKey::load_or_create(const std::filesystem::path& path, const std::string& new_version) {
  std::ifstream in(path);
  if (!in) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    SigningKey key = generate(new_version.empty() ? "a_" + random_alnum(4) : new_version);
    const std::string tmp = path.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << key.to_file_line();
      out.flush();
      if (!out) throw std::runtime_error("cannot write signing key " + tmp);
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, path);
    return key;
  }
  std::string algorithm, version, seed_b64;
  in >> algorithm >> version >> seed_b64;
  if (algorithm != "ed25519" || version.empty()) throw std::runtime_error("malformed signing key file " + path.string());
  for (char c : version)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      throw std::runtime_error("signing key version has invalid characters in " + path.string());
  auto seed = base64_decode(seed_b64);
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) throw std::runtime_error("malformed signing key seed in " + path.string());
  return from_seed(*seed, version);
}

bool verify_ed25519(std::string_view public_key32, std::string_view message, std::string_view signature64) {
  if (public_key32.size() != crypto_sign_PUBLICKEYBYTES || signature64.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature64.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key32.data())) == 0;
}

}  // namespace herald::crypto
