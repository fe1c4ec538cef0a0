"""Issue 14: TLS listeners for federation. Two homeservers on loopback, each with a plain client listener and a
TLS federation listener (server name localhost:<port>), certificates from a test CA made here."""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import nacl.signing

from harness import HERALD_BIN, HeraldServer, MatrixAssertions, raw_exchange, start_federation_servers
from tls_ca import TestCA

# A key this server used before a rotation, published under old_verify_keys.
OLD_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OLD_EXPIRED_TS = 1700000000000


def unpadded_b64decode(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class TwoServersOverTls(MatrixAssertions, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-ca-")
        cls.ca = TestCA(os.path.join(cls.tmp, "ca"))
        old_keys = f'old_signing_keys: {{"ed25519:old_1": {{key: "{OLD_KEY}", expired_ts: {OLD_EXPIRED_TS}}}}}'
        cls.hs1, cls.hs2 = start_federation_servers(cls.ca, extra_yaml=["serve_server_wellknown: true", old_keys])

    @classmethod
    def tearDownClass(cls):
        codes = [s.stop() for s in (cls.hs1, cls.hs2)]
        for s in (cls.hs1, cls.hs2):
            s.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert codes == [0, 0], codes

    def test_server_names_carry_the_federation_port(self):
        for hs in (self.hs1, self.hs2):
            self.assertEqual(hs.server_name, f"localhost:{hs.federation_port}")
            self.assertNotEqual(hs.port, hs.federation_port)

    def test_key_server_over_verified_tls(self):
        for hs in (self.hs1, self.hs2):
            body = self.ok(hs.federation_request("GET", "/_matrix/key/v2/server"))
            self.assertEqual(body["server_name"], hs.server_name)
            self.assertGreater(body["valid_until_ts"], time.time() * 1000)
            (key_id, key), = body["verify_keys"].items()
            self.assertTrue(key_id.startswith("ed25519:"))
            # Self-signed with that key, over the canonical JSON without signatures.
            signature = body["signatures"][hs.server_name][key_id]
            unsigned = {k: v for k, v in body.items() if k not in ("signatures", "unsigned")}
            nacl.signing.VerifyKey(unpadded_b64decode(key["key"])).verify(canonical(unsigned),
                                                                          unpadded_b64decode(signature))
            # The same through the key-id form of the path.
            self.assertEqual(self.ok(hs.federation_request("GET", f"/_matrix/key/v2/server/{key_id}"))["verify_keys"],
                             body["verify_keys"])

    def test_version_over_verified_tls(self):
        for hs in (self.hs1, self.hs2):
            status, headers, body = hs.federation_request("GET", "/_matrix/federation/v1/version")
            self.assertEqual(status, 200, body)
            self.assertIn("application/json", headers["content-type"])
            self.assertEqual(body["server"]["name"], "Herald")
            self.assertTrue(body["server"]["version"])

    def test_certificate_verifies_by_ip_address_too(self):
        conn = self.hs1.https_connection(host="127.0.0.1")
        status, _, _ = self.hs1.federation_request("GET", "/_matrix/federation/v1/version", conn=conn)
        conn.close()
        self.assertEqual(status, 200)

    def test_presented_chain_is_the_configured_one(self):
        self.assertEqual(hashlib.sha256(self.hs1.peer_certificate()).hexdigest(), self.hs1.leaf.fingerprint)
        self.assertEqual(hashlib.sha256(self.hs2.peer_certificate()).hexdigest(), self.hs2.leaf.fingerprint)

    def test_keep_alive_over_tls(self):
        conn = self.hs1.https_connection()
        try:
            first = self.hs1.federation_request("GET", "/_matrix/federation/v1/version", conn=conn)
            sock = conn.sock
            local = sock.getsockname()
            second = self.hs1.federation_request("GET", "/_matrix/key/v2/server", conn=conn)
            self.assertEqual((first[0], second[0]), (200, 200))
            self.assertIs(conn.sock, sock)  # http.client reconnects (new socket) if the server closed
            self.assertEqual(conn.sock.getsockname(), local)
            third = self.hs1.federation_request("GET", "/_matrix/federation/v1/version", conn=conn)
            self.assertEqual(third[0], 200)
            self.assertIs(conn.sock, sock)
        finally:
            conn.close()

    def test_tls_1_2_and_1_3(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ctx = self.ca.client_context(minimum=version, maximum=version)
            with socket.create_connection(("127.0.0.1", self.hs1.federation_port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                                     ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version])

    def test_other_ca_is_not_trusted(self):
        other = TestCA(os.path.join(self.tmp, "other-ca"), name="Someone Else")
        conn = self.hs1.https_connection(context=other.client_context())
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.hs1.federation_request("GET", "/_matrix/federation/v1/version", conn=conn)
        conn.close()

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        reply = raw_exchange(self.hs1.federation_port,
                             b"GET /_matrix/federation/v1/version HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), reply)
        self.assertIn(b"connection: close", head.lower())
        self.assertEqual(json.loads(body)["errcode"], "M_UNKNOWN")
        self.assertIn("HTTPS", json.loads(body)["error"])
        # Garbage that is neither TLS nor HTTP gets closed too, and the listener keeps serving TLS.
        raw_exchange(self.hs1.federation_port, b"\x00\x01\x02\x03" * 8)
        self.assertEqual(self.hs1.federation_request("GET", "/_matrix/federation/v1/version")[0], 200)

    def test_tls_client_to_the_plain_client_port_fails(self):
        with socket.create_connection(("127.0.0.1", self.hs1.port), timeout=10) as raw:
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                self.ca.client_context().wrap_socket(raw, server_hostname="localhost")

    def test_federation_endpoints_only_on_federation_listeners(self):
        # hs1's plain listener serves [client] only.
        self.err(self.hs1.request("GET", "/_matrix/key/v2/server"), 404, "M_UNRECOGNIZED")
        self.err(self.hs1.request("GET", "/_matrix/federation/v1/version"), 404, "M_UNRECOGNIZED")
        self.ok(self.hs1.request("GET", "/_matrix/client/versions"))

    def test_old_verify_keys(self):
        self.assertEqual(self.ok(self.hs1.federation_request("GET", "/_matrix/key/v2/server"))["old_verify_keys"], {})
        body = self.ok(self.hs2.federation_request("GET", "/_matrix/key/v2/server"))
        self.assertEqual(body["old_verify_keys"], {"ed25519:old_1": {"key": OLD_KEY, "expired_ts": OLD_EXPIRED_TS}})
        self.assertNotIn("ed25519:old_1", body["verify_keys"])
        # Signed over too.
        (key_id, key), = body["verify_keys"].items()
        unsigned = {k: v for k, v in body.items() if k not in ("signatures", "unsigned")}
        nacl.signing.VerifyKey(unpadded_b64decode(key["key"])).verify(
            canonical(unsigned), unpadded_b64decode(body["signatures"][self.hs2.server_name][key_id]))

    def test_server_well_known_when_configured(self):
        # Synapse's serve_server_wellknown: the server name with its port (443 when it has none).
        for get in (self.hs1.request, self.hs1.federation_request):
            status, headers, body = get("GET", "/.well-known/matrix/server")
            self.assertEqual((status, body), (200, {"m.server": self.hs1.server_name}))
            self.assertEqual(headers.get("access-control-allow-origin"), "*")
        self.err(self.hs2.request("GET", "/.well-known/matrix/server"), 404, "M_NOT_FOUND")

    def test_client_api_on_the_plain_listener(self):
        login = self.hs1.register("alice")
        self.assertEqual(login["user_id"], f"@alice:{self.hs1.server_name}")


class CertificateReload(MatrixAssertions, unittest.TestCase):
    """SIGHUP reads the certificate again: new connections get the new one, open ones keep theirs, and a
    certificate that does not load is logged while the one in use stays."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="herald-ca-")
        self.ca = TestCA(os.path.join(self.tmp, "ca"))
        self.hs, = start_federation_servers(self.ca, count=1)

    def tearDown(self):
        code = self.hs.stop()
        self.hs.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(code, 0)

    def presented(self):
        return hashlib.sha256(self.hs.peer_certificate()).hexdigest()

    def wait_for_certificate(self, fingerprint, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.presented() == fingerprint:
                return
            time.sleep(0.05)
        self.fail(f"the server still presents {self.presented()}, not {fingerprint}")

    def wait_for_log(self, text, timeout=10):
        deadline = time.time() + timeout
        while text not in self.hs.read_log():
            if time.time() > deadline:
                self.fail(f"{text!r} not logged: {self.hs.read_log()}")
            time.sleep(0.05)

    def test_sighup_swaps_the_certificate(self):
        first = self.hs.leaf
        self.assertEqual(self.presented(), first.fingerprint)
        kept = self.hs.https_connection()
        self.assertEqual(self.hs.federation_request("GET", "/_matrix/federation/v1/version", conn=kept)[0], 200)
        old_sock = kept.sock

        second = self.hs.renew_certificate()
        self.assertNotEqual(second.serial, first.serial)
        self.hs.proc.send_signal(signal.SIGHUP)
        self.wait_for_certificate(second.fingerprint)
        self.assertIsNone(self.hs.proc.poll())
        # The serial as OpenSSL writes it: hex of whole bytes (a leading 0 when the top nibble is empty).
        serial = f"{second.serial:X}"
        serial = "0" * (len(serial) % 2) + serial
        self.wait_for_log(f"tls certificate reloaded subject=/CN=hs1 serial={serial}")
        # The connection opened before the reload goes on, with its certificate.
        self.assertEqual(self.hs.federation_request("GET", "/_matrix/key/v2/server", conn=kept)[0], 200)
        self.assertIs(kept.sock, old_sock)
        self.assertEqual(hashlib.sha256(kept.sock.getpeercert(binary_form=True)).hexdigest(), first.fingerprint)
        kept.close()
        self.assertEqual(self.hs.federation_request("GET", "/_matrix/federation/v1/version")[0], 200)

        # A broken certificate file: logged, the second certificate stays in use.
        with open(second.chain_path, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        self.hs.proc.send_signal(signal.SIGHUP)
        self.wait_for_log("tls certificate reload failed")
        self.assertIn(second.chain_path, self.hs.read_log())
        self.assertEqual(self.presented(), second.fingerprint)
        self.assertEqual(self.hs.federation_request("GET", "/_matrix/federation/v1/version")[0], 200)
        self.assertIsNone(self.hs.proc.poll())

        # A key that does not belong to the certificate is refused the same way.
        third = self.hs.renew_certificate()
        other = self.ca.issue("unrelated")
        shutil.copy(other.key_path, third.key_path)
        self.hs.proc.send_signal(signal.SIGHUP)
        self.wait_for_log("does not belong to the certificate")
        self.assertEqual(self.presented(), second.fingerprint)


class TlsLimits(MatrixAssertions, unittest.TestCase):
    """The plain listeners' limits hold under TLS: body limit, read timeout, handshake timeout, shutdown."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="herald-ca-")
        cls.ca = TestCA(os.path.join(cls.tmp, "ca"))
        cls.hs, = start_federation_servers(cls.ca, count=1, extra_yaml="request_read_timeout_seconds: 2")

    @classmethod
    def tearDownClass(cls):
        code = cls.hs.stop()
        cls.hs.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, code

    def test_body_limit_over_tls(self):
        conn = self.hs.https_connection()
        try:
            conn.request("POST", "/_matrix/federation/v1/version", body=b"x" * 70000,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 413)
            self.assertEqual(json.loads(resp.read())["errcode"], "M_TOO_LARGE")
        finally:
            conn.close()
        self.assertEqual(self.hs.federation_request("GET", "/_matrix/federation/v1/version")[0], 200)

    def test_silent_client_is_closed_after_the_handshake_timeout(self):
        started = time.time()
        with socket.create_connection(("127.0.0.1", self.hs.federation_port), timeout=15) as raw:
            self.assertEqual(raw.recv(100), b"")  # closed without a word
        self.assertLess(time.time() - started, 6)

    def test_idle_tls_connection_is_closed_after_the_read_timeout(self):
        conn = self.hs.https_connection(timeout=15)
        try:
            self.assertEqual(self.hs.federation_request("GET", "/_matrix/federation/v1/version", conn=conn)[0], 200)
            started = time.time()
            self.assertIn(conn.sock.recv(100), (b"",))
            self.assertLess(time.time() - started, 6)
        except (ssl.SSLError, ConnectionError):
            pass  # closed without close_notify: also closed
        finally:
            conn.close()


class StartupChecks(unittest.TestCase):
    """A TLS listener without a usable certificate stops start-up with a message naming the key and file."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="herald-ca-")
        self.ca = TestCA(os.path.join(self.tmp, "ca"))
        self.leaf = self.ca.issue("hs", directory=self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_with(self, tls_yaml):
        config = os.path.join(self.tmp, "homeserver.yaml")
        with open(config, "w") as f:
            f.write(f"""server_name: "localhost:8448"
listeners:
  - {{bind_address: 127.0.0.1, port: 0, tls: false, resources: [client]}}
  - {{bind_address: 127.0.0.1, port: 0, tls: true, resources: [federation]}}
database: {{backend: sqlite, path: {json.dumps(os.path.join(self.tmp, "hs.db"))}}}
signing_key_path: {json.dumps(os.path.join(self.tmp, "signing.key"))}
{tls_yaml}
""")
        result = subprocess.run([HERALD_BIN, "homeserver", "--config", config], capture_output=True, text=True,
                                timeout=30)
        return result.returncode, result.stdout + result.stderr

    def test_no_certificate_names_the_key(self):
        code, output = self.run_with(f"tls_private_key_path: {json.dumps(self.leaf.key_path)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("tls_certificate_path", output)
        self.assertIn("listeners[1].tls", output)

    def test_no_key_names_the_key(self):
        code, output = self.run_with(f"tls_certificate_path: {json.dumps(self.leaf.chain_path)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("tls_private_key_path", output)

    def test_missing_certificate_file_names_the_file(self):
        missing = os.path.join(self.tmp, "nowhere.pem")
        code, output = self.run_with(f"tls_certificate_path: {json.dumps(missing)}\n"
                                     f"tls_private_key_path: {json.dumps(self.leaf.key_path)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("tls_certificate_path", output)
        self.assertIn(missing, output)

    def test_invalid_pem_names_the_file(self):
        bad = os.path.join(self.tmp, "bad.pem")
        with open(bad, "w") as f:
            f.write("this is not a certificate\n")
        code, output = self.run_with(f"tls_certificate_path: {json.dumps(bad)}\n"
                                     f"tls_private_key_path: {json.dumps(self.leaf.key_path)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("tls_certificate_path", output)
        self.assertIn(bad, output)
        code, output = self.run_with(f"tls_certificate_path: {json.dumps(self.leaf.chain_path)}\n"
                                     f"tls_private_key_path: {json.dumps(bad)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("tls_private_key_path", output)
        self.assertIn(bad, output)

    def test_mismatched_key_names_both_files(self):
        other = self.ca.issue("other", directory=self.tmp)
        code, output = self.run_with(f"tls_certificate_path: {json.dumps(self.leaf.chain_path)}\n"
                                     f"tls_private_key_path: {json.dumps(other.key_path)}")
        self.assertNotEqual(code, 0, output)
        self.assertIn("does not belong", output)
        self.assertIn(other.key_path, output)


class DevKeepsWorkingWithoutTls(unittest.TestCase):
    def test_default_single_listener_serves_both(self):
        hs = HeraldServer().start()
        try:
            self.assertEqual(hs.request("GET", "/_matrix/federation/v1/version")[0], 200)
            self.assertEqual(hs.request("GET", "/_matrix/key/v2/server")[0], 200)
        finally:
            self.assertEqual(hs.stop(), 0)
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
