"""Business partners and the statement of application (ISO 28001 4.1-4.4),
as a forwarder's security manager keeps them:

- a carrier with no certificate must give a declaration of security, and its
  credibility review is due from its listing on;
- a port operator with a verified AEO-S is exempt, the basis named; a
  certificate that is unverified, of a type that exempts no one (AEO-C), or
  expired leaves the declaration required, and one that expires turns the
  exemption off by itself, with no write;
- a partner that is an organization on the platform lends its certificates
  when it publishes them, verified by the platform, and none when it does not;
- what the server derives is never taken from a client;
- the statement of application names facilities with UN/LOCODEs and the
  partners in the covered portion; approval needs its scope, partners that
  exist, and an exemption basis only for a partner exempt now.

The standard methods' conformance (tenancy, roles, etags, pagination,
filters) is test_conformance's."""

import time

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
BP = "BusinessPartners."
SA = "StatementsOfApplication."
DAY = 86400


class PartnersTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("fwd")).name
        cls.editor = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_EDITOR).secret)
        cls.org_admin = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_ADMIN).secret)
        cls.viewer = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_VIEWER).secret)

    def ts(self, seconds_from_now):
        pb = protos()
        return pb.timestamp.Timestamp(seconds=int(time.time()) + seconds_from_now)

    def cert(self, type_name="AEO_S", verified=True, valid_for=365 * DAY, **kw):
        pb = protos()
        P = pb.partners
        c = P.PartnerCertificate(
            type=getattr(P, "PARTNER_CERTIFICATE_TYPE_" + type_name),
            number=kw.pop("number", "NLAEOS0001"), issuing_country=kw.pop("country", "NL"),
            issuing_authority="Douane Rotterdam", valid_until=self.ts(valid_for), **kw)
        if verified:
            c.verified_by = P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER
            c.verify_time.CopyFrom(self.ts(-DAY))
        return c

    def partner(self, pid, tier="MEDIUM", certificates=(), **kw):
        pb = protos()
        P = pb.partners
        kw.setdefault("legal_name", "Partner " + pid)
        kw.setdefault("country_code", "NL")
        return self.editor.call(BP + "CreateBusinessPartner", parent=self.org,
                                business_partner_id=pid,
                                business_partner=P.BusinessPartner(
                                    risk_tier=getattr(P, "RISK_TIER_" + tier),
                                    certificates=list(certificates), **kw))

    def test_carrier_without_certificate_needs_a_declaration(self):
        pb = protos()
        before = int(time.time())
        p = self.partner(self.uid("carrier"), tier="HIGH",
                         roles=[pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER])
        self.assertTrue(p.declaration_required)
        self.assertEqual(p.exemption_basis, "")
        # due from its listing on: never reviewed
        self.assertTrue(p.HasField("next_credibility_review_time"))
        self.assertLessEqual(abs(p.next_credibility_review_time.seconds - before), 5)
        self.assertFalse(p.HasField("last_credibility_review_time"))
        got = self.viewer.call(BP + "GetBusinessPartner", name=p.name)
        self.assertTrue(got.declaration_required)

    def test_verified_aeo_s_exempts_with_its_basis_named(self):
        p = self.partner(self.uid("port"), certificates=[self.cert()])
        self.assertFalse(p.declaration_required)
        self.assertRegex(p.exemption_basis,
                         r"^AEO-S NLAEOS0001 \(NL\), valid until \d{4}-\d\d-\d\d, verified by "
                         r"authority register$")
        self.assertFalse(p.HasField("next_credibility_review_time"))  # exempt: none due
        listed = self.viewer.call(BP + "ListBusinessPartners", parent=self.org,
                                  filter='legal_name = "%s"' % p.legal_name).business_partners
        self.assertEqual([(x.name, x.declaration_required) for x in listed], [(p.name, False)])

    def test_certificates_that_exempt_no_one(self):
        cases = {
            "unverified": self.cert(verified=False),
            "aeo-c": self.cert("AEO_C"),
            "iso-28000": self.cert("ISO_28000"),
            "expired": self.cert(valid_for=-DAY),
        }
        for what, c in cases.items():
            with self.subTest(what):
                p = self.partner(self.uid(what), certificates=[c])
                self.assertTrue(p.declaration_required, what)
                self.assertEqual(p.exemption_basis, "")
        for t in ("AEO_F", "CTPAT", "ISO_28001", "ISO_20858"):
            with self.subTest(t):
                p = self.partner(self.uid(t.lower().replace("_", "")), certificates=[self.cert(t)])
                self.assertFalse(p.declaration_required, t)

    def test_exemption_ends_by_itself_when_the_certificate_expires(self):
        p = self.partner(self.uid("soon"), certificates=[self.cert(valid_for=3)])
        self.assertFalse(p.declaration_required)
        time.sleep(4)
        got = self.viewer.call(BP + "GetBusinessPartner", name=p.name)
        self.assertTrue(got.declaration_required, "still exempt after its certificate expired")
        self.assertEqual(got.exemption_basis, "")
        self.assertEqual(got.etag, p.etag, "nothing was written")
        self.assertTrue(got.HasField("next_credibility_review_time"))

    def test_derived_fields_are_never_taken_from_a_client(self):
        pb = protos()
        P = pb.partners
        p = self.partner(self.uid("liar"), declaration_required=False,
                         exemption_basis="trust me",
                         last_credibility_review_time=self.ts(-DAY),
                         next_credibility_review_time=self.ts(1000 * DAY))
        self.assertTrue(p.declaration_required)
        self.assertEqual(p.exemption_basis, "")
        self.assertFalse(p.HasField("last_credibility_review_time"))
        self.assertLess(p.next_credibility_review_time.seconds, int(time.time()) + 10)
        # nor the platform's verification
        c = self.cert()
        c.verified_by = P.CERTIFICATE_VERIFICATION_PLATFORM_ORGANIZATION
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.partner, self.uid("fake"),
                                certificates=[c])
        self.assertIn("business_partner.certificates[0].verified_by", e.details())
        # an update that names a derived field changes nothing of it
        u = self.editor.call(BP + "UpdateBusinessPartner",
                             business_partner=P.BusinessPartner(
                                 name=p.name, declaration_required=False, legal_name="Renamed"),
                             update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        self.assertTrue(u.declaration_required)
        self.assertEqual(u.legal_name, "Renamed")

    def test_invalid_fields_name_the_field(self):
        pb = protos()
        P = pb.partners
        cases = [
            (dict(legal_name=""), "business_partner.legal_name"),
            (dict(country_code="XX"), "business_partner.country_code"),
            (dict(organization="acme"), "business_partner.organization"),
            (dict(certificates_from_organization=True), "business_partner.organization"),
            (dict(certificates=[P.PartnerCertificate(type=P.PARTNER_CERTIFICATE_TYPE_AEO_S)]),
             "business_partner.certificates[0].number"),
            (dict(certificates=[P.PartnerCertificate(number="1")]),
             "business_partner.certificates[0].type"),
        ]
        for kw, field in cases:
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.partner, self.uid("bad"), **kw)
                self.assertIn(field, e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call, BP + "CreateBusinessPartner",
                                parent=self.org, business_partner=P.BusinessPartner(
                                    legal_name="X", country_code="NL"))
        self.assertIn("business_partner.risk_tier", e.details())

    def test_certificates_from_a_platform_organization(self):
        pb = protos()
        O = pb.orgs
        port_id = self.uid("porg")
        port = self.admin.call("Organizations.CreateOrganization", organization_id=port_id,
                               organization=O.Organization(
                                   legal_name="Port of Example", country_code="NL",
                                   kind=O.ORGANIZATION_KIND_OPERATOR,
                                   identifiers=O.Identifiers(aeo_type=O.AEO_TYPE_AEOS),
                                   certificates=[O.Certificate(
                                       type=O.CERTIFICATE_TYPE_AEO, issuer="NL customs",
                                       number="NLAEOS7", valid_until=self.ts(400 * DAY))]))
        linked = self.partner(self.uid("linked"), organization=port.name,
                              certificates_from_organization=True,
                              certificates=[self.cert(number="IGNORED")])
        # not published: none, and the answer does not say why
        self.assertEqual(list(linked.certificates), [])
        self.assertTrue(linked.declaration_required)
        ghost = self.partner(self.uid("ghost"), organization="organizations/no-such-org",
                             certificates_from_organization=True)
        self.assertEqual(list(ghost.certificates), [])
        # published: taken, verified by the platform, exempting
        self.admin.call("Organizations.UpdateOrganization",
                        organization=O.Organization(name=port.name, publish_certificates=True),
                        update_mask=pb.field_mask.FieldMask(paths=["publish_certificates"]))
        u = self.editor.call(BP + "UpdateBusinessPartner",
                             business_partner=pb.partners.BusinessPartner(
                                 name=linked.name, legal_name="Port of Example"),
                             update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        self.assertEqual([(c.number, c.type, c.verified_by) for c in u.certificates],
                         [("NLAEOS7", pb.partners.PARTNER_CERTIFICATE_TYPE_AEO_S,
                           pb.partners.CERTIFICATE_VERIFICATION_PLATFORM_ORGANIZATION)])
        self.assertFalse(u.declaration_required)
        self.assertIn("verified by the partner's organization on the platform", u.exemption_basis)

    def test_review_intervals_of_the_organization(self):
        pb = protos()
        org = self.make_org(self.uid("own")).name
        self.admin.call("Organizations.UpdateOrganization",
                        organization=pb.orgs.Organization(
                            name=org, partner_review_months=pb.orgs.PartnerReviewMonths(high=6)),
                        update_mask=pb.field_mask.FieldMask(paths=["partner_review_months"]))
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                "Organizations.UpdateOrganization",
                                organization=pb.orgs.Organization(
                                    name=org,
                                    partner_review_months=pb.orgs.PartnerReviewMonths(low=121)),
                                update_mask=pb.field_mask.FieldMask(
                                    paths=["partner_review_months"]))
        self.assertIn("organization.partner_review_months.low", e.details())

    # -- the statement of application --

    def statement(self, **kw):
        pb = protos()
        S = pb.statements
        R = pb.orgs
        kw.setdefault("title", "Scope of service: Asia-Europe sea freight")
        kw.setdefault("functions", [R.SUPPLY_CHAIN_ROLE_FORWARDER])
        kw.setdefault("facilities", [S.Facility(
            name="Hamburg export warehouse", address="Am Hafen 1, Hamburg", country_code="DE",
            un_locode="DEHAM", functions=[R.SUPPLY_CHAIN_ROLE_FORWARDER])])
        kw.setdefault("covered_portion", S.SupplyChainPortion(
            **{"from": "Supplier's dock, Shenzhen", "to": "Consignee, Hamburg"},
            transport_modes=[S.TRANSPORT_MODE_SEA, S.TRANSPORT_MODE_ROAD],
            goods="Consumer electronics", crosses_border=True))
        return S.StatementOfApplication(**kw)

    def approve(self, name):
        self.editor.call(SA + "SubmitStatementOfApplication", name=name)
        return self.org_admin.call(SA + "ApproveStatementOfApplication", name=name)

    def test_statement_story(self):
        pb = protos()
        S = pb.statements
        carrier = self.partner(self.uid("sc-carrier"))
        port = self.partner(self.uid("sc-port"), certificates=[self.cert()])
        s = self.editor.call(SA + "CreateStatementOfApplication", parent=self.org,
                             statement_of_application=self.statement(business_partners=[
                                 S.CoveredPartner(business_partner=carrier.name),
                                 S.CoveredPartner(business_partner=port.name,
                                                  exemption_basis=port.exemption_basis)]))
        self.assertEqual(s.state, pb.common.DOCUMENT_STATE_DRAFT)
        a = self.approve(s.name)
        self.assertEqual(a.state, pb.common.DOCUMENT_STATE_APPROVED)
        self.assertEqual(self.viewer.call(SA + "GetStatementOfApplication",
                                          name=s.name + "@1").facilities[0].un_locode, "DEHAM")

        # the security policy draws where the ISO 28001 best practices apply
        # from the approved statement, and its approval records the revision
        P = pb.policies
        draft = self.editor.call(SA + "CreateStatementOfApplication", parent=self.org,
                                 statement_of_application=self.statement())

        def policy(statement):
            return self.editor.call(
                "SecurityPolicies.CreateSecurityPolicy", parent=self.org,
                security_policy=P.SecurityPolicy(
                    title="Policy", text="We apply ISO 28001.",
                    commitments=P.PolicyCommitments(iso_28001_best_practices=True,
                                                    statement_of_application=statement,
                                                    statement_revision_id="99"),
                    sign_off=P.SignOff(signatory_name="A. Chief", signatory_role="CEO",
                                       sign_time=self.ts(-60))))

        p = policy(s.name)
        self.assertEqual(p.commitments.statement_revision_id, "")  # the server's to set
        self.editor.call("SecurityPolicies.SubmitSecurityPolicy", name=p.name)
        ap = self.org_admin.call("SecurityPolicies.ApproveSecurityPolicy", name=p.name)
        self.assertEqual(ap.commitments.statement_revision_id, "1")
        unapproved = policy(draft.name)
        self.editor.call("SecurityPolicies.SubmitSecurityPolicy", name=unapproved.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                "SecurityPolicies.ApproveSecurityPolicy", name=unapproved.name)
        self.assertIn("no approved revision", e.details())
        other = self.make_org(self.uid("pso")).name
        e = self.assertRpcError(C.INVALID_ARGUMENT, policy,
                                other + "/statementsOfApplication/theirs")
        self.assertIn("security_policy.commitments.statement_of_application", e.details())

    def test_statement_approval_checks_its_partners(self):
        pb = protos()
        S = pb.statements
        carrier = self.partner(self.uid("sp-carrier"))
        cases = [
            ([S.CoveredPartner(business_partner=self.org + "/businessPartners/never-listed")],
             "does not exist"),
            ([S.CoveredPartner(business_partner=carrier.name, exemption_basis="AEO-S, surely")],
             "claims an exemption"),
        ]
        for partners, why in cases:
            with self.subTest(why):
                s = self.editor.call(SA + "CreateStatementOfApplication", parent=self.org,
                                     statement_of_application=self.statement(
                                         business_partners=partners))
                self.editor.call(SA + "SubmitStatementOfApplication", name=s.name)
                e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                        SA + "ApproveStatementOfApplication", name=s.name)
                self.assertIn(why, e.details())
        s = self.editor.call(SA + "CreateStatementOfApplication", parent=self.org,
                             statement_of_application=self.statement(facilities=[]))
        self.editor.call(SA + "SubmitStatementOfApplication", name=s.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                SA + "ApproveStatementOfApplication", name=s.name)
        self.assertIn("without facilities", e.details())

    def test_statement_invalid_fields(self):
        pb = protos()
        S = pb.statements
        other = self.make_org(self.uid("soth")).name
        cases = [
            (dict(facilities=[S.Facility(name="Quay", country_code="DE", un_locode="DE1AM")]),
             "statement_of_application.facilities[0].un_locode"),
            (dict(facilities=[S.Facility(name="Quay", country_code="DE", un_locode="NLRTM")]),
             "statement_of_application.facilities[0].un_locode"),
            (dict(business_partners=[S.CoveredPartner(
                business_partner=other + "/businessPartners/theirs")]),
             "statement_of_application.business_partners[0].business_partner"),
            (dict(title=""), "statement_of_application.title"),
        ]
        for kw, field in cases:
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call,
                                        SA + "CreateStatementOfApplication", parent=self.org,
                                        statement_of_application=self.statement(**kw))
                self.assertIn(field, e.details())


if __name__ == "__main__":
    import unittest
    unittest.main()
