#include "federation/request_verifier.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "crypto/request_signature.h"
#include "crypto/signing_key.h"
#include "federation/remote_key_store.h"
#include "tests/support/run_task.h"

namespace herald::federation {
namespace {

using herald::testing::run_task;

class FakeKeys final : public RequestKeySource {
 public:
  std::map<std::pair<std::string, std::string>, std::string> keys;
  Task<std::optional<std::string>> request_key(std::string server, std::string key_id) override {
    auto it = keys.find({server, key_id});
    if (it == keys.end()) co_return std::nullopt;
    co_return it->second;
  }
};

constexpr const char* kUri = "/_matrix/federation/v1/send/1?x=y";
constexpr const char* kBody = R"({"pdus":[]})";

struct VerifierTest : ::testing::Test {
  crypto::SigningKey key = crypto::SigningKey::generate("k1");
  FakeKeys keys;
  RequestVerifier verifier{"us.example", keys};

  VerifierTest() { keys.keys[{"them.example", key.key_id()}] = key.public_key(); }

  std::string header(const std::string& method, const std::string& uri, const std::string& body,
                     const std::string& destination = "us.example", const std::string& origin = "them.example") {
    const nlohmann::json content = nlohmann::json::parse(body.empty() ? "null" : body);
    const auto signing = crypto::request_signing_json(method, uri, origin, "destination", destination,
                                                      body.empty() ? nullptr : &content);
    return crypto::x_matrix_header(signing, origin, destination, key);
  }
  std::string verify(http::Method method, const std::string& uri, const std::string& body,
                     std::vector<std::string> headers) {
    return run_task(verifier.verify(method, uri, body, std::move(headers)));
  }
  void expect_refused(http::Method method, const std::string& uri, const std::string& body,
                      std::vector<std::string> headers, const std::string& why) {
    try {
      verify(method, uri, body, std::move(headers));
      ADD_FAILURE() << "accepted: " << why;
    } catch (const MatrixError& e) {
      EXPECT_EQ(e.http_status(), 401) << why;
      EXPECT_EQ(e.errcode(), "M_UNAUTHORIZED") << why;
    }
  }
};

TEST_F(VerifierTest, AcceptsASignedRequestAndNamesItsOrigin) {
  EXPECT_EQ(verify(http::Method::put, kUri, kBody, {header("PUT", kUri, kBody)}), "them.example");
  EXPECT_EQ(verify(http::Method::get, "/_matrix/federation/v1/version", "", {header("GET", "/_matrix/federation/v1/version", "")}),
            "them.example");
}

TEST_F(VerifierTest, ABodyThatIsNotCanonicalJsonIsBadJsonNotAnAuthFailure) {
  for (const std::string body : {R"({"pdus":[{"content":{"n":1.5}}]})", R"({"n":1e3})", R"({"n":9007199254740992})"}) {
    try {
      verify(http::Method::put, kUri, body, {header("PUT", kUri, kBody)});
      ADD_FAILURE() << "accepted: " << body;
    } catch (const MatrixError& e) {
      EXPECT_EQ(e.http_status(), 400) << body;
      EXPECT_EQ(e.errcode(), "M_BAD_JSON") << body;
    }
  }
}

TEST_F(VerifierTest, AcceptsAHeaderWithoutDestination) {
  std::string h = header("PUT", kUri, kBody);
  const auto at = h.find(",destination=");
  h.erase(at, h.find(',', at + 1) - at);
  ASSERT_EQ(h.find("destination"), std::string::npos);
  EXPECT_EQ(verify(http::Method::put, kUri, kBody, {h}), "them.example");
}

TEST_F(VerifierTest, VerifiesFromAnHttpRequestUsingTheRawTarget) {
  http::Request req;
  req.method = http::Method::put;
  req.path = "/_matrix/federation/v1/send/1";
  req.target = kUri;
  req.body = kBody;
  req.authorization = header("PUT", kUri, kBody);
  EXPECT_EQ(run_task(verifier.verify(req)), "them.example");
}

TEST_F(VerifierTest, RefusesAMissingHeader) { expect_refused(http::Method::put, kUri, kBody, {}, "no header"); }

TEST_F(VerifierTest, RefusesMalformedHeaders) {
  for (const char* bad : {"Bearer abc", "X-Matrix", "X-Matrix origin=them.example,key=\"ed25519:k1\"",
                          "X-Matrix origin=\"bad name\",key=\"ed25519:k1\",sig=\"abc\""}) {
    expect_refused(http::Method::put, kUri, kBody, {bad}, bad);
  }
}

TEST_F(VerifierTest, RefusesARequestForAnotherDestination) {
  expect_refused(http::Method::put, kUri, kBody, {header("PUT", kUri, kBody, "other.example")}, "destination");
}

TEST_F(VerifierTest, RefusesAnUnknownKey) {
  keys.keys.clear();
  expect_refused(http::Method::put, kUri, kBody, {header("PUT", kUri, kBody)}, "unknown key");
}

TEST_F(VerifierTest, RefusesBadSignatures) {
  const std::string h = header("PUT", kUri, kBody);
  expect_refused(http::Method::post, kUri, kBody, {h}, "other method");
  expect_refused(http::Method::put, "/_matrix/federation/v1/send/1?x=z", kBody, {h}, "other uri");
  expect_refused(http::Method::put, kUri, R"({"pdus":[1]})", {h}, "other body");
  expect_refused(http::Method::put, kUri, kBody, {header("PUT", kUri, kBody, "us.example", "liar.example")},
                 "signed as another origin");
  // The key of another server under the origin's name.
  keys.keys[{"them.example", key.key_id()}] = crypto::SigningKey::generate("k1").public_key();
  expect_refused(http::Method::put, kUri, kBody, {h}, "wrong key");
}

TEST_F(VerifierTest, RefusesABodyThatIsNotJson) {
  expect_refused(http::Method::put, kUri, "{not json", {header("PUT", kUri, "")}, "not json");
}

TEST_F(VerifierTest, RefusesHeadersFromDifferentOrigins) {
  keys.keys[{"liar.example", key.key_id()}] = key.public_key();
  expect_refused(http::Method::put, kUri, kBody,
                 {header("PUT", kUri, kBody), header("PUT", kUri, kBody, "us.example", "liar.example")}, "two origins");
}

TEST_F(VerifierTest, TheIdentityServerFormSignsDestinationIs) {
  RequestVerifier is_verifier{"is.example", keys, "destination_is"};
  const nlohmann::json content = nlohmann::json::parse(kBody);
  const auto signing = crypto::request_signing_json("POST", "/_matrix/identity/v2/3pid/unbind", "them.example",
                                                    "destination_is", "is.example", &content);
  const std::string h = crypto::x_matrix_header(signing, "them.example", "is.example", key);
  EXPECT_EQ(run_task(is_verifier.verify(http::Method::post, "/_matrix/identity/v2/3pid/unbind", kBody, {h})), "them.example");
}

}  // namespace
}  // namespace herald::federation
