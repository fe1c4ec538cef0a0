#include "events/event_references.h"

#include <gtest/gtest.h>

namespace herald::events {
namespace {
using Ids = std::vector<std::string>;

TEST(EventReferences, KeepBothListsInOrderAndReadThemBack) {
  const Ids prev{"$a", "$" + std::string(43, 'x')};
  const Ids auth{"", "$b:example.org", "$c"};
  const EventReferences refs(prev, auth);
  EXPECT_EQ(refs.prev().size(), 2u);
  EXPECT_EQ(refs.auth().size(), 3u);
  EXPECT_EQ(refs.prev().front(), "$a");
  EXPECT_EQ(refs.prev().to_vector(), prev);
  EXPECT_EQ(refs.auth().to_vector(), auth);
  EXPECT_TRUE(refs.auth() == auth);
  EXPECT_TRUE(refs.auth().contains("$b:example.org"));
  EXPECT_TRUE(refs.auth().contains(""));
  EXPECT_FALSE(refs.auth().contains("$a"));  // a prev event, not an auth event
  EXPECT_EQ(std::distance(refs.auth().begin(), refs.auth().end()), 3);
}

TEST(EventReferences, HoldIdsOfAnyLength) {
  // Event IDs are at most 255 bytes by the spec, but the lists are built from whatever a PDU says.
  const Ids prev{std::string(254, 'a'), std::string(255, 'b'), std::string(70000, 'c')};
  const Ids auth{"$d", std::string(300, 'e')};
  const EventReferences refs(prev, auth);
  EXPECT_EQ(refs.prev().to_vector(), prev);
  EXPECT_EQ(refs.auth().to_vector(), auth);
}

TEST(EventReferences, EmptyListsCopiesAndComparisons) {
  const EventReferences none;
  EXPECT_TRUE(none.prev().empty());
  EXPECT_TRUE(none.auth().empty());
  EXPECT_EQ(none.auth().begin(), none.auth().end());
  EXPECT_TRUE(none.prev() == Ids{});
  const EventReferences only_auth(Ids{}, Ids{"$a", "$b"});
  EXPECT_TRUE(only_auth.prev().empty());
  EXPECT_TRUE(only_auth.auth() == (Ids{"$a", "$b"}));
  EXPECT_FALSE(only_auth.auth() == (Ids{"$b", "$a"}));
  EXPECT_FALSE(only_auth.auth() == Ids{"$a"});
  EXPECT_TRUE(only_auth.auth() == EventReferences(Ids{"$p"}, Ids{"$a", "$b"}).auth());
  EXPECT_FALSE(only_auth.prev() == EventReferences(Ids{"$p"}, Ids{}).prev());
  // A copy reads its own buffer.
  EventReferences copy;
  {
    const EventReferences original(Ids{"$short"}, Ids{"$x"});
    copy = original;
  }
  EXPECT_TRUE(copy.prev() == Ids{"$short"});
  EXPECT_TRUE(copy.auth() == Ids{"$x"});
}

}  // namespace
}  // namespace herald::events
