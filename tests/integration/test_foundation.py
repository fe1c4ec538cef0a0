"""Issue 2: the binary, accounts and spec-exact HTTP errors, through HTTP as a client sees them."""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import HERALD_BIN, HeraldServer, raw_exchange


class FoundationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hs = HeraldServer(extra_yaml="request_read_timeout_seconds: 2\nmax_request_body_bytes: 65536").start()

    @classmethod
    def tearDownClass(cls):
        code = cls.hs.stop()
        cls.hs.cleanup()
        assert code == 0, code

    def assertError(self, result, status, errcode):
        got_status, headers, body = result
        self.assertEqual(got_status, status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body.get("errcode"), errcode, body)
        self.assertIsInstance(body.get("error"), str)
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        self.assertIn("application/json", headers.get("content-type", ""))

    # Discovery --------------------------------------------------------------------------------------

    def test_versions_and_well_known(self):
        status, headers, body = self.hs.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
        self.assertIn("v1.1", body["versions"])
        self.assertIn("r0.6.1", body["versions"])
        self.assertEqual(headers["access-control-allow-origin"], "*")
        status, _, body = self.hs.request("GET", "/.well-known/matrix/client")
        self.assertEqual(status, 200)
        self.assertEqual(body["m.homeserver"]["base_url"], "http://127.0.0.1/")

    def test_options_preflight_answers_any_path(self):
        for path in ["/_matrix/client/v3/login", "/_matrix/client/v3/rooms/!x:y/invite", "/nowhere"]:
            status, headers, _ = self.hs.request("OPTIONS", path, headers={
                "Origin": "http://app.example", "Access-Control-Request-Method": "POST"})
            self.assertEqual(status, 204)
            self.assertEqual(headers["access-control-allow-origin"], "*")
            self.assertIn("POST", headers["access-control-allow-methods"])
            self.assertIn("Authorization", headers["access-control-allow-headers"])
            self.assertIn("Content-Type", headers["access-control-allow-headers"])

    def test_capabilities_lists_room_versions(self):
        user = self.hs.register("capuser")
        status, _, body = self.hs.client("GET", "/capabilities", token=user["access_token"])
        self.assertEqual(status, 200)
        versions = body["capabilities"]["m.room_versions"]
        self.assertEqual(versions["default"], "12")
        self.assertEqual(sorted(versions["available"], key=int), [str(v) for v in range(1, 13)])
        self.assertError(self.hs.client("GET", "/capabilities"), 401, "M_MISSING_TOKEN")

    def test_health_and_metrics(self):
        status, _, body = self.hs.request("GET", "/health")
        self.assertEqual((status, body), (200, "OK"))
        # /metrics is not on the client port (issue 12): only on a listener with the metrics resource.
        self.assertError(self.hs.request("GET", "/metrics"), 404, "M_UNRECOGNIZED")
        hs = HeraldServer(metrics_listener=True).start()
        self.addCleanup(hs.cleanup)
        self.addCleanup(hs.stop)
        hs.request("GET", "/_matrix/client/versions")
        self.assertEqual(hs.request("GET", "/metrics")[0], 404)
        status, headers, body = hs.request("GET", "/metrics", port=hs.other_ports[0])
        self.assertEqual(status, 200)
        self.assertIn('herald_http_requests_total{route="/_matrix/client/versions",method="GET",status="200"}', body)
        self.assertIn("herald_http_request_duration_seconds_bucket", body)
        self.assertIn("herald_http_open_connections", body)

    # Registration -----------------------------------------------------------------------------------

    def test_register_user_interactive_auth(self):
        status, _, body = self.hs.client("POST", "/register", body={"username": "uia", "password": "pw"})
        self.assertEqual(status, 401)
        self.assertEqual(body["flows"], [{"stages": ["m.login.dummy"]}])
        self.assertIn("session", body)
        self.assertEqual(body["params"], {})
        status, _, done = self.hs.client("POST", "/register", body={
            "username": "uia", "password": "pw", "auth": {"type": "m.login.dummy", "session": body["session"]}})
        self.assertEqual(status, 200, done)
        self.assertEqual(done["user_id"], "@uia:localhost")
        self.assertTrue(done["access_token"])
        self.assertTrue(done["device_id"])
        status, _, who = self.hs.client("GET", "/account/whoami", token=done["access_token"])
        self.assertEqual(who, {"user_id": "@uia:localhost", "device_id": done["device_id"], "is_guest": False})

    def test_register_errors(self):
        self.hs.register("taken")
        self.assertError(self.hs.client("POST", "/register", body={"username": "taken", "password": "x"}),
                         400, "M_USER_IN_USE")
        for bad in ["Bad Name", "_under", "1234", "a:b", "é"]:
            self.assertError(self.hs.client("POST", "/register", body={"username": bad, "password": "x",
                                                                          "auth": {"type": "m.login.dummy"}}),
                             400, "M_INVALID_USERNAME")
        self.assertError(self.hs.client("POST", "/register", body={"username": 5}), 400, "M_BAD_JSON")
        self.assertError(self.hs.client("POST", "/register", query={"kind": "guest"}, body={}),
                         403, "M_GUEST_ACCESS_FORBIDDEN")
        self.assertError(self.hs.client("POST", "/register", body={
            "username": "newone", "auth": {"type": "m.login.recaptcha"}}), 400, "M_UNRECOGNIZED")

    def test_register_inhibit_login_and_available(self):
        status, _, body = self.hs.client("GET", "/register/available", query={"username": "fresh"})
        self.assertEqual((status, body), (200, {"available": True}))
        data = self.hs.register("fresh", inhibit_login=True)
        self.assertEqual(data["user_id"], "@fresh:localhost")
        self.assertNotIn("access_token", data)
        self.assertNotIn("device_id", data)
        self.assertError(self.hs.client("GET", "/register/available", query={"username": "fresh"}),
                         400, "M_USER_IN_USE")
        self.assertError(self.hs.client("GET", "/register/available", query={"username": "NO PE"}),
                         400, "M_INVALID_USERNAME")
        self.assertError(self.hs.client("GET", "/register/available"), 400, "M_MISSING_PARAM")

    def test_register_upper_case_is_lowered(self):
        data = self.hs.register("MixedCase")
        self.assertEqual(data["user_id"], "@mixedcase:localhost")

    # Login / logout -----------------------------------------------------------------------------------

    def test_login_flows_and_every_prefix(self):
        self.hs.register("logme", password="s3cret")
        for prefix in ["/_matrix/client/v3", "/_matrix/client/r0", "/_matrix/client/api/v1"]:
            status, _, flows = self.hs.request("GET", prefix + "/login")
            self.assertEqual(status, 200)
            self.assertIn({"type": "m.login.password"}, flows["flows"])
            status, _, body = self.hs.login("logme", password="s3cret", prefix=prefix)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["user_id"], "@logme:localhost")
        # Full user ID, and the deprecated top-level `user` field.
        status, _, _ = self.hs.login("@logme:localhost", password="s3cret")
        self.assertEqual(status, 200)
        status, _, body = self.hs.client("POST", "/login", body={
            "type": "m.login.password", "user": "logme", "password": "s3cret", "device_id": "MYDEVICE"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["device_id"], "MYDEVICE")
        self.assertError(self.hs.login("logme", password="wrong"), 403, "M_FORBIDDEN")
        self.assertError(self.hs.login("nobody", password="wrong"), 403, "M_FORBIDDEN")
        self.assertError(self.hs.client("POST", "/login", body={"type": "m.login.token", "token": "x"}),
                         400, "M_UNKNOWN")
        self.assertError(self.hs.client("POST", "/login", body={"type": "m.login.password", "password": "x"}),
                         400, "M_MISSING_PARAM")

    def test_logout_and_logout_all(self):
        self.hs.register("leaver")
        tokens = [self.hs.login("leaver")[2]["access_token"] for _ in range(3)]
        status, _, body = self.hs.client("POST", "/logout", token=tokens[0])
        self.assertEqual((status, body), (200, {}))
        self.assertError(self.hs.client("GET", "/account/whoami", token=tokens[0]), 401, "M_UNKNOWN_TOKEN")
        self.assertEqual(self.hs.client("GET", "/account/whoami", token=tokens[1])[0], 200)
        status, _, _ = self.hs.request("POST", "/_matrix/client/r0/logout/all", token=tokens[1], raw=b"")
        self.assertEqual(status, 200)
        for t in tokens[1:]:
            self.assertError(self.hs.client("GET", "/account/whoami", token=t), 401, "M_UNKNOWN_TOKEN")

    def test_token_in_query_and_errors(self):
        token = self.hs.register("querytok")["access_token"]
        status, _, body = self.hs.client("GET", "/account/whoami", query={"access_token": token})
        self.assertEqual(status, 200)
        self.assertError(self.hs.client("GET", "/account/whoami"), 401, "M_MISSING_TOKEN")
        self.assertError(self.hs.client("GET", "/account/whoami", token="hd_nonsense"), 401, "M_UNKNOWN_TOKEN")
        self.assertError(self.hs.client("GET", "/account/whoami", headers={"Authorization": "Basic abc"}),
                         401, "M_MISSING_TOKEN")

    # Errors -------------------------------------------------------------------------------------------

    def test_body_errors(self):
        self.assertError(self.hs.client("POST", "/login", raw=b"{not json"), 400, "M_NOT_JSON")
        self.assertError(self.hs.client("POST", "/login", raw=b"[1, 2]"), 400, "M_BAD_JSON")
        self.assertError(self.hs.client("POST", "/login", raw=b""), 400, "M_NOT_JSON")
        self.assertError(self.hs.client("POST", "/login", body={"type": 7}), 400, "M_BAD_JSON")
        self.assertError(self.hs.client("POST", "/login", raw=b"{" * 100 + b"}" * 100), 400, "M_NOT_JSON")

    def test_unknown_endpoint_and_wrong_method(self):
        self.assertError(self.hs.client("GET", "/no/such/thing"), 404, "M_UNRECOGNIZED")
        self.assertError(self.hs.request("GET", "/_matrix/nothing"), 404, "M_UNRECOGNIZED")
        self.assertError(self.hs.client("DELETE", "/login"), 405, "M_UNRECOGNIZED")
        self.assertError(self.hs.client("GET", "/register"), 405, "M_UNRECOGNIZED")

    def test_body_too_large(self):
        big = b'{"username":"' + b"a" * 70000 + b'"}'
        self.assertError(self.hs.client("POST", "/register", raw=big), 413, "M_TOO_LARGE")
        self.assertEqual(self.hs.request("GET", "/health")[0], 200)

    def test_garbage_closes_only_that_connection(self):
        other = http.client.HTTPConnection("127.0.0.1", self.hs.port, timeout=10)
        other.request("GET", "/health")
        self.assertEqual(other.getresponse().read(), b"OK")
        reply = raw_exchange(self.hs.port, b"\x16\x03\x01garbage that is not HTTP\r\n\r\n")
        self.assertFalse(reply.startswith(b"HTTP/1.1 200"))
        raw_exchange(self.hs.port, b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n")
        # The other keep-alive connection still works.
        other.request("GET", "/health")
        self.assertEqual(other.getresponse().read(), b"OK")
        other.close()

    def test_keep_alive_serves_many_requests(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.hs.port, timeout=10)
        for _ in range(20):
            conn.request("GET", "/_matrix/client/versions")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()

    def test_idle_connection_times_out(self):
        s = socket.create_connection(("127.0.0.1", self.hs.port), timeout=10)
        start = time.time()
        s.sendall(b"GET /health HTTP/1.1\r\n")  # never finishes the request
        data = s.recv(1024)
        self.assertEqual(data, b"")
        self.assertLess(time.time() - start, 8)
        s.close()

    def test_percent_encoded_paths_route(self):
        status, _, body = self.hs.request("GET", "/_matrix/client/v3/register%2Favailable")
        self.assertEqual(status, 404)  # an encoded slash is data, not a separator


class RateLimitTest(unittest.TestCase):
    def setUp(self):
        self.hs = HeraldServer(rate_limits_enabled=True, rate_limits_yaml="""  login: {per_second: 0.1, burst: 2}
  registration: {per_second: 0.1, burst: 2}""").start()

    def tearDown(self):
        self.assertEqual(self.hs.stop(), 0)
        self.hs.cleanup()

    def test_failed_logins_and_registration_are_limited(self):
        self.hs.register("victim")
        for _ in range(2):
            self.assertEqual(self.hs.login("victim", password="wrong")[0], 403)
        status, headers, body = self.hs.login("victim", password="wrong")
        self.assertEqual(status, 429, body)
        self.assertEqual(body["errcode"], "M_LIMIT_EXCEEDED")
        self.assertGreater(body["retry_after_ms"], 0)
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        # Registration: one already used by 'victim', one more, then refused.
        self.hs.register("second")
        status, headers, body = self.hs.client("POST", "/register", body={
            "username": "third", "password": "x", "auth": {"type": "m.login.dummy"}})
        self.assertEqual(status, 429, body)
        self.assertIn("retry-after", headers)


class LifecycleTest(unittest.TestCase):
    def test_durability_across_kill_9(self):
        hs = HeraldServer()
        try:
            hs.start()
            hs.register("durable", password="keepme")
            token = hs.login("durable", password="keepme")[2]["access_token"]
            hs.kill9()
            hs.start()
            status, _, body = hs.login("durable", password="keepme")
            self.assertEqual(status, 200, body)
            self.assertEqual(hs.client("GET", "/account/whoami", token=token)[0], 200)
            self.assertEqual(hs.stop(), 0)
        finally:
            hs.cleanup()

    def test_sigterm_finishes_in_flight_requests(self):
        hs = HeraldServer()
        try:
            hs.start()
            token = hs.register("slowpoke", password="pw")["access_token"]
            since = hs.client("GET", "/sync", token=token)[2]["next_batch"]
            results = []

            def long_poll():  # in flight for up to 20 s unless shutdown answers it
                start = time.time()
                results.append((hs.client("GET", "/sync", token=token, query={"since": since, "timeout": 20000}),
                                time.time() - start))

            def login():  # argon2id verification on the worker pool
                results.append((hs.login("slowpoke", password="pw"), 0))

            threads = [threading.Thread(target=long_poll)] + [threading.Thread(target=login) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(0.5)  # the long-poll is surely waiting by now
            hs.proc.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(30)
            self.assertEqual(hs.proc.wait(15), 0)
            self.assertEqual(len(results), 3)
            self.assertTrue(all(r[0][0] == 200 for r in results), results)
            poll_time = [elapsed for (status, _, body), elapsed in results if "next_batch" in body][0]
            self.assertLess(poll_time, 10, "shutdown answers waiting long-polls at once")
        finally:
            hs.cleanup()

    def test_config_errors_stop_startup_naming_the_key(self):
        hs = HeraldServer(extra_yaml="colour: blue")
        try:
            proc = subprocess.run([HERALD_BIN, "homeserver", "--config", hs.config_path], capture_output=True,
                                  text=True, timeout=20)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("'colour'", proc.stderr)
        finally:
            hs.cleanup()

    def test_cli_version_generate_config_and_register_user(self):
        out = subprocess.run([HERALD_BIN, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertTrue(out.stdout.startswith("herald "))
        gen = subprocess.run([HERALD_BIN, "generate-config"], capture_output=True, text=True, timeout=10)
        self.assertEqual(gen.returncode, 0)
        for key in ["server_name:", "public_baseurl:", "listeners:", "database:", "signing_key_path:",
                    "registration:", "rate_limits:"]:
            self.assertIn(key, gen.stdout)
        hs = HeraldServer()
        try:
            reg = subprocess.run([HERALD_BIN, "register-user", "--config", hs.config_path, "-u", "admin",
                                  "-p", "adminpw", "--admin"], capture_output=True, text=True, timeout=30)
            self.assertEqual(reg.returncode, 0, reg.stderr)
            self.assertIn("@admin:localhost", reg.stdout)
            again = subprocess.run([HERALD_BIN, "register-user", "--config", hs.config_path, "-u", "admin",
                                    "-p", "x"], capture_output=True, text=True, timeout=30)
            self.assertEqual(again.returncode, 1)
            self.assertIn("M_USER_IN_USE", again.stderr)
            hs.start()
            self.assertEqual(hs.login("admin", password="adminpw")[0], 200)
            self.assertEqual(hs.stop(), 0)
        finally:
            hs.cleanup()


if __name__ == "__main__":
    unittest.main()
