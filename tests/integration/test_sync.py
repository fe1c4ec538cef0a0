"""Issue 10: /sync as clients and SyTest rely on it: long-polling from the first token, filters on every
section, state deltas for left rooms, account data (with m.ignored_user_list) and presence."""
import json
import time
import unittest
import urllib.parse

from harness import HeraldServer, MatrixAssertions, UsersOnOneServer, in_background


def q(s):
    return urllib.parse.quote(s, safe="")


class FreshServerLongPollTest(MatrixAssertions, unittest.TestCase):
    """On a server with no events yet next_batch is s0; since=s0 must still long-poll."""

    def test_since_s0_waits_for_news_or_timeout(self):
        hs = HeraldServer().start()
        try:
            status, _, body = hs.client("POST", "/register", body={"username": "solo", "password": "pw-123456",
                                                                   "auth": {"type": "m.login.dummy"}})
            token = body["access_token"]
            first = self.ok(hs.client("GET", "/sync", token=token))
            self.assertEqual(first["next_batch"], "s0")
            started = time.monotonic()
            again = self.ok(hs.client("GET", "/sync", token=token, query={"since": "s0", "timeout": 1500}))
            waited = time.monotonic() - started
            self.assertGreaterEqual(waited, 1.2, "since=s0 answered at once instead of long-polling")
            self.assertNotIn("rooms", again)
            self.assertEqual(again["next_batch"], "s0")
        finally:
            hs.stop()
            hs.cleanup()


