"""The MongoDB store through the wire-protocol double (tests/mongo_double/):
moving from the embedded store with export/import, and riding out an outage.

These start their own double, whatever store the rest of the run uses."""

import os
import subprocess
import threading
import time
import unittest

import grpc

from harness import (MONGO_DOUBLE, SUPPLYSECD, RpcAssertions, Server, ServerError, _live,
                     bootstrap, protos, tmpdir)

C = grpc.StatusCode


def start_double(port=0):
    proc = subprocess.Popen(["/usr/bin/python3", MONGO_DOUBLE, "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    _live.add(proc)
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "ready":
        proc.kill()
        raise ServerError("the MongoDB double did not start: %r" % line)
    return proc, int(line[1])


def run(args, stdin=None):
    return subprocess.run([SUPPLYSECD] + args, stdin=stdin, capture_output=True, timeout=120)


class ExportImportTest(unittest.TestCase, RpcAssertions):

    def test_sqlite_to_mongodb(self):
        pb = protos()
        d = tmpdir("migrate-")
        src = Server(store_dir=d, store="sqlite:" + os.path.join(d, "db.sqlite"))
        src.start()
        admin = src.admin()
        try:
            for i in range(7):
                admin.call("Organizations.CreateOrganization", organization_id="mig-%d" % i,
                           organization=pb.orgs.Organization(
                               legal_name="Müller %d" % i, country_code="DE",
                               kind=pb.orgs.ORGANIZATION_KIND_OPERATOR,
                               supply_chain_roles=[pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER]))
            stale = admin.call("Organizations.GetOrganization", name="organizations/mig-3").etag
            o = admin.call("Organizations.UpdateOrganization",
                           organization=pb.orgs.Organization(name="organizations/mig-3",
                                                             legal_name="Renamed"),
                           update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
            key = admin.call("ApiKeys.CreateApiKey", parent="organizations/mig-3",
                             api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
            before = admin.call("Organizations.ListOrganizations", page_size=100)
        finally:
            src.stop()

        dump = os.path.join(d, "export.jsonl")
        with open(dump, "wb") as f:
            r = subprocess.run([SUPPLYSECD, "export", "--store", src.store], stdout=f,
                               stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"16 records", r.stderr)  # 7 organizations, their 7 ids taken, 2 keys

        proc, port = start_double()
        try:
            uri = "mongodb://127.0.0.1:%d/migrated" % port
            with open(dump, "rb") as f:
                r = run(["import", "--store", uri], stdin=f)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(dump, "rb") as f:  # a second import finds the store taken
                r = run(["import", "--store", uri], stdin=f)
            self.assertExit(r.returncode, 1, r.stderr, "not empty")

            dst = Server(store_dir=tmpdir("migrated-"), bootstrap=False, store=uri)
            dst.admin_secret = src.admin_secret
            dst.start()
            try:
                after = dst.admin().call("Organizations.ListOrganizations", page_size=100)
                self.assertEqual(after, before)  # names, fields, times and etags alike
                # etags carried over: the one from before the update is stale there too,
                # and the old keys still work
                self.assertNotEqual(stale, o.etag)
                self.assertRpcError(C.ABORTED, dst.admin().call,
                                    "Organizations.DeleteOrganization",
                                    name="organizations/mig-3", etag=stale)
                got = dst.client(key.secret).call("Organizations.GetOrganization",
                                                  name="organizations/mig-3")
                self.assertEqual(got.etag, o.etag)
                self.assertIn('"store":"mongodb://', dst.log_text())
            finally:
                dst.stop()
            r = run(["export", "--store", uri])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(dump, "rb") as f:
                original = f.read()
            self.assertEqual(
                [l for l in r.stdout.splitlines() if b'"record"' in l],
                [l for l in original.splitlines() if b'"record"' in l])
            self.assertEqual(r.stdout.count(b'"kind" : "audit"'),
                             original.count(b'"kind" : "audit"'))
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    def test_filters_hold_after_import(self):
        """An export carries no facets: the import computes them again, so a
        filtered list finds the imported records (into either backend)."""
        pb = protos()
        d = tmpdir("migrate-facets-")
        src = Server(store_dir=d, store="sqlite:" + os.path.join(d, "db.sqlite"))
        src.start()
        admin = src.admin()
        S = "SecurityPolicies."
        try:
            admin.call("Organizations.CreateOrganization", organization_id="mig-pol",
                       organization=pb.orgs.Organization(
                           legal_name="Policies Ltd", country_code="DE",
                           kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            for i in range(3):
                admin.call(S + "CreateSecurityPolicy", parent="organizations/mig-pol",
                           security_policy_id="pol-%d" % i,
                           security_policy=pb.policies.SecurityPolicy(title="P%d" % i))
            admin.call(S + "SubmitSecurityPolicy",
                       name="organizations/mig-pol/securityPolicies/pol-1")
        finally:
            src.stop()
        r = run(["export", "--store", src.store])
        self.assertEqual(r.returncode, 0, r.stderr)
        proc, port = start_double()
        try:
            for uri in ("mongodb://127.0.0.1:%d/facets" % port,
                        "sqlite:" + os.path.join(tmpdir("imported-"), "db.sqlite")):
                with self.subTest(target=uri.split(":")[0]):
                    i = subprocess.run([SUPPLYSECD, "import", "--store", uri], input=r.stdout,
                                       capture_output=True, timeout=120)
                    self.assertEqual(i.returncode, 0, i.stderr)
                    dst = Server(store_dir=tmpdir("migrated-"), bootstrap=False, store=uri)
                    dst.admin_secret = src.admin_secret
                    dst.start()
                    try:
                        got = dst.admin().call(S + "ListSecurityPolicies",
                                               parent="organizations/mig-pol",
                                               filter="state = IN_REVIEW")
                        self.assertEqual([p.name for p in got.security_policies],
                                         ["organizations/mig-pol/securityPolicies/pol-1"])
                        got = dst.admin().call(S + "ListSecurityPolicies",
                                               parent="organizations/mig-pol",
                                               filter='title != "P1"')
                        self.assertEqual(len(got.security_policies), 2)
                    finally:
                        dst.stop()
        finally:
            proc.terminate()
            proc.wait(timeout=20)


class OutageTest(unittest.TestCase, RpcAssertions):
    """Kill the double under load: calls fail UNAVAILABLE within the configured
    timeouts and health says NOT_SERVING; start it again on the same port:
    the same supplysecd serves again."""

    def health(self, ch):
        pb = protos()
        check = ch.unary_unary("/grpc.health.v1.Health/Check",
                               request_serializer=pb.health.HealthCheckRequest.SerializeToString,
                               response_deserializer=pb.health.HealthCheckResponse.FromString)
        return check(pb.health.HealthCheckRequest(), timeout=10).status

    def test_outage_and_recovery(self):
        pb = protos()
        proc, port = start_double()
        uri = ("mongodb://127.0.0.1:%d/outage?serverSelectionTimeoutMS=1000"
               "&connectTimeoutMS=1000&socketTimeoutMS=2000" % port)
        secret = bootstrap(uri)
        srv = Server(store_dir=tmpdir("outage-"), bootstrap=False, store=uri)
        srv.admin_secret = secret
        srv.start()
        admin = srv.admin()
        stop = threading.Event()
        seen = {"ok": 0, "codes": set(), "slowest": 0.0}

        def load():
            i = 0
            while not stop.is_set():
                i += 1
                t0 = time.monotonic()
                try:
                    admin.call("Organizations.CreateOrganization",
                               organization=pb.orgs.Organization(
                                   legal_name="Load", country_code="DE",
                                   kind=pb.orgs.ORGANIZATION_KIND_OPERATOR), timeout=15)
                    seen["ok"] += 1
                except grpc.RpcError as e:
                    seen["codes"].add(e.code())
                    seen["slowest"] = max(seen["slowest"], time.monotonic() - t0)
                    time.sleep(0.05)

        watch = srv.channel.unary_stream(
            "/grpc.health.v1.Health/Watch",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)(
                pb.health.HealthCheckRequest(), timeout=60)
        self.assertEqual(next(watch).status, pb.health.HealthCheckResponse.SERVING)
        threads = [threading.Thread(target=load) for _ in range(3)]
        try:
            for t in threads:
                t.start()
            time.sleep(1.0)
            self.assertGreater(seen["ok"], 0)
            proc.kill()
            proc.wait()
            # the watch is told without being asked
            self.assertEqual(next(watch).status, pb.health.HealthCheckResponse.NOT_SERVING)
            time.sleep(4.0)
            # failing, fast, and with the status a client retries
            self.assertTrue(seen["codes"], "no call failed while the store was down")
            self.assertLessEqual(seen["codes"], {C.UNAVAILABLE}, seen["codes"])
            self.assertLess(seen["slowest"], 6.0)  # selection 1 s / socket 2 s, plus margin
            self.assertEqual(self.health(srv.channel),
                             pb.health.HealthCheckResponse.NOT_SERVING)
            self.assertRpcError(C.UNAVAILABLE, admin.call, "Organizations.GetOrganization",
                                name="organizations/any", timeout=15)
        finally:
            stop.set()
            for t in threads:
                t.join()

        proc, port2 = start_double(port)  # the same address, empty again
        try:
            self.assertEqual(port2, port)
            secret2 = bootstrap(uri)  # the double keeps nothing across restarts
            deadline = time.monotonic() + 15
            while True:
                try:
                    r = srv.client(secret2).call("Organizations.ListOrganizations")
                    break
                except grpc.RpcError as e:
                    if time.monotonic() > deadline:
                        raise AssertionError("no recovery: %s %s" % (e.code(), e.details()))
                    time.sleep(0.2)
            self.assertEqual(list(r.organizations), [])
            self.assertEqual(self.health(srv.channel), pb.health.HealthCheckResponse.SERVING)
            self.assertEqual(next(watch).status, pb.health.HealthCheckResponse.SERVING)
            watch.cancel()
            srv.stop()  # exit 0: it never needed a restart
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    unittest.main()
