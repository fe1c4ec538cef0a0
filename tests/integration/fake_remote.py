"""Another homeserver, as far as the tests need one: it signs PDUs and requests with its own ed25519 key
(RemoteServer), and publishes that key over HTTPS at /_matrix/key/v2/server (KeyServer), so the server
under test fetches it the way it would fetch any server's keys.

    ca = tls_ca.TestCA(tmp)
    keys = KeyServer(ca.issue("remote", directory=tmp))   # on 127.0.0.1, named "localhost:<port>"
    remote = keys.remote()                                # signs as keys.server_name with the published key
    event_id, pdu = remote.pdu(room_id, "m.room.message", {...}, prev, auth, ts)
    keys.key_fetches()                                    # how many times the key was asked for

The server under test then needs `federation_custom_ca_list: [ca.root_path]` and
`ip_range_whitelist: ["127.0.0.0/8", "::1/128"]`.
"""
import base64
import hashlib
import http.server
import json
import ssl
import threading
import time

import nacl.exceptions
import nacl.signing

KEY_PATH = "/_matrix/key/v2/server"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64(data, url=False):
    enc = base64.urlsafe_b64encode if url else base64.b64encode
    return enc(data).decode().rstrip("=")


def unb64(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def signed_by(obj, server, key_id, verify_key):
    """True when obj carries a valid signature of `server` by `key_id`."""
    sig = obj.get("signatures", {}).get(server, {}).get(key_id)
    if sig is None:
        return False
    bare = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    try:
        verify_key.verify(canonical(bare), unb64(sig))
        return True
    except nacl.exceptions.BadSignatureError:
        return False


# The v11 redaction rules (room version 12 uses them), for the event types the tests send.
KEPT_CONTENT = {
    "m.room.member": ["membership", "join_authorised_via_users_server"],
    "m.room.power_levels": ["ban", "events", "events_default", "invite", "kick", "redact", "state_default", "users",
                            "users_default"],
    "m.room.join_rules": ["join_rule", "allow"],
    "m.room.history_visibility": ["history_visibility"],
}
KEPT_KEYS = ["event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
             "prev_events", "auth_events", "origin_server_ts"]


def redact(pdu):
    out = {k: v for k, v in pdu.items() if k in KEPT_KEYS}
    out["content"] = {k: v for k, v in pdu["content"].items() if k in KEPT_CONTENT.get(pdu["type"], [])}
    return out


class RemoteServer:
    """Signs PDUs and X-Matrix requests as `server_name` with `key` (a nacl SigningKey; a new one when None)."""

    def __init__(self, server_name, key=None, key_id="ed25519:k1"):
        self.server_name = server_name
        self.key = key or nacl.signing.SigningKey.generate()
        self.key_id = key_id

    def user(self, localpart):
        return f"@{localpart}:{self.server_name}"

    def trust_arg(self):
        """For `herald receive-pdus --trust-key`."""
        return f"{self.server_name},{self.key_id},{b64(bytes(self.key.verify_key))}"

    def pdu(self, room_id, type_, content, prev, auth, ts, state_key=None, sender=None):
        pdu = {"type": type_, "room_id": room_id, "sender": sender or self.user("rob"), "content": content,
               "depth": 100, "prev_events": prev, "auth_events": auth, "origin_server_ts": ts}
        if state_key is not None:
            pdu["state_key"] = state_key
        return self.sign_event(pdu)

    def sign_event(self, pdu):
        """Hashes and signs an unsigned PDU (a make_join template filled in); returns (event ID, PDU). Room
        versions 4+ (URL-safe reference-hash IDs), with the v11 redaction rules of redact()."""
        pdu = dict(pdu)
        pdu["hashes"] = {"sha256": b64(hashlib.sha256(canonical(pdu)).digest())}
        signing_input = canonical(redact(pdu))
        pdu["signatures"] = {self.server_name: {self.key_id: b64(self.key.sign(signing_input).signature)}}
        event_id = "$" + b64(hashlib.sha256(signing_input).digest(), url=True)
        return event_id, pdu

    def sign_existing(self, pdu):
        """Adds this server's signature to a PDU signed elsewhere (an invite countersigned), v11 redaction."""
        pdu = dict(pdu)
        redacted = redact(pdu)
        redacted.pop("signatures", None)
        sig = b64(self.key.sign(canonical(redacted)).signature)
        pdu["signatures"] = dict(pdu.get("signatures", {}))
        pdu["signatures"][self.server_name] = {self.key_id: sig}
        return pdu

    def x_matrix(self, method, uri, destination, body):
        """An X-Matrix Authorization header for a request to `destination` (federation.md §4)."""
        request = {"method": method, "uri": uri, "origin": self.server_name, "destination": destination}
        if body is not None:
            request["content"] = body
        sig = b64(self.key.sign(canonical(request)).signature)
        return f'X-Matrix origin="{self.server_name}",destination="{destination}",key="{self.key_id}",sig="{sig}"'


class KeyServer:
    """A TLS server on 127.0.0.1 publishing a self-signed /_matrix/key/v2/server key object for its name,
    `localhost:<port>` (or `127.0.0.1:<port>` with host="127.0.0.1"). `leaf` is a tls_ca.Leaf for that host.
    Counts the TCP connections it accepted (`accepted`) and records (path, Host) of each GET, and the
    path and body of each PUT (a transaction sent to it) in `transactions`."""

    def __init__(self, leaf, host="localhost", key_id="ed25519:k1", signing_key=None):
        self.signing_key = signing_key or nacl.signing.SigningKey.generate()
        self.key_id = key_id
        self.valid_until_ts = None  # None: an hour from now
        self.accepted = 0
        self.requests = []
        self.transactions = []  # (path, body) of each PUT
        # How /v2/invite is answered: "sign" (countersigned with this server's key), "silent" (the
        # connection is closed without an answer), or (status, body) for a refusal.
        self.invite_answer = "sign"
        # How GET make_leave is answered: None (404, as any unknown path), (status, body), or a function
        # of the path giving (status, body). And PUT /v2/send_leave: None (200 {}) or (status, body).
        self.make_leave_answer = None
        self.send_leave_v2_answer = None
        outer = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(leaf.chain_path, leaf.key_path)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.requests.append((self.path, self.headers.get("Host")))
                if "/make_leave/" in self.path and outer.make_leave_answer is not None:
                    answer = outer.make_leave_answer
                    status, reply = answer(self.path) if callable(answer) else answer
                    self.reply(status, json.dumps(reply).encode())
                    return
                if self.path != KEY_PATH:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(outer.key_object()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                # Transactions sent to this server: recorded, and answered as a server that took every PDU.
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:
                    outer.transactions.append((self.path, json.loads(body)))
                except ValueError:
                    pass
                status, reply = 200, b'{"pdus":{}}'
                if "/invite/" in self.path:
                    answer = outer.invite_answer
                    if answer == "silent":
                        self.close_connection = True
                        return
                    if answer == "sign":
                        parsed = json.loads(body)
                        event = parsed["event"] if self.path.startswith("/_matrix/federation/v2/") else parsed
                        event = {k: v for k, v in event.items() if k != "unsigned"}
                        signed = outer.remote().sign_existing(event)
                        status = 200
                        reply = json.dumps({"event": signed} if self.path.startswith("/_matrix/federation/v2/")
                                           else [200, {"event": signed}]).encode()
                    else:
                        status, reply = answer[0], json.dumps(answer[1]).encode()
                if "/send_leave/" in self.path:
                    status, reply = 200, (b"{}" if "/v2/" in self.path else b"[200, {}]")
                    if "/v2/" in self.path and outer.send_leave_v2_answer is not None:
                        status, reply = outer.send_leave_v2_answer[0], json.dumps(outer.send_leave_v2_answer[1]).encode()
                self.reply(status, reply)

            def reply(self, status, reply):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, addr = super().get_request()
                outer.accepted += 1
                return context.wrap_socket(sock, server_side=True), addr

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.server_name = f"{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def remote(self):
        """A RemoteServer signing as this server with the key it publishes."""
        return RemoteServer(self.server_name, self.signing_key, self.key_id)

    def key_fetches(self):
        return sum(1 for path, _ in self.requests if path == KEY_PATH)

    def key_object(self):
        obj = {"server_name": self.server_name,
               "valid_until_ts": self.valid_until_ts or int(time.time() * 1000) + 3600 * 1000,
               "verify_keys": {self.key_id: {"key": b64(bytes(self.signing_key.verify_key))}},
               "old_verify_keys": {}}
        obj["signatures"] = {self.server_name: {self.key_id: b64(self.signing_key.sign(canonical(obj)).signature)}}
        return obj

    def stop(self):
        if self.thread is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread = None


class FakeRemotesFixture:
    """One Herald under test that trusts a throwaway CA and may reach loopback, beside fake remote key
    servers whose certificates that CA issued. Mix into a TestCase and call from setUpClass/tearDownClass."""

    @classmethod
    def start_fake_remotes(cls, prefix, extra_yaml=""):
        import shutil
        import tempfile
        from harness import HeraldServer
        from tls_ca import TestCA
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.ca = TestCA(cls.tmp)
        cls.leaf = cls.ca.issue("remotes")
        cls.key_servers = []
        cls.hs = None
        try:
            cls.before_herald()
            yaml = (f"federation_custom_ca_list: [{json.dumps(cls.ca.root_path)}]\n"
                    'ip_range_whitelist: ["127.0.0.0/8", "::1/128"]\n' + extra_yaml)
            cls.hs = HeraldServer(extra_yaml=yaml).start()
        except BaseException:
            cls.stop_fake_remotes()
            raise

    @classmethod
    def before_herald(cls):
        """Start the key servers the test needs (with cls.key_server())."""

    @classmethod
    def stop_fake_remotes(cls):
        import shutil
        if getattr(cls, "hs", None):
            cls.hs.stop()
            cls.hs.cleanup()
        for key_server in getattr(cls, "key_servers", []):
            key_server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def key_server(cls):
        server = KeyServer(cls.leaf)
        cls.key_servers.append(server)
        return server