class SyncTest(UsersOnOneServer):
    user_names = ["alice", "bob", "carol", "dave", "eve", "frank"]

    def sync(self, who, since=None, filter_=None, **query):
        if since:
            query["since"] = since
        if filter_ is not None:
            query["filter"] = json.dumps(filter_) if isinstance(filter_, dict) else filter_
        return self.ok(self.call(who, "GET", "/sync", query=query))

    # Filters -----------------------------------------------------------------------------------------

    def test_timeline_filters(self):
        room = self.create(preset="public_chat")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        self.send("alice", room, "from alice")
        self.send("bob", room, "from bob")
        self.send("bob", room, "with url", url="mxc://localhost/abc")
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/state/org.example.thing/", body={"x": 1}))

        def timeline(filter_):
            return self.sync("alice", filter_=filter_)["rooms"]["join"][room]["timeline"]["events"]

        self.assertEqual({e["type"] for e in timeline({"room": {"timeline": {"types": ["m.room.message"]}}})},
                         {"m.room.message"})
        self.assertEqual({e["type"] for e in timeline({"room": {"timeline": {"types": ["m.room.mess*"]}}})},
                         {"m.room.message"})
        self.assertNotIn("m.room.message",
                         {e["type"] for e in timeline({"room": {"timeline": {"not_types": ["m.room.message"]}}})})
        self.assertEqual({e["sender"] for e in timeline({"room": {"timeline": {"senders": [self.uid("bob")]}}})},
                         {self.uid("bob")})
        self.assertNotIn(self.uid("bob"),
                         {e["sender"] for e in timeline({"room": {"timeline": {"not_senders": [self.uid("bob")]}}})})
        with_url = timeline({"room": {"timeline": {"contains_url": True}}})
        self.assertEqual([e["content"]["body"] for e in with_url], ["with url"])
        limited = self.sync("alice", filter_={"room": {"timeline": {"types": ["m.room.message"], "limit": 2}}})
        tl = limited["rooms"]["join"][room]["timeline"]
        self.assertEqual([e["content"]["body"] for e in tl["events"]], ["from bob", "with url"])
        self.assertTrue(tl["limited"])
        # An empty types list matches nothing.
        self.assertEqual(timeline({"room": {"timeline": {"types": []}}}), [])

    def test_room_and_state_filters(self):
        a = self.create(name="A")
        b = self.create(name="B")
        self.send("alice", a, "after the name")
        only_a = self.sync("alice", filter_={"room": {"rooms": [a]}})
        self.assertIn(a, only_a["rooms"]["join"])
        self.assertNotIn(b, only_a["rooms"]["join"])
        not_a = self.sync("alice", filter_={"room": {"not_rooms": [a]}})
        self.assertNotIn(a, not_a["rooms"]["join"])
        self.assertIn(b, not_a["rooms"]["join"])
        state = self.sync("alice", filter_={"room": {"rooms": [a], "timeline": {"limit": 1},
                                                     "state": {"types": ["m.room.name"]}}})
        self.assertEqual([e["type"] for e in state["rooms"]["join"][a]["state"]["events"]], ["m.room.name"])
        stored = self.ok(self.call("alice", "POST", f"/user/{q(self.uid('alice'))}/filter",
                                   body={"room": {"rooms": [b]}}))["filter_id"]
        by_id = self.sync("alice", filter_=stored)
        self.assertEqual(list(by_id["rooms"]["join"]), [b])
        for bad in [{"room": {"timeline": {"types": "m.room.message"}}}, {"room": {"rooms": ["#alias:localhost"]}},
                    {"presence": {"senders": ["nobody"]}}, {"room": {"timeline": {"limit": "5"}}}]:
            self.err(self.call("alice", "POST", f"/user/{q(self.uid('alice'))}/filter", body=bad), 400, "M_BAD_JSON")
            self.err(self.call("alice", "GET", "/sync", query={"filter": json.dumps(bad)}), 400, "M_BAD_JSON")

    def test_lazy_loaded_members(self):
        room = self.create(preset="public_chat")
        for who in ["bob", "carol", "dave"]:
            self.ok(self.call(who, "POST", f"/rooms/{q(room)}/join", body={}))
        self.send("alice", room, "one")
        self.send("carol", room, "two")
        lazy = {"room": {"rooms": [room], "timeline": {"limit": 2}, "state": {"lazy_load_members": True}}}
        joined = self.sync("bob", filter_=lazy)["rooms"]["join"][room]
        members = {e["state_key"] for e in joined["state"]["events"] if e["type"] == "m.room.member"}
        self.assertEqual(members, {self.uid("alice"), self.uid("carol"), self.uid("bob")})
        since = self.sync("bob", filter_=lazy)["next_batch"]
        self.send("dave", room, "three")
        inc = self.sync("bob", since=since, filter_=lazy)
        members = {e["state_key"] for e in inc["rooms"]["join"][room]["state"]["events"] if e["type"] == "m.room.member"}
        self.assertEqual(members, {self.uid("dave")}, "only the senders in the timeline")
        # Already sent to this device: not again (unless include_redundant_members).
        self.send("dave", room, "four")
        self.send("carol", room, "five")
        again = self.sync("bob", since=inc["next_batch"], filter_=lazy)["rooms"]["join"][room]
        self.assertEqual([e for e in again["state"]["events"] if e["type"] == "m.room.member"], [])
        redundant = {"room": {"rooms": [room], "timeline": {"limit": 2},
                              "state": {"lazy_load_members": True, "include_redundant_members": True}}}
        again = self.sync("bob", since=inc["next_batch"], filter_=redundant)["rooms"]["join"][room]
        self.assertEqual({e["state_key"] for e in again["state"]["events"] if e["type"] == "m.room.member"},
                         {self.uid("dave"), self.uid("carol")})

    def test_summary_heroes_for_unnamed_rooms(self):
        room = self.create(preset="public_chat")
        for who in ["bob", "carol", "dave", "eve", "frank"]:
            self.ok(self.call(who, "POST", f"/rooms/{q(room)}/join", body={}))
        summary = self.sync("alice", filter_={"room": {"rooms": [room]}})["rooms"]["join"][room]["summary"]
        self.assertEqual(summary["m.joined_member_count"], 6)
        self.assertEqual(summary["m.heroes"], sorted(self.uid(n) for n in ["bob", "carol", "dave", "eve", "frank"]))
        named = self.create(name="Named")
        summary = self.sync("alice", filter_={"room": {"rooms": [named]}})["rooms"]["join"][named]["summary"]
        self.assertNotIn("m.heroes", summary)

    def test_profile_change_is_not_a_new_join(self):
        room = self.create("eve")
        since = self.sync("eve")["next_batch"]
        member = self.ok(self.call("eve", "PUT", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid('eve'))}",
                                   body={"membership": "join", "displayname": "boris"}))["event_id"]
        message = self.send("eve", room, "after the rename")
        timeline = self.sync("eve", since=since)["rooms"]["join"][room]["timeline"]
        self.assertEqual([e["event_id"] for e in timeline["events"]], [member, message])
        self.assertFalse(timeline["limited"])

    # Left rooms ---------------------------------------------------------------------------------------

    def test_left_room_in_incremental_sync_carries_only_the_state_delta(self):
        room = self.create(preset="public_chat", name="Old name", topic="Old topic")
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/join", body={}))
        since = self.sync("carol")["next_batch"]
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room)}/state/m.room.name/", body={"name": "New name"}))
        for i in range(5):
            self.send("alice", room, f"filler {i}")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("carol")}))
        left = self.sync("carol", since=since, filter_={"room": {"timeline": {"limit": 2}}})["rooms"]["leave"][room]
        self.assertTrue(left["timeline"]["limited"])
        state_types = sorted(e["type"] for e in left["state"]["events"])
        self.assertEqual(state_types, ["m.room.name"], "only what changed between since and the timeline")
        self.assertEqual(left["state"]["events"][0]["content"]["name"], "New name")
        # Unlimited: everything is in the timeline and the state delta is empty.
        room2 = self.create(preset="public_chat")
        self.ok(self.call("carol", "POST", f"/rooms/{q(room2)}/join", body={}))
        since = self.sync("carol")["next_batch"]
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room2)}/state/m.room.topic/", body={"topic": "t"}))
        self.ok(self.call("carol", "POST", f"/rooms/{q(room2)}/leave", body={}))
        left2 = self.sync("carol", since=since)["rooms"]["leave"][room2]
        self.assertEqual(left2["state"]["events"], [])
        self.assertEqual([e["type"] for e in left2["timeline"]["events"]], ["m.room.topic", "m.room.member"])
        # Joined and left between two syncs (invited before): the whole state, never seen before.
        room3 = self.create(name="Brief")
        self.ok(self.call("alice", "PUT", f"/rooms/{q(room3)}/state/org.example.state/", body={"k": 1}))
        self.ok(self.call("alice", "POST", f"/rooms/{q(room3)}/invite", body={"user_id": self.uid("carol")}))
        since = self.sync("carol")["next_batch"]
        self.ok(self.call("carol", "POST", f"/rooms/{q(room3)}/join", body={}))
        self.ok(self.call("carol", "POST", f"/rooms/{q(room3)}/leave", body={}))
        only_state = {"room": {"timeline": {"types": []}, "state": {"types": ["org.example.state"]}}}
        left3 = self.sync("carol", since=since, filter_=only_state)["rooms"]["leave"][room3]
        self.assertEqual([e["type"] for e in left3["state"]["events"]], ["org.example.state"])

    # Account data --------------------------------------------------------------------------------------

    def test_account_data_on_every_prefix_and_in_sync(self):
        room = self.create()
        since = self.sync("alice")["next_batch"]
        for prefix in ["/_matrix/client/v3", "/_matrix/client/r0"]:
            self.ok(self.call("alice", "PUT", f"/user/{q(self.uid('alice'))}/account_data/org.example.cfg",
                              prefix=prefix, body={"prefix": prefix}))
            got = self.ok(self.call("alice", "GET", f"/user/{q(self.uid('alice'))}/account_data/org.example.cfg",
                                    prefix=prefix))
            self.assertEqual(got, {"prefix": prefix})
        self.ok(self.call("alice", "PUT", f"/user/{q(self.uid('alice'))}/rooms/{q(room)}/account_data/org.example.tag",
                          body={"tag": 1}))
        self.assertEqual(self.ok(self.call("alice", "GET", f"/user/{q(self.uid('alice'))}/rooms/{q(room)}/account_data/"
                                                           "org.example.tag")), {"tag": 1})
        inc = self.sync("alice", since=since)
        self.assertIn({"type": "org.example.cfg", "content": {"prefix": "/_matrix/client/r0"}},
                      inc["account_data"]["events"])
        self.assertEqual(inc["rooms"]["join"][room]["account_data"]["events"],
                         [{"type": "org.example.tag", "content": {"tag": 1}}])
        # Filtered out, and delivered once.
        filtered = self.sync("alice", since=since, filter_={"account_data": {"not_types": ["org.example.*"]}})
        self.assertEqual(filtered["account_data"]["events"], [])
        again = self.sync("alice", since=inc["next_batch"])
        self.assertEqual(again["account_data"]["events"], [])
        # Initial sync has it all.
        self.assertIn("org.example.cfg", [e["type"] for e in self.sync("alice")["account_data"]["events"]])
        # Errors.
        self.err(self.call("bob", "PUT", f"/user/{q(self.uid('alice'))}/account_data/x", body={}), 403, "M_FORBIDDEN")
        self.err(self.call("bob", "GET", f"/user/{q(self.uid('alice'))}/account_data/org.example.cfg"), 403,
                 "M_FORBIDDEN")
        self.err(self.call("alice", "GET", f"/user/{q(self.uid('alice'))}/account_data/never.set"), 404, "M_NOT_FOUND")
        self.err(self.call("alice", "PUT", f"/user/{q(self.uid('alice'))}/account_data/x", raw=b"[1]"), 400,
                 "M_BAD_JSON")
        self.err(self.call("alice", "PUT", f"/user/{q(self.uid('alice'))}/account_data/m.fully_read", body={}), 405,
                 "M_BAD_JSON")

    def test_account_data_wakes_a_long_poll(self):
        since = self.sync("dave")["next_batch"]
        poll = in_background(lambda: self.sync("dave", since=since, timeout=10000))
        time.sleep(0.3)
        self.ok(self.call("dave", "PUT", f"/user/{q(self.uid('dave'))}/account_data/org.example.wake", body={"w": 1}))
        self.assertEqual(poll.join()["account_data"]["events"], [{"type": "org.example.wake", "content": {"w": 1}}])

    def test_ignored_users_events_and_invites_are_hidden(self):
        room = self.create("eve", preset="public_chat")
        self.ok(self.call("frank", "POST", f"/rooms/{q(room)}/join", body={}))
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        self.ok(self.call("frank", "PUT", f"/user/{q(self.uid('frank'))}/account_data/m.ignored_user_list",
                          body={"ignored_users": {self.uid("bob"): {}}}))
        self.send("bob", room, "ignored message")
        self.send("eve", room, "visible message")
        bodies = [e["content"].get("body") for e in
                  self.sync("frank")["rooms"]["join"][room]["timeline"]["events"]]
        self.assertIn("visible message", bodies)
        self.assertNotIn("ignored message", bodies)
        messages = self.ok(self.call("frank", "GET", f"/rooms/{q(room)}/messages", query={"dir": "b"}))["chunk"]
        self.assertIn("visible message", [e["content"].get("body") for e in messages])
        self.assertNotIn("ignored message", [e["content"].get("body") for e in messages])
        self.assertIn(self.uid("bob"), [e["state_key"] for e in messages if e["type"] == "m.room.member"])
        other = self.create("bob")
        self.ok(self.call("bob", "POST", f"/rooms/{q(other)}/invite", body={"user_id": self.uid("frank")}))
        self.assertNotIn(other, self.sync("frank").get("rooms", {}).get("invite", {}))
        self.err(self.call("frank", "PUT", f"/user/{q(self.uid('frank'))}/account_data/m.ignored_user_list",
                           body={"ignored_users": ["@x:localhost"]}), 400, "M_BAD_JSON")

    # Presence --------------------------------------------------------------------------------------------

    def test_presence_status_and_sync(self):
        room = self.create("carol", preset="public_chat")
        self.ok(self.call("dave", "POST", f"/rooms/{q(room)}/join", body={}))
        since = self.sync("dave")["next_batch"]
        for prefix in ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]:
            self.ok(self.call("carol", "PUT", f"/presence/{q(self.uid('carol'))}/status", prefix=prefix,
                              body={"presence": "online", "status_msg": "tea"}))
        got = self.ok(self.call("dave", "GET", f"/presence/{q(self.uid('carol'))}/status"))
        self.assertEqual(got["presence"], "online")
        self.assertEqual(got["status_msg"], "tea")
        self.assertIn("last_active_ago", got)
        inc = self.sync("dave", since=since)
        carol = [e for e in inc["presence"]["events"] if e["sender"] == self.uid("carol")]
        self.assertEqual(len(carol), 1)
        self.assertEqual(carol[0]["type"], "m.presence")
        self.assertEqual(carol[0]["content"]["presence"], "online")
        filtered = self.sync("dave", since=since, filter_={"presence": {"not_senders": [self.uid("carol")]}})
        self.assertEqual(filtered["presence"]["events"], [])
        # Someone who shares no room sees nothing.
        self.err(self.call("frank", "GET", f"/presence/{q(self.uid('carol'))}/status"), 403, "M_FORBIDDEN")
        self.assertNotIn(self.uid("carol"), [e["sender"] for e in self.sync("frank")["presence"]["events"]])
        self.err(self.call("dave", "PUT", f"/presence/{q(self.uid('carol'))}/status", body={"presence": "online"}),
                 403, "M_FORBIDDEN")
        self.err(self.call("carol", "PUT", f"/presence/{q(self.uid('carol'))}/status", body={"presence": "away"}),
                 400, "M_INVALID_PARAM")
        # A presence change wakes a long-poll of someone in the same room.
        since = inc["next_batch"]
        poll = in_background(lambda: self.sync("dave", since=since, timeout=10000))
        time.sleep(0.3)
        self.ok(self.call("carol", "PUT", f"/presence/{q(self.uid('carol'))}/status", body={"presence": "unavailable"}))
        self.assertEqual([e["content"]["presence"] for e in poll.join()["presence"]["events"]], ["unavailable"])


if __name__ == "__main__":
    unittest.main()
