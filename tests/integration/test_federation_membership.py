"""Issue 15 (serving half): a user of another server joins and leaves a room of this server through it.
make_join answers a template built on the room's current state, send_join takes the signed join through the
event pipeline and answers the state before it (signed by this server) and its auth chain, and the join then
goes out to the room's other servers; make_leave/send_leave do the same for leaving. A made-up remote server
(fake_remote.KeyServer, keys over HTTPS from a throwaway test CA) plays the joining server."""
import time
import unittest
import urllib.parse

import nacl.signing

from fake_remote import FakeRemotesFixture, redact, signed_by, unb64
from harness import MatrixAssertions
from federation_pair import wait_until as shared_wait_until

ALL_VERSIONS = [str(v) for v in range(1, 13)]
RETRY_YAML = "federation: {destination_min_retry_interval: 100ms, destination_retry_multiplier: 2, " \
             "destination_max_retry_interval: 1s}\n"


def q(s):
    return urllib.parse.quote(s, safe="")


def signed_event(pdu, server, key_id, verify_key):
    """Whether `server` signed the event (its signature covers the redacted form; v11 rules, under which an
    m.room.create keeps all of its content)."""
    redacted = redact(pdu)
    if pdu["type"] == "m.room.create":
        redacted["content"] = pdu["content"]
    return signed_by(redacted, server, key_id, verify_key)


def wait_until(fn, timeout=20, interval=0.1):
    return shared_wait_until(fn, timeout=timeout, interval=interval)


