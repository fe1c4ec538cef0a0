"""Issue 15 (sending half): a local user invites a user of another server. The invite goes to that server
through PUT /_matrix/federation/v2/invite (room version, the event, stripped state with the full create
event) and is stored only once it comes back countersigned; a refusal or an unreachable server leaves no
invite behind. A made-up remote server (fake_remote.KeyServer) plays the invitee's server."""
import socket
import unittest
import urllib.parse

import nacl.signing

from fake_remote import FakeRemotesFixture, redact, signed_by
from harness import MatrixAssertions


def q(s):
    return urllib.parse.quote(s, safe="")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FederationInviteOutTest(FakeRemotesFixture, MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_fake_remotes("herald-it-fed-invite-out-")

    @classmethod
    def before_herald(cls):
        cls.keys = cls.key_server()
        cls.remote = cls.keys.remote()

    @classmethod
    def tearDownClass(cls):
        cls.stop_fake_remotes()

    users = 0

    def setUp(self):
        FederationInviteOutTest.users += 1
        suffix = str(FederationInviteOutTest.users)
        self.alice = self.hs.register(f"alice{suffix}")["access_token"]
        self.room = self.ok(self.hs.client("POST", "/createRoom", token=self.alice,
                                           body={"preset": "private_chat", "name": "Plans"}))["room_id"]
        self.bob = self.remote.user(f"bob{suffix}")
        self.keys.invite_answer = "sign"

    def invites(self):
        return [(p, b) for p, b in self.keys.transactions if "/invite/" in p]

    def invite(self, user):
        return self.hs.client("POST", f"/rooms/{q(self.room)}/invite", token=self.alice, body={"user_id": user})

    def member(self, user):
        status, _, body = self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.member/{q(user)}", token=self.alice)
        return body.get("membership") if status == 200 else None

    def test_invite_is_countersigned_then_stored(self):
        before = len(self.invites())
        self.ok(self.invite(self.bob))
        sent = self.invites()[before:]
        self.assertEqual(len(sent), 1)
        path, body = sent[0]
        self.assertTrue(path.startswith(f"/_matrix/federation/v2/invite/{q(self.room)}/"), path)
        self.assertEqual(body["room_version"], "12")
        self.assertEqual(body["event"]["state_key"], self.bob)
        self.assertEqual(body["event"]["content"]["membership"], "invite")
        types = [e["type"] for e in body["invite_room_state"]]
        self.assertIn("m.room.name", types)
        self.assertIn("m.room.join_rules", types)
        create = next(e for e in body["invite_room_state"] if e["type"] == "m.room.create")
        self.assertIn("signatures", create)  # the full PDU
        self.assertIn("hashes", create)
        self.assertEqual(self.member(self.bob), "invite")
        # The stored event is the countersigned one.
        event_id = urllib.parse.unquote(path.rsplit("/", 1)[1])
        status, _, event = self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(event_id)}", token=self.alice)
        self.assertEqual(status, 200, event)
        self.assertEqual(event["state_key"], self.bob)
        pdus = [pdu for p, b in self.keys.transactions if "/send/" in p for pdu in b.get("pdus", [])]
        # Fanned out through /send as well, carrying the invitee server's signature.
        fanned = [p for p in pdus if p.get("state_key") == self.bob and p["content"].get("membership") == "invite"]
        if fanned:
            redacted = redact(fanned[-1])
            self.assertTrue(signed_by(redacted, self.remote.server_name, self.remote.key_id,
                                      nacl.signing.VerifyKey(bytes(self.remote.key.verify_key))))

    def test_a_refusal_is_passed_through_and_nothing_is_stored(self):
        self.keys.invite_answer = (403, {"errcode": "M_FORBIDDEN", "error": "no thanks"})
        self.err(self.invite(self.bob), 403, "M_FORBIDDEN")
        self.assertIsNone(self.member(self.bob))
        self.keys.invite_answer = (400, {"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": "old", "room_version": "12"})
        self.err(self.invite(self.bob), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertIsNone(self.member(self.bob))

    def test_an_unreachable_server_gives_a_clear_error(self):
        user = f"@bob:localhost:{free_port()}"
        status, _, body = self.invite(user)
        self.assertIn(status, (502, 504), body)
        self.assertEqual(body["errcode"], "M_UNKNOWN")
        self.assertIn(user.split(":", 1)[1], body["error"])
        self.assertIsNone(self.member(user))

    def test_a_banned_user_is_refused_before_any_request(self):
        self.ok(self.hs.client("POST", f"/rooms/{q(self.room)}/ban", token=self.alice, body={"user_id": self.bob}))
        before = len(self.invites())
        self.err(self.invite(self.bob), 403, "M_FORBIDDEN")
        self.assertEqual(len(self.invites()), before)
        self.assertEqual(self.member(self.bob), "ban")


if __name__ == "__main__":
    unittest.main()
