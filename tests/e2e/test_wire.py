"""Wire behaviour: request ids, malformed bodies, size limits, unknown methods, deadlines."""

import os
import shutil
import struct
import subprocess
import time
import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


class WireTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.make_org("wire-a")

    def get_ok(self):
        o = self.admin.call("Organizations.GetOrganization", name="organizations/wire-a")
        self.assertEqual(o.name, "organizations/wire-a")

    def test_request_id_echoed(self):
        rid = "e2e-req-0123456789abcdef"
        _, call = self.admin.call("Organizations.GetOrganization", name="organizations/wire-a",
                                  metadata=[("x-request-id", rid)], with_call=True)
        md = dict(call.initial_metadata())
        self.assertEqual(md.get("x-request-id"), rid)

    def test_request_id_echoed_on_error(self):
        rid = "e2e-req-err-42"
        try:
            self.admin.call("Organizations.GetOrganization", name="organizations/missing-x",
                            metadata=[("x-request-id", rid)])
        except grpc.RpcError as e:
            self.assertEqual(e.code(), C.NOT_FOUND)
            md = dict(e.initial_metadata())
            md.update(dict(e.trailing_metadata()))
            self.assertEqual(md.get("x-request-id"), rid)
        else:
            self.fail("expected NOT_FOUND")

    def test_request_id_generated(self):
        ids = set()
        for _ in range(2):
            _, call = self.admin.call("Organizations.GetOrganization",
                                      name="organizations/wire-a", with_call=True)
            rid = dict(call.initial_metadata()).get("x-request-id")
            self.assertTrue(rid, "no generated x-request-id in initial metadata")
            ids.add(rid)
        self.assertEqual(len(ids), 2, "generated request ids are not unique")

    def test_garbage_request_body(self):
        for body in (b"\xff\xff\xff\xff\xff", b"\x0a\xff\xff\xff\xff\x0f"):
            with self.subTest(body=body):
                self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                    "Organizations.GetOrganization", request=body,
                                    raw_request=True)
                self.get_ok()

    def test_unknown_fields_ignored(self):
        name = b"organizations/wire-a"
        body = b"\x0a" + bytes([len(name)]) + name + b"\x98\x06\x01"  # + field 99 = 1
        o = self.admin.call("Organizations.GetOrganization", request=body, raw_request=True)
        self.assertEqual(o.name, "organizations/wire-a")

    def test_gzip_request(self):
        o = self.admin.callable("Organizations.GetOrganization").with_call(
            protos().orgs.GetOrganizationRequest(name="organizations/wire-a"),
            metadata=[("authorization", "Bearer " + self.server.admin_secret)], timeout=10,
            compression=grpc.Compression.Gzip)[0]
        self.assertEqual(o.name, "organizations/wire-a")

    def test_huge_authorization_header(self):
        self.assertRpcError(C.UNAUTHENTICATED, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/wire-a", secret="ssk_" + "a" * 6000)
        self.get_ok()

    def test_oversized_request(self):
        pb = protos()
        org = pb.orgs.Organization(legal_name="x" * (5 * 1024 * 1024), country_code="DE",
                                   kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)
        self.assertRpcError(C.RESOURCE_EXHAUSTED, self.admin.call,
                            "Organizations.CreateOrganization", organization=org,
                            organization_id="wire-huge", timeout=30)
        self.get_ok()
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/wire-huge")

    def test_unknown_method(self):
        fn = self.server.channel.unary_unary(
            "/supplysec.v1.Organizations/Nope",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        t0 = time.monotonic()
        try:
            fn(b"", metadata=[("authorization", "Bearer " + self.server.admin_secret)], timeout=5)
        except grpc.RpcError as e:
            self.assertEqual(e.code(), C.UNIMPLEMENTED, e.details())
        else:
            self.fail("expected UNIMPLEMENTED, got OK")
        self.assertLess(time.monotonic() - t0, 4.5)
        self.get_ok()

    # gRPC core (1.51) rounds deadlines up to whole milliseconds, so a fast
    # server may answer a `timeout=0.000001` call OK within its millisecond.
    # Here a raw HTTP/2 client (curl), which does not enforce the deadline
    # itself, sends the message 300 ms after `grpc-timeout: 1m`: nothing may
    # be written. test_deadline.py covers a write that waits in the store.

    def test_expired_deadline_message_arrives_late(self):
        curl = shutil.which("curl")
        if not curl:
            self.skipTest("curl not installed")
        pb = protos()
        msg = pb.orgs.CreateOrganizationRequest(
            organization_id="wire-late-raw",
            organization=pb.orgs.Organization(legal_name="Too Late", country_code="DE",
                                              kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)
        ).SerializeToString()
        body = b"\0" + struct.pack(">I", len(msg)) + msg
        r, w = os.pipe()
        p = subprocess.Popen(
            [curl, "-sS", "--http2-prior-knowledge", "-X", "POST", "-T", "-", "-D", "-",
             "-o", os.devnull, "-H", "content-type: application/grpc", "-H", "te: trailers",
             "-H", "grpc-timeout: 1m",
             "-H", "authorization: Bearer " + self.server.admin_secret,
             "http://%s/supplysec.v1.Organizations/CreateOrganization" % self.server.addr],
            stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(r)
        try:
            time.sleep(0.3)
            try:
                os.write(w, body)
            except BrokenPipeError:
                pass
        finally:
            os.close(w)
        out, _ = p.communicate(timeout=20)
        self.assertNotIn(b"grpc-status: 0", out, "the expired call succeeded")
        time.sleep(0.2)
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/wire-late-raw")
        self.get_ok()


if __name__ == "__main__":
    unittest.main()
