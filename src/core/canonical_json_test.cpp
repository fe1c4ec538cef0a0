#include "core/canonical_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace herald {
namespace {
std::string canon(const char* text) { return *canonical_json(nlohmann::json::parse(text)); }
}  // namespace

// The examples of the spec's appendix on canonical JSON.
TEST(CanonicalJson, SpecExamples) {
  EXPECT_EQ(canon("{}"), "{}");
  EXPECT_EQ(canon(R"({"one": 1, "two": "Two"})"), R"({"one":1,"two":"Two"})");
  EXPECT_EQ(canon(R"({"b": "2", "a": "1"})"), R"({"a":"1","b":"2"})");
  EXPECT_EQ(canon(R"({"auth":{"success":true,"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"medium":"email","address":"john.doe@example.org"},{"medium":"msisdn","address":"123456789"}]}}})"),
            R"({"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}})");
  EXPECT_EQ(canon(R"({"a": "日本語"})"), "{\"a\":\"日本語\"}");
  EXPECT_EQ(canon(R"({"本": 2, "日": 1})"), "{\"日\":1,\"本\":2}");
  EXPECT_EQ(canon(R"({"a": "\u65E5"})"), "{\"a\":\"日\"}");
  EXPECT_EQ(canon(R"({"a": null})"), R"({"a":null})");
  EXPECT_EQ(canon(R"({"a": -0})"), R"({"a":0})");
  EXPECT_EQ(canon(R"({"a": "\u0000\u001f\b\n/\u007f"})"), "{\"a\":\"\\u0000\\u001f\\b\\n/\x7f\"}");
}

TEST(CanonicalJson, RefusesFloatsAndHugeIntegers) {
  EXPECT_FALSE(canonical_json(nlohmann::json::parse(R"({"a": 1.5})")));
  EXPECT_FALSE(canonical_json(nlohmann::json::parse(R"({"a": 9007199254740992})")));
  EXPECT_FALSE(canonical_json(nlohmann::json::parse(R"({"a": -9007199254740992})")));
  EXPECT_TRUE(canonical_json(nlohmann::json::parse(R"({"a": 9007199254740991})")));
}

}  // namespace herald
