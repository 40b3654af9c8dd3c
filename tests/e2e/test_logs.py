"""The server's stderr: one JSON object per line, per-call fields, no secrets."""

import json
import os
import unittest

import grpc

from harness import STORE_KIND, RpcAssertions, Server, protos


class LogsTest(unittest.TestCase, RpcAssertions):
    """Traffic runs in setUpClass, the server is stopped, then the log is read."""

    @classmethod
    def setUpClass(cls):
        pb = protos()
        srv = Server()
        srv.start()
        try:
            admin = srv.admin()
            cls.secrets = [srv.admin_secret]
            admin.call("Organizations.CreateOrganization",
                       organization=pb.orgs.Organization(
                           legal_name="Log Co", country_code="DE",
                           kind=pb.orgs.ORGANIZATION_KIND_OPERATOR),
                       organization_id="log-co")
            k = admin.call("ApiKeys.CreateApiKey", parent="organizations/log-co",
                           api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
            cls.secrets.append(k.secret)
            cls.request_id = "e2e-log-rid-7f3a"
            srv.client(k.secret).call("Organizations.GetOrganization", name="organizations/log-co",
                                      metadata=[("x-request-id", cls.request_id)])
            # failing calls: bad secret, not found, unauthenticated with a real-looking secret
            cls.bad_secret = k.secret[:-1] + ("a" if k.secret[-1] != "a" else "b")
            cls.secrets.append(cls.bad_secret)
            for c, name in ((srv.client(cls.bad_secret), "organizations/log-co"),
                            (admin, "organizations/missing"),
                            (srv.client("Bearer-nonsense"), "organizations/log-co")):
                try:
                    c.call("Organizations.GetOrganization", name=name)
                except grpc.RpcError:
                    pass
            admin.call("ApiKeys.RevokeApiKey", name=k.api_key.name)
            try:
                srv.client(k.secret).call("Organizations.GetOrganization",
                                          name="organizations/log-co")
            except grpc.RpcError:
                pass
            srv.client().call("Health.Check", service="")
            _, call = admin.call("Organizations.GetOrganization", name="organizations/log-co",
                                 with_call=True)
            cls.generated_id = dict(call.initial_metadata()).get("x-request-id")
        except BaseException:
            srv.kill()
            raise
        cls.exit_code = srv.stop(expect_code=None)
        cls.log = srv.log_text()
        cls.lines = [l for l in cls.log.splitlines() if l.strip()]

    def test_exit_code_zero(self):
        self.assertEqual(self.exit_code, 0)

    def test_lines_are_json_objects(self):
        self.assertTrue(self.lines, "the server wrote nothing to stderr")
        for i, line in enumerate(self.lines):
            try:
                obj = json.loads(line)
            except ValueError as e:
                self.fail("stderr line %d is not JSON (%s): %r" % (i + 1, e, line[:300]))
            self.assertIsInstance(obj, dict, "line %d is not an object: %r" % (i + 1, line[:300]))

    def call_lines(self):
        out = []
        for line in self.lines:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and "method" in obj:
                out.append(obj)
        return out

    def test_per_call_fields(self):
        calls = self.call_lines()
        self.assertGreaterEqual(len(calls), 8, "expected a log line per call")
        for obj in calls:
            for key in ("method", "status", "request_id", "duration_us"):
                self.assertIn(key, obj, "call line lacks %r: %r" % (key, obj))
            self.assertTrue(obj["request_id"])
            self.assertIsInstance(obj["duration_us"], (int, float))
            self.assertGreaterEqual(obj["duration_us"], 0)
        methods = " ".join(str(o["method"]) for o in calls)
        self.assertIn("GetOrganization", methods)
        self.assertIn("CreateApiKey", methods)
        mine = [o for o in calls if o["request_id"] == self.request_id]
        self.assertEqual(len(mine), 1, "sent x-request-id not logged exactly once")
        self.assertIn("GetOrganization", str(mine[0]["method"]))
        statuses = {str(o["status"]) for o in calls}
        self.assertTrue(statuses & {"OK", "0"}, statuses)
        self.assertTrue(statuses & {"UNAUTHENTICATED", "16"}, statuses)
        self.assertTrue(statuses & {"NOT_FOUND", "5"}, statuses)

    def test_generated_request_id_logged(self):
        self.assertTrue(self.generated_id)
        self.assertIn(self.generated_id, [o["request_id"] for o in self.call_lines()])

    def test_default_workers_logged(self):
        """Started without --workers: the documented default (operations.md), one worker
        per two cores on SQLite, one per core on MongoDB, said in the start-up line."""
        up = [json.loads(l) for l in self.lines if '"supplysecd listening"' in l]
        self.assertEqual(len(up), 1, self.log[-2000:])
        cores = os.cpu_count() or 2  # sysconf(_SC_NPROCESSORS_ONLN), as the server counts
        want = max(1, cores // 2) if STORE_KIND == "sqlite" else cores
        if os.environ.get("SUPPLYSEC_WORKERS", "0") != "0":  # an operator's choice wins
            want = int(os.environ["SUPPLYSEC_WORKERS"])
        self.assertEqual(up[0].get("workers"), want, up[0])

    def test_no_secret_in_log(self):
        for s in self.secrets:
            self.assertNotIn(s, self.log)


if __name__ == "__main__":
    unittest.main()
