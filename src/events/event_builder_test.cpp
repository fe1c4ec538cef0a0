#include "events/event_builder.h"

#include <gtest/gtest.h>

#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/redaction.h"
#include "events/room_version.h"

namespace herald::events {
namespace {
crypto::SigningKey spec_key() {
  return crypto::SigningKey::from_seed(*crypto::base64_decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"), "1");
}
}  // namespace

// The spec's worked example of signing an event (rooms-and-auth.md §4), with the v1 redaction rules.
TEST(EventHashing, SpecMinimalEventVector) {
  nlohmann::json pdu = nlohmann::json::parse(R"({"room_id":"!x:domain","sender":"@a:domain","origin":"domain",
    "origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],
    "auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}})");
  const std::string hash = content_hash(pdu);
  EXPECT_EQ(hash, "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos");
  pdu["hashes"] = {{"sha256", hash}};
  nlohmann::json redacted = redact(pdu, *find_room_version("1"));
  crypto::sign_json(redacted, "domain", spec_key());
  EXPECT_EQ(redacted["signatures"]["domain"]["ed25519:1"],
            "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg");
}

TEST(EventHashing, SpecMessageEventVector) {
  nlohmann::json pdu = nlohmann::json::parse(R"({"content":{"body":"Here is the message content"},
    "event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"type":"m.room.message",
    "room_id":"!r:domain","sender":"@u:domain","signatures":{},"unsigned":{"age_ts":1000000}})");
  const std::string hash = content_hash(pdu);
  EXPECT_EQ(hash, "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g");
  pdu["hashes"] = {{"sha256", hash}};
  nlohmann::json redacted = redact(pdu, *find_room_version("1"));
  crypto::sign_json(redacted, "domain", spec_key());
  EXPECT_EQ(redacted["signatures"]["domain"]["ed25519:1"],
            "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA");
}

TEST(EventBuilder, EventIdFormatsPerVersion) {
  const crypto::SigningKey key = spec_key();
  const Signer signer{"hs.test", key};
  for (const RoomVersion& v : all_room_versions()) {
    EventDraft create{"m.room.create", "", "@a:hs.test", {{"room_version", std::string(v.id)}}, std::nullopt};
    const EventPtr e = build_event(v, "!r:hs.test", create, {}, {}, 1, 1000, signer);
    ASSERT_EQ(e->event_id().front(), '$') << v.id;
    if (v.event_ids == EventIdFormat::server_assigned) {
      EXPECT_NE(e->event_id().find(":hs.test"), std::string::npos);
      EXPECT_EQ(e->pdu()["event_id"], e->event_id());
    } else {
      EXPECT_EQ(e->event_id().size(), 44u) << v.id;
      EXPECT_FALSE(e->pdu().contains("event_id"));
    }
    if (v.event_ids == EventIdFormat::base64_url) {
      EXPECT_EQ(e->event_id().find_first_of("+/"), std::string::npos);
    }
    if (v.room_id_from_create) {
      EXPECT_FALSE(e->pdu().contains("room_id"));
      EXPECT_EQ(e->room_id(), "!" + e->event_id().substr(1));
    } else {
      EXPECT_EQ(e->room_id(), "!r:hs.test");
    }
    // The signature verifies over the redacted form.
    nlohmann::json redacted = redact(e->pdu(), v);
    EXPECT_TRUE(crypto::verify_json(redacted, "hs.test", key.key_id(), key.public_key())) << v.id;
    EXPECT_EQ(e->pdu()["hashes"]["sha256"], content_hash(e->pdu()));
    EXPECT_EQ(e->reference_hash(), reference_hash(e->pdu(), v)) << v.id;
  }
}

// auth_event_ids() and prev_event_ids() read both reference forms: [id, hashes] pairs (v1-2) and
// plain IDs (v3+), from built events and from stored text alike.
TEST(EventBuilder, ReferencedEventIdsInEveryFormat) {
  const crypto::SigningKey key = spec_key();
  const Signer signer{"hs.test", key};
  for (const RoomVersion& v : all_room_versions()) {
    EventDraft create{"m.room.create", "", "@a:hs.test", {{"room_version", std::string(v.id)}}, std::nullopt};
    const EventPtr c = build_event(v, "!r:hs.test", create, {}, {}, 1, 1000, signer);
    EventDraft join{"m.room.member", "@a:hs.test", "@a:hs.test", {{"membership", "join"}}, std::nullopt};
    const EventPtr j = build_event(v, c->room_id(), join, {c}, {c}, 2, 1001, signer);
    EXPECT_EQ(j->auth_event_ids(), std::vector<std::string>{c->event_id()}) << v.id;
    EXPECT_EQ(j->prev_event_ids(), std::vector<std::string>{c->event_id()}) << v.id;
    EXPECT_TRUE(c->auth_event_ids().empty());
    const EventPtr stored = event_from_pdu(v, j->event_id(), j->room_id(), j->pdu_text());
    EXPECT_EQ(stored->auth_event_ids(), j->auth_event_ids()) << v.id;
  }
  // Entries that are neither form are skipped rather than trusted.
  nlohmann::json odd = {{"type", "m.room.topic"}, {"state_key", ""}};
  odd["auth_events"] = nlohmann::json::array(
      {"$a", nlohmann::json::array({"$b", {{"sha256", "x"}}}), 7, nlohmann::json::array(), {{"k", 1}}});
  const Event e("$e", "!r:hs.test", odd, "");
  EXPECT_EQ(e.auth_event_ids(), (std::vector<std::string>{"$a", "$b"}));
}

TEST(Redaction, KeepsOnlyWhatEachVersionAllows) {
  const nlohmann::json member = {{"type", "m.room.member"}, {"state_key", "@a:b"}, {"origin", "b"}, {"extra", 1},
                                 {"content", {{"membership", "join"}, {"displayname", "A"},
                                              {"join_authorised_via_users_server", "@c:b"}}}};
  const nlohmann::json r1 = redact(member, *find_room_version("1"));
  EXPECT_EQ(r1["content"], nlohmann::json({{"membership", "join"}}));
  EXPECT_TRUE(r1.contains("origin"));
  EXPECT_FALSE(r1.contains("extra"));
  const nlohmann::json r9 = redact(member, *find_room_version("9"));
  EXPECT_TRUE(r9["content"].contains("join_authorised_via_users_server"));
  const nlohmann::json r11 = redact(member, *find_room_version("11"));
  EXPECT_FALSE(r11.contains("origin"));

  const nlohmann::json create = {{"type", "m.room.create"}, {"content", {{"creator", "@a:b"}, {"m.federate", false}}}};
  EXPECT_EQ(redact(create, *find_room_version("10"))["content"], nlohmann::json({{"creator", "@a:b"}}));
  EXPECT_EQ(redact(create, *find_room_version("11"))["content"], create["content"]);

  const nlohmann::json pl = {{"type", "m.room.power_levels"}, {"content", {{"invite", 0}, {"ban", 50}, {"x", 1}}}};
  EXPECT_EQ(redact(pl, *find_room_version("10"))["content"], nlohmann::json({{"ban", 50}}));
  EXPECT_EQ(redact(pl, *find_room_version("11"))["content"], nlohmann::json({{"ban", 50}, {"invite", 0}}));

  const nlohmann::json jr = {{"type", "m.room.join_rules"}, {"content", {{"join_rule", "restricted"}, {"allow", nlohmann::json::array()}}}};
  EXPECT_FALSE(redact(jr, *find_room_version("7"))["content"].contains("allow"));
  EXPECT_TRUE(redact(jr, *find_room_version("8"))["content"].contains("allow"));
}

}  // namespace herald::events
