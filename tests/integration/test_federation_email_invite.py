"""Issue 15 item 7: an email invite across servers. alice on A invites an email address through the identity
server; bob, a user of B, binds it; the identity server calls B's /3pid/onbind; B asks A (the room's server,
the inviter's) to exchange the signed block (PUT /_matrix/federation/v1/exchange_third_party_invite); A
sends the invite to B over federation; bob sees it and joins through A. A user who blocks invites is
refused at the exchange. Two real Herald homeservers over TLS, Herald's identity server, a real SMTP
receiver."""
import os
import re
import shutil
import tempfile
import time
import unittest

from harness import IdentityServer, MatrixAssertions, SmtpReceiver, email_parts, free_port, identity_token, q, \
    start_federation_servers
from federation_pair import wait_until
from tls_ca import TestCA


class EmailInviteAcrossServersTest(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-fed-3pid-")
        cls.ca = TestCA(os.path.join(cls.tmp, "ca"))
        cls.smtp = SmtpReceiver()
        cls.is_port = free_port()
        cls.id_server = f"127.0.0.1:{cls.is_port}"
        trust = f'trusted_identity_servers: {{"{cls.id_server}": "http://{cls.id_server}"}}\n'
        cls.a, cls.b = start_federation_servers(cls.ca, extra_yaml=trust)
        cls.is_ = None
        try:
            # The identity server finds each homeserver through this mapping (the test's loopback ports).
            cls.is_ = IdentityServer(homeservers={cls.a.server_name: f"http://127.0.0.1:{cls.a.port}",
                                                  cls.b.server_name: f"http://127.0.0.1:{cls.b.port}"},
                                     smtp_port=cls.smtp.port, port=cls.is_port, server_name=cls.id_server).start()
            cls.alice = cls.a.register("alice")
            cls.alice_is = identity_token(cls.a, cls.is_, cls.alice)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.is_:
            cls.is_.stop()
            cls.is_.cleanup()
        for s in (cls.a, cls.b):
            s.stop()
            s.cleanup()
        cls.smtp.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def logs(self):
        return self.a.read_log()[-2500:] + "\n----\n" + self.b.read_log()[-2500:] + "\n----\n" + self.is_.read_log()[-1500:]

    def invite_email(self, address):
        room = self.ok(self.a.client("POST", "/createRoom", token=self.alice["access_token"],
                                     body={"preset": "private_chat", "name": "Across"}))["room_id"]
        self.ok(self.a.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"],
                              body={"id_server": self.id_server, "id_access_token": self.alice_is, "medium": "email",
                                    "address": address}))
        self.assertIn("has invited you", email_parts(self.smtp.next()["message"])[1])
        return room

    def register_and_bind(self, name, address, block_invites=False):
        login = self.b.register(name)
        if block_invites:
            self.ok(self.b.client("PUT", f"/user/{q(login['user_id'])}/account_data/m.invite_permission_config",
                                  token=login["access_token"], body={"default_action": "block"}))
        is_token = identity_token(self.b, self.is_, login)
        secret = f"{name}secret"
        sid = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=is_token,
                                  body={"client_secret": secret, "email": address, "send_attempt": 1}))["sid"]
        text = email_parts(self.smtp.next()["message"])[1]
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        self.ok(self.is_.v2("POST", "/validate/email/submitToken", token=is_token,
                            body={"sid": sid, "client_secret": secret, "token": code}))
        self.ok(self.b.client("POST", "/account/3pid/bind", token=login["access_token"],
                              body={"client_secret": secret, "id_server": self.id_server, "id_access_token": is_token,
                                    "sid": sid}))
        return login

    def invited_rooms(self, login):
        body = self.ok(self.b.client("GET", "/sync", token=login["access_token"], query={"timeout": 0}))
        return body.get("rooms", {}).get("invite", {})

    def member(self, room, user_id):
        status, _, body = self.a.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(user_id)}",
                                        token=self.alice["access_token"])
        return body if status == 200 else None

    def test_email_invite_bound_on_another_server_ends_joined(self):
        room = self.invite_email("bob@example.org")
        bob = self.register_and_bind("bob", "bob@example.org")
        invites = wait_until(lambda: room in self.invited_rooms(bob) and self.invited_rooms(bob))
        self.assertTrue(invites, self.logs())
        member = [e for e in invites[room]["invite_state"]["events"]
                  if e["type"] == "m.room.member" and e["state_key"] == bob["user_id"]][0]
        self.assertEqual(member["sender"], self.alice["user_id"])
        self.assertEqual(member["content"]["third_party_invite"]["signed"]["mxid"], bob["user_id"])
        # On A the invite is a member event carrying the signed block.
        on_a = self.member(room, bob["user_id"])
        self.assertEqual(on_a["membership"], "invite")
        self.assertIn("third_party_invite", on_a)
        # bob joins through A, the server the invite came from.
        status, _, body = self.b.client("POST", f"/rooms/{q(room)}/join", token=bob["access_token"], body={})
        self.assertEqual(status, 200, f"{body}\n{self.logs()}")
        self.assertTrue(wait_until(lambda: (self.member(room, bob["user_id"]) or {}).get("membership") == "join"),
                        self.logs())

    def test_a_user_who_blocks_invites_is_refused_at_the_exchange(self):
        room = self.invite_email("dora@example.org")
        dora = self.register_and_bind("dora", "dora@example.org", block_invites=True)
        time.sleep(1.5)  # onbind, the exchange and A's invite attempt have had their time
        self.assertNotIn(room, self.invited_rooms(dora))
        self.assertIsNone(self.member(room, dora["user_id"]))
        self.assertRegex(self.a.read_log(), r"M_INVITE_BLOCKED|does not accept invites")


if __name__ == "__main__":
    unittest.main()
