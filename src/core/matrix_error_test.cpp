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
