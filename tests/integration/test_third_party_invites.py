"""Issue 5: third-party invites end to end between Herald's homeserver and Herald's identity server, with a
real SMTP receiver: invite an email address, the invitee binds it, the invite arrives and is accepted."""
import re
import time
import unittest
import urllib.parse

from harness import HeraldServer, IdentityServer, MatrixAssertions, SmtpReceiver, email_parts, free_port, identity_token

PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]


def q(s):
    return urllib.parse.quote(s, safe="")


def mail_text(received):
    return email_parts(received["message"])[1] or ""


class ThirdPartyInviteTest(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpReceiver()
        cls.is_port = free_port()
        cls.id_server = f"127.0.0.1:{cls.is_port}"
        cls.hs = HeraldServer(extra_yaml=f'trusted_identity_servers: {{"{cls.id_server}": "http://{cls.id_server}"}}\n'
                                         f'threepid_email_delegate: "{cls.id_server}"\n').start()
        cls.is_ = IdentityServer(homeservers={"localhost": f"http://127.0.0.1:{cls.hs.port}"}, smtp_port=cls.smtp.port,
                                 port=cls.is_port, server_name=cls.id_server).start()
        cls.alice = cls.hs.register("alice")
        cls.alice_is = cls.is_token(cls.alice)

    @classmethod
    def tearDownClass(cls):
        if cls.is_.proc and cls.is_.proc.poll() is None:
            assert cls.is_.stop() == 0
        assert cls.hs.stop() == 0
        cls.is_.cleanup()
        cls.hs.cleanup()
        cls.smtp.stop()

    @classmethod
    def is_token(cls, login):
        return identity_token(cls.hs, cls.is_, login)

    def new_room(self, **extra):
        body = {"preset": "private_chat", "name": "Tea"}
        body.update(extra)
        return self.ok(self.hs.client("POST", "/createRoom", body=body, token=self.alice["access_token"]))["room_id"]

    def invite(self, room_id, address, prefix="/_matrix/client/v3", token=None):
        return self.hs.request("POST", f"{prefix}/rooms/{q(room_id)}/invite", token=token or self.alice["access_token"],
                               body={"id_server": self.id_server, "id_access_token": self.alice_is, "medium": "email",
                                     "address": address})

    def state(self, room_id, token=None):
        return self.ok(self.hs.client("GET", f"/rooms/{q(room_id)}/state", token=token or self.alice["access_token"]))

    def third_party_invites(self, room_id):
        return [e for e in self.state(room_id) if e["type"] == "m.room.third_party_invite"]

    def register_and_bind(self, name, address):
        """The invitee: an account, an identity-server token through OpenID, the email validated from the
        message, and the address bound through the homeserver's /account/3pid/bind."""
        login = self.hs.register(name)
        is_token = self.is_token(login)
        secret = f"{name}secret"
        sid = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=is_token,
                                  body={"client_secret": secret, "email": address, "send_attempt": 1}))["sid"]
        text = mail_text(self.smtp.next())
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        self.ok(self.is_.v2("POST", "/validate/email/submitToken", token=is_token,
                            body={"sid": sid, "client_secret": secret, "token": code}))
        self.ok(self.hs.client("POST", "/account/3pid/bind", token=login["access_token"],
                               body={"client_secret": secret, "id_server": self.id_server, "id_access_token": is_token,
                                     "sid": sid}))
        return login

    def wait_for_invite(self, login, room_id, timeout=15):
        deadline = time.time() + timeout
        since = None
        while time.time() < deadline:
            query = {"timeout": "2000"}
            if since:
                query["since"] = since
            body = self.ok(self.hs.client("GET", "/sync", token=login["access_token"], query=query))
            since = body["next_batch"]
            invite = body.get("rooms", {}).get("invite", {}).get(room_id)
            if invite:
                return invite
        self.fail(f"no invite to {room_id} for {login['user_id']}")

    def test_invite_unbound_address_then_bind_then_join_on_every_prefix(self):
        for i, prefix in enumerate(PREFIXES):
            with self.subTest(prefix=prefix):
                room = self.new_room()
                address = f"carol{i}@example.org"
                self.ok(self.invite(room, address, prefix=prefix))
                [tpi] = self.third_party_invites(room)
                self.assertEqual(tpi["content"]["display_name"], "car...@exa...")
                self.assertEqual(len(tpi["content"]["public_keys"]), 2)
                self.assertEqual(tpi["sender"], self.alice["user_id"])
                received = self.smtp.next()
                self.assertEqual(received["to"], [address])
                self.assertIn("has invited you into a room (Tea)", mail_text(received))

                carol = self.register_and_bind(f"carol{i}", address)
                invite = self.wait_for_invite(carol, room)
                member = [e for e in invite["invite_state"]["events"] if e["type"] == "m.room.member"
                          and e["state_key"] == carol["user_id"]][0]
                self.assertEqual(member["content"]["membership"], "invite")
                self.assertEqual(member["sender"], self.alice["user_id"])
                tp = member["content"]["third_party_invite"]
                self.assertEqual(tp["display_name"], "car...@exa...")
                self.assertEqual(tp["signed"]["mxid"], carol["user_id"])
                self.assertEqual(tp["signed"]["token"], tpi["state_key"])

                self.ok(self.hs.request("POST", f"{prefix}/rooms/{q(room)}/join", body={}, token=carol["access_token"]))
                members = self.ok(self.hs.client("GET", f"/rooms/{q(room)}/joined_members",
                                                 token=self.alice["access_token"]))["joined"]
                self.assertIn(carol["user_id"], members)
                threepids = self.ok(self.hs.client("GET", "/account/3pid", token=carol["access_token"]))["threepids"]
                self.assertEqual([(t["medium"], t["address"]) for t in threepids], [("email", address)])

    def test_bound_address_is_invited_directly(self):
        gina = self.register_and_bind("gina", "gina@example.org")
        room = self.new_room()
        self.ok(self.invite(room, "Gina@Example.org"))
        invite = self.wait_for_invite(gina, room)
        member = [e for e in invite["invite_state"]["events"] if e["type"] == "m.room.member"
                  and e["state_key"] == gina["user_id"]][0]
        self.assertNotIn("third_party_invite", member["content"])
        self.assertEqual(self.third_party_invites(room), [])
        self.assertTrue(self.smtp.messages.empty())

    def test_revoked_invite_gives_the_invitee_nothing(self):
        room = self.new_room()
        self.ok(self.invite(room, "dave@example.org"))
        self.smtp.next()
        [tpi] = self.third_party_invites(room)
        self.ok(self.hs.client("PUT", f"/rooms/{q(room)}/state/m.room.third_party_invite/{q(tpi['state_key'])}", body={},
                               token=self.alice["access_token"]))
        dave = self.register_and_bind("dave", "dave@example.org")
        deadline = time.time() + 15
        # Other tests log refused onbind invites too: wait for this one's reason.
        while "The third-party invite was revoked" not in self.hs.read_log() and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn(f"onbind invite not exchanged room={room} status=403 error=The third-party invite was revoked",
                      self.hs.read_log())
        body = self.ok(self.hs.client("GET", "/sync", token=dave["access_token"]))
        self.assertNotIn(room, body.get("rooms", {}).get("invite", {}))
        members = [e for e in self.state(room) if e["type"] == "m.room.member"]
        self.assertNotIn(dave["user_id"], [m["state_key"] for m in members])

    def test_joining_with_third_party_signed_from_the_email_link(self):
        room = self.new_room()
        self.ok(self.invite(room, "frank@example.org"))
        text = mail_text(self.smtp.next())
        link = re.search(r"(https://\S+)", text).group(1)
        sign_url = urllib.parse.urlparse(urllib.parse.parse_qs(link.split("?", 1)[1])["signurl"][0])
        frank = self.hs.register("frank")
        params = {k: v[0] for k, v in urllib.parse.parse_qs(sign_url.query).items()}
        signed = self.ok(self.is_.request("POST", sign_url.path, query=params, body={"mxid": frank["user_id"]}))
        # Someone else cannot use it.
        self.err(self.hs.client("POST", f"/join/{q(room)}", body={"third_party_signed": signed},
                                token=self.hs.register("mallory")["access_token"]), 403, "M_FORBIDDEN")
        self.assertEqual(self.ok(self.hs.client("POST", f"/join/{q(room)}", body={"third_party_signed": signed},
                                                token=frank["access_token"]))["room_id"], room)
        members = self.ok(self.hs.client("GET", f"/rooms/{q(room)}/joined_members", token=self.alice["access_token"]))
        self.assertIn(frank["user_id"], members["joined"])
        # Following the link again once joined is harmless.
        self.ok(self.hs.client("POST", f"/join/{q(room)}", body={"third_party_signed": signed}, token=frank["access_token"]))

    def test_create_room_with_invite_3pid(self):
        body = self.ok(self.hs.client("POST", "/createRoom", token=self.alice["access_token"], body={
            "preset": "private_chat", "name": "Cake",
            "invite_3pid": [{"id_server": self.id_server, "id_access_token": self.alice_is, "medium": "email",
                             "address": "harry@example.org"}]}))
        [tpi] = self.third_party_invites(body["room_id"])
        self.assertEqual(tpi["content"]["display_name"], "har...@exa...")
        self.assertIn("(Cake)", mail_text(self.smtp.next()))
        self.err(self.hs.client("POST", "/createRoom", token=self.alice["access_token"], body={
            "invite_3pid": [{"id_server": "evil.test", "id_access_token": "x", "medium": "email", "address": "a@b.c"}]}),
            400, "M_SERVER_NOT_TRUSTED")

    def test_refusals(self):
        room = self.new_room()
        base = {"id_server": self.id_server, "id_access_token": self.alice_is, "medium": "email", "address": "x@example.org"}
        self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", body=dict(base, id_server="evil.test"),
                                token=self.alice["access_token"]), 400, "M_SERVER_NOT_TRUSTED")
        self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", body={"medium": "email", "address": "x@example.org"},
                                token=self.alice["access_token"]), 400, "M_MISSING_PARAM")
        self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", body=dict(base, address=5),
                                token=self.alice["access_token"]), 400, "M_BAD_JSON")
        outsider = self.hs.register("outsider")
        self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", body=base, token=outsider["access_token"]),
                 403, "M_FORBIDDEN")
        self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", body=dict(base, id_access_token="bogus"),
                                token=self.alice["access_token"]), 403, "M_FORBIDDEN")
        self.assertEqual(self.third_party_invites(room), [])

    def test_account_3pid_add_through_the_email_delegate(self):
        ken = self.hs.register("ken")
        token = ken["access_token"]
        sid = self.ok(self.hs.client("POST", "/account/3pid/email/requestToken", token=token,
                                     body={"client_secret": "kensecret", "email": "Ken@example.org", "send_attempt": 1}))["sid"]
        text = mail_text(self.smtp.next())
        link = re.search(r"(http://\S+submitToken\S+)", text).group(1)
        status, _, page = self.is_.request("GET", link[len(f"http://{self.id_server}"):])
        self.assertEqual(status, 200, page)
        status, _, challenge = self.hs.client("POST", "/account/3pid/add", token=token,
                                              body={"sid": sid, "client_secret": "kensecret"})
        self.assertEqual(status, 401, challenge)
        self.ok(self.hs.client("POST", "/account/3pid/add", token=token,
                               body={"sid": sid, "client_secret": "kensecret",
                                     "auth": {"type": "m.login.dummy", "session": challenge["session"]}}))
        threepids = self.ok(self.hs.client("GET", "/account/3pid", token=token))["threepids"]
        self.assertEqual([(t["medium"], t["address"]) for t in threepids], [("email", "ken@example.org")])
        self.err(self.hs.client("POST", "/account/3pid/email/requestToken", token=self.alice["access_token"],
                                body={"client_secret": "x", "email": "ken@example.org", "send_attempt": 1}),
                 400, "M_THREEPID_IN_USE")
        self.err(self.hs.client("POST", "/account/3pid/add", token=token,
                                body={"sid": "nope", "client_secret": "kensecret", "auth": {"type": "m.login.dummy"}}),
                 400, "M_THREEPID_AUTH_FAILED")
        self.assertEqual(self.ok(self.hs.client("POST", "/account/3pid/delete", token=token,
                                                body={"medium": "email", "address": "ken@example.org"})),
                         {"id_server_unbind_result": "success"})
        self.assertEqual(self.ok(self.hs.client("GET", "/account/3pid", token=token))["threepids"], [])

    def test_unbind_through_the_homeserver_is_signed_and_honoured(self):
        lena = self.register_and_bind("lena", "lena@example.org")
        lookup = lambda: self.ok(self.is_.v1("GET", "/lookup", query={"medium": "email", "address": "lena@example.org"}))
        self.assertEqual(lookup()["mxid"], lena["user_id"])
        # Nobody else can unbind her: not without a session, not with a made-up signature.
        unbind = {"mxid": lena["user_id"], "threepid": {"medium": "email", "address": "lena@example.org"}}
        self.err(self.is_.v2("POST", "/3pid/unbind", body=unbind), 403, "M_FORBIDDEN")
        self.err(self.is_.v2("POST", "/3pid/unbind", body=unbind, headers={
            "Authorization": 'X-Matrix origin="localhost",key="ed25519:a_xxxx",sig="AAAA"'}), 403, "M_FORBIDDEN")
        self.assertEqual(lookup()["mxid"], lena["user_id"])
        # Her homeserver signs the request; the identity server checks it against the homeserver's keys.
        self.assertEqual(self.ok(self.hs.client("POST", "/account/3pid/unbind", token=lena["access_token"],
                                                body={"medium": "email", "address": "lena@example.org"})),
                         {"id_server_unbind_result": "success"})
        self.assertEqual(lookup(), {})
        keys = self.ok(self.hs.request("GET", "/_matrix/key/v2/server"))
        self.assertEqual(keys["server_name"], "localhost")
        self.assertIn("localhost", keys["signatures"])

    def test_onbind_accepts_put_and_drops_what_can_never_succeed(self):
        path = "/_matrix/federation/v1/3pid/onbind"
        for method in ("POST", "PUT"):
            self.err(self.hs.request(method, path, body={"invites": [{"mxid": "@x:localhost"}]}), 400, "M_BAD_JSON")
            # No invites key (Sydent, nothing pending): an empty list, 200.
            self.assertEqual(self.ok(self.hs.request(method, path, body={"medium": "email"})), {})
            # A forged invite for a room with no such third-party invite: refused for good, so answered 200
            # (the identity server stops retrying) and nobody is invited.
            forged = {"mxid": "@nobody:localhost", "room_id": self.new_room(), "sender": self.alice["user_id"],
                      "signed": {"mxid": "@nobody:localhost", "token": "forged", "signatures": {"x": {"ed25519:0": "AAAA"}}}}
            self.assertEqual(self.ok(self.hs.request(method, path, body={"medium": "email", "address": "n@example.org",
                                                                         "mxid": "@nobody:localhost", "invites": [forged]})), {})
            members = [e["state_key"] for e in self.state(forged["room_id"]) if e["type"] == "m.room.member"]
            self.assertNotIn("@nobody:localhost", members)

    def test_zz_identity_server_down_gives_a_clear_error_and_leaves_the_room_unchanged(self):
        room = self.new_room()
        before = sorted(e["event_id"] for e in self.state(room))
        self.assertEqual(self.is_.stop(), 0)
        try:
            body = self.err(self.invite(room, "erin@example.org"), 502, "M_UNKNOWN")
            self.assertIn("identity server", body["error"])
            self.assertEqual(sorted(e["event_id"] for e in self.state(room)), before)
        finally:
            self.is_.start()


if __name__ == "__main__":
    unittest.main()
