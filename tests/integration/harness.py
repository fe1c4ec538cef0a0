"""Starts the real `herald` binary with a generated config in a temp dir and speaks HTTP to it.

Each server gets its own directory and a free port (port 0 + --port-file), so tests run in parallel.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

HERALD_BIN = os.environ.get("HERALD_BIN") or os.path.join(os.path.dirname(__file__), "../../build/herald")


def yaml_value(v):
    return json.dumps(v)  # JSON is YAML


def q(s):
    """`s` as one URL path segment."""
    return urllib.parse.quote(s, safe="")


def b64(data):
    """Unpadded standard base64, as Matrix writes keys and signatures."""
    return base64.b64encode(data).decode().rstrip("=")


def canonical(obj):
    """Matrix canonical JSON, as bytes (what gets signed and hashed)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _exchange(conn, method, path, body=None, raw=None, headers=None, query=None, token=None):
    """One request on `conn` (HTTP or HTTPS): (status, lower-cased headers, parsed JSON or text)."""
    if query:
        path += "?" + urllib.parse.urlencode(query, doseq=True)
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    if token:
        h["Authorization"] = "Bearer " + token
    conn.request(method, path, body=data, headers=h)
    resp = conn.getresponse()
    payload = resp.read()
    ctype = resp.getheader("Content-Type") or ""
    parsed = json.loads(payload) if "json" in ctype and payload else payload.decode(errors="replace")
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed


class HeraldServer:
    subcommand = "homeserver"

    def __init__(self, server_name="localhost", rate_limits_enabled=False, extra_yaml="", rate_limits_yaml="",
                 metrics_listener=False, command_prefix=None, listeners_yaml=None):
        """`listeners_yaml`: YAML list items replacing the default listener (one plain [client, federation])."""
        self.dir = tempfile.mkdtemp(prefix="herald-it-")
        self.server_name = server_name
        self.config_path = os.path.join(self.dir, "homeserver.yaml")
        self.port_file = os.path.join(self.dir, "ports")
        self.log_path = os.path.join(self.dir, "herald.log")
        with open(self.config_path, "w") as f:
            f.write(f"""server_name: {yaml_value(server_name)}
public_baseurl: "http://127.0.0.1/"
listeners:
{listeners_yaml or "  - {bind_address: 127.0.0.1, port: 0, tls: false, resources: [client, federation]}"}
{"  - {bind_address: 127.0.0.1, port: 0, resources: [metrics]}" if metrics_listener else ""}
database: {{backend: sqlite, path: {yaml_value(os.path.join(self.dir, "homeserver.db"))}}}
signing_key_path: {yaml_value(os.path.join(self.dir, "signing.key"))}
registration: {{enabled: true}}
rate_limits:
  enabled: {"true" if rate_limits_enabled else "false"}
{rate_limits_yaml}
log_level: info
{extra_yaml}
""")
        self.proc = None
        self.port = None
        self.command_prefix = command_prefix or []

    def start(self, timeout=20):
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*getattr(self, "command_prefix", []), HERALD_BIN, self.subcommand, "--config", self.config_path, "--port-file",
                                      self.port_file], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"herald exited with {self.proc.returncode}: {self.read_log()}")
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    ports = [int(p) for p in f.read().split()]
                self.port = ports[0]
                self.other_ports = ports[1:]
                return self
            time.sleep(0.02)
        raise RuntimeError("herald did not start: " + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        code = self.proc.returncode if self.proc else None
        if self.log:
            self.log.close()
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # HTTP ------------------------------------------------------------------------------------------

    def request(self, method, path, body=None, token=None, raw=None, headers=None, query=None, timeout=30,
                source=None, port=None):
        """Returns (status, headers, parsed JSON or text). `source`: another loopback address to come from;
        `port`: another of the server's listeners."""
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            return _exchange(conn, method, path, body=body, raw=raw, headers=headers, query=query, token=token)
        finally:
            conn.close()

    def client(self, method, path, **kw):
        return self.request(method, "/_matrix/client/v3" + path, **kw)

    def register(self, username, password="password123", **extra):
        body = {"username": username, "password": password, "auth": {"type": "m.login.dummy"}}
        body.update(extra)
        status, _, data = self.client("POST", "/register", body=body)
        assert status == 200, (status, data)
        return data

    def login(self, username, password="password123", prefix="/_matrix/client/v3", **extra):
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": username},
                "password": password}
        body.update(extra)
        return self.request("POST", prefix + "/login", body=body)


