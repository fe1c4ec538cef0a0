"""Kick, ban and unban across servers, and a remote moderator (issue 15, item 5): ordinary membership events
through the pipeline, sent to every server in the room, so both servers agree on who is in the room; a
banned remote user cannot get back in.

Two real Herald homeservers over TLS with a test CA. alice (the rooms' creator) and carol are on A (hs1),
bob on B (hs2); bob joins through A."""
import time
import unittest

from harness import q, start_federation_servers
from federation_pair import TwoHeraldsTest, RETRY_YAML, wait_until


class FederatedModerationTest(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-mod-"
    USERS = {"a": ("alice", "carol"), "b": ("bob",)}

    def member_event(self, hs, token, room, user):
        """The member event of `user` in the room's current state on `hs`, or None."""
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/state", token=token)
        if status != 200:
            return None
        return next((e for e in body if e["type"] == "m.room.member" and e["state_key"] == user), None)

    def membership(self, hs, token, room, user):
        event = self.member_event(hs, token, room, user)
        return event["content"]["membership"] if event else None

    def state_ids(self, hs, token, room):
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/state", token=token)
        self.assertEqual(status, 200, body)
        return {(e["type"], e["state_key"], e["event_id"]) for e in body}

    def both_show(self, room, user, membership):
        """Waits until A (through alice) and B (through bob, who may read a room he left or was banned
        from up to that point) show `user` with `membership`."""
        shown = wait_until(lambda: self.membership(self.a, self.alice, room, user) == membership
                           and self.membership(self.b, self.bob, room, user) == membership)
        self.assertTrue(shown, f"{user} is not {membership} on both: A says "
                               f"{self.membership(self.a, self.alice, room, user)}, B says "
                               f"{self.membership(self.b, self.bob, room, user)}\n{self.logs()}")

    def bob_joins(self, room):
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                        query={"server_name": self.a.server_name})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.both_show(room, self.bob_id, "join")

    def sync_rooms(self, hs, token, since=None):
        query = {"timeout": 0}
        if since:
            query["since"] = since
        return self.ok(hs.client("GET", "/sync", token=token, query=query))

    # ---------------------------------------------------------------------------------------------

    def test_kick_ban_and_unban_of_a_remote_user(self):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "public_chat", "name": "Moderated"}))["room_id"]
        self.bob_joins(room)
        since = self.sync_rooms(self.b, self.bob)["next_batch"]

        # The kick: bob is out on both servers, and his /sync on B moves the room to `leave`.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/kick", token=self.alice,
                              body={"user_id": self.bob_id, "reason": "calm down"}))
        self.both_show(room, self.bob_id, "leave")
        kick = self.member_event(self.b, self.bob, room, self.bob_id)
        self.assertEqual(kick["sender"], self.alice_id)
        self.assertEqual(kick["content"].get("reason"), "calm down")
        left = wait_until(lambda: self.sync_rooms(self.b, self.bob, since).get("rooms", {}).get("leave", {}).get(room))
        self.assertTrue(left, self.logs())
        timeline = [e["event_id"] for e in left["timeline"]["events"]]
        self.assertIn(kick["event_id"], timeline)
        self.assertNotIn(room, self.sync_rooms(self.b, self.bob, since).get("rooms", {}).get("join", {}))

        # A kick is not a ban: bob gets back in.
        self.bob_joins(room)

        # The ban: both servers show it, with its reason.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/ban", token=self.alice,
                              body={"user_id": self.bob_id, "reason": "spam"}))
        self.both_show(room, self.bob_id, "ban")
        ban = self.member_event(self.b, self.bob, room, self.bob_id)
        self.assertEqual(ban["sender"], self.alice_id)
        self.assertEqual(ban["content"].get("reason"), "spam")

        # bob cannot join again, through A or with B alone, and neither server's room changes.
        before_a, before_b = self.state_ids(self.a, self.alice, room), self.state_ids(self.b, self.bob, room)
        for query in ({"server_name": self.a.server_name}, {}):
            status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={}, query=query)
            self.assertEqual(status, 403, f"{query}: {body}\n{self.logs()}")
            self.assertEqual(body["errcode"], "M_FORBIDDEN")
        time.sleep(0.5)
        self.assertEqual(self.state_ids(self.a, self.alice, room), before_a)
        self.assertEqual(self.state_ids(self.b, self.bob, room), before_b)
        self.assertEqual(self.membership(self.a, self.alice, room, self.bob_id), "ban")

        # The unban makes bob `leave` on A, and he can join again.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/unban", token=self.alice, body={"user_id": self.bob_id}))
        self.assertEqual(self.membership(self.a, self.alice, room, self.bob_id), "leave")
        self.bob_joins(room)
        self.assertEqual(set(self.ok(self.b.client("GET", f"/rooms/{q(room)}/joined_members", token=self.bob))["joined"]),
                         {self.alice_id, self.bob_id})

    def test_a_remote_moderator_kicks_and_bans_a_local_user(self):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "public_chat", "name": "Shared duty"}))["room_id"]
        self.bob_joins(room)
        self.ok(self.a.client("POST", f"/join/{q(room)}", token=self.carol, body={}))
        self.both_show(room, self.carol_id, "join")

        # bob cannot kick before alice makes him a moderator.
        self.err(self.b.client("POST", f"/rooms/{q(room)}/kick", token=self.bob, body={"user_id": self.carol_id}),
                 403, "M_FORBIDDEN")
        levels = self.ok(self.a.client("GET", f"/rooms/{q(room)}/state/m.room.power_levels", token=self.alice))
        levels.setdefault("users", {})[self.bob_id] = 50
        pl_id = self.ok(self.a.client("PUT", f"/rooms/{q(room)}/state/m.room.power_levels", token=self.alice,
                                      body=levels))["event_id"]
        arrived = wait_until(lambda: any(e[2] == pl_id for e in self.state_ids(self.b, self.bob, room)))
        self.assertTrue(arrived, self.logs())

        # The moderator on B kicks carol of A: A shows carol `leave`, kicked by bob, with the reason.
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/kick", token=self.bob,
                              body={"user_id": self.carol_id, "reason": "off topic"}))
        shown = wait_until(lambda: self.membership(self.a, self.alice, room, self.carol_id) == "leave")
        self.assertTrue(shown, self.logs())
        kick = self.member_event(self.a, self.alice, room, self.carol_id)
        self.assertEqual(kick["sender"], self.bob_id)
        self.assertEqual(kick["content"].get("reason"), "off topic")
        self.assertEqual(self.membership(self.b, self.bob, room, self.carol_id), "leave")
        carol_rooms = self.sync_rooms(self.a, self.carol).get("rooms", {})
        self.assertIn(room, carol_rooms.get("leave", {}))

        # ... and bans her: she cannot rejoin on her own server.
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/ban", token=self.bob,
                              body={"user_id": self.carol_id, "reason": "again"}))
        self.assertTrue(wait_until(lambda: self.membership(self.a, self.alice, room, self.carol_id) == "ban"),
                        self.logs())
        self.err(self.a.client("POST", f"/join/{q(room)}", token=self.carol, body={}), 403, "M_FORBIDDEN")
        # A moderator cannot kick the room's creator (power 100).
        self.err(self.b.client("POST", f"/rooms/{q(room)}/kick", token=self.bob, body={"user_id": self.alice_id}),
                 403, "M_FORBIDDEN")

    def test_a_revoked_invite_leaves_the_remote_invitees_sync(self):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "private_chat", "name": "Changed my mind"}))["room_id"]
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        invited = wait_until(lambda: room in self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {}))
        self.assertTrue(invited, self.logs())
        since = self.sync_rooms(self.b, self.bob)["next_batch"]
        # Kicking an invited user takes the invite back: B hears of it, and bob's /sync drops the invite.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/kick", token=self.alice,
                              body={"user_id": self.bob_id, "reason": "wrong person"}))
        self.assertEqual(self.membership(self.a, self.alice, room, self.bob_id), "leave")
        gone = wait_until(lambda: room in self.sync_rooms(self.b, self.bob, since).get("rooms", {}).get("leave", {}))
        self.assertTrue(gone, self.logs())
        self.assertNotIn(room, self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {}))
        kick = self.member_event(self.a, self.alice, room, self.bob_id)
        self.assertEqual(kick["content"].get("reason"), "wrong person")
        # The invite cannot be used any more.
        self.err(self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                               query={"server_name": self.a.server_name}), 403, "M_FORBIDDEN")
        # A ban of someone invited takes the invite back too.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        self.assertTrue(wait_until(lambda: room in self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {})),
                        self.logs())
        since = self.sync_rooms(self.b, self.bob)["next_batch"]
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/ban", token=self.alice, body={"user_id": self.bob_id}))
        gone = wait_until(lambda: room in self.sync_rooms(self.b, self.bob, since).get("rooms", {}).get("leave", {}))
        self.assertTrue(gone, self.logs())
        self.assertNotIn(room, self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {}))

    def test_a_kicked_remote_user_can_be_invited_again(self):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "private_chat", "name": "Second chance"}))["room_id"]
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        self.assertTrue(wait_until(lambda: room in self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {})))
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/join", token=self.bob, body={}))
        self.both_show(room, self.bob_id, "join")
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/kick", token=self.alice, body={"user_id": self.bob_id}))
        self.both_show(room, self.bob_id, "leave")
        # B knows the room but is no longer in it: a new invite still reaches bob, and he can join with it.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        invited = wait_until(lambda: self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {}).get(room))
        self.assertTrue(invited, self.logs())
        stripped = {(e["type"], e["state_key"]): e for e in invited["invite_state"]["events"]}
        self.assertEqual(stripped[("m.room.name", "")]["content"]["name"], "Second chance")
        self.assertEqual(stripped[("m.room.member", self.bob_id)]["content"]["membership"], "invite")
        self.assertEqual(stripped[("m.room.member", self.bob_id)]["sender"], self.alice_id)
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/join", token=self.bob, body={}))
        self.both_show(room, self.bob_id, "join")
        # Kicked and invited once more, bob rejects: the leave goes through A, and the invite is gone on B.
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/kick", token=self.alice, body={"user_id": self.bob_id}))
        self.both_show(room, self.bob_id, "leave")
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        self.assertTrue(wait_until(lambda: room in self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {})))
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/leave", token=self.bob, body={}))
        self.assertNotIn(room, self.sync_rooms(self.b, self.bob).get("rooms", {}).get("invite", {}))
        self.assertTrue(wait_until(lambda: self.membership(self.a, self.alice, room, self.bob_id) == "leave"), self.logs())
        self.assertEqual(self.member_event(self.a, self.alice, room, self.bob_id)["sender"], self.bob_id)

    def test_a_ban_holds_on_every_server_of_the_room(self):
        """A third server in the room will not let the banned user in either."""
        c = start_federation_servers(self.ca, count=1, extra_yaml=RETRY_YAML)[0]
        try:
            dave = self.register(c, "dave")
            room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                         body={"preset": "public_chat"}))["room_id"]
            self.ok(c.client("POST", f"/join/{q(room)}", token=dave, body={}, query={"server_name": self.a.server_name}))
            # bob of B was never in the room: the ban is made on A and reaches C.
            ban_id = self.ok(self.a.client("POST", f"/rooms/{q(room)}/ban", token=self.alice,
                                           body={"user_id": self.bob_id, "reason": "known spammer"}))
            self.assertTrue(wait_until(lambda: self.membership(c, dave, room, self.bob_id) == "ban"),
                            c.read_log()[-3000:])
            for server in (c.server_name, self.a.server_name):
                status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                                query={"server_name": server})
                self.assertEqual(status, 403, f"through {server}: {body}\n{self.logs()}")
                self.assertEqual(body["errcode"], "M_FORBIDDEN")
            self.assertEqual(set(self.ok(c.client("GET", f"/rooms/{q(room)}/joined_members", token=dave))["joined"]),
                             {self.alice_id, f"@dave:{c.server_name}"})
        finally:
            c.stop()
            c.cleanup()


if __name__ == "__main__":
    unittest.main()
