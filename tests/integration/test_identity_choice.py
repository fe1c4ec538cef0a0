"""Issue 10 (items 3, 4, 5, 17, 18): the seed's third-party invite body (identity_server, display_name, no
token: the identity server's legacy v1 API), malformed /invite bodies, identity servers chosen by the client
(HTTPS with a test CA, guarded by ip_range_blacklist / ip_range_whitelist), a reliable 413 for big bodies, and
Sydent's onbind without invites."""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.parse

from harness import HeraldServer, IdentityServer, MatrixAssertions, SmtpReceiver, email_parts, free_port, identity_token

PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]


def q(s):
    return urllib.parse.quote(s, safe="")


class FakeIdentityServer:
    """Answers every request from `routes` ({(method, path): (status, body)}; anything else 404
    M_UNRECOGNIZED) and records (method, path, query, headers, body)."""

    def __init__(self, routes=None):
        import http.server
        self.routes = routes or {}
        self.calls = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                outer.calls.append((self.command, path, urllib.parse.parse_qs(query), dict(self.headers), body))
                status, payload = outer.routes.get((self.command, path),
                                                   (404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class TestCertificates:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1, made with the openssl CLI."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="herald-ca-")
        p = lambda name: os.path.join(self.dir, name)
        self.ca, self.cert, self.key = p("ca.pem"), p("server.pem"), p("server.key")
        run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", self.ca, "-days", "2", "-subj", "/CN=Herald Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("req", *ec, "-keyout", self.key, "-out", p("server.csr"), "-subj", "/CN=localhost")
        with open(p("ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run("x509", "-req", "-in", p("server.csr"), "-CA", self.ca, "-CAkey", p("ca.key"), "-CAcreateserial",
            "-out", self.cert, "-days", "2", "-extfile", p("ext.cnf"))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsProxy:
    """Terminates TLS on 127.0.0.1 and pipes the bytes to a plain-HTTP port (Herald's identity server)."""

    def __init__(self, certs):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certs.cert, certs.key)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.target = None
        self.running = True
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while self.running:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(raw,), daemon=True).start()

    def serve(self, raw):
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        t.start()
        pump(client, upstream)
        t.join(10)
        client.close()
        upstream.close()

    def stop(self):
        self.running = False
        self.listener.close()


class SeedBodyTest(MatrixAssertions, unittest.TestCase):
    """Items 3, 4, 17, 18 against an operator-named identity server (trusted_identity_servers with URLs)."""

    @classmethod
    def setUpClass(cls):
        cls.is_port = free_port()
        cls.id_server = f"127.0.0.1:{cls.is_port}"
        cls.fake = FakeIdentityServer()
        cls.bound = FakeIdentityServer({("GET", "/_matrix/identity/api/v1/lookup"): (200, {
            "address": "bob@example.org", "medium": "email", "mxid": "@bob:localhost", "not_before": 0,
            "not_after": 4102444800000, "ts": 0, "signatures": {}})})
        cls.hs = HeraldServer(extra_yaml=(
            "trusted_identity_servers:\n"
            f'  "{cls.id_server}": "http://{cls.id_server}"\n'
            f'  "nov1.test": "http://127.0.0.1:{cls.fake.port}"\n'
            f'  "bound.test": "http://127.0.0.1:{cls.bound.port}"\n')).start()
        cls.is_ = IdentityServer(homeservers={"localhost": f"http://127.0.0.1:{cls.hs.port}"}, port=cls.is_port,
                                 server_name=cls.id_server).start()
        cls.alice = cls.hs.register("alice")
        cls.bob = cls.hs.register("bob")

    @classmethod
    def tearDownClass(cls):
        assert cls.is_.stop() == 0
        assert cls.hs.stop() == 0
        cls.is_.cleanup()
        cls.hs.cleanup()
        cls.fake.stop()
        cls.bound.stop()

    def new_room(self, **extra):
        body = {"preset": "private_chat", "name": "Monkeys"}
        body.update(extra)
        return self.ok(self.hs.client("POST", "/createRoom", body=body, token=self.alice["access_token"]))["room_id"]

    def state(self, room_id):
        return self.ok(self.hs.client("GET", f"/rooms/{q(room_id)}/state", token=self.alice["access_token"]))

    def third_party_invites(self, room_id):
        return [e for e in self.state(room_id) if e["type"] == "m.room.third_party_invite"]

    def test_seed_body_with_identity_server_and_display_name_on_every_prefix(self):
        for i, prefix in enumerate(PREFIXES):
            with self.subTest(prefix=prefix):
                room = self.new_room()
                before = len(os.listdir(self.is_.outbox)) if os.path.isdir(self.is_.outbox) else 0
                # The seed's example body, exactly: no id_server, no id_access_token.
                self.assertEqual(self.ok(self.hs.request("POST", f"{prefix}/rooms/{q(room)}/invite",
                                                         token=self.alice["access_token"], body={
                                                             "identity_server": self.id_server, "medium": "email",
                                                             "address": f"cheeky{i}@monkey.com",
                                                             "display_name": "A very cheeky monkey"})), {})
                [tpi] = self.third_party_invites(room)
                self.assertEqual(tpi["content"]["display_name"], "A very cheeky monkey")
                self.assertEqual(tpi["sender"], self.alice["user_id"])
                self.assertTrue(tpi["content"]["public_keys"])
                # The identity server stored it through its unauthenticated v1 store-invite and mailed it.
                self.assertEqual(len(os.listdir(self.is_.outbox)), before + 1)

    def test_display_name_that_gives_the_address_away_is_replaced_by_the_redacted_one(self):
        room = self.new_room()
        self.ok(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
            "identity_server": self.id_server, "medium": "email", "address": "Dana@example.org",
            "display_name": "dana@example.org (work)"}))
        [tpi] = self.third_party_invites(room)
        self.assertEqual(tpi["content"]["display_name"], "dan...@exa...")

    def test_create_room_invite_3pid_with_the_seed_body(self):
        room = self.ok(self.hs.client("POST", "/createRoom", token=self.alice["access_token"], body={
            "preset": "private_chat", "invite_3pid": [{"identity_server": self.id_server, "medium": "email",
                                                       "address": "eve@example.org", "display_name": "Eve"}]}))["room_id"]
        [tpi] = self.third_party_invites(room)
        self.assertEqual(tpi["content"]["display_name"], "Eve")

    def test_bound_address_without_token_is_looked_up_through_v1_and_invited_directly(self):
        room = self.new_room()
        self.ok(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
            "identity_server": "bound.test", "medium": "email", "address": "bob@example.org"}))
        member = self.ok(self.hs.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(self.bob['user_id'])}",
                                        token=self.alice["access_token"]))
        self.assertEqual(member["membership"], "invite")
        [(method, path, query, headers, _)] = self.bound.calls
        self.assertEqual((method, path), ("GET", "/_matrix/identity/api/v1/lookup"))
        self.assertEqual(query, {"medium": ["email"], "address": ["bob@example.org"]})
        self.assertNotIn("Authorization", headers)

    def test_identity_server_without_v1_and_no_token_is_a_clear_error_and_changes_nothing(self):
        room = self.new_room()
        before = sorted(e["event_id"] for e in self.state(room))
        body = self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
            "identity_server": "nov1.test", "medium": "email", "address": "x@example.org"}), 400, "M_MISSING_PARAM")
        self.assertIn("id_access_token", body["error"])
        self.assertEqual(sorted(e["event_id"] for e in self.state(room)), before)
        self.assertEqual([c[1] for c in self.fake.calls], ["/_matrix/identity/api/v1/lookup"])

    def test_malformed_invite_bodies_are_bad_json_on_every_prefix(self):
        room = self.new_room()
        for prefix in PREFIXES:
            path = f"{prefix}/rooms/{q(room)}/invite"
            for body in ({}, {"user_id": 42}, {"user_id": None}, {"user_id": ["@bob:localhost"]}, {"reason": "hi"}):
                with self.subTest(prefix=prefix, body=body):
                    self.err(self.hs.request("POST", path, body=body, token=self.alice["access_token"]), 400, "M_BAD_JSON")
            self.err(self.hs.request("POST", path, raw=b"{nope", token=self.alice["access_token"]), 400, "M_NOT_JSON")

    def test_body_over_the_limit_always_gets_its_413(self):
        body = b'{"username":"' + b"a" * (3 << 20) + b'"}'
        for attempt in range(20):
            with self.subTest(attempt=attempt):
                conn = http.client.HTTPConnection("127.0.0.1", self.hs.port, timeout=30)
                try:
                    conn.request("POST", "/_matrix/client/v3/register", body=body,
                                 headers={"Content-Type": "application/json"})
                    res = conn.getresponse()
                    payload = json.loads(res.read())
                finally:
                    conn.close()
                self.assertEqual((res.status, payload["errcode"]), (413, "M_TOO_LARGE"), payload)
        self.assertEqual(self.hs.request("GET", "/health")[0], 200)

    def test_onbind_without_invites_is_an_empty_list(self):
        # Sydent's notification for a bind with nothing pending.
        for method in ("POST", "PUT"):
            self.assertEqual(self.ok(self.hs.request(method, "/_matrix/federation/v1/3pid/onbind", body={
                "medium": "email", "address": "n@example.org", "mxid": "@nobody:localhost"})), {})
            self.assertEqual(self.ok(self.hs.request(method, "/_matrix/federation/v1/3pid/onbind",
                                                     body={"medium": "email", "invites": []})), {})
            self.err(self.hs.request(method, "/_matrix/federation/v1/3pid/onbind", body={"invites": "x"}), 400,
                     "M_BAD_JSON")


