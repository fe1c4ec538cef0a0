#include "core/matrix_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace herald {

TEST(MatrixError, DefaultStatusesFollowTheSpec) {
  EXPECT_EQ(MatrixError(Errc::forbidden, "x").http_status(), 403);
  EXPECT_EQ(MatrixError(Errc::not_json, "x").http_status(), 400);
  EXPECT_EQ(MatrixError(Errc::missing_token, "x").http_status(), 401);
  EXPECT_EQ(MatrixError(Errc::limit_exceeded, "x").http_status(), 429);
  EXPECT_EQ(MatrixError(Errc::too_large, "x").http_status(), 413);
  EXPECT_EQ(MatrixError(Errc::unrecognized, "x", 405).http_status(), 405);
}

TEST(MatrixError, ARemoteRefusalKeepsItsErrcodeWhenItLooksLikeOne) {
  const MatrixError passed = MatrixError::from_remote("M_TEST_ERROR_CODE", "denied!", 400);
  EXPECT_EQ(passed.errcode(), "M_TEST_ERROR_CODE");
  EXPECT_EQ(passed.http_status(), 400);
  EXPECT_EQ(nlohmann::json::parse(passed.body())["errcode"], "M_TEST_ERROR_CODE");
  const MatrixError copy = passed;  // the errcode is owned, not a view of the caller's string
  EXPECT_EQ(copy.errcode(), "M_TEST_ERROR_CODE");
  for (const std::string& bad : std::vector<std::string>{"", "M_", "m_lower", "X_NOT_MATRIX", "M_SPACE IN", "M_\"QUOTE", "M_" + std::string(63, 'A')}) {
    const MatrixError e = MatrixError::from_remote(bad, "x", 400);
    EXPECT_EQ(e.errcode(), "M_UNKNOWN") << bad;
    EXPECT_EQ(e.http_status(), 502) << bad;
  }
  EXPECT_EQ(MatrixError::from_remote("M_FORBIDDEN", "x", 500).http_status(), 502);  // not a refusal
}

TEST(MatrixError, BodyCarriesErrcodeErrorAndExtras) {
  const MatrixError e = MatrixError(Errc::limit_exceeded, "slow down").with("retry_after_ms", 1500);
  const auto body = nlohmann::json::parse(e.body());
  EXPECT_EQ(body["errcode"], "M_LIMIT_EXCEEDED");
  EXPECT_EQ(body["error"], "slow down");
  EXPECT_EQ(body["retry_after_ms"], 1500);
  const MatrixError in_use = MatrixError(Errc::threepid_in_use, "bound").with("mxid", "@a:b");
  EXPECT_EQ(nlohmann::json::parse(in_use.body())["mxid"], "@a:b");
}

}  // namespace herald
