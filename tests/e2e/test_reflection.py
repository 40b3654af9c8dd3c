"""Server reflection, exercised with buf curl and no .proto files."""

import json
import os
import shutil
import subprocess
import unittest

from harness import ServerTestCase, protos, tmpdir


def find_buf():
    b = os.environ.get("SUPPLYSEC_BUF")
    if b:
        return b
    b = shutil.which("buf")
    if b:
        return b
    b = "/opt/buf/node_modules/.bin/buf"
    if os.path.exists(b):
        return b
    return None


class ReflectionTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # ("x" itself is not a valid id: ids have at least 3 characters)
        cls.make_org("org-x", legal_name="Reflected Ltd")

    def buf(self, *args):
        b = find_buf()
        self.assertIsNotNone(b, "buf not found (SUPPLYSEC_BUF, PATH, /opt/buf/node_modules/.bin/buf)")
        cwd = tmpdir("buf-")
        env = dict(os.environ)
        env.setdefault("BUF_CACHE_DIR", os.path.join(cwd, ".cache"))
        return subprocess.run([b, "curl", "--protocol", "grpc", "--http2-prior-knowledge"] + list(args),
                              capture_output=True, text=True, cwd=cwd, env=env, timeout=60,
                              stdin=subprocess.DEVNULL)

    def test_list_methods(self):
        r = self.buf("--list-methods", "http://" + self.server.addr)
        self.assertEqual(r.returncode, 0, r.stderr)
        methods = r.stdout.split()
        for m in ("supplysec.v1.Organizations/CreateOrganization",
                  "supplysec.v1.Organizations/GetOrganization",
                  "supplysec.v1.ApiKeys/CreateApiKey",
                  "grpc.health.v1.Health/Check"):
            self.assertIn(m, methods)

    def test_call_get_organization(self):
        r = self.buf("-H", "authorization: Bearer " + self.server.admin_secret,
                     "-d", '{"name":"organizations/org-x"}',
                     "http://%s/supplysec.v1.Organizations/GetOrganization" % self.server.addr)
        self.assertEqual(r.returncode, 0, r.stderr)
        o = json.loads(r.stdout)
        self.assertEqual(o.get("name"), "organizations/org-x")
        self.assertEqual(o.get("legalName"), "Reflected Ltd")


class ReflectionProtocolTest(ServerTestCase):
    """grpc.reflection v1 and v1alpha spoken directly (they are wire-identical)."""

    PATHS = ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
             "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")

    def ask(self, path, requests):
        pb = protos()
        fn = self.server.channel.stream_stream(
            path, request_serializer=pb.reflection.ServerReflectionRequest.SerializeToString,
            response_deserializer=pb.reflection.ServerReflectionResponse.FromString)
        return list(fn(iter(requests), timeout=10))

    def files(self, resp):
        from google.protobuf import descriptor_pb2
        out = []
        for b in resp.file_descriptor_response.file_descriptor_proto:
            out.append(descriptor_pb2.FileDescriptorProto.FromString(b))
        return out

    def test_list_services(self):
        pb = protos()
        for path in self.PATHS:
            with self.subTest(path=path):
                rs = self.ask(path, [pb.reflection.ServerReflectionRequest(list_services="*")])
                self.assertEqual(len(rs), 1)
                names = {s.name for s in rs[0].list_services_response.service}
                for want in ("supplysec.v1.Organizations", "supplysec.v1.ApiKeys",
                             "grpc.health.v1.Health"):
                    self.assertIn(want, names)

    def test_file_containing_symbol_and_by_filename(self):
        pb = protos()
        for path in self.PATHS:
            with self.subTest(path=path):
                rs = self.ask(path, [
                    pb.reflection.ServerReflectionRequest(
                        file_containing_symbol="supplysec.v1.Organizations"),
                    pb.reflection.ServerReflectionRequest(
                        file_by_filename="supplysec/v1/api_keys.proto"),
                ])
                self.assertEqual(len(rs), 2)
                for r, want in zip(rs, ("supplysec/v1/organizations.proto",
                                        "supplysec/v1/api_keys.proto")):
                    self.assertEqual(r.WhichOneof("message_response"), "file_descriptor_response", r)
                    self.assertIn(want, [f.name for f in self.files(r)])

    def test_internal_protos_not_served(self):
        pb = protos()
        for path in self.PATHS:
            with self.subTest(path=path):
                rs = self.ask(path, [
                    pb.reflection.ServerReflectionRequest(
                        file_containing_symbol="supplysec.internal.v1.StoredApiKey"),
                    pb.reflection.ServerReflectionRequest(
                        file_by_filename="supplysec/internal/v1/stored.proto"),
                    pb.reflection.ServerReflectionRequest(
                        file_containing_symbol="supplysec.v1.NoSuchThing"),
                ])
                self.assertEqual(len(rs), 3)
                # (an error_response is what the reflection spec asks for; a
                # server may answer with its whole public set instead)
                for r in rs:
                    names = [f.name for f in self.files(r)]
                    self.assertNotIn("supplysec/internal/v1/stored.proto", names)
                    for f in self.files(r):
                        self.assertNotEqual(f.package, "supplysec.internal.v1")
        # nor any file served for other symbols
        rs = self.ask(self.PATHS[0], [pb.reflection.ServerReflectionRequest(
            file_containing_symbol="supplysec.v1.ApiKeys")])
        for f in self.files(rs[0]):
            self.assertNotIn("internal", f.name)
            self.assertNotIn("StoredApiKey", [m.name for m in f.message_type])


if __name__ == "__main__":
    unittest.main()
