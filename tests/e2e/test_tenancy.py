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
        # ten-b's keys the indistinguishability probes aim at: an active one
        # and a revoked one (never b_admin's own key, which other tests use)
        cls.b_victim = cls.make_key("organizations/ten-b", pb.common.ROLE_VIEWER,
                                    client=cls.b_admin).api_key
        revoked = cls.make_key("organizations/ten-b", pb.common.ROLE_VIEWER, client=cls.b_admin)
        cls.b_revoked = cls.b_admin.call("ApiKeys.RevokeApiKey", name=revoked.api_key.name)

    def update(self, client, org, paths):
        pb = protos()
        return client.call("Organizations.UpdateOrganization", organization=org,
                           update_mask=pb.field_mask.FieldMask(paths=paths))

    def test_deleted_organization_leaves_nothing_to_its_successor(self):
        """Deleting an organization deletes all of it (documents, their kept
        revisions, partners, requests it made), in one write, and its id is
        never used again: no later organization reads what was its, nor what
        others addressed to it."""
        pb = protos()
        oid = self.uid("gone")
        org = self.make_org(oid).name
        k = self.make_key(org, pb.common.ROLE_ADMIN)
        c = self.server.client(k.secret)
        policy = c.call("SecurityPolicies.CreateSecurityPolicy", parent=org,
                        security_policy=pb.policies.SecurityPolicy(
                            title="Guard rota", text="Alarm code 4711",
                            sign_off=pb.policies.SignOff(
                                signatory_name="A", signatory_role="CEO",
                                sign_time=pb.timestamp.Timestamp(seconds=1767225600)))).name
        c.call("SecurityPolicies.SubmitSecurityPolicy", name=policy)
        c.call("SecurityPolicies.ApproveSecurityPolicy", name=policy)
        partner = c.call("BusinessPartners.CreateBusinessPartner", parent=org,
                         business_partner=pb.partners.BusinessPartner(
                             legal_name="Carrier", country_code="PL",
                             risk_tier=pb.partners.RISK_TIER_LOW)).name
        # another organization addresses a request to it
        ask = self.a_admin.call("BusinessPartners.CreateBusinessPartner",
                                parent="organizations/ten-a",
                                business_partner=pb.partners.BusinessPartner(
                                    legal_name="Gone Ltd", country_code="DE",
                                    risk_tier=pb.partners.RISK_TIER_LOW, organization=org)).name
        self.a_admin.call("DeclarationRequests.CreateDeclarationRequest",
                          parent="organizations/ten-a",
                          declaration_request=pb.requests.DeclarationRequest(
                              business_partner=ask))
        incoming = c.call("DeclarationRequests.ListIncomingDeclarationRequests", parent=org)
        self.assertEqual(len(incoming.declaration_requests), 1)
        self.admin.call("ApiKeys.RevokeApiKey", name=k.api_key.name)
        self.admin.call("Organizations.DeleteOrganization", name=org)
        for method, name in (("SecurityPolicies.GetSecurityPolicy", policy),
                             ("SecurityPolicies.GetSecurityPolicy", policy + "@1"),
                             ("BusinessPartners.GetBusinessPartner", partner)):
            self.assertRpcError(C.NOT_FOUND, self.admin.call, method, name=name)
        e = self.assertRpcError(C.ALREADY_EXISTS, self.make_org, oid)
        self.assertIn("never used again", e.details())

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
        self.assertRpcError(C.NOT_FOUND, self.update, self.a_admin, o, ["legal_name"])
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
        self.assertRpcError(C.NOT_FOUND, self.make_key,
                            "organizations/ten-b", pb.common.ROLE_ADMIN, client=self.a_admin)

    def test_admin_cannot_delete_org(self):
        self.assertRpcError(C.PERMISSION_DENIED, self.a_admin.call,
                            "Organizations.DeleteOrganization", name="organizations/ten-a")
        self.assertRpcError(C.NOT_FOUND, self.a_admin.call,
                            "Organizations.DeleteOrganization", name="organizations/ten-c")
        self.admin.call("Organizations.GetOrganization", name="organizations/ten-a")
        self.admin.call("Organizations.GetOrganization", name="organizations/ten-c")

    def test_org_member_cannot_touch_platform_keys(self):
        # `platform` is no organization and its existence is documented, so a
        # refusal by role is allowed here; its keys are another matter (below).
        self.assertRpcError((C.NOT_FOUND, C.PERMISSION_DENIED), self.a_admin.call,
                            "ApiKeys.ListApiKeys", parent="platform")
        for method in ("ApiKeys.GetApiKey", "ApiKeys.RevokeApiKey"):
            with self.subTest(method=method):
                self.assertSameNotFound(
                    self.a_admin, method, lambda name: {"name": name},
                    "platform/apiKeys/bootstrap-admin", "platform/apiKeys/no-such-key")

    # -- another tenant's resources look exactly like ones that do not exist --

    MISSING_ORG = "organizations/no-such-org"

    def not_found_message(self, client, method, target, fields):
        """Calls method with fields; asserts NOT_FOUND and returns its message
        with `target` (the name the call was about) replaced by {name}, and
        a key's parent (which the name carries) by {parent}."""
        e = self.assertNotOk(client.call, method, **fields)
        self.assertEqual(e.code(), C.NOT_FOUND, "%s on %s: expected NOT_FOUND, got %s: %r" % (
            method, target, e.code().name, e.details()))
        msg = (e.details() or "").replace(target, "{name}")
        if "/apiKeys/" in target:
            msg = msg.replace(target.split("/apiKeys/")[0], "{parent}")
        return msg

    def assertSameNotFound(self, client, method, build, existing, *missing):
        """`existing` (another tenant's resource) and every name in `missing`
        (resources that do not exist at all) give NOT_FOUND with one message."""
        want = self.not_found_message(client, method, existing, build(existing))
        for name in missing:
            got = self.not_found_message(client, method, name, build(name))
            self.assertEqual(got, want, "%s: the message for the existing %s differs from the "
                             "one for the missing %s, which tells them apart" % (
                                 method, existing, name))

    def test_other_tenants_resources_indistinguishable_from_missing_ones(self):
        pb = protos()
        b_org = self.admin.call("Organizations.GetOrganization", name="organizations/ten-b")
        mask = pb.field_mask.FieldMask(paths=["legal_name"])

        def org_update(etag):
            return lambda n: {"organization": pb.orgs.Organization(
                name=n, legal_name="Hijacked", etag=etag), "update_mask": mask}

        org_probes = [
            ("Organizations.GetOrganization", lambda n: {"name": n}),
            ("Organizations.UpdateOrganization", org_update("")),
            ("Organizations.UpdateOrganization", org_update(b_org.etag)),  # its real etag
            ("Organizations.DeleteOrganization", lambda n: {"name": n}),
            ("Organizations.DeleteOrganization", lambda n: {"name": n, "etag": b_org.etag}),
            ("ApiKeys.ListApiKeys", lambda n: {"parent": n}),
            ("ApiKeys.ListApiKeys", lambda n: {"parent": n, "filter": "state = ACTIVE"}),
            ("ApiKeys.ListApiKeys", lambda n: {"parent": n, "page_size": 1}),
            ("ApiKeys.CreateApiKey", lambda n: {
                "parent": n, "api_key": pb.keys.ApiKey(role=pb.common.ROLE_VIEWER)}),
            ("ApiKeys.CreateApiKey", lambda n: {  # an id taken in ten-b: no ALREADY_EXISTS
                "parent": n, "api_key_id": self.b_victim.name.rsplit("/", 1)[1],
                "api_key": pb.keys.ApiKey(role=pb.common.ROLE_VIEWER)}),
        ]
        key_probes = [
            ("ApiKeys.GetApiKey", lambda n: {"name": n}),
            ("ApiKeys.RevokeApiKey", lambda n: {"name": n}),
            ("ApiKeys.RevokeApiKey", lambda n: {"name": n, "etag": self.b_victim.etag}),
        ]
        missing_keys = ("organizations/ten-b/apiKeys/no-such-key",
                        self.MISSING_ORG + "/apiKeys/no-such-key",
                        self.MISSING_ORG + "/apiKeys/" + self.b_victim.name.rsplit("/", 1)[1])
        for who, client in (("admin", self.a_admin), ("editor", self.a_editor),
                            ("viewer", self.a_viewer)):
            for method, build in org_probes:
                with self.subTest(member=who, method=method, fields=sorted(build("x"))):
                    self.assertSameNotFound(client, method, build, "organizations/ten-b",
                                            self.MISSING_ORG)
                    self.assertSameNotFound(client, method, build, "organizations/ten-c",
                                            self.MISSING_ORG)
            for method, build in key_probes:
                with self.subTest(member=who, method=method, fields=sorted(build("x"))):
                    for existing in (self.b_victim.name, self.b_revoked.name):
                        self.assertSameNotFound(client, method, build, existing, *missing_keys)

        # and nothing of ten-b, ten-c changed
        self.assertEqual(self.admin.call("Organizations.GetOrganization",
                                         name="organizations/ten-b"), b_org)
        self.admin.call("Organizations.GetOrganization", name="organizations/ten-c")
        self.assertEqual(self.b_admin.call("ApiKeys.GetApiKey", name=self.b_victim.name),
                         self.b_victim)
        keys = self.admin.call("ApiKeys.ListApiKeys", parent="organizations/ten-b", page_size=1000)
        self.assertEqual([k.name for k in keys.api_keys
                          if k.creator.startswith("organizations/ten-a/")],
                         [], "ten-a's members created keys in ten-b")

    def test_other_tenants_id_not_revealed_by_create_organization(self):
        # a member may not create organizations at all; whether the id is taken
        # must not show (PERMISSION_DENIED either way, not ALREADY_EXISTS)
        pb = protos()
        msgs = []
        for oid in ("ten-b", "no-such-org"):
            e = self.assertRpcError(
                C.PERMISSION_DENIED, self.a_admin.call, "Organizations.CreateOrganization",
                organization_id=oid, organization=pb.orgs.Organization(
                    legal_name="X", country_code="DE", kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            msgs.append(e.details().replace(oid, "{id}"))
        self.assertEqual(msgs[0], msgs[1])


if __name__ == "__main__":
    unittest.main()
