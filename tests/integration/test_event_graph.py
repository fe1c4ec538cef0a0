"""Issue 13: a forked history, signed by a second (test-only) server key, fed to the event pipeline with
`herald receive-pdus` while the server runs; the resolved state is checked through the client API."""
import json
import sqlite3
import subprocess
import unittest
import urllib.parse

from fake_remote import RemoteServer, b64
from harness import HERALD_BIN, HeraldServer, MatrixAssertions

REMOTE = "remote.test"
ROB = "@rob:remote.test"


def q(s):
    return urllib.parse.quote(s, safe="")


class EventGraphTest(MatrixAssertions, unittest.TestCase):
    def setUp(self):
        self.hs = HeraldServer().start()
        self.addCleanup(self.hs.cleanup)
        self.addCleanup(self.hs.stop)
        self.alice = self.hs.register("alice")["access_token"]
        self.remote = RemoteServer(REMOTE)
        status, _, body = self.hs.client("POST", "/createRoom", token=self.alice,
                                         body={"preset": "public_chat", "name": "Fork"})
        self.room = self.ok((status, _, body))["room_id"]
        self.ts = 1_900_000_000_000  # the remote's clock runs ahead: its events are "later"

    # helpers ----------------------------------------------------------------------------------------

    def state_id(self, type_, key=""):
        status, _, body = self.hs.client("GET", f"/rooms/{q(self.room)}/state", token=self.alice)
        for e in self.ok((status, _, body)):
            if e["type"] == type_ and e["state_key"] == key:
                return e["event_id"]
        return None

    def latest(self):
        status, _, body = self.hs.client("GET", f"/rooms/{q(self.room)}/messages", token=self.alice,
                                         query={"dir": "b", "limit": 1})
        return self.ok((status, _, body))["chunk"][0]["event_id"]

    def auth_for(self, sender_member=True, *extra):
        ids = [self.state_id("m.room.power_levels")]
        if sender_member:
            ids.append(self.state_id("m.room.member", ROB))
        return ids + list(extra)

    def remote_pdu(self, type_, content, prev, auth, state_key=None):
        self.ts += 1000
        return self.remote.pdu(self.room, type_, content, prev, auth, self.ts, state_key)

    def receive(self, *pdus):
        """Runs `herald receive-pdus` against the running server's database; returns the outcomes."""
        proc = subprocess.run([HERALD_BIN, "receive-pdus", "--config", self.hs.config_path, "--room", self.room,
                               "--trust-key", self.remote.trust_arg()],
                              input="".join(json.dumps(p) + "\n" for p in pdus), capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [json.loads(line) for line in proc.stdout.splitlines()]

    def send_text(self, text):
        status, _, body = self.hs.client("POST", f"/rooms/{q(self.room)}/send/m.room.message", token=self.alice,
                                         body={"msgtype": "m.text", "body": text})
        return self.ok((status, _, body))["event_id"]

    def stored_pdu(self, event_id):
        db = sqlite3.connect(f"file:{self.hs.dir}/homeserver.db?mode=ro", uri=True)
        try:
            row = db.execute("SELECT pdu FROM events WHERE event_id = ?", (event_id,)).fetchone()
            extremities = [r[0] for r in db.execute("SELECT event_id FROM forward_extremities WHERE room_id = ?",
                                                     (self.room,))]
        finally:
            db.close()
        return (json.loads(row[0]) if row else None), extremities

    def rob_joins_as_moderator(self):
        join_id, join = self.remote_pdu("m.room.member", {"membership": "join"}, [self.latest()],
                                        [self.state_id("m.room.power_levels"), self.state_id("m.room.join_rules")],
                                        state_key=ROB)
        [result] = self.receive(join)
        self.assertEqual(result["outcome"], "accepted", result)
        self.assertEqual(result["event_id"], join_id, "the event ID is the PDU's reference hash")
        status, _, pl = self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.power_levels", token=self.alice)
        pl = self.ok((status, _, pl))
        pl["users"][ROB] = 50
        self.ok(self.hs.client("PUT", f"/rooms/{q(self.room)}/state/m.room.power_levels", token=self.alice, body=pl))

    # the story --------------------------------------------------------------------------------------

    def test_a_forked_history_resolves_and_merges(self):
        self.rob_joins_as_moderator()
        members = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/joined_members", token=self.alice))
        self.assertIn(ROB, members["joined"])

        # The fork: Alice sets the topic here while Rob, not having seen it, sets another on the same parent.
        fork = self.latest()
        self.ok(self.hs.client("PUT", f"/rooms/{q(self.room)}/state/m.room.topic", token=self.alice,
                               body={"topic": "Alice's topic"}))
        alice_topic = self.state_id("m.room.topic")
        rob_topic, pdu = self.remote_pdu("m.room.topic", {"topic": "Rob's topic"}, [fork], self.auth_for(), state_key="")
        [result] = self.receive(pdu)
        self.assertEqual(result["outcome"], "accepted", result)

        # The next local event merges both tips (the server notices the room changed under it).
        merge = self.send_text("merging")
        merged_pdu, extremities = self.stored_pdu(merge)
        self.assertEqual(sorted(merged_pdu["prev_events"]), sorted([alice_topic, rob_topic]))
        self.assertEqual(extremities, [merge])

        # Resolution (v2.1): same power-level mainline, so the later origin_server_ts (Rob's) wins.
        topic = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.topic", token=self.alice))
        self.assertEqual(topic["topic"], "Rob's topic")
        self.assertEqual(self.state_id("m.room.topic"), rob_topic)
        sync = self.ok(self.hs.client("GET", "/sync", token=self.alice))
        room = sync["rooms"]["join"][self.room]
        seen = {e["event_id"] for e in room["timeline"]["events"] + room["state"]["events"]}
        self.assertIn(rob_topic, seen)

    def test_refused_events_stay_out_of_the_room(self):
        self.rob_joins_as_moderator()
        before_ban = self.latest()

        # Rob (power 50) may not raise himself to 100: rejected by the auth rules.
        status, _, pl = self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.power_levels", token=self.alice)
        pl = self.ok((status, _, pl))
        pl["users"][ROB] = 100
        grab_id, grab = self.remote_pdu("m.room.power_levels", pl, [before_ban], self.auth_for(), state_key="")
        # A forged signature: dropped. A tampered body: kept, redacted.
        forged_id, forged = self.remote_pdu("m.room.message", {"msgtype": "m.text", "body": "forged"}, [before_ban],
                                            self.auth_for())
        forged["signatures"][REMOTE]["ed25519:k1"] = b64(b"\0" * 64)
        tampered_id, tampered = self.remote_pdu("m.room.message", {"msgtype": "m.text", "body": "original"},
                                                [before_ban], self.auth_for())
        tampered["content"]["body"] = "tampered"
        results = {r["event_id"]: r for r in self.receive(grab, forged, tampered)}
        self.assertEqual(results[grab_id]["outcome"], "rejected", results)
        self.assertEqual(results[forged_id]["outcome"], "dropped", results)
        self.assertEqual(results[tampered_id]["outcome"], "accepted", results)
        self.assertTrue(results[tampered_id].get("redacted"))

        self.send_text("after")  # the server reloads the room it had cached
        pl_now = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.power_levels", token=self.alice))
        self.assertEqual(pl_now["users"][ROB], 50)
        self.err(self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(grab_id)}", token=self.alice), 404, "M_NOT_FOUND")
        self.err(self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(forged_id)}", token=self.alice), 404, "M_NOT_FOUND")
        shown = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/event/{q(tampered_id)}", token=self.alice))
        self.assertEqual(shown["content"], {})

        # Alice bans Rob; a message Rob wrote before he saw the ban is valid where he wrote it but
        # soft-failed here: stored, never shown.
        auth_before_ban = self.auth_for()
        self.ok(self.hs.client("POST", f"/rooms/{q(self.room)}/ban", token=self.alice, body={"user_id": ROB}))
        late_id, late = self.remote_pdu("m.room.message", {"msgtype": "m.text", "body": "too late"}, [tampered_id],
                                        auth_before_ban)
        [result] = self.receive(late)
        self.assertEqual(result["outcome"], "soft_failed", result)
        self.send_text("still here")
        messages = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/messages", token=self.alice,
                                          query={"dir": "b", "limit": 50}))
        ids = [e["event_id"] for e in messages["chunk"]]
        self.assertNotIn(late_id, ids)
        self.assertNotIn(grab_id, ids)
        self.assertIn(tampered_id, ids)
        _, extremities = self.stored_pdu(late_id)
        self.assertNotIn(late_id, extremities)


if __name__ == "__main__":
    unittest.main()
