"""Starts the real `herald` binary with a generated config in a temp dir and speaks HTTP to it.

Each server gets its own directory and a free port (port 0 + --port-file), so tests run in parallel.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

HERALD_BIN = os.environ.get("HERALD_BIN") or os.path.join(os.path.dirname(__file__), "../../build/herald")


def yaml_value(v):
    return json.dumps(v)  # JSON is YAML


class HeraldServer:
    def __init__(self, server_name="localhost", rate_limits_enabled=False, extra_yaml="", rate_limits_yaml=""):
        self.dir = tempfile.mkdtemp(prefix="herald-it-")
        self.server_name = server_name
        self.config_path = os.path.join(self.dir, "homeserver.yaml")
        self.port_file = os.path.join(self.dir, "ports")
        self.log_path = os.path.join(self.dir, "herald.log")
        with open(self.config_path, "w") as f:
            f.write(f"""server_name: {yaml_value(server_name)}
public_baseurl: "http://127.0.0.1/"
listeners:
  - {{bind_address: 127.0.0.1, port: 0, tls: false, resources: [client, federation]}}
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

    def start(self, timeout=20):
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HERALD_BIN, "homeserver", "--config", self.config_path, "--port-file",
                                      self.port_file], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"herald exited with {self.proc.returncode}: {self.read_log()}")
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read().split()[0])
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

    def request(self, method, path, body=None, token=None, raw=None, headers=None, query=None, timeout=30):
        """Returns (status, headers, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
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
