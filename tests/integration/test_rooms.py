"""Issue 3: rooms and membership through HTTP, on every path version, with the spec's refusals."""
import threading
import time
import unittest
import urllib.parse

from harness import HeraldServer, MatrixAssertions, UsersOnOneServer

PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]


def q(room_id):
    return urllib.parse.quote(room_id, safe="")


class RoomsTest(UsersOnOneServer):
    user_names = ["alice", "bob", "carol", "dan", "erin"]

    def state(self, who, room_id, type_, key=""):
        return self.call(who, "GET", f"/rooms/{q(room_id)}/state/{type_}/{q(key)}")

    # createRoom ---------------------------------------------------------------------------------------

    def test_create_room_events_in_spec_order(self):
        room = self.create(name="Ordered", topic="t", preset="private_chat", room_alias_name="ordered",
                           invite=[self.uid("bob")], initial_state=[
                               {"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
        self.assertTrue(room.startswith("!"))
        msgs = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages", query={"dir": "f", "limit": 50}))
        types = [(e["type"], e.get("state_key")) for e in msgs["chunk"]]
        self.assertEqual(types, [
            ("m.room.create", ""), ("m.room.member", self.uid("alice")), ("m.room.power_levels", ""),
            ("m.room.canonical_alias", ""), ("m.room.join_rules", ""), ("m.room.history_visibility", ""),
            ("m.room.guest_access", ""), ("m.room.encryption", ""), ("m.room.name", ""), ("m.room.topic", ""),
            ("m.room.member", self.uid("bob"))])
        create = msgs["chunk"][0]
        self.assertEqual(create["content"]["room_version"], "12")
        self.assertEqual(room, "!" + create["event_id"][1:], "v12 room IDs derive from the create event")
        self.assertNotIn("hashes", create)
        self.assertNotIn("signatures", create)
        pl = self.ok(self.state("alice", room, "m.room.power_levels"))
        self.assertEqual(pl["invite"], 0)
        self.assertNotIn(self.uid("alice"), pl["users"], "v12 creators are not listed")
        self.assertEqual(self.ok(self.state("alice", room, "m.room.join_rules"))["join_rule"], "invite")
        alias = self.ok(self.hs.client("GET", "/directory/room/" + q("#ordered:localhost")))
        self.assertEqual(alias["room_id"], room)

    def test_create_room_versions_and_errors(self):
        for v in [str(i) for i in range(1, 13)]:
            room = self.create(room_version=v)
            create = self.ok(self.state("alice", room, "m.room.create"))
            self.assertEqual(create["room_version"], v)
            if int(v) <= 10:
                self.assertEqual(create["creator"], self.uid("alice"))
                self.assertTrue(room.endswith(":localhost"))
            pl = self.ok(self.state("alice", room, "m.room.power_levels"))
            if int(v) <= 11:
                self.assertEqual(pl["users"][self.uid("alice")], 100)
        self.err(self.call("alice", "POST", "/createRoom", body={"room_version": "99"}), 400, "M_UNSUPPORTED_ROOM_VERSION")
        self.err(self.call("alice", "POST", "/createRoom", raw=b"{oops"), 400, "M_NOT_JSON")
        self.err(self.call("alice", "POST", "/createRoom", body={"name": 5}), 400, "M_BAD_JSON")
        self.err(self.call("alice", "POST", "/createRoom", body={"invite": ["not-a-user"]}), 400, "M_INVALID_PARAM")
        self.create(room_alias_name="taken")
        self.err(self.call("alice", "POST", "/createRoom", body={"room_alias_name": "taken"}), 400, "M_ROOM_IN_USE")
        self.err(self.hs.client("POST", "/createRoom", body={}), 401, "M_MISSING_TOKEN")

    def test_power_level_override_and_public_preset(self):
        room = self.create(preset="public_chat", power_level_content_override={"invite": 75}, room_version="11")
        pl = self.ok(self.state("alice", room, "m.room.power_levels"))
        self.assertEqual(pl["invite"], 75)
        self.assertEqual(self.ok(self.state("alice", room, "m.room.join_rules"))["join_rule"], "public")
        self.err(self.state("alice", room, "m.room.guest_access"), 404, "M_NOT_FOUND")

    # Invite ------------------------------------------------------------------------------------------

    def test_invite_on_every_prefix_with_reason(self):
        for prefix in PREFIXES:
            room = self.create()
            body = self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", prefix=prefix,
                                     body={"user_id": self.uid("bob"), "reason": "join us"}))
            self.assertEqual(body, {})
            member = self.ok(self.state("alice", room, "m.room.member", self.uid("bob")))
            self.assertEqual(member["membership"], "invite")
            self.assertEqual(member["reason"], "join us")
            # Inviting again is fine (200 {}).
            self.assertEqual(self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", prefix=prefix,
                                               body={"user_id": self.uid("bob")})), {})

    def test_invite_refusals(self):
        room = self.create(room_version="11", power_level_content_override={"invite": 50})
        path = f"/rooms/{q(room)}/invite"
        self.err(self.call("alice", "POST", path, raw=b"nope"), 400, "M_NOT_JSON")
        self.err(self.call("alice", "POST", path, body={"user_id": 42}), 400, "M_BAD_JSON")
        self.err(self.call("alice", "POST", path, body={}), 400, "M_BAD_JSON")
        self.err(self.call("alice", "POST", path, body={"user_id": "bob"}), 400, "M_INVALID_PARAM")
        # Inviter not in the room.
        body = self.err(self.call("carol", "POST", path, body={"user_id": self.uid("dan")}), 403, "M_FORBIDDEN")
        self.assertIn("not in this room", body["error"])
        # Invitee already joined.
        self.ok(self.call("alice", "POST", path, body={"user_id": self.uid("bob")}))
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        body = self.err(self.call("alice", "POST", path, body={"user_id": self.uid("bob")}), 403, "M_FORBIDDEN")
        self.assertIn("already in the room", body["error"])
        # Invitee banned.
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/ban", body={"user_id": self.uid("erin")}))
        body = self.err(self.call("alice", "POST", path, body={"user_id": self.uid("erin")}), 403, "M_FORBIDDEN")
        self.assertIn("banned", body["error"])
        # Power level too low: bob (0) in a room whose invite level is 50.
        body = self.err(self.call("bob", "POST", path, body={"user_id": self.uid("dan")}), 403, "M_FORBIDDEN")
        self.assertIn("power level", body["error"])
        # Unknown room.
        self.err(self.call("alice", "POST", "/rooms/" + q("!nope:localhost") + "/invite",
                           body={"user_id": self.uid("bob")}), 404, "M_NOT_FOUND")

    # Join ------------------------------------------------------------------------------------------------

    def test_join_by_id_and_alias_on_every_prefix(self):
        for i, prefix in enumerate(PREFIXES):
            room = self.create(preset="public_chat", room_alias_name=f"pub{i}")
            body = self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/join", prefix=prefix, body={}))
            self.assertEqual(body, {"room_id": room})
            self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/leave", prefix=prefix, body={}))
            body = self.ok(self.call("carol", "POST", "/join/" + q(f"#pub{i}:localhost"), prefix=prefix,
                                     query={"server_name": "localhost"}, body={}))
            self.assertEqual(body, {"room_id": room})
            joined = self.ok(self.call("carol", "GET", "/joined_rooms"))["joined_rooms"]
            self.assertIn(room, joined)
        self.err(self.call("carol", "POST", "/join/" + q("#missing:localhost"), body={}), 404, "M_NOT_FOUND")
        self.err(self.call("carol", "POST", "/join/" + q("garbage"), body={}), 400, "M_INVALID_PARAM")

    def test_join_refusals(self):
        room = self.create()
        body = self.err(self.call("dan", "POST", f"/rooms/{q(room)}/join", body={}), 403, "M_FORBIDDEN")
        self.assertIn("not invited", body["error"])
        self.err(self.call("dan", "POST", f"/_matrix/client/api/v1/rooms/{q(room)}/join", prefix="", body={}),
                 403, "M_FORBIDDEN")
        public = self.create(preset="public_chat")
        self.ok(self.call("alice", "POST", f"/rooms/{q(public)}/ban", body={"user_id": self.uid("dan"), "reason": "spam"}))
        body = self.err(self.call("dan", "POST", f"/rooms/{q(public)}/join", body={}), 403, "M_FORBIDDEN")
        self.assertIn("banned", body["error"])
        self.err(self.call("dan", "POST", f"/rooms/{q(public)}/join", raw=b"[]"), 400, "M_BAD_JSON")

    # Leave, kick, ban, unban, forget, knock -------------------------------------------------------------

    def test_reject_invite_kick_ban_unban_forget(self):
        room = self.create(room_version="10")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("bob")}))
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/leave", body={}))  # reject
        self.assertEqual(self.ok(self.state("alice", room, "m.room.member", self.uid("bob")))["membership"], "leave")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("bob")}))
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        self.err(self.call("bob", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("alice")}),
                 403, "M_FORBIDDEN")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("bob"), "reason": "bye"}))
        kicked = self.ok(self.state("alice", room, "m.room.member", self.uid("bob")))
        self.assertEqual((kicked["membership"], kicked["reason"]), ("leave", "bye"))
        self.err(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("dan")}),
                 403, "M_FORBIDDEN")
        self.err(self.call("alice", "POST", f"/rooms/{q(room)}/unban", body={"user_id": self.uid("bob")}),
                 403, "M_BAD_STATE")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/ban", body={"user_id": self.uid("bob")}))
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/unban", body={"user_id": self.uid("bob")}))
        self.assertEqual(self.ok(self.state("alice", room, "m.room.member", self.uid("bob")))["membership"], "leave")
        # An "_unban" key in member content is content, not a flag: this is a plain revocation of an invite.
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("bob")}))
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid('bob'))}",
                          body={"membership": "leave", "_unban": True}))
        self.assertEqual(self.ok(self.state("alice", room, "m.room.member", self.uid("bob")))["_unban"], True)
        # Forget: only once left.
        self.err(self.call("alice", "POST", f"/rooms/{q(room)}/forget", body={}), 400, "M_UNKNOWN")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/forget", body={}))

    def test_knock(self):
        room = self.create(room_version="7", initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
                           room_alias_name="knocky")
        body = self.ok(self.call("dan", "POST", "/knock/" + q("#knocky:localhost"), body={"reason": "let me in"}))
        self.assertEqual(body, {"room_id": room})
        sync = self.ok(self.call("dan", "GET", "/sync"))
        self.assertIn(room, sync["rooms"]["knock"])
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("dan")}))
        self.ok(self.call("dan", "POST", f"/rooms/{q(room)}/join", body={}))
        private = self.create(room_version="7")
        self.err(self.call("erin", "POST", "/knock/" + q(private), body={}), 403, "M_FORBIDDEN")

    # State, send, messages, redact, members ------------------------------------------------------------

    def test_state_send_messages_redact(self):
        room = self.create(room_version="11")
        event_id = self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/state/m.room.name", body={"name": "Hello"}))["event_id"]
        self.assertEqual(self.ok(self.state("alice", room, "m.room.name"))["name"], "Hello")
        full = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/state/m.room.name/", query={"format": "event"}))
        self.assertEqual(full["event_id"], event_id)
        first = self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/txn1",
                                  body={"msgtype": "m.text", "body": "one"}))["event_id"]
        again = self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/txn1",
                                  body={"msgtype": "m.text", "body": "one"}))["event_id"]
        self.assertEqual(first, again, "same txn ID, same event")
        for i in range(5):
            self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/m{i}", body={"body": str(i)}))
        page = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages", query={"dir": "b", "limit": 3}))
        self.assertEqual([e["content"]["body"] for e in page["chunk"]], ["4", "3", "2"])
        page2 = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages",
                                  query={"dir": "b", "limit": 3, "from": page["end"]}))
        self.assertEqual([e["content"]["body"] for e in page2["chunk"]], ["1", "0", "one"])
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/redact/{q(first)}/r1", body={"reason": "oops"}))
        redacted = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/event/{q(first)}"))
        self.assertEqual(redacted["content"], {})
        self.err(self.call("alice", "GET", f"/rooms/{q(room)}/event/{q('$nope')}"), 404, "M_NOT_FOUND")
        self.err(self.call("carol", "GET", f"/rooms/{q(room)}/state"), 403, "M_FORBIDDEN")
        self.err(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/f", body={"n": 1.5}), 400, "M_BAD_JSON")
        self.err(self.state("alice", room, "m.room.topic"), 404, "M_NOT_FOUND")

    def test_members_and_profiles(self):
        self.ok(self.call("erin", "PUT", "/profile/" + q(self.uid("erin")) + "/displayname", body={"displayname": "Erin E"}))
        room = self.create(invite=[self.uid("erin")])
        member = self.ok(self.state("alice", room, "m.room.member", self.uid("erin")))
        self.assertEqual(member["displayname"], "Erin E")
        self.ok(self.call("erin", "POST", f"/rooms/{q(room)}/join", body={}))
        joined = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/joined_members"))["joined"]
        self.assertEqual(joined[self.uid("erin")]["display_name"], "Erin E")
        self.ok(self.call("erin", "PUT", "/profile/" + q(self.uid("erin")) + "/displayname", body={"displayname": "E2"}))
        self.assertEqual(self.ok(self.state("alice", room, "m.room.member", self.uid("erin")))["displayname"], "E2")
        members = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/members", query={"membership": "join"}))["chunk"]
        self.assertEqual(sorted(m["state_key"] for m in members), [self.uid("alice"), self.uid("erin")])
        self.assertEqual(self.ok(self.hs.client("GET", "/profile/" + q(self.uid("erin"))))["displayname"], "E2")

    # Aliases and directory -----------------------------------------------------------------------------

    def test_aliases_and_public_rooms(self):
        room = self.create(visibility="public", preset="public_chat", name="Lobby")
        alias = "#lobby-alias:localhost"
        self.ok(self.call("alice", "PUT", "/directory/room/" + q(alias), body={"room_id": room}))
        self.err(self.call("alice", "PUT", "/directory/room/" + q(alias), body={"room_id": room}), 409, "M_UNKNOWN")
        self.assertEqual(self.ok(self.hs.client("GET", "/directory/room/" + q(alias)))["room_id"], room)
        self.err(self.call("bob", "DELETE", "/directory/room/" + q(alias)), 403, "M_FORBIDDEN")
        self.ok(self.call("alice", "DELETE", "/directory/room/" + q(alias)))
        self.err(self.hs.client("GET", "/directory/room/" + q(alias)), 404, "M_NOT_FOUND")
        self.err(self.hs.client("GET", "/directory/room/" + q("lobby")), 400, "M_INVALID_PARAM")
        rooms = self.ok(self.hs.client("GET", "/publicRooms"))["chunk"]
        self.assertIn(room, [r["room_id"] for r in rooms])

    # Sync ------------------------------------------------------------------------------------------------

    def test_sync_invite_join_and_kick(self):
        room = self.create(name="Syncing")
        base = self.ok(self.call("dan", "GET", "/sync"))
        since = base["next_batch"]
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("dan"), "reason": "hi"}))
        inc = self.ok(self.call("dan", "GET", "/sync", query={"since": since}))
        invite_state = inc["rooms"]["invite"][room]["invite_state"]["events"]
        types = [e["type"] for e in invite_state]
        self.assertIn("m.room.create", types)
        self.assertIn("m.room.name", types)
        own = [e for e in invite_state if e["type"] == "m.room.member" and e["state_key"] == self.uid("dan")][0]
        self.assertEqual(own["content"]["membership"], "invite")
        self.assertEqual(own["content"]["reason"], "hi")
        self.assertEqual(own["sender"], self.uid("alice"))
        # Stripped state: exactly type, state_key, sender and content, the invitee's own event included.
        for e in invite_state:
            self.assertEqual(sorted(e), ["content", "sender", "state_key", "type"], e)
        self.ok(self.call("dan", "POST", f"/rooms/{q(room)}/join", body={}))
        inc2 = self.ok(self.call("dan", "GET", "/sync", query={"since": inc["next_batch"]}))
        joined = inc2["rooms"]["join"][room]
        all_events = joined["state"]["events"] + joined["timeline"]["events"]
        self.assertTrue(any(e["type"] == "m.room.member" and e["state_key"] == self.uid("dan")
                            and e["content"]["membership"] == "join" for e in all_events))
        # Nothing new: the same token again gives no rooms.
        empty = self.ok(self.call("dan", "GET", "/sync", query={"since": inc2["next_batch"]}))
        self.assertNotIn("rooms", empty)
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("dan"), "reason": "out"}))
        inc3 = self.ok(self.call("dan", "GET", "/sync", query={"since": inc2["next_batch"]}))
        left = inc3["rooms"]["leave"][room]["timeline"]["events"]
        self.assertEqual(left[-1]["content"], {"membership": "leave", "reason": "out"})

    def test_sync_long_poll_wakes_on_event(self):
        room = self.create()
        since = self.ok(self.call("alice", "GET", "/sync"))["next_batch"]
        result = {}

        def poll():
            start = time.time()
            result["sync"] = self.call("alice", "GET", "/sync", query={"since": since, "timeout": 10000})
            result["elapsed"] = time.time() - start

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/lp", body={"body": "wake"}))
        t.join(15)
        body = self.ok(result["sync"])
        self.assertLess(result["elapsed"], 5)
        events = body["rooms"]["join"][room]["timeline"]["events"]
        self.assertEqual(events[-1]["content"]["body"], "wake")
        # A timeout with nothing new returns an empty response after the timeout.
        start = time.time()
        quiet = self.ok(self.call("bob", "GET", "/sync", query={"since": body["next_batch"], "timeout": 300}))
        self.assertGreaterEqual(time.time() - start, 0.25)
        self.assertIn("next_batch", quiet)

    def test_sync_filters_and_limited_timeline(self):
        room = self.create()
        for i in range(6):
            self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/f{i}", body={"body": str(i)}))
        fid = self.ok(self.call("alice", "POST", "/user/" + q(self.uid("alice")) + "/filter",
                                body={"room": {"timeline": {"limit": 2}, "state": {"lazy_load_members": True}}}))["filter_id"]
        self.assertEqual(self.ok(self.call("alice", "GET", "/user/" + q(self.uid("alice")) + f"/filter/{fid}"))["room"]["timeline"]["limit"], 2)
        self.err(self.call("bob", "GET", "/user/" + q(self.uid("alice")) + f"/filter/{fid}"), 403, "M_FORBIDDEN")
        for f in [fid, '{"room":{"timeline":{"limit":2}}}']:
            sync = self.ok(self.call("alice", "GET", "/sync", query={"filter": f}))
            timeline = sync["rooms"]["join"][room]["timeline"]
            self.assertTrue(timeline["limited"])
            self.assertEqual([e["content"]["body"] for e in timeline["events"]], ["4", "5"])
            state_types = {e["type"] for e in sync["rooms"]["join"][room]["state"]["events"]}
            self.assertIn("m.room.create", state_types)
            back = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages",
                                     query={"dir": "b", "from": timeline["prev_batch"], "limit": 1}))
            self.assertEqual(back["chunk"][0]["content"]["body"], "3")
        self.err(self.call("alice", "GET", "/sync", query={"since": "garbage"}), 400, "M_INVALID_PARAM")

    def test_history_visibility(self):
        for visibility, bob_sees_secret in [("joined", False), ("invited", False), ("shared", True)]:
            room = self.create(initial_state=[{"type": "m.room.history_visibility",
                                               "content": {"history_visibility": visibility}}])
            secret = self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/s-{visibility}",
                                       body={"body": "before bob"}))["event_id"]
            self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("bob")}))
            self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
            self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/a-{visibility}",
                              body={"body": "after bob"}))
            page = self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/messages", query={"dir": "b", "limit": 50}))
            bodies = [e["content"].get("body") for e in page["chunk"]]
            self.assertIn("after bob", bodies)
            self.assertEqual("before bob" in bodies, bob_sees_secret, visibility)
            got = self.call("bob", "GET", f"/rooms/{q(room)}/event/{q(secret)}")
            self.assertEqual(got[0], 200 if bob_sees_secret else 404, visibility)
            sync = self.ok(self.call("bob", "GET", "/sync", query={"filter": '{"room":{"timeline":{"limit":50}}}'}))
            timeline = [e["content"].get("body") for e in sync["rooms"]["join"][room]["timeline"]["events"]]
            self.assertEqual("before bob" in timeline, bob_sees_secret, visibility)

    def test_restricted_join(self):
        space = self.create(preset="public_chat")
        self.ok(self.call("erin", "POST", f"/rooms/{q(space)}/join", body={}))
        room = self.create(room_version="10", initial_state=[{"type": "m.room.join_rules", "content": {
            "join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": space}]}}])
        self.ok(self.call("erin", "POST", f"/rooms/{q(room)}/join", body={}))
        member = self.ok(self.state("alice", room, "m.room.member", self.uid("erin")))
        self.assertEqual(member["join_authorised_via_users_server"], self.uid("alice"))
        body = self.err(self.call("dan", "POST", f"/rooms/{q(room)}/join", body={}), 403, "M_FORBIDDEN")
        self.assertIn("restricted", body["error"])

    def test_legacy_initial_sync_and_events(self):
        room = self.create(name="Old school")
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/old1", body={"body": "hello"}))
        v1 = "/_matrix/client/api/v1"
        init = self.ok(self.call("alice", "GET", "/initialSync", prefix=v1, query={"limit": 5}))
        mine = [r for r in init["rooms"] if r["room_id"] == room][0]
        self.assertEqual(mine["membership"], "join")
        self.assertEqual(mine["messages"]["chunk"][-1]["content"]["body"], "hello")
        self.assertIn("m.room.name", [e["type"] for e in mine["state"]])
        one = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/initialSync", prefix=v1))
        self.assertEqual(one["room_id"], room)
        self.err(self.call("carol", "GET", f"/rooms/{q(room)}/initialSync", prefix=v1), 403, "M_FORBIDDEN")
        result = {}

        def poll():
            result["events"] = self.call("alice", "GET", "/events", prefix=v1,
                                         query={"from": init["end"], "timeout": 10000})

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/send/m.room.message/old2", body={"body": "stream"}))
        t.join(15)
        events = self.ok(result["events"])
        self.assertEqual(events["chunk"][-1]["content"]["body"], "stream")
        self.assertEqual(events["start"], init["end"])


