"""Joining a room this server is not in, through another Herald (issue 15, item 2): make_join, send_join
v2, the room's state and auth chain checked and stored, and the room then live on both servers.

Two real Herald homeservers over TLS with a test CA. alice is on A (hs1), bob and carol on B (hs2)."""
import time
import unittest

from harness import q
from federation_pair import TwoHeraldsTest, wait_until, read_db


class RemoteJoinTest(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-join-"
    USERS = {"a": ("alice",), "b": ("bob", "carol")}

    def create_room(self, **body):
        return self.ok(self.a.client("POST", "/createRoom", token=self.alice, body=body))["room_id"]

    def joined_members(self, hs, token, room):
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/joined_members", token=token)
        return body.get("joined", {}) if status == 200 else {}

    def send(self, hs, token, room, text):
        return self.ok(hs.client("POST", f"/rooms/{q(room)}/send/m.room.message", token=token,
                                 body={"msgtype": "m.text", "body": text}))["event_id"]

    def sync(self, hs, token, since=None, timeout=0):
        query = {"timeout": timeout}
        if since:
            query["since"] = since
        return self.ok(hs.client("GET", "/sync", token=token, query=query, timeout=timeout / 1000 + 30))

    def timeline_until(self, hs, token, room, event_id, since=None):
        """Syncs until `event_id` shows in the room's timeline; returns the IDs seen."""
        seen, deadline = [], time.time() + 30
        while time.time() < deadline and event_id not in seen:
            body = self.sync(hs, token, since=since, timeout=5000)
            since = body["next_batch"]
            timeline = body.get("rooms", {}).get("join", {}).get(room, {}).get("timeline", {}).get("events", [])
            seen += [e["event_id"] for e in timeline]
        return seen

    # ---------------------------------------------------------------------------------------------

    def test_join_by_room_id_with_server_name_then_messages_both_ways(self):
        room = self.create_room(preset="public_chat", name="Lobby", topic="all welcome")
        for i in range(3):
            self.send(self.a, self.alice, room, f"before bob {i}")
        since = self.sync(self.b, self.bob)["next_batch"]
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                        query={"server_name": self.a.server_name})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertEqual(body["room_id"], room)

        # B's /sync shows the room joined, with its whole state, and the join as the timeline's start.
        synced = self.sync(self.b, self.bob, since=since)
        joined = synced["rooms"]["join"][room]
        state = {(e["type"], e.get("state_key")): e for e in
                 joined.get("state", {}).get("events", []) + joined["timeline"]["events"] if "state_key" in e}
        self.assertEqual(state[("m.room.name", "")]["content"]["name"], "Lobby")
        self.assertEqual(state[("m.room.topic", "")]["content"]["topic"], "all welcome")
        self.assertIn(("m.room.create", ""), state)
        self.assertEqual(state[("m.room.member", self.alice_id)]["content"]["membership"], "join")
        self.assertEqual(state[("m.room.member", self.bob_id)]["content"]["membership"], "join")
        # The snapshot's state events are state, not messages of the timeline.
        types = [e["type"] for e in joined["timeline"]["events"]]
        self.assertNotIn("m.room.create", types)
        self.assertNotIn("m.room.power_levels", types)

        # Both servers agree on who is in the room.
        self.assertTrue(wait_until(lambda: self.bob_id in self.joined_members(self.a, self.alice, room)), self.logs())
        self.assertEqual(set(self.joined_members(self.b, self.bob, room)), {self.alice_id, self.bob_id})
        # /state on B answers from the stored snapshot.
        state_b = self.ok(self.b.client("GET", f"/rooms/{q(room)}/state", token=self.bob))
        self.assertIn("m.room.join_rules", {e["type"] for e in state_b})

        # Messages both ways.
        from_a = self.send(self.a, self.alice, room, "hello bob")
        self.assertIn(from_a, self.timeline_until(self.b, self.bob, room, from_a, since=synced["next_batch"]))
        since_a = self.sync(self.a, self.alice)["next_batch"]
        from_b = self.send(self.b, self.bob, room, "hello alice")
        self.assertIn(from_b, self.timeline_until(self.a, self.alice, room, from_b, since=since_a), self.logs())

    def test_join_by_remote_alias(self):
        room = self.create_room(preset="public_chat", room_alias_name="fedlobby")
        alias = f"#fedlobby:{self.a.server_name}"
        status, _, body = self.b.client("POST", f"/join/{q(alias)}", token=self.bob, body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertEqual(body["room_id"], room)
        self.assertTrue(wait_until(lambda: self.bob_id in self.joined_members(self.a, self.alice, room)), self.logs())
        # An alias the remote does not have: 404.
        status, _, body = self.b.client("POST", f"/join/{q('#nosuch:' + self.a.server_name)}", token=self.bob, body={})
        self.assertEqual(status, 404, body)
        self.assertEqual(body["errcode"], "M_NOT_FOUND")

    def test_join_by_the_inviting_server_without_via(self):
        room = self.create_room(preset="private_chat")
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.carol_id}))
        # The invite reached B: carol joins by room ID alone; B asks the server the invite came from.
        invited = wait_until(lambda: room in self.sync(self.b, self.carol).get("rooms", {}).get("invite", {}))
        self.assertTrue(invited, self.logs())
        status, _, body = self.b.client("POST", f"/rooms/{q(room)}/join", token=self.carol, body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertTrue(wait_until(lambda: self.carol_id in self.joined_members(self.a, self.alice, room)))
        # No longer invited on B, joined instead.
        rooms = self.sync(self.b, self.carol)["rooms"]
        self.assertNotIn(room, rooms.get("invite", {}))
        self.assertIn(room, rooms.get("join", {}))

    def test_a_refusal_is_passed_through_and_nothing_is_stored(self):
        room = self.create_room(preset="private_chat")
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                        query={"via": self.a.server_name})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        self.assertEqual(read_db(self.b, "SELECT COUNT(*) FROM rooms WHERE room_id = ?", (room,))[0][0], 0)

    def restricted_room(self, allowed_room, **extra):
        rules = {"type": "m.room.join_rules", "state_key": "",
                 "content": {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": allowed_room}]}}
        return self.create_room(preset="private_chat", room_version="10", initial_state=[rules], **extra)

    def test_restricted_rooms_across_servers(self):
        space = self.create_room(preset="public_chat")
        room = self.restricted_room(space)
        dave = self.register(self.b, "dave")
        dave_id = f"@dave:{self.b.server_name}"
        # Not in the allowed room: the auth rules refuse.
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=dave, body={}, query={"via": self.a.server_name})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        # In it: A vouches for the join (join_authorised_via_users_server, co-signed by A).
        self.ok(self.b.client("POST", f"/join/{q(space)}", token=dave, body={}, query={"via": self.a.server_name}))
        self.assertTrue(wait_until(lambda: dave_id in self.joined_members(self.a, self.alice, space)))
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=dave, body={}, query={"via": self.a.server_name})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        member = self.ok(self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(dave_id)}", token=self.alice))
        self.assertEqual(member["membership"], "join")
        self.assertEqual(member["join_authorised_via_users_server"], self.alice_id)

        # Allowed through a room A is not in: A cannot tell.
        elsewhere = self.restricted_room("!somewhere:elsewhere.example")
        status, _, body = self.b.client("POST", f"/join/{q(elsewhere)}", token=dave, body={}, query={"via": self.a.server_name})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["errcode"], "M_UNABLE_TO_AUTHORISE_JOIN")

        # dave qualifies, but nobody on A may invite any more: A cannot grant it.
        frank = self.register(self.a, "frank")
        no_inviters = self.restricted_room(space, power_level_content_override={"invite": 100})
        self.ok(self.a.client("POST", f"/rooms/{q(space)}/join", token=frank, body={}))
        self.ok(self.a.client("POST", f"/rooms/{q(no_inviters)}/join", token=frank, body={}))
        self.ok(self.a.client("POST", f"/rooms/{q(no_inviters)}/leave", token=self.alice, body={}))
        status, _, body = self.b.client("POST", f"/join/{q(no_inviters)}", token=dave, body={},
                                        query={"via": self.a.server_name})
        self.assertEqual(status, 400, body)
        self.assertEqual(body["errcode"], "M_UNABLE_TO_GRANT_JOIN")

    def test_unknown_room_and_no_server(self):
        status, _, body = self.b.client("POST", f"/join/{q('!nosuchroom:' + self.a.server_name)}", token=self.bob, body={})
        self.assertEqual(status, 404, body)
        self.assertEqual(body["errcode"], "M_NOT_FOUND")

    def test_unreachable_server_gives_502(self):
        status, _, body = self.b.client("POST", f"/join/{q('!x:unreachable.invalid')}", token=self.bob, body={})
        self.assertIn(status, (502, 504), body)
        self.assertEqual(body["errcode"], "M_UNKNOWN")

    def test_join_survives_a_restart_of_the_joining_server(self):
        room = self.create_room(preset="public_chat", name="Durable")
        self.ok(self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                              query={"server_name": self.a.server_name}))
        self.assertTrue(wait_until(lambda: self.bob_id in self.joined_members(self.a, self.alice, room)))
        self.b.kill9()
        self.b.start()
        self.assertEqual(set(self.joined_members(self.b, self.bob, room)), {self.alice_id, self.bob_id})
        name = self.ok(self.b.client("GET", f"/rooms/{q(room)}/state/m.room.name", token=self.bob))
        self.assertEqual(name["name"], "Durable")
        after = self.send(self.a, self.alice, room, "after the restart")
        self.assertIn(after, self.timeline_until(self.b, self.bob, room, after), self.logs())

    def test_older_room_versions(self):
        for version in ("1", "10"):
            room = self.create_room(preset="public_chat", room_version=version)
            status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                            query={"server_name": self.a.server_name})
            self.assertEqual(status, 200, f"v{version}: {body}\n{self.logs()}")
            self.assertTrue(wait_until(lambda: self.bob_id in self.joined_members(self.a, self.alice, room)))
            from_b = self.send(self.b, self.bob, room, f"v{version} from bob")
            self.assertIn(from_b, self.timeline_until(self.a, self.alice, room, from_b), self.logs())


if __name__ == "__main__":
    unittest.main()
