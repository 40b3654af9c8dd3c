"""API keys: creation by the platform admin and org admins, secrecy, filters, revocation."""

import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


class ApiKeysTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.make_org("org-a")
        cls.make_org("org-b")
        cls.a_admin_resp = cls.make_key("organizations/org-a", pb.common.ROLE_ADMIN)
        cls.b_admin_resp = cls.make_key("organizations/org-b", pb.common.ROLE_ADMIN)
        cls.a_admin = cls.server.client(cls.a_admin_resp.secret)
        cls.b_admin = cls.server.client(cls.b_admin_resp.secret)

    def test_platform_admin_creates_admin_keys(self):
        pb = protos()
        for resp, org in ((self.a_admin_resp, "org-a"), (self.b_admin_resp, "org-b")):
            k = resp.api_key
            self.assertTrue(k.name.startswith("organizations/%s/apiKeys/" % org), k.name)
            self.assertEqual(k.role, pb.common.ROLE_ADMIN)
            self.assertEqual(k.state, pb.keys.ApiKey.STATE_ACTIVE)
            self.assertTrue(k.key_prefix)
            self.assertTrue(resp.secret)
            self.assertTrue(k.HasField("create_time"))

    def test_secret_works_as_bearer(self):
        o = self.a_admin.call("Organizations.GetOrganization", name="organizations/org-a")
        self.assertEqual(o.name, "organizations/org-a")
        o = self.b_admin.call("Organizations.GetOrganization", name="organizations/org-b")
        self.assertEqual(o.name, "organizations/org-b")

    def test_secret_starts_with_key_prefix(self):
        for resp in (self.a_admin_resp, self.b_admin_resp):
            self.assertTrue(resp.api_key.key_prefix)
            self.assertTrue(resp.secret.startswith(resp.api_key.key_prefix),
                            "secret does not start with key_prefix %r" % resp.api_key.key_prefix)
            self.assertGreater(len(resp.secret), len(resp.api_key.key_prefix))

    def test_get_and_list_never_contain_secret(self):
        resp = self.a_admin_resp
        secret = resp.secret.encode()
        for client in (self.admin, self.a_admin):
            g = client.call("ApiKeys.GetApiKey", name=resp.api_key.name)
            self.assertEqual(g.name, resp.api_key.name)
            self.assertEqual(g.key_prefix, resp.api_key.key_prefix)
            self.assertNotIn(secret, g.SerializeToString())
            lst = client.call("ApiKeys.ListApiKeys", parent="organizations/org-a")
            self.assertIn(resp.api_key.name, [k.name for k in lst.api_keys])
            self.assertNotIn(secret, lst.SerializeToString())
        # also the secret-bearing part after the prefix
        tail = resp.secret[len(resp.api_key.key_prefix):].encode()
        self.assertNotIn(tail, g.SerializeToString())
        self.assertNotIn(tail, lst.SerializeToString())

    def test_org_admin_creates_editor_and_viewer(self):
        pb = protos()
        for role in (pb.common.ROLE_EDITOR, pb.common.ROLE_VIEWER):
            r = self.make_key("organizations/org-a", role, client=self.a_admin)
            self.assertTrue(r.api_key.name.startswith("organizations/org-a/apiKeys/"))
            self.assertEqual(r.api_key.role, role)
            self.assertEqual(r.api_key.state, pb.keys.ApiKey.STATE_ACTIVE)
            self.assertTrue(r.secret.startswith(r.api_key.key_prefix))
            # the new key authenticates and reads its organization
            o = self.server.client(r.secret).call("Organizations.GetOrganization",
                                                  name="organizations/org-a")
            self.assertEqual(o.name, "organizations/org-a")
            g = self.a_admin.call("ApiKeys.GetApiKey", name=r.api_key.name)
            self.assertEqual(g.role, role)

    def test_create_with_chosen_id(self):
        pb = protos()
        r = self.a_admin.call("ApiKeys.CreateApiKey", parent="organizations/org-a",
                              api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER),
                              api_key_id="ci-key")
        self.assertEqual(r.api_key.name, "organizations/org-a/apiKeys/ci-key")

    def test_list_filter_state(self):
        pb = protos()
        keep = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, client=self.a_admin)
        gone = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, client=self.a_admin)
        self.a_admin.call("ApiKeys.RevokeApiKey", name=gone.api_key.name)
        rev = self.a_admin.call("ApiKeys.ListApiKeys", parent="organizations/org-a",
                                filter="state = REVOKED")
        names = [k.name for k in rev.api_keys]
        self.assertIn(gone.api_key.name, names)
        self.assertNotIn(keep.api_key.name, names)
        self.assertTrue(all(k.state == pb.keys.ApiKey.STATE_REVOKED for k in rev.api_keys))
        act = self.a_admin.call("ApiKeys.ListApiKeys", parent="organizations/org-a",
                                filter="state = ACTIVE")
        names = [k.name for k in act.api_keys]
        self.assertIn(keep.api_key.name, names)
        self.assertIn(self.a_admin_resp.api_key.name, names)
        self.assertNotIn(gone.api_key.name, names)
        self.assertTrue(all(k.state == pb.keys.ApiKey.STATE_ACTIVE for k in act.api_keys))
        allk = self.a_admin.call("ApiKeys.ListApiKeys", parent="organizations/org-a")
        names = [k.name for k in allk.api_keys]
        self.assertIn(keep.api_key.name, names)
        self.assertIn(gone.api_key.name, names)
        self.assertEqual(names, sorted(names))

    def test_revoke(self):
        pb = protos()
        r = self.make_key("organizations/org-a", pb.common.ROLE_EDITOR, client=self.a_admin)
        victim = self.server.client(r.secret)
        victim.call("Organizations.GetOrganization", name="organizations/org-a")
        k = self.a_admin.call("ApiKeys.RevokeApiKey", name=r.api_key.name)
        self.assertEqual(k.state, pb.keys.ApiKey.STATE_REVOKED)
        self.assertTrue(k.HasField("revoke_time"))
        self.assertEqual(self.a_admin.call("ApiKeys.GetApiKey", name=r.api_key.name).state,
                         pb.keys.ApiKey.STATE_REVOKED)
        self.assertRpcError(C.UNAUTHENTICATED, victim.call, "Organizations.GetOrganization",
                            name="organizations/org-a")
        self.assertRpcError(C.FAILED_PRECONDITION, self.a_admin.call, "ApiKeys.RevokeApiKey",
                            name=r.api_key.name)

    def test_get_caller(self):
        """Any active key reads itself, whatever its role: its metadata (never its secret)
        and whom it acts for; a revoked key and no key are UNAUTHENTICATED."""
        pb = protos()
        viewer = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, client=self.a_admin,
                               display_name="Ana Viewer (gate office)")
        platform = self.admin.call("ApiKeys.GetCaller")
        self.assertTrue(platform.api_key.name.startswith("platform/apiKeys/"), platform)
        self.assertEqual((platform.parent, platform.api_key.role),
                         ("platform", pb.common.ROLE_PLATFORM_ADMIN))
        for resp, role in ((self.a_admin_resp, pb.common.ROLE_ADMIN),
                           (viewer, pb.common.ROLE_VIEWER)):
            me = self.server.client(resp.secret).call("ApiKeys.GetCaller")
            self.assertEqual(me.parent, "organizations/org-a")
            self.assertEqual(me.api_key, self.admin.call("ApiKeys.GetApiKey",
                                                         name=resp.api_key.name))
            self.assertEqual((me.api_key.role, me.api_key.display_name),
                             (role, resp.api_key.display_name))
            self.assertNotIn(resp.secret.encode(), me.SerializeToString())
            self.assertNotIn(resp.secret[len(resp.api_key.key_prefix):].encode(),
                             me.SerializeToString())
        self.assertEqual(self.b_admin.call("ApiKeys.GetCaller").api_key.name,
                         self.b_admin_resp.api_key.name)
        self.admin.call("ApiKeys.RevokeApiKey", name=viewer.api_key.name)
        self.assertRpcError(C.UNAUTHENTICATED, self.server.client(viewer.secret).call,
                            "ApiKeys.GetCaller")
        self.assertRpcError(C.UNAUTHENTICATED, self.server.client("").call, "ApiKeys.GetCaller")

    def test_platform_admin_revokes_org_key(self):
        pb = protos()
        r = self.make_key("organizations/org-b", pb.common.ROLE_VIEWER, client=self.b_admin)
        k = self.admin.call("ApiKeys.RevokeApiKey", name=r.api_key.name)
        self.assertEqual(k.state, pb.keys.ApiKey.STATE_REVOKED)
        self.assertRpcError(C.UNAUTHENTICATED, self.server.client(r.secret).call,
                            "Organizations.GetOrganization", name="organizations/org-b")

    def test_role_required(self):
        pb = protos()
        self.assertRpcError(C.INVALID_ARGUMENT, self.make_key, "organizations/org-a",
                            pb.common.ROLE_UNSPECIFIED)

    def test_display_name_limit(self):
        pb = protos()
        self.assertRpcError(C.INVALID_ARGUMENT, self.make_key, "organizations/org-a",
                            pb.common.ROLE_VIEWER, display_name="d" * 201)
        r = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, display_name="d" * 200)
        self.assertEqual(r.api_key.display_name, "d" * 200)

    def test_secrets_and_prefixes_unique(self):
        pb = protos()
        rs = [self.make_key("organizations/org-b", pb.common.ROLE_VIEWER) for _ in range(5)]
        self.assertEqual(len({r.secret for r in rs}), 5)
        self.assertEqual(len({r.api_key.key_prefix for r in rs}), 5)
        self.assertEqual(len({r.api_key.name for r in rs}), 5)

    def test_list_invalid_filter(self):
        self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "ApiKeys.ListApiKeys",
                            parent="organizations/org-a", filter="role = ADMIN OR 1=1")

    def test_list_pagination(self):
        pb = protos()
        for _ in range(4):
            self.make_key("organizations/org-b", pb.common.ROLE_VIEWER)
        names, token = [], ""
        for _ in range(100):
            r = self.admin.call("ApiKeys.ListApiKeys", parent="organizations/org-b", page_size=2,
                                page_token=token)
            self.assertLessEqual(len(r.api_keys), 2)
            names += [k.name for k in r.api_keys]
            token = r.next_page_token
            if not token:
                break
        self.assertGreaterEqual(len(names), 5)
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(names, sorted(names))
        everything = self.admin.call("ApiKeys.ListApiKeys", parent="organizations/org-b",
                                     page_size=1000)
        self.assertEqual(names, [k.name for k in everything.api_keys])

    def test_revoke_stale_etag(self):
        pb = protos()
        r = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, client=self.a_admin)
        self.assertTrue(r.api_key.etag)
        self.assertRpcError(C.ABORTED, self.a_admin.call, "ApiKeys.RevokeApiKey",
                            name=r.api_key.name, etag=r.api_key.etag + "x")
        self.assertEqual(self.a_admin.call("ApiKeys.GetApiKey", name=r.api_key.name).state,
                         pb.keys.ApiKey.STATE_ACTIVE)
        k = self.a_admin.call("ApiKeys.RevokeApiKey", name=r.api_key.name, etag=r.api_key.etag)
        self.assertEqual(k.state, pb.keys.ApiKey.STATE_REVOKED)
        self.assertNotEqual(k.etag, r.api_key.etag)

    def test_creator_recorded(self):
        pb = protos()
        r = self.make_key("organizations/org-a", pb.common.ROLE_VIEWER, client=self.a_admin)
        self.assertEqual(r.api_key.creator, self.a_admin_resp.api_key.name)

    def test_org_admin_manages_admin_keys(self):
        pb = protos()
        r = self.make_key("organizations/org-a", pb.common.ROLE_ADMIN, client=self.a_admin)
        k = self.a_admin.call("ApiKeys.RevokeApiKey", name=r.api_key.name)
        self.assertEqual(k.state, pb.keys.ApiKey.STATE_REVOKED)


    def test_delete_organization_removes_its_keys(self):
        pb = protos()
        self.make_org("org-gone")
        k = self.make_key("organizations/org-gone", pb.common.ROLE_VIEWER)
        self.assertRpcError(C.FAILED_PRECONDITION, self.admin.call,
                            "Organizations.DeleteOrganization", name="organizations/org-gone")
        self.admin.call("ApiKeys.RevokeApiKey", name=k.api_key.name)
        self.admin.call("Organizations.DeleteOrganization", name="organizations/org-gone")
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "ApiKeys.GetApiKey",
                            name=k.api_key.name)
        # no new organization takes the id: nothing of the old one reaches anyone
        e = self.assertRpcError(C.ALREADY_EXISTS, self.make_org, "org-gone")
        self.assertIn("never used again", e.details())
        lst = self.admin.call("ApiKeys.ListApiKeys", parent="organizations/org-gone")
        self.assertEqual(list(lst.api_keys), [])
        self.assertRpcError(C.UNAUTHENTICATED, self.server.client(k.secret).call,
                            "Organizations.GetOrganization", name="organizations/org-gone")

if __name__ == "__main__":
    unittest.main()
