#include "events/event_id_list.h"

#include <gtest/gtest.h>

namespace herald::events {
namespace {

TEST(EventIdList, KeepsIdsInOrderAndReadsThemBack) {
  const std::vector<std::string> ids{"$a", "$" + std::string(43, 'x'), "", "$b:example.org"};
  const EventIdList list(ids);
  EXPECT_EQ(list.size(), 4u);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list.front(), "$a");
  EXPECT_EQ(list.to_vector(), ids);
  EXPECT_TRUE(list == ids);
  EXPECT_TRUE(list.contains("$b:example.org"));
  EXPECT_TRUE(list.contains(""));
  EXPECT_FALSE(list.contains("$c"));
  EXPECT_EQ(std::distance(list.begin(), list.end()), 4);
}

TEST(EventIdList, HoldsIdsOfAnyLength) {
  // Event IDs are at most 255 bytes by the spec, but a list is built from whatever a PDU says.
  const std::vector<std::string> ids{std::string(254, 'a'), std::string(255, 'b'), std::string(70000, 'c'), "$d"};
  const EventIdList list(ids);
  EXPECT_EQ(list.to_vector(), ids);
  EXPECT_EQ(list.size(), 4u);
}

TEST(EventIdList, EmptyListsAndComparisons) {
  const EventIdList empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_TRUE(empty == std::vector<std::string>{});
  EXPECT_TRUE(EventIdList(std::vector<std::string>{"$a", "$b"}) == EventIdList(std::vector<std::string>{"$a", "$b"}));
  EXPECT_FALSE(EventIdList(std::vector<std::string>{"$a", "$b"}) == (std::vector<std::string>{"$b", "$a"}));
  EXPECT_FALSE(EventIdList(std::vector<std::string>{"$a"}) == (std::vector<std::string>{"$a", "$b"}));
}

}  // namespace
}  // namespace herald::events
