"""supplysecd bootstrap: prints the platform-admin secret once per store."""

import unittest

from harness import RpcAssertions, Server, bootstrap_run, protos, store_uri, tmpdir


class BootstrapTest(unittest.TestCase, RpcAssertions):

    def test_stdout_is_secret_and_newline(self):
        uri = store_uri(tmpdir())
        r = bootstrap_run(uri)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        out = r.stdout.decode()
        self.assertTrue(out.endswith("\n"), repr(out))
        self.assertEqual(out.count("\n"), 1, repr(out))
        secret = out[:-1]
        self.assertTrue(secret)
        self.assertEqual(secret, secret.strip())
        self.assertNotIn(secret, r.stderr.decode(errors="replace"))

    def test_second_bootstrap_fails(self):
        d = tmpdir()
        uri = store_uri(d)
        first = bootstrap_run(uri)
        self.assertEqual(first.returncode, 0, first.stderr.decode(errors="replace"))
        second = bootstrap_run(uri)
        self.assertExit(second.returncode, 1, second.stderr, "already has a platform key")
        self.assertEqual(second.stdout, b"", "a second bootstrap printed a secret")

    def test_secret_is_platform_admin(self):
        pb = protos()
        with Server() as srv:
            org = srv.admin().call(
                "Organizations.CreateOrganization", organization_id="boot-org",
                organization=pb.orgs.Organization(legal_name="Boot", country_code="SE",
                                                  kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            self.assertEqual(org.name, "organizations/boot-org")
            k = srv.admin().call("ApiKeys.CreateApiKey", parent="platform",
                                 api_key=pb.keys.ApiKey(role=pb.common.ROLE_PLATFORM_ADMIN))
            self.assertTrue(k.api_key.name.startswith("platform/apiKeys/"), k.api_key.name)
            r = srv.client(k.secret).call("Organizations.ListOrganizations")
            self.assertEqual([o.name for o in r.organizations], ["organizations/boot-org"])


if __name__ == "__main__":
    unittest.main()