def raw_exchange(port, data, timeout=5):
    """Sends raw bytes on a fresh socket and returns what comes back until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        s.close()


class IdentityServer(HeraldServer):
    """`herald identity` with its own temp dir; `homeservers` maps server names to base URLs."""
    subcommand = "identity"

    def __init__(self, homeservers=None, smtp_port=None, server_name="127.0.0.1:8090", rate_limits_enabled=False,
                 extra_yaml="", port=0):
        self.dir = tempfile.mkdtemp(prefix="herald-is-")
        self.server_name = server_name
        self.config_path = os.path.join(self.dir, "identity.yaml")
        self.port_file = os.path.join(self.dir, "ports")
        self.log_path = os.path.join(self.dir, "identity.log")
        self.outbox = os.path.join(self.dir, "outbox")
        email = ""
        if smtp_port:
            email = f'email: {{smtp_url: "smtp://127.0.0.1:{smtp_port}", from: "Herald Identity <noreply@is.test>", ' \
                    f'web_client_location: "https://app.element.test"}}'
        with open(self.config_path, "w") as f:
            f.write(f"""server_name: {yaml_value(server_name)}
public_baseurl: "http://127.0.0.1:{port}/"
listeners:
  - {{bind_address: 127.0.0.1, port: {port}, resources: [identity]}}
database: {{backend: sqlite, path: {yaml_value(os.path.join(self.dir, "identity.db"))}}}
signing_key_path: {yaml_value(os.path.join(self.dir, "identity.key"))}
outbox_dir: {yaml_value(self.outbox)}
homeservers: {yaml_value(homeservers or {})}
rate_limits: {{enabled: {"true" if rate_limits_enabled else "false"}}}
{email}
log_level: info
{extra_yaml}
""")
        self.proc = None
        self.port = None
        self.log = None

    def v2(self, method, path, **kw):
        return self.request(method, "/_matrix/identity/v2" + path, **kw)

    def v1(self, method, path, **kw):
        return self.request(method, "/_matrix/identity/api/v1" + path, **kw)


class SmtpReceiver:
    """A real SMTP server (Debian's python3-aiosmtpd) on a free port that keeps every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller
        import email
        import email.policy
        import queue
        self.messages = queue.Queue()
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.endswith("@bounce.test"):
                    return "550 5.1.1 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                receiver.messages.put({"from": envelope.mail_from, "to": envelope.rcpt_tos, "message": msg,
                                       "raw": envelope.content})
                return "250 Message accepted"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    def next(self, timeout=10):
        return self.messages.get(timeout=timeout)

    def stop(self):
        self.controller.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RecordingHomeserver:
    """Stands in for a homeserver at /_matrix/federation/v1/3pid/onbind: records each call and answers with
    `status` (settable, to make the identity server retry)."""

    def __init__(self):
        import http.server
        import queue
        self.calls = queue.Queue()
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.calls.put({"method": "POST", "path": self.path, "body": json.loads(body or b"{}")})
                status = outer.status
                payload = b"{}" if status == 200 else b'{"errcode":"M_UNKNOWN","error":"try later"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        import threading
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next_call(self, timeout=15):
        return self.calls.get(timeout=timeout)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class MatrixAssertions:
    """unittest mixin: a 200 answer's body, or a Matrix error with the status, errcode and a message."""

    def ok(self, result):
        status, _, body = result
        self.assertEqual(status, 200, body)
        return body

    def err(self, result, status, errcode):
        got, _, body = result
        self.assertEqual((got, body.get("errcode") if isinstance(body, dict) else body), (status, errcode), body)
        self.assertTrue(body.get("error"))
        return body


class UsersOnOneServer(MatrixAssertions, unittest.TestCase):
    """A test class with one server and registered users (`user_names`); call(who, ...) speaks as one."""
    user_names = ["alice", "bob", "carol"]

    @classmethod
    def setUpClass(cls):
        cls.hs = HeraldServer().start()
        cls.users = {name: cls.hs.register(name)["access_token"] for name in cls.user_names}

    @classmethod
    def tearDownClass(cls):
        assert cls.hs.stop() == 0
        cls.hs.cleanup()

    def call(self, who, method, path, prefix="/_matrix/client/v3", **kw):
        return self.hs.request(method, prefix + path, token=self.users[who], **kw)

    def create(self, who="alice", **body):
        return self.ok(self.call(who, "POST", "/createRoom", body=body))["room_id"]

    def send(self, who, room, text, **extra):
        content = {"msgtype": "m.text", "body": text}
        content.update(extra)
        path = f"/rooms/{urllib.parse.quote(room, safe='')}/send/m.room.message"
        return self.ok(self.call(who, "POST", path, body=content))["event_id"]

    def uid(self, name):
        return f"@{name}:{self.hs.server_name}"


