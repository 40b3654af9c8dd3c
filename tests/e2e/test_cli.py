"""The supplysec CLI against a running server."""

import json
import os
import subprocess
import unittest

import grpc

from harness import SUPPLYSEC, ServerTestCase, tmpdir


class CliTest(ServerTestCase):
    """Test names are numbered: 1 creates organizations/acme-cli, later ones use it
    (and create it over gRPC themselves when run alone)."""

    def cli(self, *args, key=None, env_key=None, timeout=30):
        env = dict(os.environ)
        env.pop("SUPPLYSEC_API_KEY", None)
        if env_key is not None:
            env["SUPPLYSEC_API_KEY"] = env_key
        cmd = [SUPPLYSEC, "--addr", self.server.addr]
        if key is not None:
            cmd += ["--key", key]
        cmd += list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, cwd=tmpdir("cli-"))

    def ok_json(self, r):
        self.assertEqual(r.returncode, 0, "exit %d, stderr: %s" % (r.returncode, r.stderr))
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            self.fail("stdout is not JSON (%s): %r" % (e, r.stdout[:500]))

    def ensure_acme(self):
        try:
            self.admin.call("Organizations.GetOrganization", name="organizations/acme-cli")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
            self.make_org("acme-cli", legal_name="Acme")

    def test_1_call_create_organization(self):
        r = self.cli("call", "Organizations.CreateOrganization",
                     '{"organization": {"legalName": "Acme", "countryCode": "DE", '
                     '"kind": "ORGANIZATION_KIND_OPERATOR"}, "organizationId": "acme-cli"}',
                     key=self.server.admin_secret)
        o = self.ok_json(r)
        self.assertEqual(o.get("legalName"), "Acme")
        self.assertEqual(o.get("name"), "organizations/acme-cli")
        self.assertEqual(o.get("countryCode"), "DE")
        g = self.admin.call("Organizations.GetOrganization", name="organizations/acme-cli")
        self.assertEqual(g.legal_name, "Acme")

    def test_2_env_key(self):
        self.ensure_acme()
        r = self.cli("call", "Organizations.GetOrganization", '{"name": "organizations/acme-cli"}',
                     env_key=self.server.admin_secret)
        o = self.ok_json(r)
        self.assertEqual(o.get("name"), "organizations/acme-cli")
        r = self.cli("orgs", "get", "organizations/acme-cli", env_key=self.server.admin_secret)
        self.assertEqual(self.ok_json(r).get("name"), "organizations/acme-cli")

    def test_3_orgs_get(self):
        self.ensure_acme()
        r = self.cli("orgs", "get", "organizations/acme-cli", key=self.server.admin_secret)
        o = self.ok_json(r)
        self.assertEqual(o.get("name"), "organizations/acme-cli")
        self.assertEqual(o.get("legalName"), "Acme")

    def test_4_orgs_list(self):
        self.ensure_acme()
        r = self.cli("orgs", "list", key=self.server.admin_secret)
        out = self.ok_json(r)
        self.assertIn("organizations/acme-cli", json.dumps(out))
        r = self.cli("orgs", "list", "--filter", 'legal_name = "Acme"', key=self.server.admin_secret)
        self.assertIn("organizations/acme-cli", json.dumps(self.ok_json(r)))
        r = self.cli("orgs", "list", "--filter", 'legal_name != "Acme"', key=self.server.admin_secret)
        self.assertNotIn("organizations/acme-cli", json.dumps(self.ok_json(r)))

    def test_5_keys_create(self):
        self.ensure_acme()
        r = self.cli("keys", "create", "--parent", "organizations/acme-cli", "--role", "ROLE_VIEWER",
                     key=self.server.admin_secret)
        out = self.ok_json(r)
        self.assertIn("secret", json.dumps(out))
        secret = out.get("secret") if isinstance(out, dict) else None
        self.assertTrue(secret, "no top-level \"secret\" field: %r" % out)
        self.assertIn("ROLE_VIEWER", json.dumps(out))
        o = self.server.client(secret).call("Organizations.GetOrganization",
                                            name="organizations/acme-cli")
        self.assertEqual(o.name, "organizations/acme-cli")

    def test_6_failing_call(self):
        r = self.cli("orgs", "get", "organizations/missing", key=self.server.admin_secret)
        self.assertExit(r.returncode, 1, r.stderr, "NOT_FOUND")  # 1: any status but OK

    def test_7_no_key_unauthenticated(self):
        r = self.cli("orgs", "get", "organizations/acme-cli")
        self.assertExit(r.returncode, 1, r.stderr, "UNAUTHENTICATED")


if __name__ == "__main__":
    unittest.main()
