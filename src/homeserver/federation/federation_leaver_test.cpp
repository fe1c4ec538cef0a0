#include "homeserver/federation/federation_leaver.h"

#include <gtest/gtest.h>

namespace herald::homeserver::outbound_leave {
namespace {

TEST(OutboundLeave, WhatEachAnswerMeansForRetrying) {
  EXPECT_EQ(answer_kind(200), AnswerKind::ok);
  // A permanent refusal ends the retrying.
  EXPECT_EQ(answer_kind(403), AnswerKind::refused);
  EXPECT_EQ(answer_kind(404), AnswerKind::refused);
  EXPECT_EQ(answer_kind(400), AnswerKind::refused);
  // The server is there but cannot take it now.
  EXPECT_EQ(answer_kind(429), AnswerKind::retry);
  EXPECT_EQ(answer_kind(408), AnswerKind::retry);
  EXPECT_EQ(answer_kind(500), AnswerKind::retry);
  EXPECT_EQ(answer_kind(502), AnswerKind::retry);
}

TEST(OutboundLeave, SendLeaveFallsBackToV1OnlyWhenV2IsUnknown) {
  EXPECT_TRUE(wants_v1(404, ""));
  EXPECT_TRUE(wants_v1(400, "M_UNRECOGNIZED"));
  EXPECT_FALSE(wants_v1(400, "M_BAD_JSON"));
  EXPECT_FALSE(wants_v1(403, "M_FORBIDDEN"));
  EXPECT_FALSE(wants_v1(200, ""));
}

}  // namespace
}  // namespace herald::homeserver::outbound_leave
