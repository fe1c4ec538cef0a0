#include "http/ip_range.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace herald::http {

TEST(IpRange, ParsesIpv4AndIpv6RangesAndSingleAddresses) {
  for (const char* good : {"10.0.0.0/8", "127.0.0.1", "0.0.0.0/0", "::1/128", "fe80::/10", "::", "::/0",
                           "2001:db8::1", "::ffff:10.0.0.0/104", "10.1.2.3/8"}) {
    EXPECT_TRUE(IpRange::parse(good)) << good;
  }
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8",
                          "example.org", "fe80::1%eth0", "[::1]", "10.0.0.0/ 8", "256.0.0.0/8", "1.2.3.4/1000"}) {
    EXPECT_FALSE(IpRange::parse(bad)) << bad;
  }
}

TEST(IpRange, ContainsByPrefixAndClearsHostBits) {
  const auto r = IpRange::parse("10.1.2.3/8");  // netaddr semantics: the network 10.0.0.0/8
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains(*parse_ip("10.255.0.1")));
  EXPECT_FALSE(r->contains(*parse_ip("11.0.0.1")));
  const auto cgnat = IpRange::parse("100.64.0.0/10");
  EXPECT_TRUE(cgnat->contains(*parse_ip("100.127.255.255")));
  EXPECT_FALSE(cgnat->contains(*parse_ip("100.128.0.0")));
  const auto ula = IpRange::parse("fc00::/7");
  EXPECT_TRUE(ula->contains(*parse_ip("fd12:3456::1")));
  EXPECT_FALSE(ula->contains(*parse_ip("fe00::1")));
  // An IPv4 range matches the IPv4-mapped IPv6 form of its addresses.
  EXPECT_TRUE(r->contains(*parse_ip("::ffff:10.9.8.7")));
  EXPECT_TRUE(IpRange::parse("0.0.0.0/0")->contains(*parse_ip("::ffff:8.8.8.8")));
  EXPECT_FALSE(IpRange::parse("0.0.0.0/0")->contains(*parse_ip("2606:4700::1111")));
}

TEST(IpGuard, DefaultBlacklistRefusesPrivateAndReservedAddresses) {
  const IpGuard guard;
  for (const char* p : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "100.64.0.1", "192.0.0.8", "192.88.99.1", "198.18.0.1", "192.0.2.1", "198.51.100.1",
                        "203.0.113.1", "224.0.0.1", "239.255.255.250", "0.0.0.0", "0.1.2.3", "::1", "::", "fe80::1",
                        "fd00::1", "fc00::1", "2001:db8::1", "ff02::1", "fec0::1",
                        // IPv4 in IPv6: mapped, compatible and 6to4 forms of blacklisted IPv4 addresses.
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "2002:7f00:1::", "2002:c0a8:101::1",
                        // NAT64 (well-known and local-use prefixes) and Teredo (server, or obfuscated client).
                        "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::7f00:1", "2001:0:7f00:1::808:808",
                        "2001:0:808:808::80ff:fffe", "not an ip", "", "localhost"}) {
    EXPECT_FALSE(guard.allows(std::string_view(p))) << p;
  }
  for (const char* p : {"8.8.8.8", "172.32.0.1", "1.1.1.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
                        "2002:808:808::1", "64:ff9b::808:808", "2001:0:808:808::f7f7:f7f7"}) {
    EXPECT_TRUE(guard.allows(std::string_view(p))) << p;
  }
}

TEST(IpGuard, WhitelistExemptsFromTheBlacklistButNotTheUnspecifiedAddress) {
  const IpGuard guard(default_ip_range_blacklist(), {"127.0.0.0/8", "fd00:1::/32"});
  EXPECT_TRUE(guard.allows(std::string_view("127.0.0.1")));
  EXPECT_TRUE(guard.allows(std::string_view("127.1.2.3")));
  EXPECT_TRUE(guard.allows(std::string_view("::ffff:127.0.0.1")));
  EXPECT_TRUE(guard.allows(std::string_view("fd00:1::5")));
  EXPECT_FALSE(guard.allows(std::string_view("fd00:2::5")));
  EXPECT_FALSE(guard.allows(std::string_view("::1")));  // IPv6 loopback is not in 127.0.0.0/8
  EXPECT_FALSE(guard.allows(std::string_view("10.0.0.1")));
  EXPECT_FALSE(IpGuard({}, {"0.0.0.0/0", "::/0"}).allows(std::string_view("0.0.0.0")));
  EXPECT_FALSE(IpGuard({}, {"0.0.0.0/0", "::/0"}).allows(std::string_view("::")));
  // An empty blacklist allows everything else.
  EXPECT_TRUE(IpGuard({}, {}).allows(std::string_view("127.0.0.1")));
  // A custom blacklist replaces the default.
  const IpGuard custom({"8.8.8.0/24"}, {});
  EXPECT_FALSE(custom.allows(std::string_view("8.8.8.8")));
  EXPECT_TRUE(custom.allows(std::string_view("10.0.0.1")));
}

TEST(IpGuard, NamesTheBadEntry) {
  try {
    IpGuard({"10.0.0.0/8", "10.0.0.0/99"}, {});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("ip_range_blacklist: '10.0.0.0/99'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(IpGuard({}, {"nope"}), std::invalid_argument);
}

}  // namespace herald::http
