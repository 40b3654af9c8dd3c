"""Server reflection, exercised with buf curl and no .proto files."""

import json
import os
import shutil
import subprocess
import unittest

from harness import ServerTestCase, tmpdir


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


if __name__ == "__main__":
    unittest.main()
