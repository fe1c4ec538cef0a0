"""Knocking across servers (issue 15, item 6): a user of B knocks on a room of A through make_knock and
send_knock, sees the knock with the room's stripped state in /sync, is invited by a moderator of A and
joins; a knock withdrawn with a leave goes back to A through make_leave/send_leave; rooms that take no
knocks refuse them with the resident's error.

Two real Herald homeservers over TLS with a test CA. alice is on A (hs1), bob, carol and dave on B (hs2)."""
import time
import unittest

from harness import q
from federation_pair import TwoHeraldsTest, wait_until, read_db

KNOCK_RULE = [{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}]


class RemoteKnockTest(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-knock-"
    USERS = {"a": ("alice",), "b": ("bob", "carol", "dave")}

    def create_room(self, **body):
        return self.ok(self.a.client("POST", "/createRoom", token=self.alice, body=body))["room_id"]

    def knock_room(self, version, name):
        return self.create_room(room_version=version, name=name, topic="knock first", initial_state=KNOCK_RULE)

    def knock(self, token, room, **query):
        return self.b.client("POST", f"/knock/{q(room)}", token=token, body={"reason": "let me in"}, query=query)

    def sync(self, hs, token, since=None, timeout=0):
        query = {"timeout": timeout}
        if since:
            query["since"] = since
        return self.ok(hs.client("GET", "/sync", token=token, query=query, timeout=timeout / 1000 + 30))

    def membership_on_a(self, room, user):
        status, _, body = self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(user)}", token=self.alice)
        return body.get("membership") if status == 200 else None

    def joined_members(self, hs, token, room):
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/joined_members", token=token)
        return body.get("joined", {}) if status == 200 else {}

    # ---------------------------------------------------------------------------------------------

    def test_knock_then_invite_then_join(self):
        for version in ("10", "12"):
            with self.subTest(version=version):
                self.knock_invite_join(version)

    def knock_invite_join(self, version):
        room = self.knock_room(version, f"Knock v{version}")
        since_a = self.sync(self.a, self.alice)["next_batch"]
        status, _, body = self.knock(self.bob, room, server_name=self.a.server_name)
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertEqual(body["room_id"], room)

        # B: the room under rooms.knock, with the room's public face and bob's own knock.
        knocked = self.sync(self.b, self.bob).get("rooms", {}).get("knock", {})
        self.assertIn(room, knocked, self.logs())
        state = {(e["type"], e["state_key"]): e for e in knocked[room]["knock_state"]["events"]}
        self.assertEqual(state[("m.room.join_rules", "")]["content"]["join_rule"], "knock")
        self.assertEqual(state[("m.room.name", "")]["content"]["name"], f"Knock v{version}")
        self.assertIn(("m.room.create", ""), state)
        own = state[("m.room.member", self.bob_id)]
        self.assertEqual(own["content"]["membership"], "knock")
        self.assertEqual(own["content"].get("reason"), "let me in")
        for e in knocked[room]["knock_state"]["events"]:
            self.assertEqual(set(e), {"type", "state_key", "sender", "content"})

        # A: the knock is an ordinary member event of the room, seen by its moderator in /sync.
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, self.bob_id) == "knock"), self.logs())
        timeline = self.sync(self.a, self.alice, since=since_a)["rooms"]["join"][room]["timeline"]["events"]
        knocks = [e for e in timeline if e["type"] == "m.room.member" and e["state_key"] == self.bob_id]
        self.assertEqual([e["content"]["membership"] for e in knocks], ["knock"])

        # alice lets bob in: the invite reaches B, replacing the knock; bob joins through A.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        invited = wait_until(lambda: room in self.sync(self.b, self.bob).get("rooms", {}).get("invite", {}))
        self.assertTrue(invited, self.logs())
        self.assertNotIn(room, self.sync(self.b, self.bob).get("rooms", {}).get("knock", {}))
        status, _, body = self.b.client("POST", f"/rooms/{q(room)}/join", token=self.bob, body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertTrue(wait_until(lambda: self.bob_id in self.joined_members(self.a, self.alice, room)), self.logs())
        self.assertEqual(set(self.joined_members(self.b, self.bob, room)), {self.alice_id, self.bob_id})
        rooms = self.sync(self.b, self.bob)["rooms"]
        self.assertIn(room, rooms.get("join", {}))
        self.assertNotIn(room, rooms.get("knock", {}))

    def test_knock_withdrawn_with_a_leave(self):
        room = self.knock_room("10", "Withdrawn")
        status, _, body = self.knock(self.carol, room, via=self.a.server_name)
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        since = self.sync(self.b, self.carol)["next_batch"]
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, self.carol_id) == "knock"), self.logs())

        status, _, body = self.b.client("POST", f"/rooms/{q(room)}/leave", token=self.carol, body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        # B: gone from rooms.knock at once, the room said left.
        rooms = self.sync(self.b, self.carol, since=since)["rooms"]
        self.assertIn(room, rooms.get("leave", {}))
        self.assertNotIn(room, self.sync(self.b, self.carol).get("rooms", {}).get("knock", {}))
        # A: the leave came through make_leave/send_leave.
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, self.carol_id) == "leave"), self.logs())
        # carol may knock again.
        status, _, body = self.knock(self.carol, room, server_name=self.a.server_name)
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, self.carol_id) == "knock"), self.logs())


    def test_knock_by_remote_alias(self):
        # The alias is resolved through A (/query/directory); the servers it lists are knocked through.
        room = self.create_room(room_version="11", room_alias_name="knockers", initial_state=KNOCK_RULE)
        frank = self.register(self.b, "frank")
        status, _, body = self.b.client("POST", f"/knock/{q('#knockers:' + self.a.server_name)}", token=frank, body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertEqual(body["room_id"], room)
        self.assertIn(room, self.sync(self.b, frank).get("rooms", {}).get("knock", {}))
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, f"@frank:{self.b.server_name}") == "knock"))

    def test_room_before_v7_refuses_knocks(self):
        room = self.create_room(room_version="6", preset="private_chat")
        status, _, body = self.knock(self.dave, room, server_name=self.a.server_name)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["errcode"], "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertNotIn(room, self.sync(self.b, self.dave).get("rooms", {}).get("knock", {}))
        self.assertIsNone(self.membership_on_a(room, self.dave_id))

    def test_public_room_refuses_knocks(self):
        room = self.create_room(room_version="10", preset="public_chat")
        status, _, body = self.knock(self.dave, room, server_name=self.a.server_name)
        self.assertEqual(status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")
        self.assertNotIn(room, self.sync(self.b, self.dave).get("rooms", {}).get("knock", {}))
        self.assertIsNone(self.membership_on_a(room, self.dave_id))


    # Last (it stops A): the withdrawal does not wait for the room's server, and reaches it once it is back.
    def test_zz_knock_withdrawn_while_the_rooms_server_is_down(self):
        erin = self.register(self.b, "erin")
        erin_id = f"@erin:{self.b.server_name}"
        room = self.knock_room("10", "Down")
        self.assertEqual(self.knock(erin, room, server_name=self.a.server_name)[0], 200, self.logs())
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, erin_id) == "knock"), self.logs())
        self.assertEqual(self.a.stop(), 0)
        try:
            started = time.time()
            self.ok(self.b.client("POST", f"/rooms/{q(room)}/leave", token=erin, body={}))
            self.assertLess(time.time() - started, 5)
            self.assertNotIn(room, self.sync(self.b, erin).get("rooms", {}).get("knock", {}))
            kept = "SELECT COUNT(*) FROM pending_rejections WHERE room_id = ?"
            self.assertEqual(read_db(self.b, kept, (room,))[0][0], 1)
        finally:
            self.a.start()
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, erin_id) == "leave", timeout=60), self.logs())
        self.assertTrue(wait_until(lambda: read_db(self.b, kept, (room,))[0][0] == 0), self.logs())


if __name__ == "__main__":
    unittest.main()