class ClientChosenIdentityServerTest(MatrixAssertions, unittest.TestCase):
    """Item 5: no trusted_identity_servers; the client names Herald's identity server behind a TLS proxy on
    localhost, trusted through SSL_CERT_FILE; 127.0.0.0/8 is whitelisted on one homeserver and not on the other."""

    @classmethod
    def setUpClass(cls):
        cls.certs = TestCertificates()
        os.environ["SSL_CERT_FILE"] = cls.certs.ca  # inherited by the herald processes
        cls.smtp = SmtpReceiver()
        cls.proxy = TlsProxy(cls.certs)
        cls.id_server = f"localhost:{cls.proxy.port}"
        cls.hs = HeraldServer(extra_yaml='ip_range_whitelist: ["127.0.0.0/8"]\n').start()
        cls.guarded = HeraldServer().start()  # the default blacklist, no whitelist
        cls.is_ = IdentityServer(homeservers={"localhost": f"http://127.0.0.1:{cls.hs.port}"}, smtp_port=cls.smtp.port,
                                 server_name=cls.id_server)
        with open(cls.is_.config_path) as f:
            text = f.read()
        with open(cls.is_.config_path, "w") as f:
            f.write(re.sub(r"public_baseurl: .*", f'public_baseurl: "https://{cls.id_server}/"', text))
        cls.is_.start()
        cls.proxy.target = cls.is_.port
        cls.alice = cls.hs.register("alice")
        cls.alice_is = identity_token(cls.hs, cls.is_, cls.alice)

    @classmethod
    def tearDownClass(cls):
        assert cls.is_.stop() == 0
        assert cls.hs.stop() == 0
        assert cls.guarded.stop() == 0
        for s in (cls.is_, cls.hs, cls.guarded):
            s.cleanup()
        cls.proxy.stop()
        cls.smtp.stop()
        cls.certs.cleanup()
        os.environ.pop("SSL_CERT_FILE", None)

    def room_of(self, hs, login):
        return self.ok(hs.client("POST", "/createRoom", body={"preset": "private_chat", "name": "Tea"},
                                 token=login["access_token"]))["room_id"]

    def state(self, hs, login, room):
        return self.ok(hs.client("GET", f"/rooms/{q(room)}/state", token=login["access_token"]))

    def test_the_proxy_really_speaks_tls_with_the_test_ca(self):
        context = ssl.create_default_context(cafile=self.certs.ca)
        conn = http.client.HTTPSConnection("localhost", self.proxy.port, context=context, timeout=10)
        conn.request("GET", "/_matrix/identity/v2")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

    def test_client_named_identity_server_over_https_invite_bind_and_join(self):
        room = self.room_of(self.hs, self.alice)
        self.ok(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
            "id_server": self.id_server, "id_access_token": self.alice_is, "medium": "email",
            "address": "carol@example.org"}))
        [tpi] = [e for e in self.state(self.hs, self.alice, room) if e["type"] == "m.room.third_party_invite"]
        self.assertEqual(tpi["content"]["display_name"], "car...@exa...")
        self.assertTrue(tpi["content"]["key_validity_url"].startswith(f"https://{self.id_server}/"))
        self.assertIn("has invited you", email_parts(self.smtp.next()["message"])[1])

        # Carol validates the address at the identity server and binds it through the homeserver (HTTPS
        # again); the identity server calls onbind and the homeserver checks the key's validity URL (HTTPS).
        carol = self.hs.register("carol")
        carol_is = identity_token(self.hs, self.is_, carol)
        sid = self.ok(self.is_.v2("POST", "/validate/email/requestToken", token=carol_is,
                                  body={"client_secret": "carolsecret", "email": "carol@example.org", "send_attempt": 1}))["sid"]
        text = email_parts(self.smtp.next()["message"])[1]
        code = re.search(r"enter this code where you were asked for it: (\w+)", text).group(1)
        self.ok(self.is_.v2("POST", "/validate/email/submitToken", token=carol_is,
                            body={"sid": sid, "client_secret": "carolsecret", "token": code}))
        self.ok(self.hs.client("POST", "/account/3pid/bind", token=carol["access_token"], body={
            "client_secret": "carolsecret", "id_server": self.id_server, "id_access_token": carol_is, "sid": sid}))
        import time
        deadline = time.time() + 15
        member = None
        while time.time() < deadline:
            status, _, member = self.hs.client("GET", f"/rooms/{q(room)}/state/m.room.member/{q(carol['user_id'])}",
                                               token=self.alice["access_token"])
            if status == 200:
                break
            time.sleep(0.2)
        self.assertEqual(member["membership"], "invite", member)
        self.assertEqual(member["third_party_invite"]["signed"]["token"], tpi["state_key"])
        self.ok(self.hs.client("POST", f"/rooms/{q(room)}/join", body={}, token=carol["access_token"]))

    def test_seed_body_without_token_over_https(self):
        room = self.room_of(self.hs, self.alice)
        self.ok(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
            "identity_server": self.id_server, "medium": "email", "address": "frank@example.org",
            "display_name": "Frank"}))
        self.smtp.next()
        [tpi] = [e for e in self.state(self.hs, self.alice, room) if e["type"] == "m.room.third_party_invite"]
        self.assertEqual(tpi["content"]["display_name"], "Frank")

    def test_without_the_whitelist_loopback_is_refused_and_the_room_is_unchanged(self):
        bob = self.guarded.register("bob")
        room = self.room_of(self.guarded, bob)
        before = sorted(e["event_id"] for e in self.state(self.guarded, bob, room))
        for body in ({"id_server": self.id_server, "id_access_token": "whatever", "medium": "email",
                      "address": "gina@example.org"},
                     {"identity_server": f"127.0.0.1:{self.proxy.port}", "medium": "email", "address": "gina@example.org"}):
            with self.subTest(body=body):
                error = self.err(self.guarded.client("POST", f"/rooms/{q(room)}/invite", token=bob["access_token"],
                                                     body=body), 400, "M_SERVER_NOT_TRUSTED")
                self.assertIn("ip_range_blacklist", error["error"])
        self.err(self.guarded.client("POST", "/createRoom", token=bob["access_token"], body={
            "invite_3pid": [{"id_server": self.id_server, "medium": "email", "address": "gina@example.org"}]}),
            400, "M_SERVER_NOT_TRUSTED")
        self.assertEqual(sorted(e["event_id"] for e in self.state(self.guarded, bob, room)), before)

    def test_id_server_must_be_a_server_name(self):
        room = self.room_of(self.hs, self.alice)
        for bad in ("evil.test/path", "user@host", "", "http://x"):
            with self.subTest(id_server=bad):
                self.err(self.hs.client("POST", f"/rooms/{q(room)}/invite", token=self.alice["access_token"], body={
                    "id_server": bad, "medium": "email", "address": "x@example.org"}), 400, "M_INVALID_PARAM")


if __name__ == "__main__":
    unittest.main()
