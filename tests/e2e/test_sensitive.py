"""Sensitive fields (`[(supplysec.v1.sensitive) = true]` in the proto):
left out of what another organization reads through a share (unless the
share includes them) and of what a customs validator reads, whatever the
method; kept for the owner; never in audit events nor the server's log."""

import time

import grpc

from harness import ServerTestCase, protos
from test_conformance import security_plan

C = grpc.StatusCode
ALARM = "Alarm code 4711-9"
ROTA = "Night rota: Weber, Kaya; patrol every 40 min"


class SensitiveFieldsTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        S = pb.statements
        cls.owner = cls.make_org(cls.uid("sens-own")).name
        cls.partner = cls.make_org(cls.uid("sens-par")).name
        cls.customs = cls.make_org(cls.uid("sens-cus"),
                                   kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY).name
        cls.admin_c = cls.server.client(cls.make_key(cls.owner, pb.common.ROLE_ADMIN).secret)
        cls.partner_c = cls.server.client(cls.make_key(cls.partner, pb.common.ROLE_VIEWER).secret)
        cls.validator = cls.server.client(
            cls.make_key(cls.customs, pb.common.ROLE_VALIDATOR).secret)
        soa = "StatementsOfApplication."
        cls.statement = cls.admin_c.call(
            soa + "CreateStatementOfApplication", parent=cls.owner,
            statement_of_application=S.StatementOfApplication(
                title="Scope", functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                facilities=[S.Facility(id="hamburg", name="Hamburg warehouse", country_code="DE",
                                       security_arrangements=ALARM)],
                covered_portion=S.SupplyChainPortion(
                    **{"from": "Shenzhen", "to": "Hamburg"},
                    transport_modes=[S.TRANSPORT_MODE_SEA]))).name
        cls.admin_c.call(soa + "SubmitStatementOfApplication", name=cls.statement)
        cls.admin_c.call(soa + "ApproveStatementOfApplication", name=cls.statement)
        cls.revision = cls.statement + "@1"
        plan = security_plan(cls.admin_c, cls.owner)["parent"]
        cls.plan = cls.admin_c.call(
            "SecurityPlans.UpdateSecurityPlan",
            security_plan=pb.plans.SecurityPlan(name=plan, guarding_arrangements=ROTA),
            update_mask=pb.field_mask.FieldMask(paths=["guarding_arrangements"])).name
        now = int(time.time())
        cls.admin_c.call("ValidationGrants.CreateValidationGrant", parent=cls.owner,
                         validation_grant=pb.validation_grants.ValidationGrant(
                             authority=cls.customs, application_reference="APP-S",
                             start_time=pb.timestamp.Timestamp(seconds=now - 60),
                             end_time=pb.timestamp.Timestamp(seconds=now + 3600)))

    def share(self, include):
        pb = protos()
        return self.admin_c.call("Shares.CreateShare", parent=self.owner, share=pb.shares.Share(
            resource=self.revision, grantee=self.partner, purpose="Onboarding",
            include_sensitive=include,
            expire_time=pb.timestamp.Timestamp(seconds=int(time.time()) + 3600)))

    def get_revision(self, client):
        return client.call("StatementsOfApplication.GetStatementOfApplication",
                           name=self.revision)

    def test_owner_reads_them(self):
        self.assertEqual(self.get_revision(self.admin_c).facilities[0].security_arrangements,
                         ALARM)
        self.assertEqual(self.admin_c.call("SecurityPlans.GetSecurityPlan",
                                           name=self.plan).guarding_arrangements, ROTA)

    def test_share_leaves_them_out_unless_it_includes_them(self):
        s = self.share(False)
        try:
            got = self.get_revision(self.partner_c)
            self.assertEqual(got.facilities[0].name, "Hamburg warehouse")
            self.assertEqual(got.facilities[0].security_arrangements, "")
            self.assertNotIn(ALARM, str(got))
        finally:
            self.admin_c.call("Shares.RevokeShare", name=s.name)
        s = self.share(True)
        try:
            self.assertEqual(self.get_revision(self.partner_c).facilities[0].security_arrangements,
                             ALARM)
        finally:
            self.admin_c.call("Shares.RevokeShare", name=s.name)
        self.assertRpcError(C.NOT_FOUND, self.get_revision, self.partner_c)

    def test_validator_reads_without_them(self):
        for method, field, name in (
                ("StatementsOfApplication.GetStatementOfApplication", "facilities", self.revision),
                ("StatementsOfApplication.GetStatementOfApplication", "facilities",
                 self.statement),
                ("SecurityPlans.GetSecurityPlan", "guarding_arrangements", self.plan)):
            with self.subTest(method=method, name=name):
                got = self.validator.call(method, name=name)
                self.assertNotIn(ALARM, str(got))
                self.assertNotIn(ROTA, str(got))
        listed = self.validator.call("StatementsOfApplication.ListStatementsOfApplication",
                                     parent=self.owner)
        self.assertTrue(listed.statements_of_application)
        self.assertNotIn(ALARM, str(listed))
        plans = self.validator.call("SecurityPlans.ListSecurityPlans", parent=self.owner)
        self.assertTrue(plans.security_plans)
        self.assertNotIn(ROTA, str(plans))

    def test_never_in_audit_events_nor_the_log(self):
        events = self.admin_c.call("AuditLog.ListAuditEvents", parent=self.owner, page_size=1000)
        self.assertTrue(events.audit_events)
        for e in events.audit_events:
            self.assertNotIn("4711", str(e))
            self.assertNotIn("rota", str(e).lower())
        with open(self.server.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertNotIn("4711", log)
        self.assertNotIn("Night rota", log)
