"""The story goes on (issue 11): sharing with a partner, and a customs
authority validating the forwarder.

The forwarder shares its approved assessment with the importer, which reads
it and its scenarios and nothing else, until the share expires. A customs
authority recognizes AEO-S (its own programme) and, through mutual
recognition, C-TPAT; it attests the port operator's AEO-S. The forwarder
grants it access; its validator reads the forwarder's readiness report
against that authority (the partners judged by its recognitions), the
approved plan and the audit log, and verifies the chain; a write attempt is
refused; each read is in the forwarder's log; the grant is revoked and
every read is NOT_FOUND."""

import time

import grpc

from harness import ServerTestCase, protos
from test_conformance import approved_assessment

C = grpc.StatusCode
DAY = 86400


class ValidationStoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        O = pb.orgs
        cls.fwd = cls.make_org(cls.uid("st-fwd"), legal_name="Hanse Forwarding GmbH").name
        cls.importer = cls.make_org(cls.uid("st-imp"), legal_name="Newark Imports Inc.",
                                    country="US").name
        cls.port = cls.make_org(cls.uid("st-port"), legal_name="Elbe Terminal AG").name
        cls.customs = cls.make_org(cls.uid("st-zoll"), legal_name="Hauptzollamt Hamburg",
                                   kind=O.ORGANIZATION_KIND_CUSTOMS_AUTHORITY).name
        key = lambda org, role: cls.server.client(cls.make_key(org, role).secret)
        cls.fwd_admin = key(cls.fwd, pb.common.ROLE_ADMIN)
        cls.importer_viewer = key(cls.importer, pb.common.ROLE_VIEWER)
        cls.port_admin = key(cls.port, pb.common.ROLE_ADMIN)
        cls.customs_admin = key(cls.customs, pb.common.ROLE_ADMIN)
        cls.validator_key = cls.make_key(cls.customs, pb.common.ROLE_VALIDATOR)
        cls.validator = cls.server.client(cls.validator_key.secret)
        cls.story = approved_assessment(cls.fwd_admin, cls.fwd)

    def ts(self, seconds_from_now):
        return protos().timestamp.Timestamp(seconds=int(time.time()) + seconds_from_now)

    def test_1_the_importer_reads_the_shared_assessment_until_it_expires(self):
        pb = protos()
        assessment = self.story["assessment"]
        revision = assessment + "@1"
        share = self.fwd_admin.call("Shares.CreateShare", parent=self.fwd, share=pb.shares.Share(
            resource=revision, grantee=self.importer, purpose="Lane Hamburg-Newark onboarding",
            expire_time=self.ts(4)))
        self.assertEqual(share.state, pb.shares.SHARE_STATE_ACTIVE)
        mine = self.importer_viewer.call("Shares.ListSharedWithMe", parent=self.importer)
        self.assertEqual([s.name for s in mine.shares], [share.name])
        got = self.importer_viewer.call("SecurityAssessments.GetSecurityAssessment", name=revision)
        self.assertEqual(got.name, revision)
        scenarios = self.importer_viewer.call("ThreatScenarios.ListThreatScenarios",
                                              parent=revision).threat_scenarios
        self.assertEqual(len(scenarios), 1)
        self.assertEqual(scenarios[0].title, "Theft from the yard")
        self.importer_viewer.call("ThreatScenarios.GetThreatScenario", name=scenarios[0].name)
        # nothing else of the forwarder
        for method, fields in (
                ("SecurityAssessments.GetSecurityAssessment", dict(name=assessment)),
                ("SecurityAssessments.ListSecurityAssessments", dict(parent=self.fwd)),
                ("StatementsOfApplication.GetStatementOfApplication",
                 dict(name=got.scope.statement_of_application)),
                ("Organizations.GetOrganization", dict(name=self.fwd)),
                ("AuditLog.ListAuditEvents", dict(parent=self.fwd))):
            with self.subTest(method=method):
                self.assertRpcError(C.NOT_FOUND, self.importer_viewer.call, method, **fields)
        time.sleep(4.5)
        self.assertRpcError(C.NOT_FOUND, self.importer_viewer.call,
                            "SecurityAssessments.GetSecurityAssessment", name=revision)
        self.assertRpcError(C.NOT_FOUND, self.importer_viewer.call,
                            "ThreatScenarios.GetThreatScenario", name=scenarios[0].name)
        self.assertEqual(list(self.importer_viewer.call("Shares.ListSharedWithMe",
                                                        parent=self.importer).shares), [])
        self.assertEqual(self.fwd_admin.call("Shares.GetShare", name=share.name).state,
                         pb.shares.SHARE_STATE_EXPIRED)

    def test_2_the_authority_validates_the_forwarder(self):
        pb = protos()
        P, R, A = pb.partners, pb.recognitions, pb.attestations
        # the authority's recognitions and its attestation of the port's AEO-S
        self.customs_admin.call("Recognitions.CreateRecognition", parent=self.customs,
                                recognition=R.Recognition(
                                    certificate_type=P.PARTNER_CERTIFICATE_TYPE_AEO_S,
                                    issuing_country="DE", issuer="German customs",
                                    basis=R.RECOGNITION_BASIS_OWN_PROGRAMME))
        self.customs_admin.call("Recognitions.CreateRecognition", parent=self.customs,
                                recognition=R.Recognition(
                                    certificate_type=P.PARTNER_CERTIFICATE_TYPE_CTPAT,
                                    issuing_country="US", issuer="U.S. CBP",
                                    basis=R.RECOGNITION_BASIS_MUTUAL_RECOGNITION,
                                    arrangement="EU-US MRA (2012)"))
        published = self.importer_viewer.call("Recognitions.ListRecognitions",
                                              parent=self.customs)
        self.assertEqual(len(published.recognitions), 2)
        attestation = self.customs_admin.call(
            "Attestations.CreateAttestation", parent=self.customs, attestation=A.Attestation(
                operator=self.port, type=pb.orgs.CERTIFICATE_TYPE_AEO,
                aeo_type=pb.orgs.AEO_TYPE_AEOS, number="DEAEOS0000471100",
                valid_from=self.ts(-30 * DAY), valid_until=self.ts(700 * DAY)))
        port = self.port_admin.call("Organizations.GetOrganization", name=self.port)
        self.assertEqual([c.attestation for c in port.attested_certificates], [attestation.name])
        self.assertEqual(port.attested_certificates[0].authority_country_code, "DE")
        # the forwarder's partners: the port (linked: its attested AEO-S), a US
        # carrier with a C-TPAT, a warehouse with ISO 28001 only
        partner = lambda pid, **f: self.fwd_admin.call(
            "BusinessPartners.CreateBusinessPartner", parent=self.fwd, business_partner_id=pid,
            business_partner=P.BusinessPartner(risk_tier=P.RISK_TIER_HIGH, **f))
        port_partner = partner("port", legal_name="Elbe Terminal AG", country_code="DE",
                               organization=self.port, certificates_from_organization=True)
        self.assertFalse(port_partner.declaration_required)
        self.assertEqual(port_partner.certificates[0].verified_by,
                         P.CERTIFICATE_VERIFICATION_AUTHORITY_ATTESTATION)
        verified = dict(verified_by=P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER,
                        verify_time=self.ts(-DAY), valid_until=self.ts(300 * DAY))
        partner("carrier", legal_name="Atlantic Carriers LLC", country_code="US",
                certificates=[P.PartnerCertificate(type=P.PARTNER_CERTIFICATE_TYPE_CTPAT,
                                                   issuing_country="US", number="CTPAT-77",
                                                   **verified)])
        partner("warehouse", legal_name="Nordlager KG", country_code="DE",
                certificates=[P.PartnerCertificate(type=P.PARTNER_CERTIFICATE_TYPE_ISO_28001,
                                                   issuing_country="DE", number="ISO-1",
                                                   **verified)])
        # the forwarder judges its partners by the authority's recognitions
        BPS = "BusinessPartners."
        by = lambda pid: self.fwd_admin.call(BPS + "GetBusinessPartner",
                                             name=self.fwd + "/businessPartners/" + pid,
                                             authority=self.customs)
        self.assertFalse(by("port").declaration_required)
        carrier = by("carrier")
        self.assertFalse(carrier.declaration_required)
        self.assertIn("EU-US MRA (2012)", carrier.exemption_basis)
        warehouse = by("warehouse")
        self.assertTrue(warehouse.declaration_required)
        self.assertTrue(warehouse.HasField("next_credibility_review_time"))
        plain = self.fwd_admin.call(BPS + "GetBusinessPartner", name=warehouse.name)
        self.assertFalse(plain.declaration_required)
        listed = self.fwd_admin.call(BPS + "ListBusinessPartners", parent=self.fwd,
                                     authority=self.customs).business_partners
        self.assertEqual({p.name.rsplit("/", 1)[1]: p.declaration_required for p in listed},
                         {"port": False, "carrier": False, "warehouse": True})
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.fwd_admin.call, BPS + "GetBusinessPartner",
                                name=warehouse.name, authority=self.port)
        self.assertIn("authority", e.details())
        # the forwarder grants the authority access
        grant = self.fwd_admin.call(
            "ValidationGrants.CreateValidationGrant", parent=self.fwd,
            validation_grant=pb.validation_grants.ValidationGrant(
                authority=self.customs, application_reference="DE-AEO-2026-00417",
                start_time=self.ts(-60), end_time=self.ts(90 * DAY)))
        validated = self.validator.call("ValidationGrants.ListValidatedOrganizations",
                                        authority=self.customs)
        self.assertEqual([v.organization for v in validated.validated_organizations], [self.fwd])
        # the validator's reads
        report_name = self.fwd + "/readinessReports/wco-safe-aeo"
        report = self.validator.call("Readiness.GetReadinessReport", name=report_name,
                                     authority=self.customs)
        self.assertEqual(report.authority, self.customs)
        texts = [e.description for r in report.requirements for e in r.evidence]
        self.assertTrue(any("Elbe Terminal AG, exempt" in t and "recognized by " + self.customs
                            in t for t in texts), texts)
        self.assertTrue(any("Atlantic Carriers LLC, exempt" in t and "EU-US MRA (2012)" in t
                            for t in texts), texts)
        self.assertFalse(any("Nordlager KG, exempt" in t for t in texts), texts)
        default = self.fwd_admin.call("Readiness.GetReadinessReport", name=report_name)
        self.assertTrue(any("Nordlager KG, exempt" in e.description
                            for r in default.requirements for e in r.evidence))
        assessment = self.story["assessment"]
        got = self.validator.call("SecurityAssessments.GetSecurityAssessment",
                                  name=assessment + "@1")
        self.assertEqual(got.name, assessment + "@1")
        events = self.validator.call("AuditLog.ListAuditEvents", parent=self.fwd, page_size=1000)
        self.assertTrue(events.audit_events)
        verified_log = self.validator.call("AuditLog.VerifyAuditLog", parent=self.fwd)
        self.assertTrue(verified_log.intact, verified_log)
        # a write is refused, and changes nothing
        self.assertRpcError(C.PERMISSION_DENIED, self.validator.call,
                            "SecurityAssessments.CreateSecurityAssessmentRevision",
                            name=assessment)
        # each read in the forwarder's log, as the validator's
        mine = self.fwd_admin.call("AuditLog.ListAuditEvents", parent=self.fwd, page_size=1000,
                                   filter='principal = "%s"' % self.validator_key.api_key.name)
        self.assertEqual(
            [(e.method.rsplit("/", 1)[1], e.resource) for e in mine.audit_events],
            [("GetReadinessReport", report_name),
             ("GetSecurityAssessment", assessment + "@1"),
             ("ListAuditEvents", self.fwd),
             ("VerifyAuditLog", self.fwd)])
        for e in mine.audit_events:
            self.assertEqual(e.role, pb.common.ROLE_VALIDATOR)
            self.assertEqual(e.principal_organization, self.customs)
        # the grant is revoked: every read is NOT_FOUND again
        self.fwd_admin.call("ValidationGrants.RevokeValidationGrant", name=grant.name)
        for method, fields in (
                ("Readiness.GetReadinessReport", dict(name=report_name)),
                ("SecurityAssessments.GetSecurityAssessment", dict(name=assessment + "@1")),
                ("AuditLog.ListAuditEvents", dict(parent=self.fwd)),
                ("AuditLog.VerifyAuditLog", dict(parent=self.fwd)),
                ("Organizations.GetOrganization", dict(name=self.fwd))):
            with self.subTest(method=method):
                self.assertRpcError(C.NOT_FOUND, self.validator.call, method, **fields)
        self.assertEqual(list(self.validator.call(
            "ValidationGrants.ListValidatedOrganizations",
            authority=self.customs).validated_organizations), [])
        # the authority withdraws its attestation: gone from the port's record,
        # and the port partner is no longer exempt by it
        self.customs_admin.call("Attestations.DeleteAttestation", name=attestation.name)
        port = self.port_admin.call("Organizations.GetOrganization", name=self.port)
        self.assertEqual(list(port.attested_certificates), [])
        self.assertTrue(self.fwd_admin.call("BusinessPartners.GetBusinessPartner",
                                            name=port_partner.name).declaration_required)
