"""Issue 15 item 4 (sending half): rejecting an invite from another server through that server. Two Herald
homeservers over TLS (test CA, localhost:<port> names): alice on A invites bob on B (the invite goes to B
over /v2/invite), bob rejects it on B, and B sends the leave to A with make_leave + send_leave, so A's room
shows bob's membership as leave.

When A cannot be reached, the reject still succeeds on B at once (the invite leaves bob's /sync), B keeps
the leave in its database, and sends it when A is back: here A is stopped, bob rejects, B is restarted
too (the kept leave survives it), then A starts again and the leave arrives.

A made-up remote (fake_remote.KeyServer) shows the rest: the template is checked before anything is signed,
send_leave falls back to v1, a refusal ends the retrying and a failure does not."""
import hashlib
import time
import unittest

import nacl.signing

from fake_remote import FakeRemotesFixture, b64, canonical, redact, signed_by, unb64
from harness import MatrixAssertions, q
from federation_pair import TwoHeraldsTest, RETRY_YAML, wait_until, read_db


class RejectingARemoteInvite(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-reject-"
    USERS = {"a": ("alice",)}

    def invited_room(self, bob_name):
        """A room of alice's on A with bob (on B) invited; returns (room, bob's ID, bob's token)."""
        bob = self.register(self.b, bob_name)
        bob_id = f"@{bob_name}:{self.b.server_name}"
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "private_chat", "name": "Spam?"}))["room_id"]
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice, body={"user_id": bob_id}))
        self.assertEqual(self.membership_on_a(room, bob_id), "invite")
        self.assertIn(room, self.sync_invites(bob), self.logs())
        return room, bob_id, bob

    def membership_on_a(self, room, user):
        status, _, body = self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(user)}", token=self.alice)
        return body.get("membership") if status == 200 else None

    def sync_invites(self, token):
        body = self.ok(self.b.client("GET", "/sync", token=token, query={"timeout": "0"}))
        return body.get("rooms", {}).get("invite", {})

    def kept_on_b(self, room):
        return read_db(self.b, "SELECT COUNT(*) FROM pending_rejections WHERE room_id = ?", (room,))[0][0]

    # ---------------------------------------------------------------------------------------------

    def test_1_a_reject_reaches_the_inviting_server(self):
        room, bob_id, bob = self.invited_room("bob")
        self.ok(self.b.client("POST", f"/rooms/{q(room)}/leave", token=bob, body={}))
        self.assertNotIn(room, self.sync_invites(bob))
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, bob_id) == "leave"), self.logs())
        # The leave A holds is B's: signed by B, sent by bob.
        status, _, members = self.a.client("GET", f"/rooms/{q(room)}/members", token=self.alice)
        self.assertEqual(status, 200, members)
        leave = next(e for e in members["chunk"] if e["state_key"] == bob_id)
        self.assertEqual(leave["sender"], bob_id)
        self.assertEqual(leave["content"]["membership"], "leave")
        self.assertTrue(wait_until(lambda: self.kept_on_b(room) == 0), self.logs())

    def test_2_a_reject_while_the_inviting_server_is_down_arrives_when_it_is_back(self):
        room, bob_id, bob = self.invited_room("bob2")
        since = self.ok(self.b.client("GET", "/sync", token=bob, query={"timeout": "0"}))["next_batch"]
        self.assertEqual(self.a.stop(), 0)
        try:
            started = time.time()
            self.ok(self.b.client("POST", f"/rooms/{q(room)}/leave", token=bob, body={"reason": "not now"}))
            self.assertLess(time.time() - started, 5)  # the local reject does not wait for A
            self.assertNotIn(room, self.sync_invites(bob))
            # bob's next sync shows the room left, with the leave B made out of band (A being down).
            body = self.ok(self.b.client("GET", "/sync", token=bob, query={"timeout": "0", "since": since}))
            left = body.get("rooms", {}).get("leave", {}).get(room)
            self.assertIsNotNone(left, body)
            [leave] = left["timeline"]["events"]
            self.assertEqual((leave["type"], leave["state_key"], leave["sender"]), ("m.room.member", bob_id, bob_id))
            self.assertEqual(leave["content"], {"membership": "leave", "reason": "not now"})
            self.assertTrue(leave["event_id"].startswith("$"), leave)
            # B keeps the leave and keeps trying.
            self.assertEqual(self.kept_on_b(room), 1)
            self.assertTrue(wait_until(lambda: "rejection waits" in self.b.read_log(), timeout=15), self.logs())
            # The kept leave survives a restart of B as well.
            self.assertEqual(self.b.stop(), 0)
            self.b.start()
            self.assertEqual(self.kept_on_b(room), 1)
            self.assertNotIn(room, self.sync_invites(bob))
        finally:
            self.a.start()
        self.assertTrue(wait_until(lambda: self.membership_on_a(room, bob_id) == "leave", timeout=60), self.logs())
        self.assertTrue(wait_until(lambda: self.kept_on_b(room) == 0), self.logs())
        self.assertNotIn(room, self.sync_invites(bob))


