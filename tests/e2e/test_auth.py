"""Authentication of bearer secrets."""

import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


class AuthenticationTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.make_org("auth-a")
        cls.key = cls.make_key("organizations/auth-a", pb.common.ROLE_VIEWER)

    def get(self, metadata):
        return self.server.client().callable("Organizations.GetOrganization")(
            protos().orgs.GetOrganizationRequest(name="organizations/auth-a"),
            metadata=metadata, timeout=10)

    def test_valid_key_works(self):
        self.assertEqual(self.get([("authorization", "Bearer " + self.key.secret)]).name,
                         "organizations/auth-a")

    def test_no_authorization(self):
        self.assertRpcError(C.UNAUTHENTICATED, self.get, None)
        self.assertRpcError(C.UNAUTHENTICATED, self.get, [("x-other", "1")])

    def test_bearer_nonsense(self):
        self.assertRpcError(C.UNAUTHENTICATED, self.get, [("authorization", "Bearer nonsense")])

    def test_malformed_authorization(self):
        for value in ("", "Bearer", "Bearer ", "Basic " + self.key.secret):
            with self.subTest(value=value):
                self.assertRpcError(C.UNAUTHENTICATED, self.get, [("authorization", value)])

    def test_unknown_well_formed_key(self):
        s = self.key.secret
        last = "a" if s[-1] != "a" else "b"
        self.assertRpcError(C.UNAUTHENTICATED, self.get, [("authorization", "Bearer " + s[:-1] + last)])
        # also the platform admin's secret altered
        a = self.server.admin_secret
        last = "a" if a[-1] != "a" else "b"
        self.assertRpcError(C.UNAUTHENTICATED, self.get, [("authorization", "Bearer " + a[:-1] + last)])

    def test_revoked_key(self):
        pb = protos()
        r = self.make_key("organizations/auth-a", pb.common.ROLE_VIEWER)
        md = [("authorization", "Bearer " + r.secret)]
        self.get(md)
        self.admin.call("ApiKeys.RevokeApiKey", name=r.api_key.name)
        self.assertRpcError(C.UNAUTHENTICATED, self.get, md)

    def test_health_without_key(self):
        pb = protos()
        r = self.server.client().call("Health.Check", service="")
        self.assertEqual(r.status, pb.health.HealthCheckResponse.SERVING)


if __name__ == "__main__":
    unittest.main()
