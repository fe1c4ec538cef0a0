"""Issue 10: room behaviour the spec, the seeds and SyTest expect beyond the basics of test_rooms.py:
forgetting, /context, canonical aliases, profiles, join content, malformed membership bodies, legacy
initialSync, and rate-limited registration that keeps its auth session."""
import time
import unittest
import urllib.parse

from harness import HeraldServer, MatrixAssertions, UsersOnOneServer


def q(s):
    return urllib.parse.quote(s, safe="")


class RoomDetailsTest(UsersOnOneServer):
    user_names = ["alice", "bob", "carol"]

    def test_forgotten_room_history_is_refused_until_joined_again(self):
        room = self.create(preset="public_chat")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        event_id = self.send("alice", room, "before bob leaves")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/leave", body={}))
        # A former member still reads the history up to the leave ...
        self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/messages", query={"dir": "b"}))
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/forget", body={}))
        # ... and nothing of it once the room is forgotten.
        for path, query in [("/messages", {"dir": "b"}), (f"/event/{q(event_id)}", None),
                            (f"/context/{q(event_id)}", None), ("/state", None), ("/members", None),
                            ("/state/m.room.create/", None)]:
            self.err(self.call("bob", "GET", f"/rooms/{q(room)}{path}", query=query), 403, "M_FORBIDDEN")
        sync = self.ok(self.call("bob", "GET", "/sync", query={"filter": '{"room":{"include_leave":true}}'}))
        self.assertNotIn(room, sync.get("rooms", {}).get("leave", {}))
        # Joining again brings the room back.
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/event/{q(event_id)}"))
        self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/members"))

    def test_context(self):
        room = self.create()
        ids = [self.send("alice", room, f"m{i}") for i in range(7)]
        ctx = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/context/{q(ids[3])}", query={"limit": 4}))
        self.assertEqual(ctx["event"]["event_id"], ids[3])
        self.assertEqual([e["event_id"] for e in ctx["events_before"]], [ids[2], ids[1]], "newest first")
        self.assertEqual([e["event_id"] for e in ctx["events_after"]], [ids[4], ids[5]])
        self.assertIn("m.room.create", [e["type"] for e in ctx["state"]])
        # The tokens continue where the context stops, in both directions.
        older = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages",
                                  query={"dir": "b", "from": ctx["start"], "limit": 1}))
        self.assertEqual(older["chunk"][0]["event_id"], ids[0])
        newer = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/messages",
                                  query={"dir": "f", "from": ctx["end"], "limit": 1}))
        self.assertEqual(newer["chunk"][0]["event_id"], ids[6])
        self.err(self.call("alice", "GET", f"/rooms/{q(room)}/context/{q('$nope')}"), 404, "M_NOT_FOUND")
        self.err(self.call("carol", "GET", f"/rooms/{q(room)}/context/{q(ids[3])}"), 403, "M_FORBIDDEN")
        self.err(self.call("alice", "GET", f"/rooms/{q(room)}/context/{q(ids[3])}", query={"limit": "1e3"}),
                 400, "M_INVALID_PARAM")

    def test_canonical_alias_is_validated_and_follows_alias_deletion(self):
        room = self.create(room_alias_name="canon")
        other = self.create(room_alias_name="elsewhere")
        self.ok(self.call("alice", "PUT", f"/directory/room/{q('#alt:localhost')}", body={"room_id": room}))
        path = f"/rooms/{q(room)}/state/m.room.canonical_alias"
        self.ok(self.call("alice", "PUT", path, body={"alias": "#canon:localhost", "alt_aliases": ["#alt:localhost"]}))
        self.err(self.call("alice", "PUT", path, body={"alias": "#canon:localhost", "alt_aliases": ["#missing:localhost"]}),
                 400, "M_BAD_ALIAS")
        self.err(self.call("alice", "PUT", path, body={"alt_aliases": ["#elsewhere:localhost"]}), 400, "M_BAD_ALIAS")
        self.err(self.call("alice", "PUT", path, body={"alias": "no-sigil"}), 400, "M_INVALID_PARAM")
        self.err(self.call("alice", "PUT", path, body={"alt_aliases": ["#ok:localhost", "bad"]}), 400, "M_INVALID_PARAM")
        self.err(self.call("alice", "PUT", path, body={"alt_aliases": "#canon:localhost"}), 400, "M_INVALID_PARAM")
        self.assertEqual(self.ok(self.call("alice", "GET", path))["alt_aliases"], ["#alt:localhost"])
        # Deleting an alias takes it out of the room's canonical alias event.
        self.ok(self.call("alice", "DELETE", f"/directory/room/{q('#alt:localhost')}"))
        self.assertEqual(self.ok(self.call("alice", "GET", path)), {"alias": "#canon:localhost", "alt_aliases": []})
        self.ok(self.call("alice", "DELETE", f"/directory/room/{q('#canon:localhost')}"))
        self.assertEqual(self.ok(self.call("alice", "GET", path)), {"alt_aliases": []})
        self.assertTrue(other)

    def test_avatar_url_accepts_any_uri(self):
        for url in ["https://example.org/a.png", "mxc://localhost/abc", "data:,x"]:
            self.ok(self.call("carol", "PUT", f"/profile/{q(self.uid('carol'))}/avatar_url", body={"avatar_url": url}))
            got = self.ok(self.call("carol", "GET", f"/profile/{q(self.uid('carol'))}/avatar_url"))
            self.assertEqual(got["avatar_url"], url)

    def test_join_body_keys_go_into_the_member_event(self):
        room = self.create(preset="public_chat")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join",
                          body={"reason": "hello", "foo": "bar", "membership": "leave", "nested": {"a": 1}}))
        member = self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid('bob'))}"))
        self.assertEqual(member["membership"], "join")
        self.assertEqual(member["reason"], "hello")
        self.assertEqual(member["foo"], "bar")
        self.assertEqual(member["nested"], {"a": 1})
        self.ok(self.call("bob", "POST", f"/join/{q(room)}", body={"via_alias": 1}))
        member = self.ok(self.call("bob", "GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid('bob'))}"))
        self.assertEqual(member.get("via_alias"), 1)

    def test_malformed_membership_bodies_are_bad_json(self):
        room = self.create()
        for prefix in ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]:
            for action in ["kick", "ban", "unban"]:
                for body in [{}, {"user_id": 5}, {"user_id": None}]:
                    self.err(self.call("alice", "POST", f"/rooms/{q(room)}/{action}", prefix=prefix, body=body),
                             400, "M_BAD_JSON")
                self.err(self.call("alice", "POST", f"/rooms/{q(room)}/{action}", prefix=prefix, raw=b"{x"),
                         400, "M_NOT_JSON")

    def test_initial_sync_archived_and_room_initial_sync_keys(self):
        room = self.create(preset="public_chat", name="Archive me")
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/join", body={}))
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/leave", body={}))
        plain = self.ok(self.call("carol", "GET", "/initialSync", prefix="/_matrix/client/r0"))
        self.assertNotIn(room, [r["room_id"] for r in plain["rooms"]])
        archived = self.ok(self.call("carol", "GET", "/initialSync", prefix="/_matrix/client/r0",
                                     query={"archived": "true"}))
        left = [r for r in archived["rooms"] if r["room_id"] == room]
        self.assertEqual(len(left), 1)
        self.assertEqual(left[0]["membership"], "leave")
        self.ok(self.call("carol", "PUT", f"/user/{q(self.uid('carol'))}/account_data/org.example.x", body={"x": 1}))
        self.ok(self.call("carol", "PUT", f"/presence/{q(self.uid('carol'))}/status", body={"presence": "online"}))
        full = self.ok(self.call("carol", "GET", "/initialSync", prefix="/_matrix/client/r0"))
        self.assertIn({"type": "org.example.x", "content": {"x": 1}}, full["account_data"])
        self.assertIn(self.uid("carol"), [e["content"]["user_id"] for e in full["presence"]])
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/join", body={}))
        mine = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/initialSync", prefix="/_matrix/client/r0"))
        presence = {e["content"]["user_id"]: e["content"]["presence"] for e in mine["presence"]}
        self.assertEqual(presence[self.uid("carol")], "online")
        self.assertEqual(presence[self.uid("alice")], "offline", "never set: offline")
        self.ok(self.call("carol", "POST", f"/rooms/{q(room)}/leave", body={}))
        departed = self.ok(self.call("carol", "GET", f"/rooms/{q(room)}/initialSync", prefix="/_matrix/client/r0"))
        self.assertEqual(departed["presence"], [], "no presence for a former member")
        self.assertEqual(departed["membership"], "leave")
        one = self.ok(self.call("alice", "GET", f"/rooms/{q(room)}/initialSync", prefix="/_matrix/client/r0"))
        for key in ["room_id", "membership", "messages", "state", "presence", "receipts", "account_data", "visibility"]:
            self.assertIn(key, one)


class RateLimitedRegistrationTest(MatrixAssertions, unittest.TestCase):
    """A 429 on the second registration step keeps the auth session, so the retry succeeds."""

    def test_retry_after_429_keeps_the_session(self):
        hs = HeraldServer(rate_limits_enabled=True,
                          rate_limits_yaml="  registration: {per_second: 2, burst: 1}").start()
        try:
            def register(name, auth=None):
                body = {"username": name, "password": "pw-123456"}
                if auth:
                    body["auth"] = auth
                return hs.client("POST", "/register", body=body)

            self.ok(register("first", {"type": "m.login.dummy"}))
            status, _, challenge = register("second")
            self.assertEqual(status, 401)
            session = challenge["session"]
            limited = self.err(register("second", {"type": "m.login.dummy", "session": session}), 429,
                               "M_LIMIT_EXCEEDED")
            time.sleep(limited["retry_after_ms"] / 1000 + 0.05)
            self.ok(register("second", {"type": "m.login.dummy", "session": session}))
        finally:
            hs.stop()
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
