"""Issue 15 item 8: profiles and room aliases of another server. Two Herald homeservers over TLS (test CA,
localhost:<port> names): a client of A asks for a profile of a user of B, or for an alias of B, and A asks B
with GET /_matrix/federation/v1/query/profile or /query/directory; B's "no such user/alias" is A's 404, a
server that cannot be reached is 502 M_UNKNOWN. An invite of B's user made on A carries that user's profile."""
import unittest

from harness import free_port, q
from federation_pair import TwoHeraldsTest

PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]


class RemoteProfilesAndAliases(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-queries-"
    EXTRA_YAML = None
    USERS = {"a": ("alice",), "b": ("bob", "carol")}

    @classmethod
    def set_up_servers(cls):
        for field, value in (("displayname", "Bob of B"), ("avatar_url", "mxc://b/bob")):
            status, _, body = cls.b.client("PUT", f"/profile/{q(cls.bob_id)}/{field}", token=cls.bob, body={field: value})
            assert status == 200, body
        status, _, body = cls.b.client("POST", "/createRoom", token=cls.bob,
                                       body={"preset": "public_chat", "room_alias_name": "lobby"})
        assert status == 200, body
        cls.room = body["room_id"]
        cls.alias = f"#lobby:{cls.b.server_name}"

    def on_a(self, method, path, prefix="/_matrix/client/v3", **kw):
        return self.a.request(method, prefix + path, token=self.alice, **kw)

    def test_remote_profile_on_every_path_version(self):
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                profile = self.ok(self.on_a("GET", f"/profile/{q(self.bob_id)}", prefix=prefix))
                self.assertEqual(profile, {"displayname": "Bob of B", "avatar_url": "mxc://b/bob"})
                self.assertEqual(self.ok(self.on_a("GET", f"/profile/{q(self.bob_id)}/displayname", prefix=prefix)),
                                 {"displayname": "Bob of B"})
                self.assertEqual(self.ok(self.on_a("GET", f"/profile/{q(self.bob_id)}/avatar_url", prefix=prefix)),
                                 {"avatar_url": "mxc://b/bob"})

    def test_remote_profile_needs_no_token(self):
        self.assertEqual(self.ok(self.a.client("GET", f"/profile/{q(self.bob_id)}/displayname")), {"displayname": "Bob of B"})

    def test_a_change_on_b_is_seen_at_once(self):
        self.ok(self.b.client("PUT", f"/profile/{q(self.bob_id)}/displayname", token=self.bob, body={"displayname": "Robert"}))
        try:
            self.assertEqual(self.ok(self.on_a("GET", f"/profile/{q(self.bob_id)}"))["displayname"], "Robert")
        finally:
            self.ok(self.b.client("PUT", f"/profile/{q(self.bob_id)}/displayname", token=self.bob,
                                  body={"displayname": "Bob of B"}))

    def test_unknown_user_or_unset_field_is_not_found(self):
        ghost = f"@ghost:{self.b.server_name}"
        self.err(self.on_a("GET", f"/profile/{q(ghost)}"), 404, "M_NOT_FOUND")
        self.err(self.on_a("GET", f"/profile/{q(ghost)}/displayname"), 404, "M_NOT_FOUND")
        # carol exists on B with the displayname registration gives her, and no avatar.
        self.assertNotIn("avatar_url", self.ok(self.on_a("GET", f"/profile/{q(self.carol_id)}")))
        self.err(self.on_a("GET", f"/profile/{q(self.carol_id)}/avatar_url"), 404, "M_NOT_FOUND")
        self.err(self.on_a("GET", f"/profile/{q(self.bob_id)}/m.tz"), 404, "M_NOT_FOUND")

    def test_unreachable_server_is_bad_gateway(self):
        nowhere = f"localhost:{free_port()}"
        self.err(self.on_a("GET", f"/profile/{q('@x:' + nowhere)}"), 502, "M_UNKNOWN")
        self.err(self.on_a("GET", f"/profile/{q('@x:' + nowhere)}/displayname"), 502, "M_UNKNOWN")
        self.err(self.on_a("GET", "/directory/room/" + q("#room:" + nowhere)), 502, "M_UNKNOWN")

    def test_remote_alias_on_every_path_version(self):
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                found = self.ok(self.on_a("GET", "/directory/room/" + q(self.alias), prefix=prefix))
                self.assertEqual(found, {"room_id": self.room, "servers": [self.b.server_name]})
        self.assertEqual(self.ok(self.a.client("GET", "/directory/room/" + q(self.alias)))["room_id"], self.room)

    def test_unknown_remote_alias_is_not_found(self):
        self.err(self.on_a("GET", "/directory/room/" + q(f"#nothing:{self.b.server_name}")), 404, "M_NOT_FOUND")

    def test_a_new_alias_on_b_resolves_from_a(self):
        alias = f"#second:{self.b.server_name}"
        self.ok(self.b.client("PUT", "/directory/room/" + q(alias), token=self.bob, body={"room_id": self.room}))
        self.assertEqual(self.ok(self.on_a("GET", "/directory/room/" + q(alias)))["room_id"], self.room)
        self.ok(self.b.client("DELETE", "/directory/room/" + q(alias), token=self.bob))
        self.err(self.on_a("GET", "/directory/room/" + q(alias)), 404, "M_NOT_FOUND")

    def test_an_invite_of_a_remote_user_carries_their_profile(self):
        room = self.ok(self.on_a("POST", "/createRoom", body={"preset": "private_chat"}))["room_id"]
        self.ok(self.on_a("POST", f"/rooms/{q(room)}/invite", body={"user_id": self.bob_id}))
        member = self.ok(self.on_a("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.bob_id)}"))
        self.assertEqual(member, {"membership": "invite", "displayname": "Bob of B", "avatar_url": "mxc://b/bob"})
        # createRoom's invite list too, next to is_direct.
        room = self.ok(self.on_a("POST", "/createRoom", body={"preset": "trusted_private_chat", "is_direct": True,
                                                              "invite": [self.carol_id]}))["room_id"]
        member = self.ok(self.on_a("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.carol_id)}"))
        self.assertEqual(member, {"membership": "invite", "displayname": "carol", "is_direct": True})

    def test_local_lookups_stay_local(self):
        me = f"@alice:{self.a.server_name}"
        self.assertIn("displayname", self.ok(self.on_a("GET", f"/profile/{q(me)}")))
        self.err(self.on_a("GET", "/directory/room/" + q(f"#nothing:{self.a.server_name}")), 404, "M_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
