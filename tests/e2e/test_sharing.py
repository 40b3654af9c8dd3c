"""Sharing (service Shares, ISO 28001 5.8): an owner's ADMIN shares one
approved revision of a security assessment, plan or statement of
application, or a readiness report, with another organization until an
expiry, for a stated purpose.

While the share is in force the grantee's members, any role, read exactly
what was shared by its name: the revision by its `@{revision_id}` name and,
for an assessment, its threat scenarios and countermeasures as that
revision keeps them (also after the owner started revision 2 and changed
them); a readiness report by its name. Everything else of the owner is
NOT_FOUND to them, worded as for what does not exist: the latest revision
by the plain name, other revisions, the list of revisions, the owner's
lists, other documents, the share itself; and they write nothing. Revoking,
deleting or the expiry ends access at once. ListSharedWithMe lists the
shares in force naming the caller's organization. A create is refused,
naming the field, for a draft revision, another organization's resource, a
grantee that is the owner or not on the platform, an expiry past or more
than 366 days ahead, a missing purpose. Grantee reads are not audited. The
sensitive fields (a plan's guarding arrangements, a facility's security
arrangements) reach the grantee only through a share that includes them. No
answer to the grantee names anything of the owner's but what was shared and
the references the shared document itself carries (CONTENT_REFERENCES)."""

import re
import time

import grpc

from harness import ServerTestCase, protos
from test_conformance import approved_assessment

C = grpc.StatusCode
DAY = 86400
SA = "SecurityAssessments."
TS = "ThreatScenarios."
CM = "Countermeasures."
SP = "SecurityPlans."
SOA = "StatementsOfApplication."
SH = "Shares."
RD = "Readiness."
REV = re.compile(r"@\d+")
ROTA = "Two guards at night, patrol route B"  # a plan's sensitive field
ALARM = "Alarm code 4711, keys with the night guard"  # a facility's

# The fields, by message type, through which a shared document names other
# resources of its owner's (what it was made from, who moved it through
# its lifecycle): the document's own content, read as the owner reads it.
# Anything else of the owner's named in an answer to the grantee fails
# test_grantee_learns_no_other_names.
# A report's references to the scenarios it ranks or places (names, as fields of another name)
REPORT_REFERENCES = {"RankedScenario.threat_scenario", "RiskMatrixCell.threat_scenarios"}
CONTENT_REFERENCES = {
    "SecurityAssessment.scoring_scheme",  # the scheme it was scored with
    "ScoringScheme.name",  # ... and its copy of the scheme
    "AssessmentScope.statement_of_application",  # its scope
    "ThreatScenario.target",  # a facility of the statement, or a partner
    "Countermeasure.decider",  # the API key that accepted it
    "DocumentControl.submitter",  # the API keys that submitted and approved
    "DocumentControl.approver",
    "SecurityPlan.security_assessment",  # the assessment a plan implements
    "ReadinessEvidence.resource",  # a readiness report's evidence
    "RequirementReadiness.missing",  # ... and what it misses, e.g. a plan item
}


def ts(offset):
    return protos().timestamp.Timestamp(seconds=int(time.time()) + offset)


def mask(*paths):
    return protos().field_mask.FieldMask(paths=list(paths))


def listed(resp):
    for f in resp.DESCRIPTOR.fields:
        if f.label == f.LABEL_REPEATED and f.message_type is not None:
            return [x.name for x in getattr(resp, f.name)]
    raise AssertionError("no repeated field in %s" % resp.DESCRIPTOR.name)


def missing_org(name):
    parts = name.split("/")
    parts[1] = "no-such-org"
    return "/".join(parts)


def kept(name, document):
    """name (a part of document) as document's revision 1 keeps it."""
    return name.replace(document, document + "@1", 1)


def strings(msg):
    """(containing message type.field, value) of every string in msg."""
    out = []
    for f, v in msg.ListFields():
        for x in (v if f.label == f.LABEL_REPEATED else [v]):
            if f.type == f.TYPE_MESSAGE:
                out += strings(x)
            elif f.type == f.TYPE_STRING:
                out.append(("%s.%s" % (msg.DESCRIPTOR.name, f.name), x))
    return out


