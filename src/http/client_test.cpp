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

TEST(PrivateAddresses, CoverLoopbackPrivateLinkLocalAndMappedForms) {
  for (const char* p : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1", "not an ip"}) {
    EXPECT_TRUE(is_private_address(p)) << p;
  }
  for (const char* p : {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(is_private_address(p)) << p;
  }
}

}  // namespace herald::http
