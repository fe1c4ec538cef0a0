"""Issue 15 item 4 (sending half): rejecting an invite from another server through that server. Two Herald
homeservers over TLS (test CA, localhost:<port> names): alice on A invites bob on B (the invite goes to B
over /v2/invite), bob rejects it on B, and B sends the leave to A with make_leave + send_leave, so A's room
shows bob's membership as leave.

When A cannot be reached, the reject still succeeds on B at once (the invite leaves bob's /sync), B keeps
the leave in its database, and sends it when A is back: here A is stopped, bob rejects, B is restarted
too (the kept leave survives it), then A starts again and the leave arrives."""
import os
import shutil
import sqlite3
import tempfile
import time
import unittest

from harness import MatrixAssertions, q, start_federation_servers
from tls_ca import TestCA

# Retry quickly in tests: a server that was down is tried again within a second.
RETRY_YAML = "federation: {destination_min_retry_interval: 100ms, destination_retry_multiplier: 2, " \
             "destination_max_retry_interval: 1s}"


def wait_until(fn, timeout=30, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    return fn()


def read_db(hs, sql, params=()):
    db = sqlite3.connect(f"file:{hs.dir}/homeserver.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


class RejectingARemoteInvite(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-fed-reject-")
        cls.ca = TestCA(os.path.join(cls.tmp, "ca"))
        cls.a, cls.b = start_federation_servers(cls.ca, extra_yaml=RETRY_YAML)
        try:
            cls.alice = cls.register(cls.a, "alice")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in (cls.a, cls.b):
            s.stop()
            s.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def register(hs, name):
        status, _, body = hs.client("POST", "/register", body={"username": name, "password": "password123",
                                                             "auth": {"type": "m.login.dummy"}})
        assert status == 200, body
        return body["access_token"]

    def logs(self):
        return "\n--- A ---\n" + self.a.read_log()[-4000:] + "\n--- B ---\n" + self.b.read_log()[-4000:]

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
        self.assertEqual(self.a.stop(), 0)
        try:
            started = time.time()
            self.ok(self.b.client("POST", f"/rooms/{q(room)}/leave", token=bob, body={}))
            self.assertLess(time.time() - started, 5)  # the local reject does not wait for A
            self.assertNotIn(room, self.sync_invites(bob))
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


if __name__ == "__main__":
    unittest.main()