class RoomRateLimitTest(unittest.TestCase):
    def test_invites_and_room_creation_are_limited(self):
        hs = HeraldServer(rate_limits_enabled=True, rate_limits_yaml="""  registration: {per_second: 100, burst: 100}
  room_creation: {per_second: 0.01, burst: 2}
  invites_per_room: {per_second: 0.01, burst: 2}""")
        try:
            hs.start()
            token = hs.register("limited")["access_token"]
            for name in ["x1", "x2", "x3"]:
                hs.register(name)
            room = hs.client("POST", "/createRoom", token=token, body={})[2]["room_id"]
            self.assertEqual(hs.client("POST", "/createRoom", token=token, body={})[0], 200)
            status, headers, body = hs.client("POST", "/createRoom", token=token, body={})
            self.assertEqual((status, body["errcode"]), (429, "M_LIMIT_EXCEEDED"))
            self.assertIn("retry_after_ms", body)
            for name in ["x1", "x2"]:
                self.assertEqual(hs.client("POST", f"/rooms/{q(room)}/invite", token=token,
                                           body={"user_id": f"@{name}:localhost"})[0], 200)
            status, headers, body = hs.client("POST", f"/rooms/{q(room)}/invite", token=token,
                                              body={"user_id": "@x3:localhost"})
            self.assertEqual(status, 429)
            self.assertIn("retry-after", headers)
            self.assertEqual(hs.stop(), 0)
        finally:
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
