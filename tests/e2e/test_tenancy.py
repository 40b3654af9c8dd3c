"""Tenancy isolation and role checks."""

import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


class TenancyTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.make_org("ten-a", legal_name="Tenant A")
        cls.make_org("ten-b", legal_name="Tenant B")
        cls.make_org("ten-c", legal_name="Tenant C")
        a = cls.make_key("organizations/ten-a", pb.common.ROLE_ADMIN)
        b = cls.make_key("organizations/ten-b", pb.common.ROLE_ADMIN)
        cls.b_key_name = b.api_key.name
        cls.a_admin = cls.server.client(a.secret)
        cls.b_admin = cls.server.client(b.secret)
        cls.a_viewer = cls.server.client(
            cls.make_key("organizations/ten-a", pb.common.ROLE_VIEWER, client=cls.a_admin).secret)
        cls.a_editor = cls.server.client(
            cls.make_key("organizations/ten-a", pb.common.ROLE_EDITOR, client=cls.a_admin).secret)

    def update(self, client, org, paths):
        pb = protos()
        return client.call("Organizations.UpdateOrganization", organization=org,
                           update_mask=pb.field_mask.FieldMask(paths=paths))

    def test_get_other_org_not_found(self):
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call, "Organizations.GetOrganization",
                            name="organizations/ten-b")
        # indistinguishable from a missing one
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call, "Organizations.GetOrganization",
                            name="organizations/no-such-org")

    def test_get_other_orgs_key_not_found(self):
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call, "ApiKeys.GetApiKey",
                            name=self.b_key_name)

    def test_list_other_orgs_keys_not_found(self):
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call, "ApiKeys.ListApiKeys",
                            parent="organizations/ten-b")

    def test_list_organizations_only_own(self):
        for who, client in (("admin", self.a_admin), ("viewer", self.a_viewer),
                            ("editor", self.a_editor)):
            with self.subTest(member=who):
                r = client.call("Organizations.ListOrganizations")
                self.assertEqual([o.name for o in r.organizations], ["organizations/ten-a"])
                self.assertEqual(r.next_page_token, "")
        r = self.admin.call("Organizations.ListOrganizations")
        self.assertEqual(len(r.organizations), 3)

    def test_viewer_cannot_update_org(self):
        o = self.a_viewer.call("Organizations.GetOrganization", name="organizations/ten-a")
        o.legal_name = "Viewer was here"
        self.assertRpcError(C.PERMISSION_DENIED, self.update, self.a_viewer, o, ["legal_name"])
        self.assertNotEqual(self.admin.call("Organizations.GetOrganization",
                                            name="organizations/ten-a").legal_name,
                            "Viewer was here")

    def test_viewer_cannot_create_key(self):
        pb = protos()
        for role in (pb.common.ROLE_VIEWER, pb.common.ROLE_ADMIN):
            with self.subTest(role=role):
                self.assertRpcError(C.PERMISSION_DENIED, self.make_key,
                                    "organizations/ten-a", role, client=self.a_viewer)

    def test_admin_cannot_create_organization(self):
        self.assertRpcError(C.PERMISSION_DENIED, self.make_org, "ten-new", client=self.a_admin)
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/ten-new")

    def test_admin_updates_own_legal_name(self):
        o = self.a_admin.call("Organizations.GetOrganization", name="organizations/ten-a")
        o.legal_name = "Tenant A Renamed"
        u = self.update(self.a_admin, o, ["legal_name"])
        self.assertEqual(u.legal_name, "Tenant A Renamed")

    def test_admin_cannot_change_kind(self):
        pb = protos()
        o = self.a_admin.call("Organizations.GetOrganization", name="organizations/ten-a")
        before = o.kind
        o.kind = pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY
        self.assertRpcError(C.PERMISSION_DENIED, self.update, self.a_admin, o, ["kind"])
        self.assertEqual(self.admin.call("Organizations.GetOrganization",
                                         name="organizations/ten-a").kind, before)

    def test_admin_cannot_create_platform_admin_key(self):
        pb = protos()
        e = self.assertNotOk(self.make_key, "organizations/ten-a", pb.common.ROLE_PLATFORM_ADMIN,
                             client=self.a_admin)
        self.assertIn(e.code(), (C.PERMISSION_DENIED, C.INVALID_ARGUMENT), e.details())
        e = self.assertNotOk(self.make_key, "platform", pb.common.ROLE_PLATFORM_ADMIN,
                             client=self.a_admin)
        self.assertIn(e.code(), (C.PERMISSION_DENIED, C.NOT_FOUND), e.details())

    def test_admin_cannot_update_other_org(self):
        o = self.admin.call("Organizations.GetOrganization", name="organizations/ten-b")
        o.legal_name = "Hijacked"
        self.assertRpcError((C.NOT_FOUND, C.PERMISSION_DENIED), self.update, self.a_admin, o,
                            ["legal_name"])
        self.assertEqual(self.admin.call("Organizations.GetOrganization",
                                         name="organizations/ten-b").legal_name, "Tenant B")

    def test_editor_cannot_manage(self):
        pb = protos()
        o = self.a_editor.call("Organizations.GetOrganization", name="organizations/ten-a")
        o.legal_name = "Editor was here"
        self.assertRpcError(C.PERMISSION_DENIED, self.update, self.a_editor, o, ["legal_name"])
        self.assertRpcError(C.PERMISSION_DENIED, self.make_key, "organizations/ten-a",
                            pb.common.ROLE_VIEWER, client=self.a_editor)

    def test_viewer_cannot_revoke(self):
        pb = protos()
        r = self.make_key("organizations/ten-a", pb.common.ROLE_VIEWER, client=self.a_admin)
        self.assertRpcError(C.PERMISSION_DENIED, self.a_viewer.call, "ApiKeys.RevokeApiKey",
                            name=r.api_key.name)
        self.assertEqual(self.a_admin.call("ApiKeys.GetApiKey", name=r.api_key.name).state,
                         pb.keys.ApiKey.STATE_ACTIVE)

    def test_admin_cannot_revoke_other_orgs_key(self):
        pb = protos()
        r = self.make_key("organizations/ten-b", pb.common.ROLE_VIEWER, client=self.b_admin)
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call, "ApiKeys.RevokeApiKey",
                            name=r.api_key.name)
        self.assertEqual(self.b_admin.call("ApiKeys.GetApiKey", name=r.api_key.name).state,
                         pb.keys.ApiKey.STATE_ACTIVE)

    def test_admin_cannot_create_key_in_other_org(self):
        pb = protos()
        self.assertRpcError((C.NOT_FOUND, C.PERMISSION_DENIED), self.make_key,
                            "organizations/ten-b", pb.common.ROLE_ADMIN, client=self.a_admin)

    def test_admin_cannot_delete_org(self):
        self.assertRpcError(C.PERMISSION_DENIED, self.a_admin.call,
                            "Organizations.DeleteOrganization", name="organizations/ten-a")
        self.assertRpcError((C.NOT_FOUND, C.PERMISSION_DENIED), self.a_admin.call,
                            "Organizations.DeleteOrganization", name="organizations/ten-c")
        self.admin.call("Organizations.GetOrganization", name="organizations/ten-a")
        self.admin.call("Organizations.GetOrganization", name="organizations/ten-c")

    def test_org_member_cannot_touch_platform_keys(self):
        self.assertRpcError((C.NOT_FOUND, C.PERMISSION_DENIED), self.a_admin.call,
                            "ApiKeys.ListApiKeys", parent="platform")


if __name__ == "__main__":
    unittest.main()
