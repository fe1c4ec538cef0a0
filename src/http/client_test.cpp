#include "http/client.h"

#include <gtest/gtest.h>

namespace herald::http {

TEST(Url, ParsesSchemesHostsPortsAndTargets) {
  auto u = Url::parse("http://127.0.0.1:8008/_matrix/x?a=b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8008);
  EXPECT_EQ(u->target, "/_matrix/x?a=b");
  u = Url::parse("https://matrix.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  u = Url::parse("https://[::1]:8448?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8448);
  EXPECT_EQ(u->target, "/?x=1");
}

TEST(Url, RejectsWhatIsNotAPlainHttpUrl) {
  for (const char* bad : {"ftp://x", "http://", "http://user@host/", "http://host:0/", "http://host:99999/",
                          "http://host:/", "http://ho st/", "file:///etc/passwd", "http://[::1/"}) {
    EXPECT_FALSE(Url::parse(bad)) << bad;
  }
}

}  // namespace herald::http
