"""A forked history converges (issue 15, Done when): both servers of a room write state while they cannot
reach each other, then reconnect; each server's outbound queue catches the other up, each server's pipeline
resolves the fork, and both end up showing the same room state: the one state resolution v2 gives.

Two real Herald homeservers over TLS with a test CA. alice (the room's creator) is on A (hs1), bob on B
(hs2), given power 100 by alice so that both may change anything. The link is cut by stopping servers:
A down while B writes; B down (its writes still queued) while A writes; A down again while B writes once
more; then both up."""
import time
import unittest

from harness import q
from federation_pair import TwoHeraldsTest, read_db, wait_until as shared_wait_until


def forward_extremities(hs, room):
    return {row[0] for row in read_db(hs, "SELECT event_id FROM forward_extremities WHERE room_id = ?", (room,))}


def stored(hs, event_id):
    """Whether the event is in the server's database, in the room's graph or kept outside it."""
    return any(read_db(hs, f"SELECT 1 FROM {table} WHERE event_id = ?", (event_id,))
               for table in ("events", "events_outside_timeline"))


def wait_until(fn, timeout=30, interval=0.2):
    return shared_wait_until(fn, timeout=timeout, interval=interval)


class ForkedHistoryTest(TwoHeraldsTest):
    TMP_PREFIX = "herald-fed-fork-"
    USERS = {"a": ("alice",), "b": ("bob",)}

    def state(self, hs, token, room):
        status, _, body = hs.client("GET", f"/rooms/{q(room)}/state", token=token)
        self.assertEqual(status, 200, body)
        return body

    def state_ids(self, hs, token, room):
        return {(e["type"], e["state_key"], e["event_id"]) for e in self.state(hs, token, room)}

    def has_event(self, hs, token, room, event_id):
        status, _, _ = hs.client("GET", f"/rooms/{q(room)}/event/{q(event_id)}", token=token)
        return status == 200

    def put_state(self, hs, token, room, event_type, content):
        return self.ok(hs.client("PUT", f"/rooms/{q(room)}/state/{event_type}", token=token, body=content))["event_id"]

    def current(self, hs, token, room, event_type):
        return next(e for e in self.state(hs, token, room) if e["type"] == event_type and e["state_key"] == "")

    # ---------------------------------------------------------------------------------------------

    def fork_and_reconnect(self, version):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "public_chat", "room_version": version, "topic": "start"}))["room_id"]
        status, _, body = self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                                        query={"server_name": self.a.server_name})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        levels = self.ok(self.a.client("GET", f"/rooms/{q(room)}/state/m.room.power_levels", token=self.alice))
        levels.setdefault("users", {})[self.bob_id] = 100
        pl_id = self.put_state(self.a, self.alice, room, "m.room.power_levels", levels)
        self.assertTrue(wait_until(lambda: ("m.room.power_levels", "", pl_id) in self.state_ids(self.b, self.bob, room)),
                        self.logs())

        # A is down: B writes a topic and a message (queued for A).
        self.a.stop()
        topic_b = self.put_state(self.b, self.bob, room, "m.room.topic", {"topic": "bob's topic"})
        said_b = self.ok(self.b.client("POST", f"/rooms/{q(room)}/send/m.room.message", token=self.bob,
                                       body={"msgtype": "m.text", "body": "while A was away"}))["event_id"]
        # B goes down with its events still queued; A comes back and writes a name and another topic.
        self.b.stop()
        self.a.start()
        time.sleep(0.05)  # origin_server_ts orders the conflicting events below: keep them apart
        name_a = self.put_state(self.a, self.alice, room, "m.room.name", {"name": "alice's name"})
        time.sleep(0.05)
        topic_a = self.put_state(self.a, self.alice, room, "m.room.topic", {"topic": "alice's topic"})
        self.assertEqual(self.current(self.a, self.alice, room, "m.room.topic")["event_id"], topic_a)
        # A goes down with its events queued; B comes back and writes another name.
        self.a.stop()
        self.b.start()
        time.sleep(0.05)
        name_b = self.put_state(self.b, self.bob, room, "m.room.name", {"name": "bob's name"})
        self.assertEqual(self.current(self.b, self.bob, room, "m.room.topic")["event_id"], topic_b)
        # Both up: each catches the other up.
        self.a.start()

        for hs, token, ids in ((self.a, self.alice, (topic_b, said_b, name_b)), (self.b, self.bob, (name_a, topic_a))):
            arrived = wait_until(lambda: all(self.has_event(hs, token, room, e) for e in ids))
            self.assertTrue(arrived, f"{hs.server_name} lacks the other side's events\n{self.logs()}")

        # Both servers show the same state: the one resolution v2 gives. Each conflict (two topics, two names)
        # is between events of users of equal power sent on top of the same power levels, so the mainline
        # ordering falls to origin_server_ts and the later event wins: alice's topic and bob's name. Each
        # server thus keeps one of its own events and takes one of the other's, whatever order they arrive in.
        converged = wait_until(lambda: self.state_ids(self.a, self.alice, room) == self.state_ids(self.b, self.bob, room))
        state_a, state_b = self.state_ids(self.a, self.alice, room), self.state_ids(self.b, self.bob, room)
        self.assertTrue(converged, f"A only: {sorted(state_a - state_b)}\nB only: {sorted(state_b - state_a)}\n"
                                   f"{self.logs()}")
        self.assertIn(("m.room.topic", "", topic_a), state_a)
        self.assertIn(("m.room.name", "", name_b), state_a)
        self.assertIn(("m.room.power_levels", "", pl_id), state_a)
        self.assertEqual({e[1] for e in state_a if e[0] == "m.room.member"}, {self.alice_id, self.bob_id})
        self.assertEqual(self.current(self.b, self.bob, room, "m.room.topic")["content"]["topic"], "alice's topic")
        self.assertEqual(self.current(self.a, self.alice, room, "m.room.name")["content"]["name"], "bob's name")

        # The fork is real: each server has both tips, alice's topic and bob's name, as its extremities.
        for hs in (self.a, self.b):
            self.assertEqual(forward_extremities(hs, room), {topic_a, name_b}, hs.server_name)

        # The next event on either side merges the fork, and the state stays agreed.
        after = self.ok(self.b.client("POST", f"/rooms/{q(room)}/send/m.room.message", token=self.bob,
                                      body={"msgtype": "m.text", "body": "together again"}))["event_id"]
        self.assertTrue(wait_until(lambda: self.has_event(self.a, self.alice, room, after)), self.logs())
        self.assertEqual(self.state_ids(self.a, self.alice, room), self.state_ids(self.b, self.bob, room))
        self.assertIn(("m.room.topic", "", topic_a), self.state_ids(self.b, self.bob, room))
        for hs in (self.a, self.b):
            self.assertEqual(forward_extremities(hs, room), {after}, hs.server_name)

    def test_a_ban_in_one_branch_undoes_the_banned_users_state_in_the_other(self):
        """Power events go first in resolution v2: alice's ban of bob (made while B was away) is applied
        before bob's topic (made while A was away), which then fails auth: both servers keep the old topic."""
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice,
                                     body={"preset": "public_chat", "room_version": "10", "topic": "start"}))["room_id"]
        start_topic = self.current(self.a, self.alice, room, "m.room.topic")["event_id"]
        self.ok(self.b.client("POST", f"/join/{q(room)}", token=self.bob, body={},
                              query={"server_name": self.a.server_name}))
        levels = self.ok(self.a.client("GET", f"/rooms/{q(room)}/state/m.room.power_levels", token=self.alice))
        levels.setdefault("users", {})[self.bob_id] = 50
        pl_id = self.put_state(self.a, self.alice, room, "m.room.power_levels", levels)
        self.assertTrue(wait_until(lambda: ("m.room.power_levels", "", pl_id) in self.state_ids(self.b, self.bob, room)),
                        self.logs())

        self.a.stop()
        topic_b = self.put_state(self.b, self.bob, room, "m.room.topic", {"topic": "bob was here"})
        self.b.stop()
        self.a.start()
        ban = self.ok(self.a.client("POST", f"/rooms/{q(room)}/ban", token=self.alice,
                                    body={"user_id": self.bob_id, "reason": "while you were away"}))
        self.b.start()

        # bob's topic reaches A (soft-failed there: bob is banned in A's current state, so clients are not
        # shown it), and the ban reaches B.
        self.assertTrue(wait_until(lambda: stored(self.a, topic_b)), self.logs())
        banned_on_b = wait_until(lambda: any(e[0] == "m.room.member" and e[1] == self.bob_id and
                                             self.member_content(self.b, self.bob, room)["membership"] == "ban"
                                             for e in self.state_ids(self.b, self.bob, room)))
        self.assertTrue(banned_on_b, self.logs())
        converged = wait_until(lambda: self.state_ids(self.a, self.alice, room) == self.state_ids(self.b, self.bob, room))
        state_a, state_b = self.state_ids(self.a, self.alice, room), self.state_ids(self.b, self.bob, room)
        self.assertTrue(converged, f"A only: {sorted(state_a - state_b)}\nB only: {sorted(state_b - state_a)}\n"
                                   f"{self.logs()}")
        self.assertIn(("m.room.topic", "", start_topic), state_a)
        self.assertEqual(self.member_content(self.a, self.alice, room)["membership"], "ban")

    def member_content(self, hs, token, room):
        return next(e["content"] for e in self.state(hs, token, room)
                    if e["type"] == "m.room.member" and e["state_key"] == self.bob_id)

    def test_v10_room(self):
        self.fork_and_reconnect("10")

    def test_v12_room(self):
        self.fork_and_reconnect("12")


if __name__ == "__main__":
    unittest.main()
