"""Graceful shutdown under load: every acknowledged create survives a restart."""

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


if __name__ == "__main__":
    unittest.main()
