#include "federation/srv_resolver.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace herald::federation {
namespace {

void put16(std::vector<unsigned char>& out, unsigned v) {
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v & 0xff));
}

void put_name(std::vector<unsigned char>& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    const auto dot = name.find('.', start);
    const std::string label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    out.push_back(static_cast<unsigned char>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
}

// A DNS answer to `_matrix-fed._tcp.example.org SRV` with two records: one with its target written out,
// one compressed to point into the question ("example.org"), and an A record that is not SRV.
std::vector<unsigned char> answer() {
  std::vector<unsigned char> m;
  put16(m, 0x1234);  // id
  put16(m, 0x8180);  // response, recursion desired and available, no error
  put16(m, 1);       // questions
  put16(m, 3);       // answers
  put16(m, 0);
  put16(m, 0);
  put_name(m, "_matrix-fed._tcp.example.org");  // at offset 12; "example.org" at 12 + 12 + 5 = 29
  put16(m, 33);
  put16(m, 1);
  auto record = [&m](unsigned type, const std::vector<unsigned char>& rdata) {
    put16(m, 0xc00c);  // the question's name
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);  // ttl
    put16(m, static_cast<unsigned>(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
  };
  std::vector<unsigned char> first;
  put16(first, 10);
  put16(first, 60);
  put16(first, 8443);
  put_name(first, "fed1.example.net");
  record(33, first);
  std::vector<unsigned char> second;
  put16(second, 20);
  put16(second, 0);
  put16(second, 8448);
  put16(second, 0xc000 | 29);  // -> "example.org"
  record(33, second);
  record(1, {127, 0, 0, 1});
  return m;
}

TEST(SrvAnswer, ParsesRecordsIncludingCompressedTargets) {
  const auto m = answer();
  const auto records = parse_srv_answer(m.data(), static_cast<int>(m.size()));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].priority, 10);
  EXPECT_EQ(records[0].weight, 60);
  EXPECT_EQ(records[0].port, 8443);
  EXPECT_EQ(records[0].target, "fed1.example.net");
  EXPECT_EQ(records[1].priority, 20);
  EXPECT_EQ(records[1].port, 8448);
  EXPECT_EQ(records[1].target, "example.org");
}

TEST(SrvAnswer, IgnoresTruncatedOrGarbledMessages) {
  const auto m = answer();
  EXPECT_TRUE(parse_srv_answer(m.data(), 5).empty());
  const std::vector<unsigned char> garbage(64, 0xff);
  EXPECT_TRUE(parse_srv_answer(garbage.data(), static_cast<int>(garbage.size())).empty());
}

TEST(CnameAnswer, SeesACnameInTheAnswerSection) {
  std::vector<unsigned char> m;
  put16(m, 0x4321);
  put16(m, 0x8180);
  put16(m, 1);
  put16(m, 2);
  put16(m, 0);
  put16(m, 0);
  put_name(m, "alias.example.org");  // at offset 12
  put16(m, 1);                       // A
  put16(m, 1);
  auto record = [&m](unsigned name_offset, unsigned type, const std::vector<unsigned char>& rdata) {
    put16(m, 0xc000 | name_offset);
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, static_cast<unsigned>(rdata.size()));
    m.insert(m.end(), rdata.begin(), rdata.end());
  };
  std::vector<unsigned char> target;
  put_name(target, "real.example.net");
  record(12, 5, target);  // CNAME
  record(12, 1, {192, 0, 2, 1});
  EXPECT_TRUE(answer_has_cname(m.data(), static_cast<int>(m.size())));
  // The SRV answer above has none; garbage has none.
  const auto srv = answer();
  EXPECT_FALSE(answer_has_cname(srv.data(), static_cast<int>(srv.size())));
  EXPECT_FALSE(answer_has_cname(m.data(), 5));
}

}  // namespace
}  // namespace herald::federation
