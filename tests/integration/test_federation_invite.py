"""Issue 15 (receiving half of invites): a user of another server invites a user of this server through PUT
/_matrix/federation/v2/invite (and the legacy v1). This server checks the invite (room version, a member
event inviting one of its users, sent by a user of the requesting server, its event ID, the sender server's
signature), countersigns it, and keeps it as an outlier: the invitee's /sync shows the room under
rooms.invite with the stripped state the inviting server sent plus the invite, and rejecting it (leave)
removes it. A made-up remote server (fake_remote.KeyServer, keys over HTTPS from a throwaway test CA) invites."""
import time
import unittest
import urllib.parse

import nacl.signing

from fake_remote import FakeRemotesFixture, redact, signed_by, unb64
from harness import MatrixAssertions


def q(s):
    return urllib.parse.quote(s, safe="")


class FederationInviteTest(FakeRemotesFixture, MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_fake_remotes("herald-it-fed-invite-")

    @classmethod
    def before_herald(cls):
        cls.remote = cls.key_server().remote()
        cls.other = cls.key_server().remote()

    @classmethod
    def tearDownClass(cls):
        cls.stop_fake_remotes()

    users = 0

    def setUp(self):
        FederationInviteTest.users += 1
        suffix = str(FederationInviteTest.users)
        self.bob_id = f"@bob{suffix}:{self.hs.server_name}"
        self.bob = self.hs.register(f"bob{suffix}")["access_token"]
        self.rob = self.remote.user(f"rob{suffix}")
        self.room = f"!room{suffix}:{self.remote.server_name}"

    # helpers ----------------------------------------------------------------------------------------

    def fed(self, method, path, body=None, signer=None):
        signer = signer or self.remote
        header = signer.x_matrix(method, path, self.hs.server_name, body)
        return self.hs.request(method, path, body=body, headers={"Authorization": header})

    def invite_event(self, invitee=None, sender=None, signer=None):
        pdu = {"type": "m.room.member", "room_id": self.room, "sender": sender or self.rob,
               "state_key": invitee or self.bob_id, "content": {"membership": "invite"}, "depth": 7,
               "prev_events": ["$prev"], "auth_events": ["$create", "$power", "$join"],
               "origin_server_ts": int(time.time() * 1000)}
        return (signer or self.remote).sign_event(pdu)

    def room_state(self):
        return [{"type": "m.room.create", "state_key": "", "sender": self.rob, "content": {"room_version": "11"}},
                {"type": "m.room.name", "state_key": "", "sender": self.rob, "content": {"name": "Over there"}},
                {"type": "m.room.join_rules", "state_key": "", "sender": self.rob, "content": {"join_rule": "invite"}}]

    def invite(self, event_id, pdu, room_version="11", signer=None):
        body = {"room_version": room_version, "event": pdu, "invite_room_state": self.room_state()}
        return self.fed("PUT", f"/_matrix/federation/v2/invite/{q(self.room)}/{q(event_id)}", body=body, signer=signer)

    def server_key(self):
        status, _, body = self.hs.request("GET", "/_matrix/key/v2/server")
        self.assertEqual(status, 200, body)
        key_id, entry = next(iter(body["verify_keys"].items()))
        return key_id, nacl.signing.VerifyKey(unb64(entry["key"]))

    def sync_invites(self):
        body = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0"}))
        return body.get("rooms", {}).get("invite", {})

    def assert_refused(self, result, status, errcode=None):
        got, _, body = result
        self.assertEqual(got, status, body)
        if errcode:
            self.assertEqual(body.get("errcode"), errcode, body)
        self.assertNotIn(self.room, self.sync_invites())

    # tests ----------------------------------------------------------------------------------------------

    def test_invite_is_countersigned_and_shown_in_sync(self):
        event_id, pdu = self.invite_event()
        answer = self.ok(self.invite(event_id, pdu))
        event = answer["event"]
        self.assertNotIn("unsigned", event)
        key_id, verify_key = self.server_key()
        self.assertTrue(signed_by(redact(event), self.hs.server_name, key_id, verify_key), event)
        self.assertEqual(event["signatures"][self.remote.server_name], pdu["signatures"][self.remote.server_name])
        for field in ("type", "room_id", "sender", "state_key", "content", "hashes", "prev_events", "auth_events"):
            self.assertEqual(event[field], pdu[field], field)

        invites = self.sync_invites()
        self.assertIn(self.room, invites)
        events = invites[self.room]["invite_state"]["events"]
        by_type = {(e["type"], e["state_key"]): e for e in events}
        self.assertEqual(by_type[("m.room.name", "")]["content"], {"name": "Over there"})
        self.assertEqual(by_type[("m.room.create", "")]["content"]["room_version"], "11")
        own = by_type[("m.room.member", self.bob_id)]
        self.assertEqual(own, {"type": "m.room.member", "state_key": self.bob_id, "sender": self.rob,
                               "content": {"membership": "invite"}})
        for e in events:
            self.assertEqual(set(e), {"type", "state_key", "sender", "content"}, e)

        # The same invite again answers the same way.
        again = self.ok(self.invite(event_id, pdu))
        self.assertEqual(again["event"]["signatures"], event["signatures"])

        # The invitee rejects it: gone from /sync (an incremental one shows nothing for the room either).
        since = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0"}))["next_batch"]
        self.ok(self.hs.client("POST", f"/rooms/{q(self.room)}/leave", token=self.bob, body={}))
        self.assertNotIn(self.room, self.sync_invites())
        later = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0", "since": since}))
        self.assertNotIn(self.room, later.get("rooms", {}).get("invite", {}))
        self.assertIn(self.room, later.get("rooms", {}).get("leave", {}))
        joined = self.ok(self.hs.client("GET", "/joined_rooms", token=self.bob))["joined_rooms"]
        self.assertNotIn(self.room, joined)

    def test_invite_survives_a_restart_and_later_positions_follow_it(self):
        event_id, pdu = self.invite_event()
        self.ok(self.invite(event_id, pdu))
        since = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0"}))["next_batch"]
        self.hs.stop()
        self.hs.start()
        self.assertIn(self.room, self.sync_invites())
        # The invite's stream position has no event behind it: a new event after the restart still comes after
        # it, so a sync from before the restart sees it.
        self.ok(self.hs.client("PUT", f"/user/{q(self.bob_id)}/account_data/org.example.after", token=self.bob,
                               body={"n": 1}))
        later = self.ok(self.hs.client("GET", "/sync", token=self.bob, query={"timeout": "0", "since": since}))
        types = [e["type"] for e in later.get("account_data", {}).get("events", [])]
        self.assertIn("org.example.after", types)

    def test_v1_invite_answers_the_legacy_array(self):
        pdu = {"type": "m.room.member", "room_id": self.room, "sender": self.rob, "state_key": self.bob_id,
               "content": {"membership": "invite"}, "depth": 7, "prev_events": [], "auth_events": [],
               "origin_server_ts": int(time.time() * 1000),
               "event_id": f"$v1invite{FederationInviteTest.users}:{self.remote.server_name}"}
        # Room version 1: the signature covers the event with its event_id.
        event_id = pdu["event_id"]
        _, signed = self.remote.sign_event(pdu)
        signed["unsigned"] = {"invite_room_state": self.room_state()}
        status, _, body = self.fed("PUT", f"/_matrix/federation/v1/invite/{q(self.room)}/{q(event_id)}", body=signed)
        self.assertEqual(status, 200, body)
        self.assertEqual(body[0], 200)
        event = body[1]["event"]
        self.assertNotIn("unsigned", event)
        key_id, verify_key = self.server_key()
        self.assertTrue(signed_by(redact(event), self.hs.server_name, key_id, verify_key), event)
        self.assertIn(self.room, self.sync_invites())

    def test_invite_for_a_user_of_another_server_is_refused(self):
        event_id, pdu = self.invite_event(invitee=self.other.user("carol"))
        self.assert_refused(self.invite(event_id, pdu), 403)

    def test_invite_for_an_unknown_local_user_is_refused(self):
        event_id, pdu = self.invite_event(invitee=f"@nobody:{self.hs.server_name}")
        status, _, body = self.invite(event_id, pdu)
        self.assertEqual(status, 403, body)

    def test_sender_not_of_the_origin_is_refused(self):
        event_id, pdu = self.invite_event(sender=self.other.user("mallory"))
        self.assert_refused(self.invite(event_id, pdu), 403)

    def test_unsupported_room_version_is_refused(self):
        event_id, pdu = self.invite_event()
        result = self.invite(event_id, pdu, room_version="999")
        self.assert_refused(result, 400, "M_INCOMPATIBLE_ROOM_VERSION")
        self.assertEqual(result[2].get("room_version"), "999")

    def test_bad_signature_is_refused(self):
        event_id, pdu = self.invite_event(signer=self.other)  # signed by another server's key only
        status, _, body = self.invite(event_id, pdu)
        self.assertEqual((status, body.get("errcode")), (400, "M_INVALID_PARAM"), body)  # federation.md §9
        self.assertNotIn(self.room, self.sync_invites())
        forged = dict(pdu)
        forged["signatures"] = {self.remote.server_name: {self.remote.key_id: pdu["signatures"][self.other.server_name][self.other.key_id]}}
        status, _, body = self.invite(event_id, forged)
        self.assertEqual((status, body.get("errcode")), (400, "M_INVALID_PARAM"), body)
        self.assertNotIn(self.room, self.sync_invites())

    def test_wrong_event_id_is_refused(self):
        _, pdu = self.invite_event()
        self.assert_refused(self.invite("$not-the-id", pdu), 400)

    def test_blocked_invites_are_refused(self):
        self.ok(self.hs.client("PUT", f"/user/{q(self.bob_id)}/account_data/m.invite_permission_config",
                               token=self.bob, body={"default_action": "block"}))
        event_id, pdu = self.invite_event()
        self.assert_refused(self.invite(event_id, pdu), 403, "M_INVITE_BLOCKED")


if __name__ == "__main__":
    unittest.main()
