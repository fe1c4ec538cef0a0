"""Issue 4: the identity server through HTTP (v2 and legacy api/v1), with a real Herald homeserver for OpenID,
a real SMTP receiver for mail, and a recording endpoint standing in for a homeserver's onbind."""
import base64
import email
import email.policy
import os
import hashlib
import html
import json
import re
import secrets
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import nacl.signing
import nacl.exceptions

from harness import (HeraldServer, IdentityServer, MatrixAssertions, RecordingHomeserver, SmtpReceiver,
                     email_parts, identity_token)


def b64decode(text):
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def canonical(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def verify(obj, entity, key_id, public_key_b64):
    unsigned = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    signature = b64decode(obj["signatures"][entity][key_id])
    nacl.signing.VerifyKey(b64decode(public_key_b64)).verify(canonical(unsigned), signature)


class IdentityTest(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpReceiver()
        cls.recorder = RecordingHomeserver()
        cls.hs = HeraldServer().start()
        cls.is_ = IdentityServer(homeservers={"localhost": f"http://127.0.0.1:{cls.hs.port}",
                                              "recorder.test": cls.recorder.url},
                                 smtp_port=cls.smtp.port).start()
        cls.base = f"http://127.0.0.1:{cls.is_.port}/"
        cls.alice_hs = cls.hs.register("alice")
        cls.alice = cls.is_token(cls.alice_hs)

    @classmethod
    def tearDownClass(cls):
        assert cls.is_.stop() == 0
        assert cls.hs.stop() == 0
        cls.is_.cleanup()
        cls.hs.cleanup()
        cls.smtp.stop()
        cls.recorder.stop()

    @classmethod
    def is_token(cls, hs_login):
        return identity_token(cls.hs, cls.is_, hs_login)

    def local_url(self, url):
        return url.replace("http://127.0.0.1:0/", self.base)

    def validate_email(self, address, token, client_secret=None):
        """requestToken -> email -> submitToken; returns (sid, client_secret)."""
        client_secret = client_secret or secrets.token_hex(8)
        sid = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                                  body={"client_secret": client_secret, "email": address, "send_attempt": 1}))["sid"]
        mail = self.smtp.next()
        _, text, _ = email_parts(mail["message"])
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        self.ok(self.is_.v2("POST", "/validate/email/submitToken", token=token,
                            body={"sid": sid, "client_secret": client_secret, "token": code}))
        return sid, client_secret

    # --- status, keys --------------------------------------------------------------------------------

    def test_status_versions_and_long_term_key(self):
        self.assertEqual(self.ok(self.is_.v2("GET", "")), {})
        self.assertEqual(self.ok(self.is_.v1("GET", "")), {})
        self.assertIn("v1.1", self.ok(self.is_.request("GET", "/_matrix/identity/versions"))["versions"])
        for call in (self.is_.v2, self.is_.v1):
            key = self.ok(call("GET", "/pubkey/ed25519:0"))["public_key"]
            self.assertEqual(len(b64decode(key)), 32)
            self.assertEqual(self.ok(call("GET", "/pubkey/isvalid", query={"public_key": key})), {"valid": True})
            self.assertEqual(self.ok(call("GET", "/pubkey/isvalid", query={"public_key": "AAAA"})), {"valid": False})
            self.err(call("GET", "/pubkey/ed25519:1"), 404, "M_NOT_FOUND")
            self.err(call("GET", "/pubkey/isvalid"), 400, "M_MISSING_PARAMS")
        self.err(self.is_.v2("GET", "/no/such/thing"), 404, "M_UNRECOGNIZED")
        self.err(self.is_.v2("DELETE", "/pubkey/isvalid"), 405, "M_UNRECOGNIZED")

    # --- accounts ------------------------------------------------------------------------------------

    def test_account_register_via_openid_from_a_herald_homeserver(self):
        bob = self.hs.register("bob_acct")
        token = self.is_token(bob)
        self.assertEqual(self.ok(self.is_.v2("GET", "/account", token=token)), {"user_id": bob["user_id"]})
        # Synapse sends the token as a query parameter; that works too.
        self.assertEqual(self.ok(self.is_.v2("GET", "/account", query={"access_token": token}))["user_id"], bob["user_id"])
        self.ok(self.is_.v2("POST", "/account/logout", token=token))
        self.err(self.is_.v2("GET", "/account", token=token), 401, "M_UNAUTHORIZED")
        self.err(self.is_.v2("GET", "/account"), 401, "M_UNAUTHORIZED")
        # A token the homeserver never issued, a missing field, an unknown homeserver.
        bad = {"access_token": "nope", "token_type": "Bearer", "matrix_server_name": "localhost", "expires_in": 3600}
        self.err(self.is_.v2("POST", "/account/register", body=bad), 401, "M_UNAUTHORIZED")
        body = self.err(self.is_.v2("POST", "/account/register", body={"access_token": "x"}), 400, "M_MISSING_PARAMS")
        self.assertIn("matrix_server_name", body["error"])
        # Unknown name, no entry in `homeservers`: discovery over HTTPS, which this closed network refuses.
        self.err(self.is_.v2("POST", "/account/register", body=dict(bad, matrix_server_name="not-configured.test")),
                 500, "M_UNKNOWN")
        self.err(self.is_.v2("POST", "/account/register", raw=b"{not json"), 400, "M_NOT_JSON")

    def test_terms_empty_policy_list(self):
        self.assertEqual(self.ok(self.is_.v2("GET", "/terms")), {"policies": {}})
        self.ok(self.is_.v2("POST", "/terms", token=self.alice, body={"user_accepts": []}))

    # --- validation, bind, lookup --------------------------------------------------------------------

    def test_validate_bind_and_lookup(self):
        dana = self.hs.register("dana")
        token = self.is_token(dana)
        secret = "s3cret.Value_1"
        sid = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                                  body={"client_secret": secret, "email": "Dana@Example.org", "send_attempt": 1}))["sid"]
        mail = self.smtp.next()
        self.assertEqual(mail["to"], ["dana@example.org"])
        subject, text, html_body = email_parts(mail["message"])
        self.assertEqual(subject, "Confirm your email address for Matrix")
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        self.assertIn(code, html_body)
        # The same send_attempt again: the same session, no second mail.
        again = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                                    body={"client_secret": secret, "email": "dana@example.org", "send_attempt": 1}))
        self.assertEqual(again["sid"], sid)
        self.assertTrue(self.smtp.messages.empty())
        # Bad inputs.
        self.err(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                             body={"client_secret": "bad secret!", "email": "d@example.org", "send_attempt": 1}),
                 400, "M_INVALID_PARAM")
        self.err(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                             body={"client_secret": "abc", "email": "not-an-email", "send_attempt": 1}),
                 400, "M_INVALID_EMAIL")
        self.err(self.is_.v2("POST", "/validate/email/requestToken", token=token, body={"email": "d@example.org"}),
                 400, "M_MISSING_PARAMS")
        self.err(self.is_.v2("POST", "/validate/email/requestToken",
                             body={"client_secret": "abc", "email": "d@example.org", "send_attempt": 1}),
                 401, "M_UNAUTHORIZED")
        # Not validated yet.
        self.err(self.is_.v2("GET", "/3pid/getValidated3pid", token=token, query={"sid": sid, "client_secret": secret}),
                 400, "M_SESSION_NOT_VALIDATED")
        self.err(self.is_.v2("POST", "/3pid/bind", token=token,
                             body={"sid": sid, "client_secret": secret, "mxid": dana["user_id"]}),
                 400, "M_SESSION_NOT_VALIDATED")
        self.err(self.is_.v2("POST", "/validate/email/submitToken", token=token,
                             body={"sid": sid, "client_secret": secret, "token": "wrong"}), 400, "M_TOKEN_INCORRECT")
        self.err(self.is_.v2("POST", "/validate/email/submitToken", token=token,
                             body={"sid": sid, "client_secret": "other", "token": code}), 404, "M_NO_VALID_SESSION")
        # The emailed link: a page, no token needed.
        link = self.local_url(re.search(r"(http://\S+submitToken\S+)", text).group(1))
        status, headers, page = self.is_.request("GET", link[len(self.base) - 1:])
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn("Your email address is verified", page)
        validated = self.ok(self.is_.v2("GET", "/3pid/getValidated3pid", token=token,
                                        query={"sid": sid, "client_secret": secret}))
        self.assertEqual((validated["medium"], validated["address"]), ("email", "dana@example.org"))
        self.assertIsInstance(validated["validated_at"], int)
        # Bind: only to oneself on v2.
        self.err(self.is_.v2("POST", "/3pid/bind", token=token,
                             body={"sid": sid, "client_secret": secret, "mxid": "@someone:localhost"}),
                 403, "M_UNAUTHORIZED")
        assoc = self.ok(self.is_.v2("POST", "/3pid/bind", token=token,
                                    body={"sid": sid, "client_secret": secret, "mxid": dana["user_id"]}))
        self.assertEqual((assoc["medium"], assoc["address"], assoc["mxid"]), ("email", "dana@example.org", dana["user_id"]))
        key = self.ok(self.is_.v2("GET", "/pubkey/ed25519:0"))["public_key"]
        verify(assoc, "127.0.0.1:8090", "ed25519:0", key)
        self.assertLess(assoc["not_before"], assoc["not_after"])

        # v2 hashed lookup.
        details = self.ok(self.is_.v2("GET", "/hash_details", token=token))
        self.assertIn("sha256", details["algorithms"])
        pepper = details["lookup_pepper"]
        h = base64.urlsafe_b64encode(hashlib.sha256(f"dana@example.org email {pepper}".encode()).digest()).decode().rstrip("=")
        miss = base64.urlsafe_b64encode(hashlib.sha256(f"nobody@example.org email {pepper}".encode()).digest()).decode().rstrip("=")
        found = self.ok(self.is_.v2("POST", "/lookup", token=token,
                                    body={"algorithm": "sha256", "pepper": pepper, "addresses": [h, miss]}))
        self.assertEqual(found, {"mappings": {h: dana["user_id"]}})
        found = self.ok(self.is_.v2("POST", "/lookup", token=token,
                                    body={"algorithm": "none", "pepper": pepper, "addresses": ["dana@example.org email"]}))
        self.assertEqual(found["mappings"], {"dana@example.org email": dana["user_id"]})
        body = self.err(self.is_.v2("POST", "/lookup", token=token,
                                    body={"algorithm": "sha256", "pepper": "stale", "addresses": [h]}), 400, "M_INVALID_PEPPER")
        self.assertEqual(body["lookup_pepper"], pepper)
        self.err(self.is_.v2("POST", "/lookup", token=token,
                             body={"algorithm": "md5", "pepper": pepper, "addresses": [h]}), 400, "M_INVALID_PARAM")
        self.err(self.is_.v2("POST", "/lookup", body={"algorithm": "sha256", "pepper": pepper, "addresses": [h]}),
                 401, "M_UNAUTHORIZED")
        # Legacy v1 lookup and bulk_lookup.
        signed = self.ok(self.is_.v1("GET", "/lookup", query={"medium": "email", "address": "dana@example.org"}))
        self.assertEqual(signed["mxid"], dana["user_id"])
        verify(signed, "127.0.0.1:8090", "ed25519:0", key)
        self.assertEqual(self.ok(self.is_.v1("GET", "/lookup", query={"medium": "email", "address": "x@example.org"})), {})
        bulk = self.ok(self.is_.v1("POST", "/bulk_lookup",
                                   body={"threepids": [["email", "dana@example.org"], ["email", "x@example.org"]]}))
        self.assertEqual(bulk, {"threepids": [["email", "dana@example.org", dana["user_id"]]]})

        # Unbind with the session, then the address is gone.
        self.err(self.is_.v2("POST", "/3pid/unbind", body={"mxid": dana["user_id"],
                                                           "threepid": {"medium": "email", "address": "other@example.org"},
                                                           "sid": sid, "client_secret": secret}), 403, "M_FORBIDDEN")
        self.ok(self.is_.v2("POST", "/3pid/unbind", body={"mxid": dana["user_id"],
                                                          "threepid": {"medium": "email", "address": "dana@example.org"},
                                                          "sid": sid, "client_secret": secret}))
        self.assertEqual(self.ok(self.is_.v1("GET", "/lookup", query={"medium": "email", "address": "dana@example.org"})), {})

    def test_emailed_validation_link_reads_well_in_a_browser(self):
        erin = self.hs.register("erin")
        token = self.is_token(erin)
        self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=token,
                            body={"client_secret": "erinsecret", "email": "erin@example.org", "send_attempt": 1}))
        _, text, _ = email_parts(self.smtp.next()["message"])
        link = self.local_url(re.search(r"(http://\S+submitToken\S+)", text).group(1))
        with tempfile.TemporaryDirectory() as profile:
            out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                  "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", link],
                                 capture_output=True, text=True, timeout=60)
        self.assertIn('<h1 id="title">Your email address is verified</h1>', out.stdout, out.stderr[-2000:])
        # The wrong token renders the failure page, not JSON.
        bad = link.replace("token=", "token=x")
        status, headers, page = self.is_.request("GET", bad[len(self.base) - 1:])
        self.assertEqual(status, 400)
        self.assertIn("couldn&#39;t verify your email address", page)

    # --- store-invite, sign-ed25519, onbind ----------------------------------------------------------

    def store_invite(self, address, token=None, **extra):
        body = {"medium": "email", "address": address, "room_id": "!room:localhost", "sender": self.alice_hs["user_id"],
                "room_name": "Tea <& biscuits>", "sender_display_name": "Alice <script>", "room_join_rules": "invite"}
        body.update(extra)
        return self.is_.v2("POST", "/store-invite", token=token or self.alice, body=body)

    def test_store_invite_sends_a_readable_email_and_keys_that_check_out(self):
        answer = self.ok(self.store_invite("Carol.Invitee@Example.org"))
        self.assertGreaterEqual(len(answer["token"]), 128)
        self.assertRegex(answer["token"], r"^[0-9a-zA-Z.=_-]+$")
        self.assertEqual(answer["display_name"], "Car...@Exa...")
        long_term, ephemeral = answer["public_keys"]
        self.assertEqual(long_term["public_key"], self.ok(self.is_.v2("GET", "/pubkey/ed25519:0"))["public_key"])
        for key in (long_term, ephemeral):
            status, _, valid = self.is_.request("GET", urllib.parse.urlparse(self.local_url(key["key_validity_url"])).path,
                                                query={"public_key": key["public_key"]})
            self.assertEqual((status, valid), (200, {"valid": True}))
        self.assertTrue(ephemeral["key_validity_url"].endswith("/_matrix/identity/v2/pubkey/ephemeral/isvalid"))
        self.assertEqual(self.ok(self.is_.v1("GET", "/pubkey/ephemeral/isvalid", query={"public_key": "AAAA"})),
                         {"valid": False})

        mail = self.smtp.next()
        self.assertEqual(mail["to"], ["carol.invitee@example.org"])
        subject, text, html_body = email_parts(mail["message"])
        self.assertEqual(subject, "Alice <script> has invited you to chat")
        self.assertIn("Alice <script> (@alice:localhost) has invited you into a room (Tea <& biscuits>) on Matrix.", text)
        self.assertIn("<strong>Alice &lt;script&gt;</strong>", html_body)
        self.assertIn("(Tea &lt;&amp; biscuits&gt;)", html_body)
        self.assertNotIn("<script>", html_body)
        link = re.search(r"(https://app\.element\.test/\S+)", text).group(1)
        query = urllib.parse.parse_qs(link.split("?", 1)[1])
        self.assertEqual(query["email"], ["carol.invitee@example.org"])
        sign_url = urllib.parse.urlparse(query["signurl"][0])
        sign_params = urllib.parse.parse_qs(sign_url.query)
        self.assertEqual(sign_params["token"], [answer["token"]])

        # The invitee's client signs with the mailed private key (legacy path, as the link gives it) and v2.
        signed = self.ok(self.is_.request("POST", sign_url.path, query={k: v[0] for k, v in sign_params.items()},
                                          body={"mxid": "@carol:localhost"}))
        self.assertEqual((signed["mxid"], signed["sender"], signed["token"]), ("@carol:localhost", "@alice:localhost",
                                                                               answer["token"]))
        verify(signed, "127.0.0.1:8090", "ed25519:0", ephemeral["public_key"])
        self.ok(self.is_.v2("POST", "/sign-ed25519", token=self.alice,
                            body={"mxid": "@carol:localhost", "token": answer["token"],
                                  "private_key": sign_params["private_key"][0]}))
        other_key = base64.urlsafe_b64encode(bytes(nacl.signing.SigningKey.generate())).decode().rstrip("=")
        self.err(self.is_.v2("POST", "/sign-ed25519", token=self.alice,
                             body={"mxid": "@carol:localhost", "token": answer["token"], "private_key": other_key}),
                 400, "M_INVALID_PARAM")
        self.err(self.is_.v2("POST", "/sign-ed25519", token=self.alice,
                             body={"mxid": "@carol:localhost", "token": "nope", "private_key": other_key}),
                 404, "M_UNRECOGNIZED")

    def test_invitation_links_only_go_to_https_clients(self):
        for requested, expected in [("javascript:alert(1)//", "https://app.element.test/"),
                                    ("http://plain.example/", "https://app.element.test/"),
                                    ("https://evil.example/\"onclick=x", "https://app.element.test/"),
                                    ("https://chat.example.org", "https://chat.example.org/")]:
            self.ok(self.store_invite(f"link.{len(requested)}@example.org",
                                      **{"org.matrix.web_client_location": requested}))
            _, text, html_body = email_parts(self.smtp.next()["message"])
            self.assertIn(expected + "#/room/", text, requested)
            self.assertNotIn("javascript:", text + html_body)

    def test_store_invite_refusals_in_order(self):
        self.err(self.is_.v2("POST", "/store-invite", token=self.alice, body={"medium": "email"}), 400, "M_MISSING_PARAMS")
        self.err(self.store_invite("x@example.org", sender="@mallory:localhost"), 403, "M_UNAUTHORIZED")
        self.err(self.is_.v2("POST", "/store-invite", body={"medium": "email", "address": "x@example.org",
                                                            "room_id": "!r:localhost", "sender": "@alice:localhost"}),
                 401, "M_UNAUTHORIZED")
        self.err(self.store_invite("12345", medium="msisdn"), 400, "M_UNRECOGNIZED")
        self.err(self.store_invite("not an address"), 400, "M_INVALID_EMAIL")
        # An address bound already: the caller learns the Matrix ID to invite instead.
        frank = self.hs.register("frank")
        ftoken = self.is_token(frank)
        sid, secret = self.validate_email("frank@example.org", ftoken)
        self.ok(self.is_.v2("POST", "/3pid/bind", token=ftoken, body={"sid": sid, "client_secret": secret,
                                                                      "mxid": frank["user_id"]}))
        body = self.err(self.store_invite("Frank@example.org"), 400, "M_THREEPID_IN_USE")
        self.assertEqual(body["mxid"], frank["user_id"])
        # A mail server that refuses the recipient: a clear error and no invite left behind.
        body = self.err(self.store_invite("someone@bounce.test"), 400, "M_INVALID_EMAIL")
        self.assertTrue(self.smtp.messages.empty())

    def test_bind_delivers_pending_invites_to_the_homeserver(self):
        first = self.ok(self.store_invite("grace@example.org", room_id="!one:localhost"))
        second = self.ok(self.store_invite("grace@example.org", room_id="!two:localhost"))
        self.smtp.next()
        self.smtp.next()
        # The legacy v1 bind (no account) for a user of the recording homeserver.
        secret = "gracesecret"
        sid = self.ok(self.is_.v1("POST", "/validate/email/requestToken",
                                  body={"client_secret": secret, "email": "grace@example.org", "send_attempt": 1}))["sid"]
        _, text, _ = email_parts(self.smtp.next()["message"])
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        # Legacy form-encoded body.
        self.ok(self.is_.v1("POST", "/validate/email/submitToken",
                            raw=urllib.parse.urlencode({"sid": sid, "client_secret": secret, "token": code}).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}))
        self.ok(self.is_.v1("POST", "/3pid/bind", body={"sid": sid, "client_secret": secret, "mxid": "@grace:recorder.test"}))
        call = self.recorder.next_call()
        self.assertEqual((call["method"], call["path"]), ("POST", "/_matrix/federation/v1/3pid/onbind"))
        body = call["body"]
        self.assertEqual((body["medium"], body["address"], body["mxid"]), ("email", "grace@example.org", "@grace:recorder.test"))
        key = self.ok(self.is_.v2("GET", "/pubkey/ed25519:0"))["public_key"]
        verify(body, "127.0.0.1:8090", "ed25519:0", key)
        self.assertEqual(sorted(i["room_id"] for i in body["invites"]), ["!one:localhost", "!two:localhost"])
        for invite in body["invites"]:
            self.assertEqual(invite["sender"], "@alice:localhost")
            self.assertIn(invite["token"], (first["token"], second["token"]))
            self.assertEqual(set(invite["signed"]), {"mxid", "token", "signatures"})
            verify(invite["signed"], "127.0.0.1:8090", "ed25519:0", key)
        # Delivered once: the invites are gone (sign-ed25519 no longer knows the token).
        self.assertTrue(self.recorder.calls.empty())