class RejectingThroughAFakeRemote(FakeRemotesFixture, MatrixAssertions, unittest.TestCase):
    """Herald (plain HTTP, `localhost`) with bob invited by rob of a fake remote that answers make_leave as
    each test says."""

    @classmethod
    def setUpClass(cls):
        cls.start_fake_remotes("herald-it-fed-reject-", extra_yaml=RETRY_YAML + "\n")

    @classmethod
    def before_herald(cls):
        cls.keys = cls.key_server()
        cls.remote = cls.keys.remote()

    @classmethod
    def tearDownClass(cls):
        cls.stop_fake_remotes()

    users = 0

    def setUp(self):
        RejectingThroughAFakeRemote.users += 1
        suffix = str(RejectingThroughAFakeRemote.users)
        self.bob_id = f"@bob{suffix}:{self.hs.server_name}"
        self.bob = self.hs.register(f"bob{suffix}")["access_token"]
        self.rob = self.remote.user("rob")
        self.room = f"!room{suffix}:{self.remote.server_name}"
        self.keys.make_leave_answer = self.template
        self.keys.send_leave_v2_answer = None
        self.invite()

    def template(self, path, **changes):
        event = {"type": "m.room.member", "room_id": self.room, "sender": self.bob_id, "state_key": self.bob_id,
                 "content": {"membership": "leave"}, "depth": 9, "prev_events": ["$invite"],
                 "auth_events": ["$create", "$power", "$invite"], "origin_server_ts": 1,
                 "origin": self.remote.server_name}
        event.update(changes)
        return 200, {"room_version": "11", "event": event}

    def invite(self):
        pdu = {"type": "m.room.member", "room_id": self.room, "sender": self.rob, "state_key": self.bob_id,
               "content": {"membership": "invite"}, "depth": 8, "prev_events": ["$prev"],
               "auth_events": ["$create", "$power"], "origin_server_ts": int(time.time() * 1000)}
        event_id, pdu = self.remote.sign_event(pdu)
        state = [{"type": "m.room.create", "state_key": "", "sender": self.rob, "content": {"room_version": "11"}}]
        body = {"room_version": "11", "event": pdu, "invite_room_state": state}
        path = f"/_matrix/federation/v2/invite/{q(self.room)}/{q(event_id)}"
        header = self.remote.x_matrix("PUT", path, self.hs.server_name, body)
        self.ok(self.hs.request("PUT", path, body=body, headers={"Authorization": header}))

    def reject(self, **body):
        self.ok(self.hs.client("POST", f"/rooms/{q(self.room)}/leave", token=self.bob, body=body))
        body = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0"}))
        self.assertNotIn(self.room, body.get("rooms", {}).get("invite", {}))

    def make_leaves(self):
        return [p for p, _ in self.keys.requests if p.startswith(f"/_matrix/federation/v1/make_leave/{q(self.room)}/")]

    def send_leaves(self):
        return [(p, b) for p, b in self.keys.transactions if "/send_leave/" + q(self.room) + "/" in p]

    def kept(self):
        return read_db(self.hs, "SELECT COUNT(*) FROM pending_rejections WHERE room_id = ?", (self.room,))[0][0]

    def logs(self):
        return self.hs.read_log()[-3000:]

    def test_the_template_is_completed_signed_and_sent_with_v1_when_v2_is_unknown(self):
        self.keys.send_leave_v2_answer = (404, {"errcode": "M_UNRECOGNIZED", "error": "no v2 here"})
        self.reject(reason="not interested")
        self.assertTrue(wait_until(lambda: len(self.send_leaves()) == 2 and self.kept() == 0), self.logs())
        (v2_path, _), (v1_path, pdu) = self.send_leaves()
        self.assertTrue(v2_path.startswith("/_matrix/federation/v2/send_leave/"), v2_path)
        self.assertTrue(v1_path.startswith("/_matrix/federation/v1/send_leave/"), v1_path)
        self.assertEqual(self.make_leaves(), [f"/_matrix/federation/v1/make_leave/{q(self.room)}/{q(self.bob_id)}"])
        # The template's fields, this server's time, hash and signature; the path names its reference hash.
        for field in ("type", "room_id", "sender", "state_key", "depth", "prev_events", "auth_events"):
            self.assertEqual(pdu[field], self.template("")[1]["event"][field], field)
        self.assertEqual(pdu["content"], {"membership": "leave", "reason": "not interested"})
        self.assertEqual(pdu["origin"], self.hs.server_name)
        self.assertGreater(pdu["origin_server_ts"], 1)
        bare = {k: v for k, v in pdu.items() if k not in ("hashes", "signatures", "unsigned")}
        self.assertEqual(pdu["hashes"]["sha256"], b64(hashlib.sha256(canonical(bare)).digest()))
        status, _, server_keys = self.hs.request("GET", "/_matrix/key/v2/server")
        key_id, entry = next(iter(server_keys["verify_keys"].items()))
        self.assertTrue(signed_by(redact(pdu), self.hs.server_name, key_id, nacl.signing.VerifyKey(unb64(entry["key"]))))
        reference = {k: v for k, v in redact(pdu).items() if k not in ("signatures", "unsigned")}
        event_id = "$" + b64(hashlib.sha256(canonical(reference)).digest(), url=True)
        self.assertEqual(v1_path, f"/_matrix/federation/v1/send_leave/{q(self.room)}/{q(event_id)}")

    def test_a_template_for_someone_else_is_not_signed_and_not_retried(self):
        self.keys.make_leave_answer = lambda path: self.template(path, state_key="@eve:" + self.hs.server_name)
        self.reject()
        self.assertTrue(wait_until(lambda: self.make_leaves() and self.kept() == 0), self.logs())
        time.sleep(0.5)
        self.assertEqual(len(self.make_leaves()), 1)
        self.assertEqual(self.send_leaves(), [])

    def test_a_refusal_ends_the_retrying(self):
        self.keys.make_leave_answer = (403, {"errcode": "M_FORBIDDEN", "error": "not in the room"})
        self.reject()
        self.assertTrue(wait_until(lambda: self.make_leaves() and self.kept() == 0), self.logs())
        time.sleep(0.5)
        self.assertEqual(len(self.make_leaves()), 1)

    def test_a_failure_is_retried_until_the_server_takes_the_leave(self):
        self.keys.make_leave_answer = (502, {"errcode": "M_UNKNOWN", "error": "down for a moment"})
        self.reject()
        self.assertTrue(wait_until(lambda: len(self.make_leaves()) >= 2), self.logs())
        self.assertEqual(self.kept(), 1)
        self.keys.make_leave_answer = self.template
        self.assertTrue(wait_until(lambda: self.send_leaves() and self.kept() == 0), self.logs())


if __name__ == "__main__":
    unittest.main()
