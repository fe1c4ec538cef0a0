#include "rooms/history_visibility.h"

#include <gtest/gtest.h>

namespace herald::rooms {

// The room: visibility changes at 10; bob is invited at 20, joins at 30, leaves at 40.
TEST(HistoryVisibility, Table) {
  struct Case {
    const char* visibility;
    std::int64_t event;
    const char* current;
    bool expected;
    const char* why;
  } cases[] = {
      {"world_readable", 5, "leave", true, "before the change the default (shared) applies; bob joined later"},
      {"world_readable", 15, "leave", true, "world_readable: anyone"},
      {"shared", 15, "leave", true, "shared: bob joined later (at 30)"},
      {"shared", 45, "leave", false, "shared: after bob left and never rejoined"},
      {"invited", 15, "join", false, "invited: bob was not yet invited at 15"},
      {"invited", 25, "join", true, "invited: bob was invited at 25"},
      {"joined", 25, "join", false, "joined: bob only invited at 25"},
      {"joined", 35, "leave", true, "joined: bob was joined at 35"},
      {"joined", 30, "leave", false, "joined: state at the join event is before it (invite)"},
  };
  for (const auto& c : cases) {
    HistoryVisibility hv({{10, c.visibility}}, {{20, "invite"}, {30, "join"}, {40, "leave"}}, c.current);
    EXPECT_EQ(hv.visible(c.event, false), c.expected) << c.visibility << " @" << c.event << ": " << c.why;
  }
}

TEST(HistoryVisibility, OwnMembershipEventsAlwaysVisible) {
  HistoryVisibility hv({{1, "joined"}}, {{20, "invite"}}, "invite");
  EXPECT_FALSE(hv.visible(10, false));
  EXPECT_TRUE(hv.visible(20, true));
}

}  // namespace herald::rooms
