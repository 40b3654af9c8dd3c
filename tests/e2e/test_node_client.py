"""The Connect project's own Node client (@connectrpc/connect-node with
@bufbuild/protobuf, from npm: scripts/deps.sh puts them in .tools/) making
typed calls to the HTTP listener over Connect and gRPC-Web, each in JSON and
binary, Health.Watch's stream included (Connect's streaming protocol, or
gRPC-Web's): tests/e2e/node/connect_client.mjs.
Every call answers what the same call answers over gRPC (grpcio): the same
status code and message, the same document."""

import json
import os
import shutil
import subprocess
import unittest

import grpc

import harness
from harness import ServerTestCase

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tests", "e2e", "node", "connect_client.mjs")
MODULES = os.path.join(REPO, ".tools", "node_modules", "@connectrpc", "connect-node")
NODE = shutil.which("node")

# Connect's code names, as the client reports them, and gRPC's.
CODES = {"NotFound": "NOT_FOUND", "Unauthenticated": "UNAUTHENTICATED",
         "InvalidArgument": "INVALID_ARGUMENT", "Aborted": "ABORTED",
         "PermissionDenied": "PERMISSION_DENIED", "Unimplemented": "UNIMPLEMENTED"}




@unittest.skipUnless(NODE and os.path.isdir(MODULES),
                     "node or .tools/node_modules/@connectrpc is missing (scripts/deps.sh)")
class NodeClientTest(ServerTestCase):

    server_args = ["--http-listen", "127.0.0.1:0"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = "http://127.0.0.1:%d" % harness.http_port(cls.server)
        cls.descriptors = os.path.join(harness.BUILD, "gen", "descriptor_set.pb")

    def node(self, protocol, fmt):
        r = subprocess.run([NODE, SCRIPT, self.descriptors, self.base, self.server.admin_secret,
                            protocol, fmt], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        return out["orgId"], {c["name"]: c for c in out["results"]}

    def grpc_outcome(self, method, secret=None, **fields):
        try:
            return True, self.admin.call(method, secret=secret, **fields)
        except grpc.RpcError as e:
            return False, (e.code().name, e.details())

    def check(self, protocol, fmt):
        org_id, got = self.node(protocol, fmt)
        self.assertTrue(got["Health.Check"]["ok"], got["Health.Check"])
        self.assertEqual(got["Health.Check"]["message"]["status"], 1)  # SERVING
        for name in ("CreateOrganization", "GetOrganization"):
            self.assertTrue(got[name]["ok"], got[name])
        ok, org = self.grpc_outcome("Organizations.GetOrganization",
                                    name="organizations/" + org_id)
        self.assertTrue(ok, org)
        m = got["GetOrganization"]["message"]
        self.assertEqual((m["name"], m["legalName"], m["countryCode"], m["etag"]),
                         (org.name, org.legal_name, org.country_code, org.etag))
        self.assertEqual(m["kind"], "ORGANIZATION_KIND_OPERATOR")
        self.assertEqual(got["CreateOrganization"]["message"], m)
        cases = {
            "GetOrganization other": ("Organizations.GetOrganization", None,
                                      {"name": "organizations/none-" + org_id.split("-")[-1]}),
            "GetOrganization no key": ("Organizations.GetOrganization", "",
                                       {"name": "organizations/" + org_id}),
            "GetOrganization bad name": ("Organizations.GetOrganization", None,
                                         {"name": "not a name"}),
        }
        for name, (method, secret, fields) in cases.items():
            ok, (code, details) = self.grpc_outcome(method, secret=secret, **fields)
            self.assertFalse(ok)
            self.assertFalse(got[name]["ok"], got[name])
            self.assertEqual(CODES.get(got[name]["code"]), code, name)
            self.assertEqual(got[name]["message"], details, name)
        stale = got["UpdateOrganization stale etag"]
        self.assertEqual((stale["ok"], CODES.get(stale["code"])), (False, "ABORTED"), stale)
        self.assertEqual(got["ListApiKeys"], {"name": "ListApiKeys", "ok": True,
                                              "message": {"count": 0}})
        # Health.Watch, a server stream: its first answer, over each protocol's streaming
        self.assertEqual(got["Health.Watch first"],
                         {"name": "Health.Watch first", "ok": True, "message": {"status": 1}})
        return got

    def test_connect_json(self):
        self.check("connect", "json")

    def test_connect_binary(self):
        self.check("connect", "binary")

    def test_grpc_web_binary(self):
        self.check("grpcweb", "binary")

    def test_grpc_web_json(self):
        self.check("grpcweb", "json")


if __name__ == "__main__":
    unittest.main()
