#include "core/json_body.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/matrix_error.h"

namespace herald {

namespace {
Errc errc_of(std::string_view text) {
  try {
    json_body::parse_object(text);
  } catch (const MatrixError& e) {
    return e.errc();
  }
  return Errc::unknown;
}
}  // namespace

TEST(JsonBody, NotJsonVersusBadJson) {
  EXPECT_EQ(errc_of("{nope"), Errc::not_json);
  EXPECT_EQ(errc_of(""), Errc::not_json);
  EXPECT_EQ(errc_of("[1,2]"), Errc::bad_json);
  EXPECT_EQ(errc_of("\"text\""), Errc::bad_json);
  EXPECT_EQ(json_body::parse_object("{\"a\":1}")["a"], 1);
}

TEST(JsonBody, ANulByteEndsNothing) {
  EXPECT_FALSE(json_body::try_parse(std::string("{}\0garbage", 10)));
  EXPECT_FALSE(json_body::try_parse(std::string("{\"a\":\"x\0y\"}", 12)));
  EXPECT_TRUE(json_body::try_parse("{\"a\":\"x\\u0000y\"}"));  // an escaped NUL is fine
}

TEST(JsonBody, RefusesDeepNesting) {
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_EQ(errc_of("{\"a\":" + deep + "}"), Errc::not_json);
}

TEST(JsonBody, EmptyBodyAllowedWhereSpecAllowsIt) {
  EXPECT_TRUE(json_body::parse_object_or_empty("").empty());
  EXPECT_EQ(errc_of("   "), Errc::not_json);
}

TEST(JsonBody, FieldReadersNameTheField) {
  const auto obj = nlohmann::json::parse(R"({"s":"x","n":3,"b":true,"bad":5})");
  EXPECT_EQ(json_body::optional_string(obj, "s"), "x");
  EXPECT_EQ(json_body::optional_int(obj, "n"), 3);
  EXPECT_EQ(json_body::optional_bool(obj, "b"), true);
  EXPECT_FALSE(json_body::optional_string(obj, "absent"));
  try {
    json_body::optional_string(obj, "bad");
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errc(), Errc::bad_json);
    EXPECT_NE(e.message().find("bad"), std::string::npos);
  }
  try {
    json_body::required_string(obj, "user_id");
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.errc(), Errc::missing_param);
  }
}

}  // namespace herald
