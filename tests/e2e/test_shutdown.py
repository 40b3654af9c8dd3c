"""Graceful shutdown under load: every acknowledged create survives a restart."""

import os
import threading
import time
import unittest

import grpc

import harness
from harness import RpcAssertions, Server, protos


class ShutdownDurabilityTest(unittest.TestCase, RpcAssertions):

    def test_sigterm_under_load_keeps_acknowledged_writes(self):
        pb = protos()
        srv = Server()
        srv.start()
        secret = srv.admin_secret
        acked = []
        errors = []
        lock = threading.Lock()
        stop = threading.Event()
        channel = harness.channel(srv.addr)
        create = channel.unary_unary(
            "/supplysec.v1.Organizations/CreateOrganization",
            request_serializer=pb.orgs.CreateOrganizationRequest.SerializeToString,
            response_deserializer=pb.orgs.Organization.FromString)

        def worker(n):
            i = 0
            while not stop.is_set():
                i += 1
                oid = "sd-%d-%d" % (n, i)
                req = pb.orgs.CreateOrganizationRequest(
                    organization_id=oid,
                    organization=pb.orgs.Organization(
                        legal_name="Load %s" % oid, country_code="DE",
                        kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
                try:
                    o = create(req, metadata=[("authorization", "Bearer " + secret)], timeout=10)
                except grpc.RpcError as e:
                    with lock:
                        errors.append(e.code())
                    time.sleep(0.01)
                    continue
                with lock:
                    acked.append((oid, o.name))

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
        try:
            for t in threads:
                t.start()
            time.sleep(1.0)
            srv.signal()
            code = srv.wait()
        finally:
            stop.set()
            for t in threads:
                t.join(15)
            channel.close()
            srv.kill()
        self.assertEqual(code, 0, "exit code after SIGTERM: %s" % srv.log_tail())
        self.assertGreater(len(acked), 0, "no create succeeded before shutdown: %s" % errors[:5])
        if os.environ.get("SUPPLYSEC_E2E_DEBUG"):
            print("acked %d, errors %s" % (len(acked), sorted(set(c.name for c in errors))))
        for oid, name in acked:
            self.assertEqual(name, "organizations/" + oid)

        srv2 = Server(store_dir=srv.dir, bootstrap=False)
        srv2.admin_secret = secret
        srv2.start()
        try:
            admin = srv2.admin()
            missing = []
            for oid, _ in acked:
                try:
                    admin.call("Organizations.GetOrganization", name="organizations/" + oid)
                except grpc.RpcError as e:
                    missing.append((oid, e.code().name))
            self.assertEqual(missing, [], "%d of %d acknowledged creates lost" % (
                len(missing), len(acked)))
        finally:
            srv2.stop()

    def test_restart_keeps_documents_keys_and_revocations(self):
        pb = protos()
        srv = Server()
        srv.start()
        try:
            admin = srv.admin()
            org = admin.call("Organizations.CreateOrganization", organization_id="keep-me",
                             organization=pb.orgs.Organization(
                                 legal_name="Keep", country_code="AT",
                                 kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            live = admin.call("ApiKeys.CreateApiKey", parent="organizations/keep-me",
                              api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
            dead = admin.call("ApiKeys.CreateApiKey", parent="organizations/keep-me",
                              api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
            admin.call("ApiKeys.RevokeApiKey", name=dead.api_key.name)
        finally:
            srv.stop()
        srv2 = Server(store_dir=srv.dir, bootstrap=False)
        srv2.admin_secret = srv.admin_secret
        srv2.start()
        try:
            self.assertEqual(srv2.admin().call("Organizations.GetOrganization",
                                               name="organizations/keep-me"), org)
            got = srv2.client(live.secret).call("Organizations.GetOrganization",
                                                name="organizations/keep-me")
            self.assertEqual(got.name, "organizations/keep-me")
            self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, srv2.client(dead.secret).call,
                                "Organizations.GetOrganization", name="organizations/keep-me")
            # bootstrap refuses a store that is in use / already bootstrapped
            self.assertNotEqual(harness.bootstrap_run(srv.store).returncode, 0)
        finally:
            srv2.stop()


if __name__ == "__main__":
    unittest.main()
