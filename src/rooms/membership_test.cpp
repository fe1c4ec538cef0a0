#include "rooms/membership.h"

#include <gtest/gtest.h>

namespace herald::rooms {

TEST(Membership, RoundTripsTheSpecWords) {
  for (Membership m : {Membership::join, Membership::invite, Membership::leave, Membership::ban, Membership::knock}) {
    EXPECT_EQ(parse_membership(to_string(m)), m);
  }
  EXPECT_EQ(to_string(Membership::knock), "knock");
}

TEST(Membership, RefusesOtherWords) {
  for (const char* bad : {"", "Join", "dance", "joined", " join"}) EXPECT_FALSE(parse_membership(bad)) << bad;
}

}  // namespace herald::rooms