class FederationMembershipTest(FakeRemotesFixture, MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_fake_remotes("herald-it-fed-membership-", RETRY_YAML)

    @classmethod
    def before_herald(cls):
        cls.remote_keys = cls.key_server()
        cls.remote = cls.remote_keys.remote()
        cls.other_keys = cls.key_server()
        cls.other = cls.other_keys.remote()

    @classmethod
    def tearDownClass(cls):
        cls.stop_fake_remotes()

    users = 0

    def setUp(self):
        FederationMembershipTest.users += 1
        suffix = str(FederationMembershipTest.users)
        self.alice_id = f"@alice{suffix}:{self.hs.server_name}"
        self.alice = self.hs.register(f"alice{suffix}")["access_token"]
        self.room = self.create_room("public_chat")
        self.rob = self.remote.user(f"rob{suffix}")

    def create_room(self, preset, **extra):
        return self.ok(self.hs.client("POST", "/createRoom", token=self.alice, body={"preset": preset, **extra}))["room_id"]

    # helpers ----------------------------------------------------------------------------------------

    def fed(self, method, path, body=None, query=None, signer=None):
        signer = signer or self.remote
        uri = path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        header = signer.x_matrix(method, uri, self.hs.server_name, body)
        return self.hs.request(method, path, body=body, query=query, headers={"Authorization": header})

    def make(self, kind, user, room=None, ver=None, signer=None):
        query = {"ver": ver} if ver is not None else None
        return self.fed("GET", f"/_matrix/federation/v1/make_{kind}/{q(room or self.room)}/{q(user)}", query=query,
                        signer=signer)

    def signed_from(self, template, signer=None):
        event = dict(template)
        event["origin_server_ts"] = int(time.time() * 1000)
        return (signer or self.remote).sign_event(event)

    def send(self, kind, event_id, pdu, version="v2", query=None, room=None, signer=None):
        return self.fed("PUT", f"/_matrix/federation/{version}/send_{kind}/{q(room or self.room)}/{q(event_id)}",
                        body=pdu, query=query, signer=signer)

    def joins(self, user, query=None, signer=None):
        made = self.ok(self.make("join", user, ver=ALL_VERSIONS, signer=signer))
        event_id, pdu = self.signed_from(made["event"], signer)
        return event_id, self.ok(self.send("join", event_id, pdu, query=query, signer=signer))

    def server_key(self):
        status, _, body = self.hs.request("GET", "/_matrix/key/v2/server")
        self.assertEqual(status, 200, body)
        key_id, entry = next(iter(body["verify_keys"].items()))
        return key_id, nacl.signing.VerifyKey(unb64(entry["key"]))

    def member_state(self, user):
        status, _, body = self.hs.client("GET", f"/rooms/{q(self.room)}/state/m.room.member/{q(user)}", token=self.alice)
        return body.get("membership") if status == 200 else None

    def latest(self):
        body = self.ok(self.hs.client("GET", f"/rooms/{q(self.room)}/messages", token=self.alice,
                                      query={"dir": "b", "limit": 1}))
        return body["chunk"][0]["event_id"]

    # make_join ----------------------------------------------------------------------------------------

    def test_make_join_answers_a_template_on_the_current_state(self):
        latest = self.latest()
        made = self.ok(self.make("join", self.rob, ver=ALL_VERSIONS))
        self.assertEqual(made["room_version"], "12")
        t = made["event"]
        self.assertEqual((t["type"], t["room_id"], t["sender"], t["state_key"]), ("m.room.member", self.room, self.rob, self.rob))
        self.assertEqual(t["content"], {"membership": "join"})
        self.assertEqual(t["prev_events"], [latest])
        self.assertEqual(len(t["auth_events"]), 2, t)  # power levels, join rules (v12: the create event is implied)
        self.assertIsInstance(t["depth"], int)
        self.assertNotIn("signatures", t)
        self.assertNotIn("hashes", t)

    def test_make_join_refusals(self):
        # Room version 12 is not among those the joining server names; none named means ["1"].
        body = self.err(self.make("join", self.rob, ver=["10", "11"]), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertEqual(body["room_version"], "12")
        self.err(self.make("join", self.rob), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        # Not a user of the requesting server.
        self.err(self.make("join", self.other.user("eve"), ver=ALL_VERSIONS), 403, "M_FORBIDDEN")
        # Unknown room.
        self.err(self.make("join", self.rob, room="!nowhere:localhost", ver=ALL_VERSIONS), 404, "M_NOT_FOUND")
        # Invite-only, no invite.
        private = self.create_room("private_chat")
        self.err(self.make("join", self.rob, room=private, ver=ALL_VERSIONS), 403, "M_FORBIDDEN")
        # Without X-Matrix.
        status, _, _ = self.hs.request("GET", f"/_matrix/federation/v1/make_join/{q(self.room)}/{q(self.rob)}")
        self.assertEqual(status, 401)

    # send_join ----------------------------------------------------------------------------------------

    def test_send_join_answers_the_state_before_the_join_and_the_local_member_sees_it(self):
        since = self.ok(self.hs.client("GET", "/sync", token=self.alice, query={"timeout": 0}))["next_batch"]
        event_id, body = self.joins(self.rob)
        self.assertEqual(body["origin"], self.hs.server_name)
        self.assertFalse(body["members_omitted"])
        self.assertEqual(body["servers_in_room"][0], self.hs.server_name)
        self.assertIn(self.remote.server_name, body["servers_in_room"])
        self.assertEqual(body["event"]["sender"], self.rob)
        types = {(e["type"], e["state_key"]) for e in body["state"]}
        self.assertIn(("m.room.create", ""), types)
        self.assertIn(("m.room.power_levels", ""), types)
        self.assertNotIn(("m.room.member", self.rob), types, "the state *before* the join")
        self.assertIn(("m.room.member", self.alice_id), types)
        key_id, verify_key = self.server_key()
        for pdu in body["state"] + body["auth_chain"]:
            self.assertTrue(signed_event(pdu, self.hs.server_name, key_id, verify_key), pdu)

        # The local member's /sync shows rob joined.
        sync = self.ok(self.hs.client("GET", "/sync", token=self.alice, query={"since": since, "timeout": 10000}))
        timeline = sync["rooms"]["join"][self.room]["timeline"]["events"]
        joined = [e for e in timeline if e["event_id"] == event_id]
        self.assertEqual([(e["state_key"], e["content"]["membership"]) for e in joined], [(self.rob, "join")])
        self.assertEqual(self.member_state(self.rob), "join")

        # Sent again: the same answer, not a refusal.
        made_again = self.send("join", event_id, body["event"])
        self.assertEqual(self.ok(made_again)["event"]["sender"], self.rob)

    def test_send_join_checks_the_event(self):
        made = self.ok(self.make("join", self.rob, ver=ALL_VERSIONS))
        event_id, pdu = self.signed_from(made["event"])
        self.err(self.send("join", "$not-its-id", pdu), 400, "M_INVALID_PARAM")
        # Another server's user.
        self.err(self.send("join", event_id, pdu, signer=self.other), 400, "M_INVALID_PARAM")
        # A leave sent as a join.
        made_leave = dict(made["event"], content={"membership": "leave"})
        leave_id, leave = self.signed_from(made_leave)
        self.err(self.send("join", leave_id, leave), 400, "M_INVALID_PARAM")
        # Into an invite-only room (a template from elsewhere): refused by the auth rules.
        private = self.create_room("private_chat")
        forged = dict(made["event"], room_id=private)
        forged_id, forged_pdu = self.signed_from(forged)
        status, _, _ = self.send("join", forged_id, forged_pdu, room=private)
        self.assertIn(status, (400, 403))
        self.assertNotEqual(self.member_state(self.rob), "join")

    def test_send_join_v1_and_omit_members(self):
        # v1 answers [200, {...}].
        made = self.ok(self.make("join", self.rob, ver=ALL_VERSIONS))
        event_id, pdu = self.signed_from(made["event"])
        answer = self.ok(self.send("join", event_id, pdu, version="v1"))
        self.assertEqual(answer[0], 200)
        self.assertIn("state", answer[1])
        # Another user with omit_members: no member events in the state of a named room (no heroes needed),
        # the auth chain still has what authorises the state.
        self.ok(self.hs.client("PUT", f"/rooms/{q(self.room)}/state/m.room.name", token=self.alice, body={"name": "N"}))
        _, body = self.joins(self.remote.user("rita"), query={"omit_members": "true"})
        self.assertTrue(body["members_omitted"])
        self.assertEqual([e for e in body["state"] if e["type"] == "m.room.member"], [])
        self.assertTrue(any(e["type"] == "m.room.member" for e in body["auth_chain"]), body["auth_chain"])
        self.assertIn(self.remote.server_name, body["servers_in_room"])

    def test_an_accepted_join_goes_out_to_the_rooms_other_servers(self):
        # eve of the other server joins first; then rob's join through send_join reaches eve's server.
        self.joins(self.other.user("eve"), signer=self.other)
        event_id, _ = self.joins(self.rob)

        def sent_to_other():
            for path, txn in list(self.other_keys.transactions):
                if path.startswith("/_matrix/federation/v1/send/"):
                    for pdu in txn.get("pdus", []):
                        if pdu.get("sender") == self.rob and pdu.get("type") == "m.room.member":
                            return True
            return False

        self.assertTrue(wait_until(sent_to_other), self.other_keys.transactions)

    # make_leave / send_leave ----------------------------------------------------------------------------

    def test_a_remote_user_leaves_through_make_leave_and_send_leave(self):
        self.joins(self.rob)
        self.assertEqual(self.member_state(self.rob), "join")
        made = self.ok(self.make("leave", self.rob))
        self.assertEqual(made["room_version"], "12")
        self.assertEqual(made["event"]["content"], {"membership": "leave"})
        event_id, pdu = self.signed_from(made["event"])
        self.assertEqual(self.ok(self.send("leave", event_id, pdu)), {})
        self.assertEqual(self.member_state(self.rob), "leave")
        # Left already: no leave to make.
        self.err(self.make("leave", self.rob), 403, "M_FORBIDDEN")

    def test_a_remote_user_rejects_an_invite_through_send_leave(self):
        private = self.create_room("private_chat")
        self.ok(self.hs.client("POST", f"/rooms/{q(private)}/invite", token=self.alice, body={"user_id": self.rob}))
        made = self.ok(self.make("leave", self.rob, room=private))
        event_id, pdu = self.signed_from(made["event"])
        self.assertEqual(self.ok(self.send("leave", event_id, pdu, version="v1", room=private)), [200, {}])
        status, _, body = self.hs.client("GET", f"/rooms/{q(private)}/state/m.room.member/{q(self.rob)}", token=self.alice)
        self.assertEqual((status, body.get("membership")), (200, "leave"))


    # make_knock / send_knock ----------------------------------------------------------------------------

    def knock_room(self, **extra):
        rule = [{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}]
        return self.create_room("private_chat", initial_state=rule, name="Knock here", **extra)

    def test_a_remote_user_knocks_through_make_knock_and_send_knock(self):
        room = self.knock_room()
        made = self.ok(self.make("knock", self.rob, room=room, ver=ALL_VERSIONS))
        self.assertEqual(made["room_version"], "12")
        self.assertEqual(made["event"]["content"], {"membership": "knock"})
        self.assertEqual((made["event"]["sender"], made["event"]["state_key"]), (self.rob, self.rob))
        event_id, pdu = self.signed_from(made["event"])
        body = self.ok(self.send("knock", event_id, pdu, version="v1", room=room))
        state = {(e["type"], e["state_key"]): e for e in body["knock_room_state"]}
        self.assertEqual(state[("m.room.join_rules", "")]["content"]["join_rule"], "knock")
        self.assertEqual(state[("m.room.name", "")]["content"]["name"], "Knock here")
        self.assertEqual(state[("m.room.member", self.rob)]["content"]["membership"], "knock")
        # m.room.create as its full PDU, so the knocking server can check the room.
        self.assertIn("signatures", state[("m.room.create", "")])
        status, _, member = self.hs.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.rob)}", token=self.alice)
        self.assertEqual((status, member.get("membership")), (200, "knock"))
        # The knock is withdrawn through make_leave/send_leave.
        made_leave = self.ok(self.make("leave", self.rob, room=room))
        leave_id, leave = self.signed_from(made_leave["event"])
        self.ok(self.send("leave", leave_id, leave, room=room))
        status, _, member = self.hs.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.rob)}", token=self.alice)
        self.assertEqual((status, member.get("membership")), (200, "leave"))

    def test_make_knock_refusals(self):
        room = self.knock_room()
        # ver is required: none named means ["1"], and rooms of the version are not among those named.
        body = self.err(self.make("knock", self.rob, room=room), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertEqual(body["room_version"], "12")
        self.err(self.make("knock", self.rob, room=room, ver=["7", "10"]), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        # A room before v7 knows no knocking.
        old = self.create_room("private_chat", room_version="6")
        body = self.err(self.make("knock", self.rob, room=old, ver=ALL_VERSIONS), 400, "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertEqual(body["room_version"], "6")
        # The join rule takes no knocks (public), another server's user, an unknown room.
        self.err(self.make("knock", self.rob, ver=ALL_VERSIONS), 403, "M_FORBIDDEN")
        self.err(self.make("knock", self.other.user("eve"), room=room, ver=ALL_VERSIONS), 403, "M_FORBIDDEN")
        self.err(self.make("knock", self.rob, room="!nowhere:localhost", ver=ALL_VERSIONS), 404, "M_NOT_FOUND")

    def test_send_knock_checks_the_event(self):
        room = self.knock_room()
        made = self.ok(self.make("knock", self.rob, room=room, ver=ALL_VERSIONS))
        event_id, pdu = self.signed_from(made["event"])
        self.err(self.send("knock", "$not-its-id", pdu, version="v1", room=room), 400, "M_INVALID_PARAM")
        self.err(self.send("knock", event_id, pdu, version="v1", room=room, signer=self.other), 400, "M_INVALID_PARAM")
        # A join sent as a knock.
        joined = dict(made["event"], content={"membership": "join"})
        join_id, join = self.signed_from(joined)
        self.err(self.send("knock", join_id, join, version="v1", room=room), 400, "M_INVALID_PARAM")
        # A knock on a public room (a template from elsewhere): refused by the auth rules.
        forged = dict(made["event"], room_id=self.room)
        forged_id, forged_pdu = self.signed_from(forged)
        status, _, _ = self.send("knock", forged_id, forged_pdu, version="v1")
        self.assertIn(status, (400, 403))
        self.assertIsNone(self.member_state(self.rob))


if __name__ == "__main__":
    unittest.main()
