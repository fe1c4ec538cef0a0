"""Issue 15 item 9: invite blocking (spec v1.18). A user whose global account data m.invite_permission_config
is {"default_action": "block"} gets no new invite: /invite on every path version, createRoom's invite list
(the room is still created) and PUT /state/m.room.member with membership invite are refused with 403
M_INVITE_BLOCKED, an invite from another Herald is refused by the invitee's server, and /sync shows none
that are there anyway."""
import unittest

from harness import UsersOnOneServer, q
from federation_pair import TwoHeraldsTest

PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]
BLOCK = {"default_action": "block"}


class LocalInviteBlocking(UsersOnOneServer):
    user_names = ["alice", "bob", "carol", "dan", "erin"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.set_config("bob", BLOCK)

    @classmethod
    def set_config(cls, who, content):
        status, _, body = cls.hs.client("PUT", f"/user/{q(cls.uid_of(who))}/account_data/m.invite_permission_config",
                                        token=cls.users[who], body=content)
        assert status == 200, body

    @classmethod
    def uid_of(cls, name):
        return f"@{name}:{cls.hs.server_name}"

    def membership(self, room, user):
        status, _, body = self.call("alice", "GET", f"/rooms/{q(room)}/state/m.room.member/{q(user)}")
        return body.get("membership") if status == 200 else None

    def sync_invites(self, who, since=None):
        query = {"since": since} if since else None
        body = self.ok(self.call(who, "GET", "/sync", query=query))
        return body.get("rooms", {}).get("invite", {}), body["next_batch"]

    def test_invite_is_refused_on_every_path_version(self):
        room = self.create(preset="private_chat")
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                self.err(self.call("alice", "POST", f"/rooms/{q(room)}/invite", prefix=prefix,
                                   body={"user_id": self.uid("bob")}), 403, "M_INVITE_BLOCKED")
        self.assertIsNone(self.membership(room, self.uid("bob")))
        # Others are invited as before.
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("carol")}))
        self.assertEqual(self.membership(room, self.uid("carol")), "invite")

    def test_put_member_state_invite_is_refused(self):
        room = self.create(preset="private_chat")
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                self.err(self.call("alice", "PUT", f"/rooms/{q(room)}/state/m.room.member/{q(self.uid('bob'))}",
                                   prefix=prefix, body={"membership": "invite"}), 403, "M_INVITE_BLOCKED")
        self.assertIsNone(self.membership(room, self.uid("bob")))

    def test_create_room_leaves_the_blocking_invitee_out(self):
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                room = self.ok(self.call("alice", "POST", "/createRoom", prefix=prefix, body={
                    "preset": "private_chat", "invite": [self.uid("bob"), self.uid("carol")], "is_direct": True}))["room_id"]
                self.assertIsNone(self.membership(room, self.uid("bob")))
                self.assertEqual(self.membership(room, self.uid("carol")), "invite")
                self.assertNotIn(room, self.sync_invites("bob")[0])

    def test_other_memberships_of_a_blocking_user_still_work(self):
        room = self.create(preset="public_chat")
        self.ok(self.call("bob", "POST", f"/rooms/{q(room)}/join", body={}))
        self.assertEqual(self.membership(room, self.uid("bob")), "join")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("bob")}))
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/ban", body={"user_id": self.uid("bob")}))
        self.assertEqual(self.membership(room, self.uid("bob")), "ban")

    def test_invites_already_there_are_not_shown_while_blocking(self):
        room = self.create(preset="private_chat", name="Earlier")
        self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("dan")}))
        invites, since = self.sync_invites("dan")
        self.assertIn(room, invites)
        self.set_config("dan", BLOCK)
        try:
            self.assertNotIn(room, self.sync_invites("dan")[0])
            self.assertNotIn(room, self.sync_invites("dan", since)[0])
            initial = self.ok(self.call("dan", "GET", "/initialSync", prefix="/_matrix/client/r0"))
            self.assertNotIn(room, [r["room_id"] for r in initial["rooms"]])
        finally:
            self.set_config("dan", {"default_action": "allow"})
        self.assertIn(room, self.sync_invites("dan")[0])
        # Still invited: the invitee can join.
        self.ok(self.call("dan", "POST", f"/rooms/{q(room)}/join", body={}))

    def test_unblocking_lets_invites_through_again(self):
        self.set_config("erin", BLOCK)
        room = self.create(preset="private_chat")
        self.err(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("erin")}),
                 403, "M_INVITE_BLOCKED")
        for content in ({"default_action": "allow"}, {}, {"default_action": 5}):
            self.set_config("erin", content)
            self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/invite", body={"user_id": self.uid("erin")}))
            self.ok(self.call("alice", "POST", f"/rooms/{q(room)}/kick", body={"user_id": self.uid("erin")}))
        self.assertEqual(self.membership(room, self.uid("erin")), "leave")


class InviteBlockingAcrossServers(TwoHeraldsTest):
    """alice on A invites bob on B, who blocks invites: B refuses the invite, A passes M_INVITE_BLOCKED on
    and keeps no invite; once bob allows invites again the same invite goes through."""

    TMP_PREFIX = "herald-invite-block-"
    EXTRA_YAML = None
    USERS = {"a": ("alice",), "b": ("bob",)}

    def set_config(self, content):
        self.ok(self.b.client("PUT", f"/user/{q(self.bob_id)}/account_data/m.invite_permission_config",
                              token=self.bob, body=content))

    def test_remote_invitee_blocking_is_refused_by_its_server(self):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice, body={"preset": "private_chat"}))["room_id"]
        self.set_config(BLOCK)
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                self.err(self.a.request("POST", f"{prefix}/rooms/{q(room)}/invite", token=self.alice,
                                        body={"user_id": self.bob_id}), 403, "M_INVITE_BLOCKED")
        status, _, _ = self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.bob_id)}", token=self.alice)
        self.assertEqual(status, 404)
        sync = self.ok(self.b.client("GET", "/sync", token=self.bob))
        self.assertNotIn(room, sync.get("rooms", {}).get("invite", {}))

        self.set_config({"default_action": "allow"})
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": self.bob_id}))
        sync = self.ok(self.b.client("GET", "/sync", token=self.bob))
        self.assertIn(room, sync.get("rooms", {}).get("invite", {}))

    def test_create_room_with_a_blocking_remote_invitee_is_still_created(self):
        self.set_config(BLOCK)
        try:
            room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                         body={"preset": "private_chat", "invite": [self.bob_id]}))["room_id"]
            status, _, _ = self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.bob_id)}", token=self.alice)
            self.assertEqual(status, 404)
        finally:
            self.set_config({"default_action": "allow"})


if __name__ == "__main__":
    unittest.main()
