"""Issue 14 item 5: outbound federation. Two Herald homeservers over TLS (test CA, localhost:<port> names):
local events reach the other server's /sync, a server that was down catches up, queued events survive a
kill -9 of the sender, and a forged PDU is dropped and counted.

How the shared room is seeded (until make_join/send_join exist): alice creates a public room on A. B is
stopped and restarted on a copy of A's database, so it holds the room as A stored it (A's events, signed by
A); `herald receive-pdus` cannot do this, as the pipeline refuses a create event received into a room.
Then bob registers on B and joins through the client API: B builds the join on the state it holds and its
outbound queue carries it to A over /send, so from there both servers have a joined member and every
further event fans out both ways."""
import base64
import json
import os
import re
import sqlite3
import time
import unittest

import nacl.signing

from harness import b64, canonical, q
from federation_pair import TwoHeraldsTest, wait_until, read_db


def signing_key_of(hs):
    """The server's ed25519 key from its key file ("ed25519 <version> <base64 seed>")."""
    with open(os.path.join(hs.dir, "signing.key")) as f:
        algorithm, version, seed = f.read().split()
    return "ed25519:" + version, nacl.signing.SigningKey(base64.b64decode(seed + "=" * (-len(seed) % 4)))


class TwoServersSendingToEachOther(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-out-"
    SERVER_OPTIONS = {"metrics_listener": True}
    USERS = {"a": ("alice",)}

    @classmethod
    def set_up_servers(cls):
        cls.bob_id = f"@bob:{cls.b.server_name}"  # registers later, on the copy of A's database
        cls.room = cls.seed_room()

    @classmethod
    def seed_room(cls):
        status, _, body = cls.a.client("POST", "/createRoom", token=cls.alice, body={"preset": "public_chat"})
        assert status == 200, body
        room = body["room_id"]
        # B starts from a copy of A's database (SQLite's online backup), so it holds the room exactly as A
        # stored it: `herald receive-pdus` cannot seed it, the pipeline refusing a create event received
        # into a room. B's own signing key and server name stay B's; bob registers afterwards.
        assert cls.b.stop() == 0
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{cls.b.dir}/homeserver.db{suffix}"):
                os.remove(f"{cls.b.dir}/homeserver.db{suffix}")
        source = sqlite3.connect(f"file:{cls.a.dir}/homeserver.db?mode=ro", uri=True, timeout=10)
        target = sqlite3.connect(f"{cls.b.dir}/homeserver.db")
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        cls.b.start()
        cls.bob = cls.register(cls.b, "bob")
        # Bob joins on B; B's outbound queue carries the join to A.
        status, _, body = cls.b.client("POST", f"/rooms/{q(room)}/join", token=cls.bob, body={})
        assert status == 200, body
        joined = wait_until(lambda: cls.bob_id in cls.joined_members(cls.a, cls.alice, room), timeout=30)
        assert joined, cls.a.read_log()[-3000:] + cls.b.read_log()[-3000:]
        return room

    @staticmethod
    def joined_members(hs, token, room):
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/joined_members", token=token)
        return body.get("joined", {}) if status == 200 else {}

    def metrics(self, hs):
        status, _, body = hs.request("GET", "/metrics", port=hs.other_ports[1])
        self.assertEqual(status, 200)
        return body

    def metric(self, hs, series):
        m = re.search("^" + re.escape(series) + r" (-?\d+)$", self.metrics(hs), re.M)
        return int(m.group(1)) if m else None

    def queue_length(self, hs, destination):
        return self.metric(hs, f'herald_federation_outbound_queue_length{{destination="{destination}"}}')

    def send(self, hs, token, text):
        status, _, body = hs.client("POST", f"/rooms/{q(self.room)}/send/m.room.message", token=token,
                                    body={"msgtype": "m.text", "body": text})
        return self.ok((status, _, body))["event_id"]

    def stored(self, hs, event_ids):
        marks = ",".join("?" * len(event_ids))
        return {r[0] for r in read_db(hs, f"SELECT event_id FROM events WHERE event_id IN ({marks})", tuple(event_ids))}

    def sync(self, hs, token, since=None, timeout=0):
        query = {"timeout": timeout}
        if since:
            query["since"] = since
        return self.ok(hs.client("GET", "/sync", token=token, query=query, timeout=timeout / 1000 + 30))

    # ---------------------------------------------------------------------------------------------

    def test_1_message_from_a_reaches_a_waiting_sync_on_b(self):
        since = self.sync(self.b, self.bob)["next_batch"]
        event_id = self.send(self.a, self.alice, "hello from A")
        deadline = time.time() + 30
        seen = []
        while time.time() < deadline and event_id not in seen:
            body = self.sync(self.b, self.bob, since=since, timeout=10000)
            since = body["next_batch"]
            timeline = body.get("rooms", {}).get("join", {}).get(self.room, {}).get("timeline", {}).get("events", [])
            seen += [e["event_id"] for e in timeline]
        self.assertIn(event_id, seen)
        # And the other way: bob's message reaches alice.
        reply = self.send(self.b, self.bob, "hello from B")
        self.assertTrue(wait_until(lambda: self.stored(self.a, [reply])))
        self.assertGreaterEqual(self.metric(self.a, f'herald_federation_transactions_sent_total{{destination="{self.b.server_name}"}}'), 1)

    def test_2_a_server_that_was_down_catches_up(self):
        self.assertEqual(self.b.stop(), 0)
        sent = [self.send(self.a, self.alice, f"while B is down {i}") for i in range(60)]
        # A keeps them queued and counts its failures while B is away.
        self.assertTrue(wait_until(lambda: (self.queue_length(self.a, self.b.server_name) or 0) >= 60, timeout=15),
                        self.metrics(self.a))
        self.assertTrue(wait_until(lambda: (self.metric(
            self.a, f'herald_federation_send_failures_total{{destination="{self.b.server_name}"}}') or 0) >= 1))
        self.b.start()
        self.assertTrue(wait_until(lambda: len(self.stored(self.b, sent)) == len(sent), timeout=60),
                        f"{len(self.stored(self.b, sent))} of {len(sent)}")
        self.assertTrue(wait_until(lambda: self.queue_length(self.a, self.b.server_name) == 0, timeout=15))
        # Bob sees the last of them.
        body = self.sync(self.b, self.bob)
        timeline = body["rooms"]["join"][self.room]["timeline"]["events"]
        self.assertEqual(timeline[-1]["event_id"], sent[-1])

    def test_3_queued_events_survive_kill_9_of_the_sender(self):
        self.assertEqual(self.b.stop(), 0)
        sent = [self.send(self.a, self.alice, f"before the crash {i}") for i in range(5)]
        # Acknowledged means queued on disk: the rows are there before the crash.
        queued = read_db(self.a, "SELECT COUNT(*) FROM federation_outbound_pdus WHERE destination = ?",
                         (self.b.server_name,))[0][0]
        self.assertGreaterEqual(queued, 5)
        self.a.kill9()
        self.b.start()
        self.a.start()
        self.assertTrue(wait_until(lambda: len(self.stored(self.b, sent)) == len(sent), timeout=60),
                        f"{len(self.stored(self.b, sent))} of {len(sent)}")
        self.assertTrue(wait_until(lambda: read_db(
            self.a, "SELECT COUNT(*) FROM federation_outbound_pdus WHERE destination = ?", (self.b.server_name,))[0][0] == 0))

    def test_4_a_forged_pdu_is_dropped_and_counted(self):
        real = self.send(self.a, self.alice, "genuine")
        self.assertTrue(wait_until(lambda: self.stored(self.b, [real])))
        pdu = json.loads(read_db(self.a, "SELECT pdu FROM events WHERE event_id = ?", (real,))[0][0])
        # Another event under A's old signature: a new event ID, a signature that does not match it.
        pdu["origin_server_ts"] += 1
        pdu["content"]["body"] = "forged"
        series = 'herald_federation_inbound_pdus_total{outcome="dropped"}'
        before = self.metric(self.b, series) or 0
        key_id, key = signing_key_of(self.a)
        txn = {"origin": self.a.server_name, "origin_server_ts": int(time.time() * 1000), "pdus": [pdu]}
        uri = "/_matrix/federation/v1/send/forged-1"
        request = {"method": "PUT", "uri": uri, "origin": self.a.server_name, "destination": self.b.server_name,
                   "content": txn}
        sig = b64(key.sign(canonical(request)).signature)
        auth = (f'X-Matrix origin="{self.a.server_name}",destination="{self.b.server_name}",key="{key_id}",'
                f'sig="{sig}"')
        status, _, body = self.b.federation_request("PUT", uri, body=txn, headers={"Authorization": auth})
        self.assertEqual(status, 200, body)
        (answer,) = body["pdus"].values()
        self.assertIn("error", answer)
        self.assertEqual(self.metric(self.b, series), before + 1)


if __name__ == "__main__":
    unittest.main()