class Recorder:
    """A client that keeps every call it makes: (method, fields, answer or error)."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def call(self, method, **fields):
        try:
            r = self.client.call(method, **fields)
        except grpc.RpcError as e:
            self.calls.append((method, fields, e))
            raise
        self.calls.append((method, fields, r))
        return r


class SharingTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        R = pb.common
        cls.owner = cls.make_org(cls.uid("owner"), legal_name="Hamburg Forwarding GmbH").name
        k = cls.make_key(cls.owner, R.ROLE_ADMIN)
        cls.o_admin, cls.o_admin_key = cls.server.client(k.secret), k.api_key.name
        cls.o_editor = cls.client_of(cls.owner, R.ROLE_EDITOR)
        cls.grantee = cls.make_org(cls.uid("carrier"), legal_name="Carrier").name
        cls.g = {r: cls.client_of(cls.grantee, getattr(R, "ROLE_" + r))
                 for r in ("ADMIN", "EDITOR", "VIEWER")}
        cls.g_viewer = cls.g["VIEWER"]
        cls.bystander = cls.make_org(cls.uid("other"), legal_name="Other").name
        cls.b_admin = cls.client_of(cls.bystander, R.ROLE_ADMIN)

    @classmethod
    def client_of(cls, org, role):
        return cls.server.client(cls.make_key(org, role).secret)

    # -- fixtures --

    def assessment(self):
        """An approved assessment of the owner with a scenario and an accepted
        countermeasure: a dict of their names, the statement, the scheme."""
        ctx = approved_assessment(self.o_admin, self.owner)
        a = ctx["assessment"]
        cm = ctx["countermeasures"][0]
        got = self.o_admin.call(SA + "GetSecurityAssessment", name=a)
        return dict(assessment=a, countermeasure=cm,
                    scenario=cm.rsplit("/countermeasures/", 1)[0],
                    statement=got.scope.statement_of_application, scheme=got.scoring_scheme)

    def plan(self):
        """An approved security plan of an approved assessment: its names."""
        pb = protos()
        P = pb.plans
        x = self.assessment()
        plan = self.o_admin.call(SP + "CreateSecurityPlan", parent=self.owner,
                                 security_plan=P.SecurityPlan(
                                     title="Hamburg plan", security_assessment=x["assessment"],
                                     considered_guidance=[P.GuidanceItem(
                                         annex=P.GUIDANCE_ANNEX_A, reference="A.3",
                                         applied=True, note="Access control")],
                                     training_programme="Awareness yearly",
                                     guarding_arrangements=ROTA,
                                     incident_procedure="Secure the site, call customs",
                                     monitoring_schedule=[P.MonitoringActivity(
                                         id="seal-log", description="Seal log",
                                         interval_days=7)])).name
        self.o_admin.call(SP + "SubmitSecurityPlan", name=plan)
        self.o_admin.call(SP + "ApproveSecurityPlan", name=plan)
        x["plan"] = plan
        x["item"] = self.o_admin.call("PlanItems.ListPlanItems", parent=plan).plan_items[0].name
        return x

    def share(self, resource, grantee=None, expire=30 * DAY, purpose="Carrier onboarding",
              client=None, owner=None, **kw):
        pb = protos()
        return (client or self.o_admin).call(SH + "CreateShare", parent=owner or self.owner,
                                             share=pb.shares.Share(
                                                 resource=resource,
                                                 grantee=grantee or self.grantee,
                                                 expire_time=ts(expire), purpose=purpose),
                                             **kw)

    # -- assertions --

    def assertNotFoundAsMissing(self, client, method, **fields):
        """NOT_FOUND, worded as for the same name in an organization that
        does not exist."""
        key = "name" if "name" in fields else "parent"
        real = fields[key]
        e = self.assertRpcError(C.NOT_FOUND, client.call, method, **fields)
        other = missing_org(real)
        e2 = self.assertRpcError(C.NOT_FOUND, client.call, method,
                                 **dict(fields, **{key: other}))

        def neutral(details, name):
            return details.replace(name, "{}").replace(REV.sub("", name), "{}")

        self.assertEqual(neutral(e.details(), real), neutral(e2.details(), other),
                         "%s %s: told from one that does not exist" % (method, real))
        return e

    def assertAssessmentShared(self, client, x, rev="1", title=None, scenario_title=None):
        """client reads x's assessment revision rev, its scenario and its
        countermeasure as that revision keeps them."""
        a = x["assessment"]
        doc = a + "@" + rev
        s, c = x["scenario"].replace(a, doc, 1), x["countermeasure"].replace(a, doc, 1)
        got = client.call(SA + "GetSecurityAssessment", name=doc)
        self.assertEqual((got.name, got.revision_id), (doc, rev))
        if title:
            self.assertEqual(got.title, title)
        got = client.call(TS + "GetThreatScenario", name=s)
        self.assertEqual(got.name, s)
        if scenario_title:
            self.assertEqual(got.title, scenario_title)
        self.assertEqual(listed(client.call(TS + "ListThreatScenarios", parent=doc)), [s])
        self.assertEqual(client.call(CM + "GetCountermeasure", name=c).name, c)
        self.assertEqual(listed(client.call(CM + "ListCountermeasures", parent=s)), [c])

    def assertAssessmentNotShared(self, client, x, rev="1"):
        a = x["assessment"]
        doc = a + "@" + rev
        for method, fields in (
                (SA + "GetSecurityAssessment", dict(name=doc)),
                (TS + "GetThreatScenario", dict(name=x["scenario"].replace(a, doc, 1))),
                (TS + "ListThreatScenarios", dict(parent=doc)),
                (CM + "GetCountermeasure", dict(name=x["countermeasure"].replace(a, doc, 1))),
                (CM + "ListCountermeasures", dict(parent=x["scenario"].replace(a, doc, 1)))):
            with self.subTest(method=method, rev=rev):
                self.assertNotFoundAsMissing(client, method, **fields)

    # -- an assessment revision --

    def test_assessment_revision_and_its_parts(self):
        pb = protos()
        x = self.assessment()
        a = x["assessment"]
        before = self.o_admin.call("AuditLog.VerifyAuditLog", parent=self.owner).head_position
        s = self.share(a + "@1")
        self.assertEqual((s.resource, s.grantee, s.state),
                         (a + "@1", self.grantee, pb.shares.SHARE_STATE_ACTIVE))
        for role, client in self.g.items():
            with self.subTest(role=role):
                self.assertAssessmentShared(client, x, title="Planned",
                                            scenario_title="Theft from the yard")
        # a bystander reads none of it
        self.assertAssessmentNotShared(self.b_admin, x)
        # nothing else of the owner's, worded as for what does not exist
        g = self.g["ADMIN"]
        for method, fields in (
                (SA + "GetSecurityAssessment", dict(name=a)),
                (SA + "ListSecurityAssessmentRevisions", dict(name=a)),
                (SA + "ListSecurityAssessments", dict(parent=self.owner)),
                (TS + "GetThreatScenario", dict(name=x["scenario"])),
                (TS + "ListThreatScenarios", dict(parent=a)),
                (CM + "GetCountermeasure", dict(name=x["countermeasure"])),
                (CM + "ListCountermeasures", dict(parent=x["scenario"])),
                (SOA + "GetStatementOfApplication", dict(name=x["statement"])),
                (SOA + "GetStatementOfApplication", dict(name=x["statement"] + "@1")),
                ("ScoringSchemes.GetScoringScheme", dict(name=x["scheme"])),
                ("Organizations.GetOrganization", dict(name=self.owner)),
                (SH + "GetShare", dict(name=s.name)),
                (SH + "ListShares", dict(parent=self.owner)),
                (RD + "GetReadinessReport",
                 dict(name=self.owner + "/readinessReports/wco-safe-aeo")),
                ("AuditLog.ListAuditEvents", dict(parent=self.owner)),
                (SA + "RankThreatScenarios", dict(name=a))):
            with self.subTest(method=method, fields=str(fields)):
                self.assertNotFoundAsMissing(g, method, **fields)
        # and writes nothing: the document NOT_FOUND, the revision read only
        A, T = pb.assessments, pb.scenarios
        for code, method, fields in (
                (C.NOT_FOUND, SA + "UpdateSecurityAssessment", dict(
                    security_assessment=A.SecurityAssessment(name=a, title="x"),
                    update_mask=mask("title"))),
                (C.NOT_FOUND, SA + "CreateSecurityAssessmentRevision", dict(name=a)),
                (C.NOT_FOUND, SA + "DeleteSecurityAssessment", dict(name=a)),
                (C.NOT_FOUND, TS + "DeleteThreatScenario", dict(name=x["scenario"])),
                (C.NOT_FOUND, CM + "DeclineCountermeasure", dict(name=x["countermeasure"])),
                (C.NOT_FOUND, SH + "RevokeShare", dict(name=s.name)),
                (C.NOT_FOUND, SH + "DeleteShare", dict(name=s.name)),
                (C.INVALID_ARGUMENT, SA + "UpdateSecurityAssessment", dict(
                    security_assessment=A.SecurityAssessment(name=a + "@1", title="x"),
                    update_mask=mask("title"))),
                (C.INVALID_ARGUMENT, TS + "UpdateThreatScenario", dict(
                    threat_scenario=T.ThreatScenario(name=kept(x["scenario"], a), title="x"),
                    update_mask=mask("title"))),
                (C.INVALID_ARGUMENT, TS + "DeleteThreatScenario",
                 dict(name=kept(x["scenario"], a)))):
            with self.subTest(write=method, fields=str(fields)):
                self.assertRpcError(code, g.call, method, **fields)
        got = self.o_admin.call(SA + "GetSecurityAssessment", name=a)
        self.assertEqual((got.title, got.revision_id), ("Planned", "1"))
        self.assertEqual(self.o_admin.call(SH + "GetShare", name=s.name).state,
                         pb.shares.SHARE_STATE_ACTIVE)
        # the grantee's reads leave no event in the owner's log; the owner's
        # share does
        events = self.o_admin.call("AuditLog.ListAuditEvents", parent=self.owner,
                                   page_size=1000).audit_events
        after = [e for e in events if e.position > before]
        self.assertEqual([(e.method, e.resource) for e in after],
                         [("/supplysec.v1.Shares/CreateShare", s.name)])

    def test_grantee_keeps_revision_1_after_revision_2(self):
        """The owner starts revision 2 and changes the assessment and its
        scenario: the grantee reads revision 1's copies as they were, never
        revision 2 (not even once it is approved)."""
        pb = protos()
        x = self.assessment()
        a, s = x["assessment"], x["scenario"]
        self.share(a + "@1")
        self.o_admin.call(SA + "CreateSecurityAssessmentRevision", name=a)
        self.o_admin.call(SA + "UpdateSecurityAssessment", security_assessment=pb.assessments.
                          SecurityAssessment(name=a, title="Planned, revised"),
                          update_mask=mask("title"))
        self.o_admin.call(TS + "UpdateThreatScenario", threat_scenario=pb.scenarios.
                          ThreatScenario(name=s, title="Theft, revised"),
                          update_mask=mask("title"))
        self.assertAssessmentShared(self.g_viewer, x, title="Planned",
                                    scenario_title="Theft from the yard")
        self.assertAssessmentNotShared(self.g_viewer, x, rev="2")
        self.o_admin.call(SA + "SubmitSecurityAssessment", name=a)
        self.o_admin.call(SA + "ApproveSecurityAssessment", name=a)
        self.assertEqual(self.o_admin.call(TS + "GetThreatScenario", name=s.replace(
            a, a + "@2", 1)).title, "Theft, revised")
        self.assertAssessmentShared(self.g_viewer, x, title="Planned",
                                    scenario_title="Theft from the yard")
        self.assertAssessmentNotShared(self.g_viewer, x, rev="2")
        self.assertNotFoundAsMissing(self.g_viewer, SA + "GetSecurityAssessment", name=a)
        # revision 2 shared too: each read as it is kept
        self.share(a + "@2")
        self.assertAssessmentShared(self.g_viewer, x, rev="2", title="Planned, revised",
                                    scenario_title="Theft, revised")
        self.assertAssessmentShared(self.g_viewer, x, title="Planned",
                                    scenario_title="Theft from the yard")
        self.assertNotFoundAsMissing(self.g_viewer, SA + "ListSecurityAssessmentRevisions",
                                     name=a)

    # -- a plan revision, a statement revision --

    def test_plan_revision(self):
        x = self.plan()
        p, a = x["plan"], x["assessment"]
        s = self.share(p + "@1")
        for role, client in self.g.items():
            with self.subTest(role=role):
                got = client.call(SP + "GetSecurityPlan", name=p + "@1")
                self.assertEqual((got.name, got.title, got.security_assessment),
                                 (p + "@1", "Hamburg plan", a))
        self.assertNotFoundAsMissing(self.b_admin, SP + "GetSecurityPlan", name=p + "@1")
        g = self.g_viewer
        for method, fields in (
                (SP + "GetSecurityPlan", dict(name=p)),
                (SP + "ListSecurityPlanRevisions", dict(name=p)),
                (SP + "ListSecurityPlans", dict(parent=self.owner)),
                ("PlanItems.ListPlanItems", dict(parent=p)),
                ("PlanItems.GetPlanItem", dict(name=x["item"])),
                ("TrainingRecords.ListTrainingRecords", dict(parent=p)),
                ("MonitoringRecords.ListMonitoringRecords", dict(parent=p)),
                # the assessment it implements was not shared
                (SA + "GetSecurityAssessment", dict(name=a)),
                (SA + "GetSecurityAssessment", dict(name=a + "@1")),
                (TS + "ListThreatScenarios", dict(parent=a + "@1")),
                (TS + "GetThreatScenario", dict(name=kept(x["scenario"], a))),
                (SH + "GetShare", dict(name=s.name))):
            with self.subTest(method=method, fields=str(fields)):
                self.assertNotFoundAsMissing(g, method, **fields)
        self.assertRpcError(C.NOT_FOUND, self.g["ADMIN"].call, SP + "SubmitSecurityPlan", name=p)

    def test_sensitive_fields_only_when_the_share_includes_them(self):
        """A plan's guarding arrangements and a facility's security
        arrangements are cleared from what the grantee reads, unless the
        share includes sensitive fields."""
        pb = protos()
        S = pb.statements
        x = self.plan()
        p = x["plan"]
        st = self.o_admin.call(SOA + "CreateStatementOfApplication", parent=self.owner,
                               statement_of_application=S.StatementOfApplication(
                                   title="Bremen scope",
                                   functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                                   facilities=[S.Facility(
                                       id="bremen", name="Bremen warehouse", country_code="DE",
                                       security_arrangements=ALARM)],
                                   covered_portion=S.SupplyChainPortion(
                                       **{"from": "Bremen", "to": "Newark"},
                                       transport_modes=[S.TRANSPORT_MODE_SEA]))).name
        self.o_admin.call(SOA + "SubmitStatementOfApplication", name=st)
        self.o_admin.call(SOA + "ApproveStatementOfApplication", name=st)
        trusted = self.make_org(self.uid("trusted"), legal_name="Trusted").name
        t = self.client_of(trusted, pb.common.ROLE_VIEWER)
        for resource in (p + "@1", st + "@1"):
            self.share(resource)
            self.o_admin.call(SH + "CreateShare", parent=self.owner, share=pb.shares.Share(
                resource=resource, grantee=trusted, expire_time=ts(DAY),
                purpose="Joint security review", include_sensitive=True))
        # the owner's own read, the trusted grantee's, the other grantee's
        self.assertEqual(self.o_admin.call(SP + "GetSecurityPlan", name=p + "@1")
                         .guarding_arrangements, ROTA)
        self.assertEqual(t.call(SP + "GetSecurityPlan", name=p + "@1").guarding_arrangements,
                         ROTA)
        got = self.g_viewer.call(SP + "GetSecurityPlan", name=p + "@1")
        self.assertEqual((got.title, got.guarding_arrangements), ("Hamburg plan", ""))
        self.assertEqual(t.call(SOA + "GetStatementOfApplication", name=st + "@1")
                         .facilities[0].security_arrangements, ALARM)
        got = self.g_viewer.call(SOA + "GetStatementOfApplication", name=st + "@1")
        self.assertEqual((got.facilities[0].name, got.facilities[0].security_arrangements),
                         ("Bremen warehouse", ""))
        self.assertEqual(self.o_admin.call(SOA + "GetStatementOfApplication", name=st + "@1")
                         .facilities[0].security_arrangements, ALARM)

    def test_statement_revision(self):
        x = self.assessment()
        st = x["statement"]
        self.share(st + "@1")
        got = self.g_viewer.call(SOA + "GetStatementOfApplication", name=st + "@1")
        self.assertEqual((got.name, got.title), (st + "@1", "Planned scope"))
        for method, fields in (
                (SOA + "GetStatementOfApplication", dict(name=st)),
                (SOA + "ListStatementOfApplicationRevisions", dict(name=st)),
                (SOA + "ListStatementsOfApplication", dict(parent=self.owner)),
                # the assessment of that scope was not shared
                (SA + "GetSecurityAssessment", dict(name=x["assessment"] + "@1"))):
            with self.subTest(method=method):
                self.assertNotFoundAsMissing(self.g_viewer, method, **fields)
        self.assertNotFoundAsMissing(self.b_admin, SOA + "GetStatementOfApplication",
                                     name=st + "@1")

    # -- a readiness report --

    def test_readiness_report(self):
        """An owner of its own (the class's owner shares its reports in
        other tests): one framework's report shared, the others not."""
        owner = self.make_org(self.uid("rep"), legal_name="Reporter").name
        admin = self.client_of(owner, protos().common.ROLE_ADMIN)
        approved_assessment(admin, owner)  # some evidence
        report = owner + "/readinessReports/eu-aeo-security"
        s = self.share(report, client=admin, owner=owner)
        for role, client in self.g.items():
            with self.subTest(role=role):
                got = client.call(RD + "GetReadinessReport", name=report)
                self.assertEqual(got.name, report)
                self.assertGreater(len(got.requirements), 0)
        # as the owner reads it
        mine = admin.call(RD + "GetReadinessReport", name=report)
        theirs = self.g_viewer.call(RD + "GetReadinessReport", name=report)
        self.assertEqual([(r.id, r.status) for r in mine.requirements],
                         [(r.id, r.status) for r in theirs.requirements])
        # the other frameworks' reports were not shared
        for fw in ("wco-safe-aeo", "ctpat-msc"):
            with self.subTest(fw=fw):
                self.assertNotFoundAsMissing(self.g_viewer, RD + "GetReadinessReport",
                                             name=owner + "/readinessReports/" + fw)
        self.assertNotFoundAsMissing(self.b_admin, RD + "GetReadinessReport", name=report)
        # nor anything else of the owner's
        self.assertNotFoundAsMissing(self.g_viewer, "Organizations.GetOrganization", name=owner)
        self.assertNotFoundAsMissing(self.g_viewer, SA + "ListSecurityAssessments",
                                     parent=owner)
        admin.call(SH + "RevokeShare", name=s.name)
        self.assertNotFoundAsMissing(self.g_viewer, RD + "GetReadinessReport", name=report)

    # -- the end of a share --

    def test_revoke_and_delete_end_access_at_once(self):
        pb = protos()
        S = pb.shares
        x = self.assessment()
        a = x["assessment"]
        first = self.share(a + "@1")
        second = self.share(a + "@1", purpose="Second reason")
        self.assertAssessmentShared(self.g_viewer, x)
        # one of two shares revoked: the other still in force
        r = self.o_admin.call(SH + "RevokeShare", name=first.name)
        self.assertEqual((r.state, r.revoker), (S.SHARE_STATE_REVOKED, self.o_admin_key))
        self.assertTrue(r.HasField("revoke_time"))
        self.assertAssessmentShared(self.g_viewer, x)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.o_admin.call, SH + "RevokeShare",
                                name=first.name)
        self.assertIn(first.name, e.details())
        self.o_admin.call(SH + "RevokeShare", name=second.name)
        self.assertAssessmentNotShared(self.g_viewer, x)
        self.assertEqual(self.o_admin.call(SH + "GetShare", name=second.name).state,
                         S.SHARE_STATE_REVOKED)
        names = listed(self.g_viewer.call(SH + "ListSharedWithMe", parent=self.grantee,
                                          page_size=1000))
        self.assertNotIn(first.name, names)
        self.assertNotIn(second.name, names)
        # shared again, then deleted
        third = self.share(a + "@1")
        self.assertAssessmentShared(self.g_viewer, x)
        self.o_admin.call(SH + "DeleteShare", name=third.name)
        self.assertAssessmentNotShared(self.g_viewer, x)
        self.assertRpcError(C.NOT_FOUND, self.o_admin.call, SH + "GetShare", name=third.name)
        # only an ADMIN revokes
        fourth = self.share(a + "@1")
        self.assertRpcError(C.PERMISSION_DENIED, self.o_editor.call, SH + "RevokeShare",
                            name=fourth.name)
        self.assertAssessmentShared(self.g_viewer, x)

    def test_expiry_ends_access(self):
        pb = protos()
        x = self.assessment()
        report = self.owner + "/readinessReports/ctpat-msc"
        s = self.share(x["assessment"] + "@1", expire=3)
        r = self.share(report, expire=3)
        self.assertAssessmentShared(self.g_viewer, x)
        self.g_viewer.call(RD + "GetReadinessReport", name=report)
        self.assertIn(s.name, listed(self.g_viewer.call(SH + "ListSharedWithMe",
                                                        parent=self.grantee, page_size=1000)))
        time.sleep(max(0, max(s.expire_time.seconds, r.expire_time.seconds) + 0.3 - time.time()))
        self.assertAssessmentNotShared(self.g_viewer, x)
        self.assertNotFoundAsMissing(self.g_viewer, RD + "GetReadinessReport", name=report)
        for share in (s, r):
            self.assertEqual(self.o_admin.call(SH + "GetShare", name=share.name).state,
                             pb.shares.SHARE_STATE_EXPIRED)
        names = listed(self.g_viewer.call(SH + "ListSharedWithMe", parent=self.grantee,
                                          page_size=1000))
        self.assertNotIn(s.name, names)
        self.assertNotIn(r.name, names)

    # -- what others share with me --

    def test_list_shared_with_me(self):
        pb = protos()
        R = pb.common
        me = self.make_org(self.uid("me"), legal_name="Me").name
        viewer = self.client_of(me, R.ROLE_VIEWER)
        x = self.assessment()
        want = [self.share(x["assessment"] + "@1", grantee=me).name,
                self.share(self.owner + "/readinessReports/wco-safe-aeo", grantee=me).name,
                self.share(x["statement"] + "@1", grantee=me).name]
        revoked = self.share(self.owner + "/readinessReports/ctpat-msc", grantee=me).name
        self.o_admin.call(SH + "RevokeShare", name=revoked)
        deleted = self.share(self.owner + "/readinessReports/eu-aeo-security", grantee=me).name
        self.o_admin.call(SH + "DeleteShare", name=deleted)
        self.share(x["assessment"] + "@1")  # to someone else
        # another owner's share with me
        want.append(self.b_admin.call(SH + "CreateShare", parent=self.bystander,
                                      share=pb.shares.Share(
                                          resource=self.bystander + "/readinessReports/ctpat-msc",
                                          grantee=me, purpose="Tender",
                                          expire_time=ts(DAY))).name)
        got = viewer.call(SH + "ListSharedWithMe", parent=me, page_size=1000)
        self.assertEqual(sorted(listed(got)), sorted(want))
        for s in got.shares:
            self.assertEqual((s.grantee, s.state), (me, pb.shares.SHARE_STATE_ACTIVE))
            self.assertTrue(s.purpose)
        # page by page: each once, none lost, whatever was left out of a page
        names, token, pages = [], "", 0
        while True:
            r = viewer.call(SH + "ListSharedWithMe", parent=me, page_size=1, page_token=token)
            self.assertLessEqual(len(r.shares), 1)
            names += listed(r)
            token, pages = r.next_page_token, pages + 1
            if not token or pages > 20:
                break
        self.assertEqual(sorted(names), sorted(want))
        # only my own organization's; the owner's outgoing shares are not its
        self.assertNotFoundAsMissing(viewer, SH + "ListSharedWithMe", parent=self.grantee)
        self.assertNotIn(want[0], listed(self.o_admin.call(
            SH + "ListSharedWithMe", parent=self.owner, page_size=1000)))
        # any role of the grantee
        for role, client in self.g.items():
            with self.subTest(role=role):
                client.call(SH + "ListSharedWithMe", parent=self.grantee)

    # -- refused creates --

    def test_invalid_creates_name_the_field(self):
        pb = protos()
        x = self.assessment()
        a = x["assessment"]
        # a draft revision 2, and a revision under review
        draft = self.assessment()
        self.o_admin.call(SA + "CreateSecurityAssessmentRevision", name=draft["assessment"])
        review = self.o_admin.call(SA + "CreateSecurityAssessment", parent=self.owner,
                                   security_assessment=pb.assessments.SecurityAssessment(
                                       title="In review", scoring_scheme=x["scheme"])).name
        self.o_admin.call(SA + "SubmitSecurityAssessment", name=review)
        before = listed(self.o_admin.call(SH + "ListShares", parent=self.owner, page_size=1000))
        report = self.owner + "/readinessReports/wco-safe-aeo"
        cases = [
            (C.FAILED_PRECONDITION, "share.resource", dict(resource=draft["assessment"] + "@2")),
            (C.FAILED_PRECONDITION, "share.resource", dict(resource=review + "@1")),
            (C.FAILED_PRECONDITION, "share.resource", dict(resource=a + "@9")),
            (C.INVALID_ARGUMENT, "share.resource", dict(resource=a)),
            (C.INVALID_ARGUMENT, "share.resource", dict(resource="")),
            (C.INVALID_ARGUMENT, "share.resource",
             dict(resource=self.owner + "/securityPolicies/p-1@1")),
            (C.INVALID_ARGUMENT, "share.resource",
             dict(resource=self.owner + "/readinessReports/iso-27001")),
            (C.INVALID_ARGUMENT, "share.resource",
             dict(resource=self.bystander + "/readinessReports/wco-safe-aeo")),
            (C.INVALID_ARGUMENT, "share.resource",
             dict(resource=a.replace(self.owner, self.bystander) + "@1")),
            (C.INVALID_ARGUMENT, "share.grantee", dict(grantee=self.owner)),
            (C.INVALID_ARGUMENT, "share.grantee", dict(grantee="organizations/no-such-org")),
            (C.INVALID_ARGUMENT, "share.grantee", dict(grantee="")),
            (C.INVALID_ARGUMENT, "share.grantee", dict(grantee="carrier")),
            (C.INVALID_ARGUMENT, "share.expire_time", dict(expire_time=ts(-60))),
            (C.INVALID_ARGUMENT, "share.expire_time", dict(expire_time=ts(367 * DAY))),
            (C.INVALID_ARGUMENT, "share.expire_time", dict(expire_time=None)),
            (C.INVALID_ARGUMENT, "share.purpose", dict(purpose="")),
            (C.INVALID_ARGUMENT, "share.purpose", dict(purpose="x" * 501)),
        ]
        for code, field, kw in cases:
            fields = dict(resource=a + "@1", grantee=self.grantee, expire_time=ts(DAY),
                          purpose="Carrier onboarding")
            fields.update(kw)
            with self.subTest(field=field, value=str(kw)):
                e = self.assertRpcError(code, self.o_admin.call, SH + "CreateShare",
                                        parent=self.owner,
                                        share=pb.shares.Share(**fields))
                self.assertIn(field, e.details())
        # self and a stranger: one wording
        e1 = self.assertRpcError(C.INVALID_ARGUMENT, self.share, report, grantee=self.owner)
        e2 = self.assertRpcError(C.INVALID_ARGUMENT, self.share, report,
                                 grantee="organizations/no-such-org")
        self.assertEqual(e1.details().replace(self.owner, "{}"),
                         e2.details().replace("organizations/no-such-org", "{}"))
        # only an ADMIN shares; another organization not at all
        self.assertRpcError(C.PERMISSION_DENIED, self.share, report, client=self.o_editor)
        self.assertNotFoundAsMissing(self.g["ADMIN"], SH + "CreateShare", parent=self.owner,
                                     share=pb.shares.Share(resource=report,
                                                           grantee=self.grantee,
                                                           expire_time=ts(DAY), purpose="x"))
        self.assertEqual(listed(self.o_admin.call(SH + "ListShares", parent=self.owner,
                                                  page_size=1000)), before)
        # 366 days is allowed
        s = self.share(report, grantee=self.bystander, expire=366 * DAY - 5)
        self.assertEqual(s.state, pb.shares.SHARE_STATE_ACTIVE)

    # -- nothing else leaks --

    def test_grantee_learns_no_other_names(self):
        """Every answer the grantee gets, OK or not, names of the owner's only
        what was shared (or, by design, a share's name in ListSharedWithMe,
        and the shared document's own references, CONTENT_REFERENCES); an
        error names nothing of the owner's but what the request named."""
        pb = protos()
        x = self.plan()
        a, p = x["assessment"], x["plan"]
        report = self.owner + "/readinessReports/wco-safe-aeo"
        shared = [a + "@1", p + "@1", report]
        me = self.make_org(self.uid("reader"), legal_name="Reader").name
        shares = [self.share(r, grantee=me).name for r in shared]
        # the owner goes on: revision 2 of the assessment, a second scenario
        self.o_admin.call(SA + "CreateSecurityAssessmentRevision", name=a)
        T = pb.scenarios
        self.o_admin.call(TS + "CreateThreatScenario", parent=a, threat_scenario=T.ThreatScenario(
            title="Later", category=T.THREAT_CATEGORY_CYBER,
            source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
            target=x["statement"] + "/facilities/hamburg", consequence_level=1,
            likelihood_level=1))
        g = Recorder(self.client_of(me, pb.common.ROLE_ADMIN))
        ks, kc = kept(x["scenario"], a), kept(x["countermeasure"], a)
        calls = [
            (SA + "GetSecurityAssessment", dict(name=a + "@1")),
            (TS + "ListThreatScenarios", dict(parent=a + "@1")),
            (TS + "GetThreatScenario", dict(name=ks)),
            (CM + "ListCountermeasures", dict(parent=ks)),
            (CM + "GetCountermeasure", dict(name=kc)),
            (SP + "GetSecurityPlan", dict(name=p + "@1")),
            (RD + "GetReadinessReport", dict(name=report)),
            (SH + "ListSharedWithMe", dict(parent=me, page_size=1000)),
            # the shared revision's reports, from its kept scenarios
            (SA + "RankThreatScenarios", dict(name=a + "@1")),
            (SA + "ComputeRiskMatrix", dict(name=a + "@1")),
            # refused
            (SA + "GetSecurityAssessment", dict(name=a)),
            (SA + "GetSecurityAssessment", dict(name=a + "@2")),
            (SA + "ListSecurityAssessmentRevisions", dict(name=a)),
            (SA + "ListSecurityAssessments", dict(parent=self.owner)),
            (TS + "ListThreatScenarios", dict(parent=a)),
            (TS + "ListThreatScenarios", dict(parent=a + "@2")),
            (TS + "GetThreatScenario", dict(name=x["scenario"])),
            (SP + "GetSecurityPlan", dict(name=p)),
            (SP + "ListSecurityPlans", dict(parent=self.owner)),
            ("PlanItems.ListPlanItems", dict(parent=p)),
            ("PlanItems.GetPlanItem", dict(name=x["item"])),
            (SOA + "GetStatementOfApplication", dict(name=x["statement"])),
            (SH + "GetShare", dict(name=shares[0])),
            (SH + "ListShares", dict(parent=self.owner)),
            (SH + "ListSharedWithMe", dict(parent=self.owner)),
            ("Organizations.GetOrganization", dict(name=self.owner)),
            (RD + "GetReadinessReport", dict(name=self.owner + "/readinessReports/ctpat-msc")),
            ("AuditLog.ListAuditEvents", dict(parent=self.owner)),
            (SA + "RankThreatScenarios", dict(name=a)),
            (SA + "ComputeRiskMatrix", dict(name=a + "@2")),
            (SA + "SubmitSecurityAssessment", dict(name=a)),
            (SA + "UpdateSecurityAssessment", dict(
                security_assessment=pb.assessments.SecurityAssessment(name=a + "@1", title="x"),
                update_mask=mask("title"))),
        ]
        for method, fields in calls:
            try:
                g.call(method, **fields)
            except grpc.RpcError:
                pass
        ok = [c for c in g.calls if not isinstance(c[2], grpc.RpcError)]
        self.assertEqual(len(ok), 10, [c[0] for c in ok])
        owner_name = re.compile(re.escape(self.owner) + r"(?![a-z0-9-])[^\s\"',;)]*")
        for method, fields, answer in g.calls:
            with self.subTest(method=method, fields=str(fields)):
                if isinstance(answer, grpc.RpcError):
                    text = answer.details()
                    asked = [v for v in fields.values() if isinstance(v, str)]
                    for v in fields.values():
                        if not isinstance(v, str):
                            asked += [x for _, x in strings(v)]
                    for v in sorted(asked, key=len, reverse=True):
                        text = text.replace(v, "{}").replace(REV.sub("", v), "{}")
                    self.assertIsNone(owner_name.search(text), answer.details())
                    continue
                self.assertNotIn(ROTA, str(answer))  # sensitive: the share leaves it out
                for where, value in strings(answer):
                    if not owner_name.search(value):
                        continue
                    if (where.endswith(".name") or where in REPORT_REFERENCES) and any(
                            value == s or value.startswith(s + "/") for s in shared):
                        continue  # what was shared
                    if where in ("Share.name", "Share.resource") and (
                            value in shares or value in shared):
                        continue  # ListSharedWithMe: by share name
                    self.assertIn(where, CONTENT_REFERENCES,
                                  "%s names %r of the owner's" % (where, value))
        # what the shared plan and assessment name, each readable?
        listed_shares = [c[2] for c in g.calls if c[0] == SH + "ListSharedWithMe"
                         and not isinstance(c[2], grpc.RpcError)][0]
        self.assertEqual(sorted(s.resource for s in listed_shares.shares
                                if s.name.startswith(self.owner + "/")), sorted(shared))


if __name__ == "__main__":
    import unittest
    unittest.main()
