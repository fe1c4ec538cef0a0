#include "federation/server_name.h"

#include <gtest/gtest.h>

namespace herald::federation {

TEST(ServerName, SplitsHostsPortsAndIpLiterals) {
  auto n = ServerName::parse("matrix.org");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->host, "matrix.org");
  EXPECT_FALSE(n->port);
  EXPECT_FALSE(n->ip_literal);

  n = ServerName::parse("localhost:8448");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->host, "localhost");
  EXPECT_EQ(n->port, 8448);
  EXPECT_EQ(n->str(), "localhost:8448");

  n = ServerName::parse("1.2.3.4");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->ip_literal);
  EXPECT_FALSE(n->ipv6);

  n = ServerName::parse("[1234:5678::abcd]:443");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->ip_literal);
  EXPECT_TRUE(n->ipv6);
  EXPECT_EQ(n->host, "1234:5678::abcd");
  EXPECT_EQ(n->host_for_url(), "[1234:5678::abcd]");
  EXPECT_EQ(n->str(), "[1234:5678::abcd]:443");

  n = ServerName::parse("[::1]");
  ASSERT_TRUE(n);
  EXPECT_FALSE(n->port);
}

TEST(ServerName, RefusesWhatIsNotAServerName) {
  for (const char* bad : {"", ":8448", "host:", "host:0", "host:65536", "host:12a", "ho st", "host/x", "::1",
                          "[::1", "[example.org]", "[::1]x", "[::1]:", "1.2.3", "1.2.3.4.5", "300.1.1.1", "a_b.org",
                          "host:8448:1", "[fe80::1%eth0]"}) {
    EXPECT_FALSE(ServerName::parse(bad)) << bad;
  }
}

}  // namespace herald::federation