class IdentityPolicyTest(unittest.TestCase):
    """Terms that must be accepted, rate limits, the .eml outbox when no mail server is configured, and no
    outbound calls to private addresses the operator did not name."""

    @classmethod
    def setUpClass(cls):
        cls.hs = HeraldServer().start()
        cls.is_ = IdentityServer(
            homeservers={"localhost": f"http://127.0.0.1:{cls.hs.port}"}, rate_limits_enabled=True,
            extra_yaml="""terms:
  privacy:
    version: "1.0"
    en: {name: Privacy Policy, url: "https://is.test/privacy-en"}
    fr: {name: Vie privée, url: "https://is.test/privacy-fr"}
""").start()
        cls.login = cls.hs.register("ivan")
        cls.token = identity_token(cls.hs, cls.is_, cls.login)

    @classmethod
    def tearDownClass(cls):
        assert cls.is_.stop() == 0
        assert cls.hs.stop() == 0
        cls.is_.cleanup()
        cls.hs.cleanup()

    def test_terms_rate_limits_outbox_and_private_addresses(self):
        is_, token = self.is_, self.token
        terms = is_.v2("GET", "/terms")[2]
        self.assertEqual(terms["policies"]["privacy"]["fr"]["url"], "https://is.test/privacy-fr")
        status, _, body = is_.v2("GET", "/account", token=token)
        self.assertEqual((status, body["errcode"]), (403, "M_TERMS_NOT_SIGNED"))
        status, _, body = is_.v2("POST", "/terms", token=token, body={"user_accepts": ["https://evil.test/x"]})
        self.assertEqual(status, 400, body)
        self.assertEqual(is_.v2("POST", "/terms", token=token, body={"user_accepts": ["https://is.test/privacy-fr"]})[0], 200)
        self.assertEqual(is_.v2("GET", "/account", token=token)[2], {"user_id": "@ivan:localhost"})

        # No email section: messages land in the outbox as .eml files.
        for attempt in range(1, 6):
            status, _, body = is_.v2("POST", "/validate/email/requestToken", token=token,
                                     body={"client_secret": "ivan", "email": "ivan@example.org", "send_attempt": attempt})
            self.assertEqual(status, 200, body)
        eml = sorted(os.listdir(is_.outbox))
        self.assertEqual(len(eml), 5)
        with open(os.path.join(is_.outbox, eml[0]), "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        self.assertEqual(msg["To"], "ivan@example.org")
        self.assertEqual(msg["Subject"], "Confirm your email address for Matrix")
        # The sixth mail to one address within minutes is refused, with the time to wait.
        status, headers, body = is_.v2("POST", "/validate/email/requestToken", token=token,
                                       body={"client_secret": "ivan", "email": "ivan@example.org", "send_attempt": 6})
        self.assertEqual((status, body["errcode"]), (429, "M_LIMIT_EXCEEDED"), body)
        self.assertGreater(body["retry_after_ms"], 0)
        self.assertEqual(len(os.listdir(is_.outbox)), 5)

        # A server name the operator did not map, on a loopback address: refused before connecting.
        bad = {"access_token": "x", "token_type": "Bearer", "matrix_server_name": "127.0.0.1:9", "expires_in": 60}
        status, _, body = is_.v2("POST", "/account/register", body=bad)
        self.assertEqual((status, body["errcode"]), (500, "M_UNKNOWN"), body)
        deadline = time.time() + 5  # the log is written asynchronously
        while "private address" not in is_.read_log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("private address", is_.read_log())


class StoreInviteAbuseTest(MatrixAssertions, unittest.TestCase):
    """The unauthenticated v1 store-invite: limited per target address and per requesting address whatever
    `sender` the caller writes, and switched off with legacy_store_invite: false."""

    def v1_invite(self, is_, sender, address):
        return is_.v1("POST", "/store-invite", body={"medium": "email", "address": address, "room_id": "!r:localhost",
                                                     "sender": sender})

    def test_varying_the_sender_buys_no_more_emails(self):
        is_ = IdentityServer(rate_limits_enabled=True).start()
        try:
            for i in range(5):
                self.ok(self.v1_invite(is_, f"@spammer{i}:localhost", "victim@example.org"))
            self.err(self.v1_invite(is_, "@spammer9:localhost", "victim@example.org"), 429, "M_LIMIT_EXCEEDED")
            self.assertEqual(len(os.listdir(is_.outbox)), 5)
            # Other targets: the per-address bucket of the caller (burst 10) ends the spree too.
            results = [self.v1_invite(is_, f"@s{i}:localhost", f"other{i}@example.org")[0] for i in range(8)]
            self.assertIn(429, results)
        finally:
            is_.stop()
            is_.cleanup()

    def test_legacy_store_invite_can_be_switched_off(self):
        is_ = IdentityServer(extra_yaml="legacy_store_invite: false").start()
        try:
            self.err(self.v1_invite(is_, "@a:localhost", "x@example.org"), 404, "M_UNRECOGNIZED")
        finally:
            is_.stop()
            is_.cleanup()


class OnbindRestartTest(unittest.TestCase):
    """A stored invite, bound while the homeserver fails, reaches it after the identity server restarts."""

    def test_delivery_survives_a_restart(self):
        smtp = SmtpReceiver()
        recorder = RecordingHomeserver()
        recorder.status = 500
        hs = HeraldServer().start()
        is_ = IdentityServer(homeservers={"localhost": f"http://127.0.0.1:{hs.port}", "recorder.test": recorder.url},
                             smtp_port=smtp.port).start()
        try:
            alice = hs.register("alice")
            token = identity_token(hs, is_, alice)
            status, _, stored = is_.v2("POST", "/store-invite", token=token,
                                       body={"medium": "email", "address": "heidi@example.org", "room_id": "!r:localhost",
                                             "sender": "@alice:localhost"})
            self.assertEqual(status, 200, stored)
            smtp.next()
            sid = is_.v1("POST", "/validate/email/requestToken",
                         body={"client_secret": "hs", "email": "heidi@example.org", "send_attempt": 1})[2]["sid"]
            _, text, _ = email_parts(smtp.next()["message"])
            code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
            is_.v1("POST", "/validate/email/submitToken", body={"sid": sid, "client_secret": "hs", "token": code})
            self.assertEqual(is_.v1("POST", "/3pid/bind", body={"sid": sid, "client_secret": "hs",
                                                                 "mxid": "@heidi:recorder.test"})[0], 200)
            self.assertEqual(recorder.next_call()["body"]["mxid"], "@heidi:recorder.test")  # refused with 500
            self.assertEqual(is_.stop(), 0)
            recorder.status = 200
            is_.start()
            call = recorder.next_call(timeout=20)
            self.assertEqual(call["body"]["invites"][0]["signed"]["mxid"], "@heidi:recorder.test")
            self.assertEqual(call["body"]["invites"][0]["token"], stored["token"])
        finally:
            is_.stop()
            hs.stop()
            is_.cleanup()
            hs.cleanup()
            smtp.stop()
            recorder.stop()


if __name__ == "__main__":
    unittest.main()