def in_background(fn):
    """Starts fn() on a thread; join(timeout) waits and returns its result (re-raising its exception)."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: B902 - handed to the joining test
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()

    class Handle:
        def join(self, timeout=15):
            thread.join(timeout)
            if thread.is_alive():
                raise AssertionError("background call did not finish")
            if "error" in result:
                raise result["error"]
            return result["value"]

    return Handle()


def identity_token(hs, identity, login):
    """An identity-server token for a homeserver user, through OpenID as clients get one."""
    status, _, openid = hs.client("POST", f"/user/{urllib.parse.quote(login['user_id'], safe='')}/openid/request_token",
                                  body={}, token=login["access_token"])
    assert status == 200, openid
    status, _, body = identity.v2("POST", "/account/register", body=openid)
    assert status == 200, body
    return body["token"]


def email_parts(message):
    """(subject, text, html) of an email.message.EmailMessage."""
    text = html_part = None
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_content()
        elif part.get_content_type() == "text/html":
            html_part = part.get_content()
    return message["Subject"], text, html_part


# Federation over TLS -------------------------------------------------------------------------------------

class FederationServer(HeraldServer):
    """A homeserver with a plain client listener (`port`) and a TLS federation listener (`federation_port`),
    named `localhost:<federation_port>`, its certificate issued by `ca` (a tls_ca.TestCA) for localhost,
    127.0.0.1 and ::1, trusting that CA for federation, with loopback exempt from the IP blacklist.

    The federation port is picked before start (the server name carries it), so use
    start_federation_servers(), which retries when another process took the port in the meantime."""

    def __init__(self, ca, name="hs", extra_yaml="", **kw):
        self.ca = ca
        self.federation_port = free_port()
        # The fixed federation port is bound first: on a restart the client listener's ephemeral port could
        # otherwise be handed exactly that port (free while the server was down).
        super().__init__(server_name=f"localhost:{self.federation_port}", extra_yaml="", listeners_yaml=(
            f"  - {{bind_address: 127.0.0.1, port: {self.federation_port}, tls: true, resources: [federation]}}\n"
            "  - {bind_address: 127.0.0.1, port: 0, tls: false, resources: [client]}"), **kw)
        self.leaf = ca.issue(name, directory=self.dir)
        with open(self.config_path, "a") as f:
            f.write(f"""
tls_certificate_path: {yaml_value(self.leaf.chain_path)}
tls_private_key_path: {yaml_value(self.leaf.key_path)}
federation_verify_certificates: true
federation_custom_ca_list: [{yaml_value(ca.root_path)}]
ip_range_whitelist: ["127.0.0.0/8", "::1/128"]
{extra_yaml}
""")

    def start(self, timeout=20):
        super().start(timeout)
        # The port file lists listeners in order: federation, client, then any others (metrics).
        ports = [self.port] + self.other_ports
        assert ports[0] == self.federation_port, ports
        self.port = ports[1]
        self.other_ports = [ports[0]] + ports[2:]
        return self

    def renew_certificate(self):
        """Issues a new certificate over the files the server reads (then send SIGHUP); returns its Leaf."""
        self.leaf = self.ca.issue(os.path.splitext(os.path.basename(self.leaf.key_path))[0], directory=self.dir)
        return self.leaf

    def https_connection(self, timeout=30, context=None, host="localhost"):
        """An HTTPSConnection to the federation listener, verified against the test CA for `host` (the
        connection goes to 127.0.0.1 whatever `host` is, so "localhost" never tries ::1)."""
        return _LoopbackHTTPSConnection(host, self.federation_port, timeout=timeout,
                                        context=context or self.ca.client_context())

    def federation_request(self, method, path, body=None, headers=None, query=None, timeout=30, conn=None):
        """Like request(), over TLS to the federation listener. `conn`: reuse an https_connection()."""
        own = conn is None
        conn = conn or self.https_connection(timeout)
        try:
            return _exchange(conn, method, path, body=body, headers=headers, query=query)
        finally:
            if own:
                conn.close()

    def peer_certificate(self, timeout=10):
        """The DER certificate a new TLS connection to the federation listener is given (verified)."""
        import ssl
        ctx = self.ca.client_context()
        with socket.create_connection(("127.0.0.1", self.federation_port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True)


class _LoopbackHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, context, timeout):
        super().__init__(host, port, timeout=timeout, context=context)
        self._tls_context = context

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._tls_context.wrap_socket(raw, server_hostname=self.host)


def start_federation_servers(ca, count=2, extra_yaml=None, **kw):
    """Starts `count` FederationServers (hs1, hs2, ...) sharing the test CA. extra_yaml: one string for all,
    or a list with one per server. Returns them started; the caller stops and cleans them up."""
    servers = []
    try:
        for i in range(count):
            extra = extra_yaml[i] if isinstance(extra_yaml, list) else (extra_yaml or "")
            for attempt in range(5):
                server = FederationServer(ca, name=f"hs{i + 1}", extra_yaml=extra, **kw)
                try:
                    servers.append(server.start())
                    break
                except RuntimeError as e:
                    server.cleanup()
                    if "in use" not in str(e) or attempt == 4:
                        raise
        return servers
    except BaseException:
        for server in servers:
            server.cleanup()
        raise
