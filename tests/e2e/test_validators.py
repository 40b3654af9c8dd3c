"""Customs validators (ROLE_VALIDATOR) and the validation grants that let them
read an operator's security management system (WCO SAFE AEO validation, ISO
28004-4 clause 6).

A VALIDATOR key exists only in a customs authority, whose kind then cannot
change. In its own authority a validator reads like a VIEWER and writes
nothing. Without a grant in force to its authority (none, pending, expired,
revoked, deleted, or one to another authority) an operator's resources are
NOT_FOUND to it, worded as for what does not exist. With a whole-system
grant it Gets and Lists every kind but API keys, every revision, the
readiness reports and the audit log, without the sensitive fields, and each
read is in the operator's audit log first (principal, role, method,
resource); every write is PERMISSION_DENIED and changes nothing. A grant
scoped to a statement of application admits the organization's record and
what hangs from the statement, read by name or as children of something in
scope, nothing at organization level; several grants in force admit what
any admits. ListValidatedOrganizations lists the operators whose grants are
in force, to the authority's VALIDATORs and ADMINs only. An ADMIN changes a
grant's end and reference only, revokes or deletes it; the authority must
be a customs authority other than the operator."""

import re
import time

import grpc

from harness import ServerTestCase, protos, rpc_code
from test_conformance import accepted_request, approved_assessment

C = grpc.StatusCode
DAY = 86400
FRAMEWORKS = ("wco-safe-aeo", "eu-aeo-security", "ctpat-msc")
VG = "ValidationGrants."
REV = re.compile(r"@\d+")


def ts(offset):
    """A Timestamp offset seconds from now."""
    return protos().timestamp.Timestamp(seconds=int(time.time()) + offset)


def mask(*paths):
    return protos().field_mask.FieldMask(paths=list(paths))


def full_method(method):
    svc, m = method.split(".")
    return "/supplysec.v1.%s/%s" % (svc, m)


def listed(resp):
    """The names in a List response (its repeated message field)."""
    for f in resp.DESCRIPTOR.fields:
        if f.label == f.LABEL_REPEATED and f.message_type is not None:
            return [x.name for x in getattr(resp, f.name)]
    raise AssertionError("no repeated field in %s" % resp.DESCRIPTOR.name)


def missing_in_org(name):
    """name with its last id replaced by one that does not exist (its
    revision kept): None for an organization's own name."""
    if name.count("/") < 3:
        return None
    head, last = name.rsplit("/", 1)
    rev = REV.search(last)
    return head + "/no-such-thing" + (rev.group(0) if rev else "")


def missing_org(name):
    """name in an organization that does not exist."""
    parts = name.split("/")
    parts[1] = "no-such-org"
    return "/".join(parts)


class Operator:
    """An operator organization, its ADMIN client and the names of its
    resources (filled by ValidatorTest.operator)."""

    def __init__(self, name, admin, admin_key):
        self.name, self.admin, self.admin_key = name, admin, admin_key
        self.grant = None


class ValidatorTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.CA = pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY
        # the authority whose validator the tests follow, and a second one
        cls.auth, cls.val, cls.val_key = cls.authority("zoll")
        cls.auth_admin = cls.client_of(cls.auth, pb.common.ROLE_ADMIN)
        cls.auth2, cls.val2, cls.val2_key = cls.authority("douane")
        # a grantee org for the operators' shares
        cls.partner_org = cls.make_org(cls.uid("carrier")).name
        # the operator with a whole-system grant to zoll in force, and one
        # with no grant at all, each with one of everything
        cls.op = cls.operator("fwd")
        cls.op.grant = cls.grant(cls.op, cls.auth).name
        cls.bare = cls.operator("bare")

    # -- fixtures --

    @classmethod
    def client_of(cls, org, role):
        return cls.server.client(cls.make_key(org, role).secret)

    @classmethod
    def authority(cls, prefix):
        """A customs authority and a VALIDATOR of it: (name, client, key name)."""
        pb = protos()
        name = cls.make_org(cls.uid(prefix), legal_name="Authority " + prefix,
                            kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY).name
        k = cls.make_key(name, pb.common.ROLE_VALIDATOR, display_name="validator")
        return name, cls.server.client(k.secret), k.api_key.name

    @classmethod
    def light_operator(cls, prefix):
        """An operator with an ADMIN and one security policy."""
        pb = protos()
        name = cls.make_org(cls.uid(prefix), legal_name="Operator " + prefix).name
        k = cls.make_key(name, pb.common.ROLE_ADMIN)
        o = Operator(name, cls.server.client(k.secret), k.api_key.name)
        o.policy = o.admin.call("SecurityPolicies.CreateSecurityPolicy", parent=name,
                                security_policy=pb.policies.SecurityPolicy(
                                    title="Policy of " + prefix, text="We secure")).name
        return o

    @classmethod
    def operator(cls, prefix):
        """An operator with one of everything: an approved statement,
        assessment (a scenario, an accepted countermeasure), policy and
        paper declaration; a partner with an accepted request and a
        credibility review; a scoring scheme, objective, incident, draft plan
        (an item, a training and a monitoring record), management review,
        and a share of its readiness report."""
        pb = protos()
        o = cls.light_operator(prefix)
        a = o.admin
        P = pb.policies
        a.call("SecurityPolicies.UpdateSecurityPolicy", security_policy=P.SecurityPolicy(
            name=o.policy, sign_off=P.SignOff(signatory_name="CEO", signatory_role="CEO",
                                              sign_time=ts(-DAY))),
            update_mask=mask("sign_off"))
        a.call("SecurityPolicies.SubmitSecurityPolicy", name=o.policy)
        a.call("SecurityPolicies.ApproveSecurityPolicy", name=o.policy)
        ctx = approved_assessment(a, o.name)
        o.assessment = ctx["assessment"]
        o.countermeasure = ctx["countermeasures"][0]
        o.scenario = o.countermeasure.rsplit("/countermeasures/", 1)[0]
        got = a.call("SecurityAssessments.GetSecurityAssessment", name=o.assessment)
        o.statement, o.scheme = got.scope.statement_of_application, got.scoring_scheme
        o.kept_scenario = o.scenario.replace(o.assessment, o.assessment + "@1", 1)
        o.kept_countermeasure = o.countermeasure.replace(o.assessment, o.assessment + "@1", 1)
        req = accepted_request(a, o.name)
        o.partner, o.request = req["parent"], req["request"]
        o.declaration = REV.sub("", a.call("DeclarationRequests.GetDeclarationRequest",
                                           name=o.request).declaration)
        R = pb.reviews
        o.review = a.call("CredibilityReviews.CreateCredibilityReview", parent=o.partner,
                          credibility_review=R.CredibilityReview(
                              declaration_request=o.request,
                              method=R.REVIEW_METHOD_DOCUMENT_REVIEW, reviewer="Auditor",
                              result=R.REVIEW_RESULT_CREDIBLE, review_time=ts(-60))).name
        o.objective = a.call("SecurityObjectives.CreateSecurityObjective", parent=o.name,
                             security_objective=pb.objectives.SecurityObjective(
                                 title="Seal discrepancies", indicator="Discrepancies a month",
                                 direction=pb.objectives.TARGET_DIRECTION_AT_MOST, target=2,
                                 owner="Ops")).name
        I = pb.incidents
        o.incident = a.call("SecurityIncidents.CreateSecurityIncident", parent=o.name,
                            security_incident=I.SecurityIncident(
                                title="Fence cut", severity=I.INCIDENT_SEVERITY_MEDIUM,
                                occur_time=ts(-3600), location="Gate 2",
                                required_notifications=[I.RequiredNotification(
                                    kind=I.AUTHORITY_KIND_CUSTOMS, authority="Customs")])).name
        o.plan = a.call("SecurityPlans.CreateSecurityPlan", parent=o.name,
                        security_plan=pb.plans.SecurityPlan(
                            title="Plan", security_assessment=o.assessment,
                            monitoring_schedule=[pb.plans.MonitoringActivity(
                                id="seal-log", description="Seal log", interval_days=7)])).name
        o.item = a.call("PlanItems.ListPlanItems", parent=o.plan).plan_items[0].name
        T = pb.trainings
        o.training = a.call("TrainingRecords.CreateTrainingRecord", parent=o.plan,
                            training_record=T.TrainingRecord(
                                kind=T.TRAINING_KIND_DRILL, topic="Seal drill",
                                hold_time=ts(-7200), attendees=["Gate staff"],
                                trainer="Trainer")).name
        M = pb.monitorings
        o.monitoring = a.call("MonitoringRecords.CreateMonitoringRecord", parent=o.plan,
                              monitoring_record=M.MonitoringRecord(
                                  activity="seal-log", perform_time=ts(-60), performer="Guard",
                                  result=M.MONITORING_RESULT_CONFORMING)).name
        o.mreview = a.call("ManagementReviews.CreateManagementReview", parent=o.name,
                           management_review=pb.mgmt_reviews.ManagementReview(
                               title="Review", attendees=["CEO"], review_time=ts(-DAY))).name
        o.share = a.call("Shares.CreateShare", parent=o.name, share=pb.shares.Share(
            resource=o.name + "/readinessReports/wco-safe-aeo", grantee=cls.partner_org,
            purpose="Carrier onboarding", expire_time=ts(30 * DAY))).name
        return o

    @classmethod
    def grant(cls, o, authority, start=-60, end=30 * DAY, soa="", grant_id="", client=None):
        """A grant by o to authority from now+start until now+end."""
        pb = protos()
        return (client or o.admin).call(
            VG + "CreateValidationGrant", parent=o.name, validation_grant_id=grant_id,
            validation_grant=pb.validation_grants.ValidationGrant(
                authority=authority, application_reference="DE-AEO-2026-00417",
                start_time=ts(start), end_time=ts(end), statement_of_application=soa))

    # -- the calls --

    def reads(self, o):
        """Every read a whole-system grant admits: (method, request fields,
        the resource its audit event names, a name the answer must carry)."""
        a, kept = o.assessment, o.assessment + "@1"
        r = [
            ("Organizations.GetOrganization", dict(name=o.name), o.name, o.name),
            ("SecurityPolicies.GetSecurityPolicy", dict(name=o.policy), o.policy, o.policy),
            ("SecurityPolicies.GetSecurityPolicy", dict(name=o.policy + "@1"), o.policy + "@1",
             o.policy + "@1"),
            ("SecurityPolicies.ListSecurityPolicies", dict(parent=o.name), o.name, o.policy),
            ("SecurityPolicies.ListSecurityPolicyRevisions", dict(name=o.policy), o.policy,
             o.policy + "@1"),
            ("StatementsOfApplication.GetStatementOfApplication", dict(name=o.statement),
             o.statement, o.statement),
            ("StatementsOfApplication.GetStatementOfApplication",
             dict(name=o.statement + "@1"), o.statement + "@1", o.statement + "@1"),
            ("StatementsOfApplication.ListStatementsOfApplication", dict(parent=o.name), o.name,
             o.statement),
            ("StatementsOfApplication.ListStatementOfApplicationRevisions",
             dict(name=o.statement), o.statement, o.statement + "@1"),
            ("BusinessPartners.GetBusinessPartner", dict(name=o.partner), o.partner, o.partner),
            ("BusinessPartners.ListBusinessPartners", dict(parent=o.name), o.name, o.partner),
            ("Declarations.GetDeclaration", dict(name=o.declaration), o.declaration,
             o.declaration),
            ("Declarations.GetDeclaration", dict(name=o.declaration + "@1"),
             o.declaration + "@1", o.declaration + "@1"),
            ("Declarations.ListDeclarations", dict(parent=o.name), o.name, o.declaration),
            ("Declarations.ListDeclarationRevisions", dict(name=o.declaration), o.declaration,
             o.declaration + "@1"),
            ("DeclarationRequests.GetDeclarationRequest", dict(name=o.request), o.request,
             o.request),
            ("DeclarationRequests.ListDeclarationRequests", dict(parent=o.name), o.name,
             o.request),
            ("CredibilityReviews.GetCredibilityReview", dict(name=o.review), o.review, o.review),
            ("CredibilityReviews.ListCredibilityReviews", dict(parent=o.partner), o.partner,
             o.review),
            ("ScoringSchemes.GetScoringScheme", dict(name=o.scheme), o.scheme, o.scheme),
            ("ScoringSchemes.ListScoringSchemes", dict(parent=o.name), o.name, o.scheme),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=a), a, a),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=kept), kept, kept),
            ("SecurityAssessments.ListSecurityAssessments", dict(parent=o.name), o.name, a),
            ("SecurityAssessments.ListSecurityAssessmentRevisions", dict(name=a), a, kept),
            ("ThreatScenarios.GetThreatScenario", dict(name=o.scenario), o.scenario, o.scenario),
            ("ThreatScenarios.GetThreatScenario", dict(name=o.kept_scenario), o.kept_scenario,
             o.kept_scenario),
            ("ThreatScenarios.ListThreatScenarios", dict(parent=a), a, o.scenario),
            ("ThreatScenarios.ListThreatScenarios", dict(parent=kept), kept, o.kept_scenario),
            ("Countermeasures.GetCountermeasure", dict(name=o.countermeasure), o.countermeasure,
             o.countermeasure),
            ("Countermeasures.GetCountermeasure", dict(name=o.kept_countermeasure),
             o.kept_countermeasure, o.kept_countermeasure),
            ("Countermeasures.ListCountermeasures", dict(parent=o.scenario), o.scenario,
             o.countermeasure),
            ("Countermeasures.ListCountermeasures", dict(parent=o.kept_scenario),
             o.kept_scenario, o.kept_countermeasure),
            ("SecurityObjectives.GetSecurityObjective", dict(name=o.objective), o.objective,
             o.objective),
            ("SecurityObjectives.ListSecurityObjectives", dict(parent=o.name), o.name,
             o.objective),
            ("SecurityIncidents.GetSecurityIncident", dict(name=o.incident), o.incident,
             o.incident),
            ("SecurityIncidents.ListSecurityIncidents", dict(parent=o.name), o.name, o.incident),
            ("SecurityPlans.GetSecurityPlan", dict(name=o.plan), o.plan, o.plan),
            ("SecurityPlans.ListSecurityPlans", dict(parent=o.name), o.name, o.plan),
            ("SecurityPlans.ListSecurityPlanRevisions", dict(name=o.plan), o.plan, None),
            ("PlanItems.GetPlanItem", dict(name=o.item), o.item, o.item),
            ("PlanItems.ListPlanItems", dict(parent=o.plan), o.plan, o.item),
            ("TrainingRecords.GetTrainingRecord", dict(name=o.training), o.training, o.training),
            ("TrainingRecords.ListTrainingRecords", dict(parent=o.plan), o.plan, o.training),
            ("MonitoringRecords.GetMonitoringRecord", dict(name=o.monitoring), o.monitoring,
             o.monitoring),
            ("MonitoringRecords.ListMonitoringRecords", dict(parent=o.plan), o.plan,
             o.monitoring),
            ("ManagementReviews.GetManagementReview", dict(name=o.mreview), o.mreview,
             o.mreview),
            ("ManagementReviews.ListManagementReviews", dict(parent=o.name), o.name, o.mreview),
            ("Shares.GetShare", dict(name=o.share), o.share, o.share),
            ("Shares.ListShares", dict(parent=o.name), o.name, o.share),
        ]
        for fw in FRAMEWORKS:
            report = o.name + "/readinessReports/" + fw
            r.append(("Readiness.GetReadinessReport", dict(name=report), report, report))
        r.append(("AuditLog.ListAuditEvents", dict(parent=o.name, page_size=5), o.name, None))
        r.append(("AuditLog.VerifyAuditLog", dict(parent=o.name), o.name, None))
        return r

    def writes(self, o):
        """Writes of every sort on o's resources: (method, request fields)."""
        pb = protos()
        w = [
            ("SecurityPolicies.UpdateSecurityPolicy", dict(
                security_policy=pb.policies.SecurityPolicy(name=o.policy, title="By customs"),
                update_mask=mask("title"))),
            ("SecurityPolicies.DeleteSecurityPolicy", dict(name=o.policy)),
            ("SecurityPolicies.CreateSecurityPolicy", dict(
                parent=o.name, security_policy=pb.policies.SecurityPolicy(title="By customs"))),
            ("SecurityPolicies.CreateSecurityPolicyRevision", dict(name=o.policy)),
            ("Organizations.UpdateOrganization", dict(
                organization=pb.orgs.Organization(name=o.name, legal_name="By customs"),
                update_mask=mask("legal_name"))),
            ("BusinessPartners.DeleteBusinessPartner", dict(name=o.partner)),
            ("SecurityAssessments.CreateSecurityAssessmentRevision", dict(name=o.assessment)),
            ("SecurityAssessments.UpdateSecurityAssessment", dict(
                security_assessment=pb.assessments.SecurityAssessment(
                    name=o.assessment, title="By customs"), update_mask=mask("title"))),
            ("ThreatScenarios.DeleteThreatScenario", dict(name=o.scenario)),
            ("Countermeasures.DeclineCountermeasure", dict(name=o.countermeasure)),
            ("SecurityIncidents.CloseSecurityIncident", dict(name=o.incident)),
            ("SecurityIncidents.UpdateSecurityIncident", dict(
                security_incident=pb.incidents.SecurityIncident(name=o.incident,
                                                                title="By customs"),
                update_mask=mask("title"))),
            ("SecurityPlans.SubmitSecurityPlan", dict(name=o.plan)),
            ("PlanItems.UpdatePlanItem", dict(
                plan_item=pb.items.PlanItem(name=o.item, owner="By customs"),
                update_mask=mask("owner"))),
            ("TrainingRecords.CreateTrainingRecord", dict(
                parent=o.plan, training_record=pb.trainings.TrainingRecord(
                    kind=pb.trainings.TRAINING_KIND_DRILL, topic="By customs",
                    hold_time=ts(-60), attendees=["x"], trainer="x"))),
            ("SecurityObjectives.AddObjectiveMeasurement", dict(
                name=o.objective, measurement=pb.objectives.ObjectiveMeasurement(
                    measure_time=ts(-60), value=1))),
            ("Declarations.RevokeDeclaration", dict(name=o.declaration)),
            ("ManagementReviews.DeleteManagementReview", dict(name=o.mreview)),
            ("Shares.RevokeShare", dict(name=o.share)),
            ("Shares.CreateShare", dict(parent=o.name, share=pb.shares.Share(
                resource=o.name + "/readinessReports/ctpat-msc", grantee=self.partner_org,
                purpose="By customs", expire_time=ts(DAY)))),
        ]
        if o.grant:
            w += [
                (VG + "RevokeValidationGrant", dict(name=o.grant)),
                (VG + "UpdateValidationGrant", dict(
                    validation_grant=pb.validation_grants.ValidationGrant(
                        name=o.grant, end_time=ts(700 * DAY)), update_mask=mask("end_time"))),
                (VG + "DeleteValidationGrant", dict(name=o.grant)),
            ]
        return w

    def state_of(self, o):
        """What the writes would change, as o's ADMIN reads it."""
        a = o.admin
        got = {}
        for method, name in (
                ("Organizations.GetOrganization", o.name),
                ("SecurityPolicies.GetSecurityPolicy", o.policy),
                ("BusinessPartners.GetBusinessPartner", o.partner),
                ("SecurityAssessments.GetSecurityAssessment", o.assessment),
                ("ThreatScenarios.GetThreatScenario", o.scenario),
                ("Countermeasures.GetCountermeasure", o.countermeasure),
                ("SecurityIncidents.GetSecurityIncident", o.incident),
                ("SecurityPlans.GetSecurityPlan", o.plan),
                ("PlanItems.GetPlanItem", o.item),
                ("SecurityObjectives.GetSecurityObjective", o.objective),
                ("Declarations.GetDeclaration", o.declaration),
                ("ManagementReviews.GetManagementReview", o.mreview),
                ("Shares.GetShare", o.share)) + ((
                (VG + "GetValidationGrant", o.grant),) if o.grant else ()):
            r = a.call(method, name=name)
            got[name] = (r.etag, r.update_time.ToNanoseconds(), getattr(r, "state", None))
        for method, parent in (("SecurityPolicies.ListSecurityPolicies", o.name),
                               ("SecurityPolicies.ListSecurityPolicyRevisions", None),
                               ("SecurityAssessments.ListSecurityAssessmentRevisions", None),
                               ("TrainingRecords.ListTrainingRecords", o.plan),
                               ("Shares.ListShares", o.name),
                               (VG + "ListValidationGrants", o.name)):
            if parent is None:
                name = o.policy if "Polic" in method else o.assessment
                got[method] = listed(a.call(method, name=name, page_size=1000))
            else:
                got[method] = listed(a.call(method, parent=parent, page_size=1000))
        return got

    # -- the audit log --

    def events(self, o, after=0, flt="role = ROLE_VALIDATOR"):
        """o's audit events matching flt past position `after`, as its ADMIN lists them."""
        out, token = [], ""
        while True:
            r = o.admin.call("AuditLog.ListAuditEvents", parent=o.name, filter=flt,
                             page_size=1000, page_token=token)
            out += [e for e in r.audit_events if e.position > after]
            token = r.next_page_token
            if not token:
                return out

    def head(self, o):
        return o.admin.call("AuditLog.VerifyAuditLog", parent=o.name).head_position

    # -- assertions --

    def assertNotFoundAsMissing(self, client, method, fields, key):
        """method with fields is NOT_FOUND to client, worded as for the same
        name in an organization that does not exist (and, below the
        organization, for an id that does not exist in it)."""
        e = self.assertRpcError(C.NOT_FOUND, client.call, method, **fields)
        real = fields[key]
        for other in (missing_org(real), missing_in_org(real)):
            if other is None:
                continue
            e2 = self.assertRpcError(C.NOT_FOUND, client.call, method,
                                     **dict(fields, **{key: other}))
            self.assertEqual(self.neutral(e.details(), real), self.neutral(e2.details(), other),
                             "%s: the NOT_FOUND tells an existing %s from a missing one"
                             % (method, key))
        return e

    @staticmethod
    def neutral(details, name):
        return details.replace(name, "{}").replace(REV.sub("", name), "{}")

    def assertShutOut(self, client, o):
        """Nothing of the light operator o is there for client."""
        for method, fields, key in (
                ("Organizations.GetOrganization", dict(name=o.name), "name"),
                ("SecurityPolicies.GetSecurityPolicy", dict(name=o.policy), "name"),
                ("SecurityPolicies.ListSecurityPolicies", dict(parent=o.name), "parent"),
                ("Readiness.GetReadinessReport",
                 dict(name=o.name + "/readinessReports/wco-safe-aeo"), "name"),
                ("AuditLog.ListAuditEvents", dict(parent=o.name), "parent"),
                ("SecurityPolicies.UpdateSecurityPolicy", dict(
                    security_policy=protos().policies.SecurityPolicy(name=o.policy, title="x"),
                    update_mask=mask("title")), None)):
            with self.subTest(method=method, org=o.name):
                if key:
                    self.assertNotFoundAsMissing(client, method, fields, key)
                else:
                    self.assertRpcError(C.NOT_FOUND, client.call, method, **fields)

    def assertAdmitted(self, client, o):
        self.assertEqual(client.call("Organizations.GetOrganization", name=o.name).name, o.name)
        self.assertEqual(client.call("SecurityPolicies.GetSecurityPolicy", name=o.policy).name,
                         o.policy)
        self.assertIn(o.policy, listed(client.call("SecurityPolicies.ListSecurityPolicies",
                                                   parent=o.name)))

    # -- keys --

    def test_validator_keys_only_in_customs_authorities(self):
        pb = protos()
        op = self.light_operator("kop")
        for who, client in (("platform administrator", self.admin),
                            ("the operator's ADMIN", op.admin)):
            with self.subTest(who):
                e = self.assertRpcError(C.FAILED_PRECONDITION, client.call, "ApiKeys.CreateApiKey",
                                        parent=op.name,
                                        api_key=pb.keys.ApiKey(role=pb.common.ROLE_VALIDATOR))
                self.assertIn("api_key.role", e.details())
        keys = op.admin.call("ApiKeys.ListApiKeys", parent=op.name).api_keys
        self.assertNotIn(pb.common.ROLE_VALIDATOR, [k.role for k in keys])
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call, "ApiKeys.CreateApiKey",
                                parent="platform",
                                api_key=pb.keys.ApiKey(role=pb.common.ROLE_VALIDATOR))
        self.assertIn("api_key.role", e.details())
        # in an authority: by a platform administrator or the authority's ADMIN
        made = self.auth_admin.call("ApiKeys.CreateApiKey", parent=self.auth,
                                    api_key=pb.keys.ApiKey(role=pb.common.ROLE_VALIDATOR))
        self.assertEqual(made.api_key.role, pb.common.ROLE_VALIDATOR)
        v = self.server.client(made.secret)
        self.assertEqual(v.call("Organizations.GetOrganization", name=self.auth).name, self.auth)

    def test_validator_reads_its_own_authority_like_a_viewer(self):
        pb = protos()
        self.assertEqual(self.val.call("Organizations.GetOrganization", name=self.auth).kind,
                         self.CA)
        self.val.call("SecurityPolicies.ListSecurityPolicies", parent=self.auth)
        self.val.call(VG + "ListValidationGrants", parent=self.auth)
        for method, fields in (
                ("SecurityPolicies.CreateSecurityPolicy", dict(
                    parent=self.auth, security_policy=pb.policies.SecurityPolicy(title="x"))),
                ("Organizations.UpdateOrganization", dict(
                    organization=pb.orgs.Organization(name=self.auth, legal_name="x"),
                    update_mask=mask("legal_name"))),
                ("ApiKeys.CreateApiKey", dict(parent=self.auth, api_key=pb.keys.ApiKey(
                    role=pb.common.ROLE_VALIDATOR))),
                ("ApiKeys.ListApiKeys", dict(parent=self.auth))):
            with self.subTest(method):
                self.assertRpcError(C.PERMISSION_DENIED, self.val.call, method, **fields)
        self.assertEqual(self.auth_admin.call("Organizations.GetOrganization",
                                              name=self.auth).legal_name, "Authority zoll")

    # -- no grant --

    def test_without_a_grant_everything_is_not_found(self):
        """An operator that granted nothing (while another operator has
        granted zoll access): every read and write NOT_FOUND, worded as for
        what does not exist, and none of it in its audit log."""
        o = self.bare
        start = self.head(o)
        for method, fields, _, _ in self.reads(o):
            key = "name" if "name" in fields else "parent"
            with self.subTest(method=method, name=fields[key]):
                self.assertNotFoundAsMissing(self.val, method, fields, key)
        for method, fields in self.writes(o):
            with self.subTest(method=method):
                self.assertRpcError(C.NOT_FOUND, self.val.call, method, **fields)
        self.assertEqual(self.events(o, start, flt=""), [])

    # -- a whole-system grant --

    def test_whole_grant_reads_every_kind_each_recorded(self):
        o = self.op
        start = self.head(o)
        reads = self.reads(o) + [(VG + "GetValidationGrant", dict(name=o.grant), o.grant,
                                  o.grant)]
        for method, fields, _, expect in reads:
            with self.subTest(method=method, fields=str(fields)):
                r = self.val.call(method, **fields)
                if expect is None:
                    continue
                if "name" in r.DESCRIPTOR.fields_by_name:
                    self.assertEqual(r.name, expect)
                else:
                    self.assertIn(expect, listed(r))
        # never the operator's API keys, nor the list of its grants
        self.assertNotFoundAsMissing(self.val, "ApiKeys.GetApiKey", dict(name=o.admin_key),
                                     "name")
        self.assertNotFoundAsMissing(self.val, "ApiKeys.ListApiKeys", dict(parent=o.name),
                                     "parent")
        self.assertRpcError(C.NOT_FOUND, self.val.call, VG + "ListValidationGrants",
                            parent=o.name)
        # each read, in order, one event: the validator's key, its authority,
        # ROLE_VALIDATOR, the method, what it read (a list: its parent)
        got = self.events(o, start)
        self.assertEqual([(e.method, e.resource) for e in got],
                         [(full_method(m), res) for m, _, res, _ in reads])
        for e in got:
            self.assertEqual((e.principal, e.principal_organization, e.role),
                             (self.val_key, self.auth, protos().common.ROLE_VALIDATOR))
        # the same events by the filter on the principal; the chain intact
        self.assertEqual(self.events(o, start, flt='principal = "%s"' % self.val_key), got)
        self.assertTrue(o.admin.call("AuditLog.VerifyAuditLog", parent=o.name).intact)

    def test_read_events_record_versions_0_and_0(self):
        """audit_log.proto: a read is recorded before it is made, so its
        event records versions 0 and 0; the operator's writes their versions."""
        o = self.op
        writes = self.events(o, flt='resource = "%s" AND NOT role = ROLE_VALIDATOR' % o.policy)
        self.assertGreater(writes[-1].version_after, 0)
        start = self.head(o)
        self.val.call("SecurityPolicies.GetSecurityPolicy", name=o.policy)
        self.val.call("SecurityPolicies.ListSecurityPolicies", parent=o.name)
        got = self.events(o, start)
        self.assertEqual([(e.version_before, e.version_after) for e in got], [(0, 0), (0, 0)])

    def test_validator_reads_without_sensitive_fields(self):
        """A plan's guarding arrangements and a facility's security
        arrangements (marked sensitive) are cleared from what a validator
        reads, by Get and by List; the operator reads them."""
        pb = protos()
        S = pb.statements
        o = self.op
        rota = "Two guards at night, patrol route B"
        alarm = "Alarm code 4711, keys with the night guard"
        o.admin.call("SecurityPlans.UpdateSecurityPlan", security_plan=pb.plans.SecurityPlan(
            name=o.plan, guarding_arrangements=rota), update_mask=mask("guarding_arrangements"))
        st = o.admin.call("StatementsOfApplication.CreateStatementOfApplication", parent=o.name,
                          statement_of_application=S.StatementOfApplication(
                              title="Bremen scope", functions=[
                                  pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                              facilities=[S.Facility(id="bremen", name="Bremen warehouse",
                                                     country_code="DE",
                                                     security_arrangements=alarm)])).name
        self.assertEqual(o.admin.call("SecurityPlans.GetSecurityPlan", name=o.plan)
                         .guarding_arrangements, rota)
        self.assertEqual(o.admin.call("StatementsOfApplication.GetStatementOfApplication",
                                      name=st).facilities[0].security_arrangements, alarm)
        got = self.val.call("SecurityPlans.GetSecurityPlan", name=o.plan)
        self.assertEqual((got.name, got.guarding_arrangements), (o.plan, ""))
        plans = self.val.call("SecurityPlans.ListSecurityPlans", parent=o.name,
                              page_size=1000).security_plans
        self.assertIn(o.plan, [x.name for x in plans])
        self.assertEqual([x.guarding_arrangements for x in plans], [""] * len(plans))
        got = self.val.call("StatementsOfApplication.GetStatementOfApplication", name=st)
        self.assertEqual((got.facilities[0].name, got.facilities[0].security_arrangements),
                         ("Bremen warehouse", ""))
        statements = self.val.call("StatementsOfApplication.ListStatementsOfApplication",
                                   parent=o.name, page_size=1000).statements_of_application
        self.assertIn(st, [x.name for x in statements])
        self.assertEqual([f.security_arrangements for x in statements for f in x.facilities],
                         [""] * sum(len(x.facilities) for x in statements))

    def test_whole_grant_writes_denied_nothing_changed(self):
        o = self.op
        before = self.state_of(o)
        start = self.head(o)
        for method, fields in self.writes(o):
            with self.subTest(method=method):
                e = self.assertRpcError(C.PERMISSION_DENIED, self.val.call, method, **fields)
                self.assertNotIn("not found", e.details())
        # API keys are not seen at all
        pb = protos()
        self.assertRpcError(C.NOT_FOUND, self.val.call, "ApiKeys.RevokeApiKey", name=o.admin_key)
        self.assertRpcError(C.NOT_FOUND, self.val.call, "ApiKeys.CreateApiKey", parent=o.name,
                            api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
        self.assertEqual(self.state_of(o), before)
        self.assertEqual(self.events(o, start, flt=""), [])
        # still in force, still read
        self.assertEqual(self.val.call(VG + "GetValidationGrant", name=o.grant).state,
                         pb.validation_grants.GRANT_STATE_ACTIVE)

    def test_grant_to_another_authority_does_not_admit(self):
        o = self.light_operator("other-auth")
        self.grant(o, self.auth2)
        self.assertShutOut(self.val, o)
        self.assertAdmitted(self.val2, o)
        # and zoll's grant from fwd admits no one from douane
        self.assertNotFoundAsMissing(self.val2, "SecurityPolicies.GetSecurityPolicy",
                                     dict(name=self.op.policy), "name")

    def test_pending_and_expired_grants_do_not_admit(self):
        G = protos().validation_grants
        pending = self.light_operator("pending")
        g = self.grant(pending, self.auth, start=3600, end=7200)
        self.assertEqual(g.state, G.GRANT_STATE_PENDING)
        self.assertShutOut(self.val, pending)
        expired = self.light_operator("expired")
        g = self.grant(expired, self.auth, start=-7200, end=-3600)
        self.assertEqual(g.state, G.GRANT_STATE_EXPIRED)
        self.assertShutOut(self.val, expired)
        self.assertEqual(self.events(pending, flt=""), self.events(pending, flt="NOT role = "
                                                                             "ROLE_VALIDATOR"))
        self.assertEqual(self.events(expired, flt="role = ROLE_VALIDATOR"), [])

    def test_grant_comes_into_force_and_expires(self):
        """A grant from now+3 s to now+6 s: pending, in force, expired."""
        G = protos().validation_grants
        o = self.light_operator("window")
        g = self.grant(o, self.auth, start=3, end=6)
        self.assertEqual(g.state, G.GRANT_STATE_PENDING)
        self.assertRpcError(C.NOT_FOUND, self.val.call, "SecurityPolicies.GetSecurityPolicy",
                            name=o.policy)
        time.sleep(max(0, g.start_time.seconds + 0.3 - time.time()))
        self.assertEqual(o.admin.call(VG + "GetValidationGrant", name=g.name).state,
                         G.GRANT_STATE_ACTIVE)
        self.assertAdmitted(self.val, o)
        time.sleep(max(0, g.end_time.seconds + 0.3 - time.time()))
        self.assertEqual(o.admin.call(VG + "GetValidationGrant", name=g.name).state,
                         G.GRANT_STATE_EXPIRED)
        self.assertShutOut(self.val, o)

    def test_revoke_and_delete_end_access_at_once(self):
        pb = protos()
        G = pb.validation_grants
        o = self.light_operator("revoke")
        g = self.grant(o, self.auth)
        self.assertAdmitted(self.val, o)
        r = o.admin.call(VG + "RevokeValidationGrant", name=g.name)
        self.assertEqual((r.state, r.revoker), (G.GRANT_STATE_REVOKED, o.admin_key))
        self.assertTrue(r.HasField("revoke_time"))
        self.assertShutOut(self.val, o)
        self.assertRpcError(C.NOT_FOUND, self.val.call, VG + "GetValidationGrant", name=g.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, o.admin.call, VG + "RevokeValidationGrant",
                                name=g.name)
        self.assertIn(g.name, e.details())
        self.assertRpcError(C.FAILED_PRECONDITION, o.admin.call, VG + "UpdateValidationGrant",
                            validation_grant=G.ValidationGrant(name=g.name, end_time=ts(DAY)),
                            update_mask=mask("end_time"))
        self.assertEqual(o.admin.call(VG + "GetValidationGrant", name=g.name).state,
                         G.GRANT_STATE_REVOKED)
        # a new grant admits again; deleting it ends access too
        g2 = self.grant(o, self.auth)
        self.assertAdmitted(self.val, o)
        o.admin.call(VG + "DeleteValidationGrant", name=g2.name)
        self.assertShutOut(self.val, o)

    # -- the authority's view --

    def test_list_validated_organizations(self):
        """Exactly the operators whose grants to the authority are in force;
        to its VALIDATORs and ADMINs; NOT_FOUND to anyone outside it."""
        pb = protos()
        G = pb.validation_grants
        auth, val, _ = self.authority("lvo")
        clients = {r: self.client_of(auth, getattr(pb.common, "ROLE_" + r))
                   for r in ("ADMIN", "EDITOR", "VIEWER")}
        ops = {k: self.light_operator("lvo-" + k) for k in
               ("active", "active2", "pending", "revoked", "expired", "other", "deleted", "none")}
        want, legal = {}, {}
        for k in ("active", "active2"):
            want[ops[k].name] = self.grant(ops[k], auth).name
            legal[ops[k].name] = "Operator lvo-" + k
        self.grant(ops["pending"], auth, start=DAY, end=2 * DAY)
        g = self.grant(ops["revoked"], auth)
        ops["revoked"].admin.call(VG + "RevokeValidationGrant", name=g.name)
        self.grant(ops["expired"], auth, start=-2 * DAY, end=-DAY)
        self.grant(ops["other"], self.auth2)
        g = self.grant(ops["deleted"], auth)
        ops["deleted"].admin.call(VG + "DeleteValidationGrant", name=g.name)
        for role, client in (("VALIDATOR", val), ("ADMIN", clients["ADMIN"])):
            with self.subTest(role):
                r = client.call(VG + "ListValidatedOrganizations", authority=auth)
                got = {v.organization: v for v in r.validated_organizations}
                self.assertEqual(sorted(got), sorted(want))
                for org, v in got.items():
                    self.assertEqual(v.legal_name, legal[org])
                    self.assertEqual((v.grant.name, v.grant.authority, v.grant.state),
                                     (want[org], auth, G.GRANT_STATE_ACTIVE))
        for role in ("EDITOR", "VIEWER"):
            with self.subTest(role):
                self.assertRpcError(C.PERMISSION_DENIED, clients[role].call,
                                    VG + "ListValidatedOrganizations", authority=auth)
        # anyone outside the authority, worded as for one that does not exist
        for who, client in (("another authority's validator", self.val),
                            ("an operator's ADMIN", ops["active"].admin)):
            with self.subTest(who):
                self.assertNotFoundAsMissing(client, VG + "ListValidatedOrganizations",
                                             dict(authority=auth), "authority")
        # an operator is not an authority the validator belongs to, even one
        # that granted the validator's authority access (zoll reads fwd)
        with self.subTest("a validator, on an operator it validates"):
            self.assertNotFoundAsMissing(self.val, VG + "ListValidatedOrganizations",
                                         dict(authority=self.op.name), "authority")
        # page by page: each once, none lost, whatever was left out of a page
        names, token, pages = [], "", 0
        while True:
            r = val.call(VG + "ListValidatedOrganizations", authority=auth, page_size=1,
                         page_token=token)
            self.assertLessEqual(len(r.validated_organizations), 1)
            names += [v.organization for v in r.validated_organizations]
            token, pages = r.next_page_token, pages + 1
            if not token or pages > 20:
                break
        self.assertEqual(sorted(names), sorted(want))
        # zoll's list: fwd, not the operator that granted nothing
        r = self.val.call(VG + "ListValidatedOrganizations", authority=self.auth,
                          page_size=1000)
        self.assertIn(self.op.name, [v.organization for v in r.validated_organizations])
        self.assertNotIn(self.bare.name, [v.organization for v in r.validated_organizations])

    def test_validator_reads_only_grants_to_its_own_authority(self):
        pb = protos()
        o = self.light_operator("grants")
        mine = self.grant(o, self.auth).name
        theirs = self.grant(o, self.auth2).name
        start = self.head(o)
        self.assertEqual(self.val.call(VG + "GetValidationGrant", name=mine).authority,
                         self.auth)
        self.assertNotFoundAsMissing(self.val, VG + "GetValidationGrant", dict(name=theirs),
                                     "name")
        self.assertEqual(self.val2.call(VG + "GetValidationGrant", name=theirs).authority,
                         self.auth2)
        self.assertNotFoundAsMissing(self.val2, VG + "GetValidationGrant", dict(name=mine),
                                     "name")
        self.assertRpcError(C.NOT_FOUND, self.val.call, VG + "ListValidationGrants",
                            parent=o.name)
        # a grant by another operator to zoll: not this operator's business
        self.assertNotFoundAsMissing(self.val, VG + "GetValidationGrant",
                                     dict(name=mine.replace(o.name, self.bare.name)), "name")
        got = self.events(o, start)
        self.assertEqual([(e.principal, e.method, e.resource) for e in got],
                         [(self.val_key, full_method(VG + "GetValidationGrant"), mine),
                          (self.val2_key, full_method(VG + "GetValidationGrant"), theirs)])
        # once revoked: not even its own
        o.admin.call(VG + "RevokeValidationGrant", name=mine)
        self.assertNotFoundAsMissing(self.val, VG + "GetValidationGrant", dict(name=mine),
                                     "name")
        self.assertEqual(self.val2.call(VG + "GetValidationGrant", name=theirs).state,
                         pb.validation_grants.GRANT_STATE_ACTIVE)

    # -- a scoped grant --

    def test_scoped_grant(self):
        pb = protos()
        o = self.light_operator("scoped")
        a = o.admin
        scoped, other = approved_assessment(a, o.name), approved_assessment(a, o.name)
        names = {}
        for tag, ctx in (("in", scoped), ("out", other)):
            asm = ctx["assessment"]
            cm = ctx["countermeasures"][0]
            soa = a.call("SecurityAssessments.GetSecurityAssessment",
                         name=asm).scope.statement_of_application
            plan = a.call("SecurityPlans.CreateSecurityPlan", parent=o.name,
                          security_plan=pb.plans.SecurityPlan(
                              title="Plan " + tag, security_assessment=asm,
                              monitoring_schedule=[pb.plans.MonitoringActivity(
                                  id="seal-log", description="Seal log",
                                  interval_days=7)])).name
            policy = a.call("SecurityPolicies.CreateSecurityPolicy", parent=o.name,
                            security_policy=pb.policies.SecurityPolicy(
                                title="Policy " + tag, commitments=pb.policies.PolicyCommitments(
                                    iso_28001_best_practices=True,
                                    statement_of_application=soa))).name
            names[tag] = dict(assessment=asm, countermeasure=cm,
                              scenario=cm.rsplit("/countermeasures/", 1)[0], statement=soa,
                              plan=plan, policy=policy,
                              item=a.call("PlanItems.ListPlanItems",
                                          parent=plan).plan_items[0].name)
        s = names["in"]
        T, M = pb.trainings, pb.monitorings
        training = a.call("TrainingRecords.CreateTrainingRecord", parent=s["plan"],
                          training_record=T.TrainingRecord(
                              kind=T.TRAINING_KIND_DRILL, topic="Drill", hold_time=ts(-3600),
                              attendees=["Gate"], trainer="T")).name
        monitoring = a.call("MonitoringRecords.CreateMonitoringRecord", parent=s["plan"],
                            monitoring_record=M.MonitoringRecord(
                                activity="seal-log", perform_time=ts(-60), performer="G",
                                result=M.MONITORING_RESULT_CONFORMING)).name
        I = pb.incidents
        incident = a.call("SecurityIncidents.CreateSecurityIncident", parent=o.name,
                          security_incident=I.SecurityIncident(
                              title="Fence", severity=I.INCIDENT_SEVERITY_LOW,
                              occur_time=ts(-3600), location="Gate")).name
        scheme = a.call("SecurityAssessments.GetSecurityAssessment",
                        name=s["assessment"]).scoring_scheme
        # only the operator's own statement scopes a grant
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.grant, o, self.auth,
                                soa=self.op.statement)
        self.assertIn("validation_grant.statement_of_application", e.details())
        g = self.grant(o, self.auth, soa=s["statement"])
        self.assertEqual(g.statement_of_application, s["statement"])
        start = self.head(o)
        asm, kept = s["assessment"], s["assessment"] + "@1"
        kept_scenario = s["scenario"].replace(asm, kept, 1)
        admitted = [
            ("Organizations.GetOrganization", dict(name=o.name), o.name),
            ("StatementsOfApplication.GetStatementOfApplication", dict(name=s["statement"]),
             s["statement"]),
            ("StatementsOfApplication.GetStatementOfApplication",
             dict(name=s["statement"] + "@1"), s["statement"] + "@1"),
            ("StatementsOfApplication.ListStatementOfApplicationRevisions",
             dict(name=s["statement"]), s["statement"]),
            ("SecurityPolicies.GetSecurityPolicy", dict(name=s["policy"]), s["policy"]),
            ("SecurityPolicies.ListSecurityPolicyRevisions", dict(name=s["policy"]),
             s["policy"]),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=asm), asm),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=kept), kept),
            ("SecurityAssessments.ListSecurityAssessmentRevisions", dict(name=asm), asm),
            ("ThreatScenarios.ListThreatScenarios", dict(parent=asm), asm),
            ("ThreatScenarios.GetThreatScenario", dict(name=s["scenario"]), s["scenario"]),
            ("ThreatScenarios.ListThreatScenarios", dict(parent=kept), kept),
            ("ThreatScenarios.GetThreatScenario", dict(name=kept_scenario), kept_scenario),
            ("Countermeasures.ListCountermeasures", dict(parent=s["scenario"]), s["scenario"]),
            ("Countermeasures.GetCountermeasure", dict(name=s["countermeasure"]),
             s["countermeasure"]),
            ("SecurityPlans.GetSecurityPlan", dict(name=s["plan"]), s["plan"]),
            ("SecurityPlans.ListSecurityPlanRevisions", dict(name=s["plan"]), s["plan"]),
            ("PlanItems.ListPlanItems", dict(parent=s["plan"]), s["plan"]),
            ("PlanItems.GetPlanItem", dict(name=s["item"]), s["item"]),
            ("TrainingRecords.ListTrainingRecords", dict(parent=s["plan"]), s["plan"]),
            ("TrainingRecords.GetTrainingRecord", dict(name=training), training),
            ("MonitoringRecords.ListMonitoringRecords", dict(parent=s["plan"]), s["plan"]),
            ("MonitoringRecords.GetMonitoringRecord", dict(name=monitoring), monitoring),
            (VG + "GetValidationGrant", dict(name=g.name), g.name),
        ]
        for method, fields, _ in admitted:
            with self.subTest(admitted=method, fields=str(fields)):
                self.val.call(method, **fields)
        x = names["out"]
        refused = [
            ("StatementsOfApplication.GetStatementOfApplication", dict(name=x["statement"])),
            ("SecurityPolicies.GetSecurityPolicy", dict(name=x["policy"])),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=x["assessment"])),
            ("SecurityAssessments.GetSecurityAssessment", dict(name=x["assessment"] + "@1")),
            ("ThreatScenarios.GetThreatScenario", dict(name=x["scenario"])),
            ("ThreatScenarios.ListThreatScenarios", dict(parent=x["assessment"])),
            ("Countermeasures.GetCountermeasure", dict(name=x["countermeasure"])),
            ("SecurityPlans.GetSecurityPlan", dict(name=x["plan"])),
            ("PlanItems.ListPlanItems", dict(parent=x["plan"])),
            ("PlanItems.GetPlanItem", dict(name=x["item"])),
            ("SecurityPolicies.GetSecurityPolicy", dict(name=o.policy)),  # names no statement
            ("SecurityIncidents.GetSecurityIncident", dict(name=incident)),
            ("ScoringSchemes.GetScoringScheme", dict(name=scheme)),
            # lists of the organization's documents are not in a scope
            ("SecurityPolicies.ListSecurityPolicies", dict(parent=o.name)),
            ("SecurityAssessments.ListSecurityAssessments", dict(parent=o.name)),
            ("StatementsOfApplication.ListStatementsOfApplication", dict(parent=o.name)),
            ("SecurityPlans.ListSecurityPlans", dict(parent=o.name)),
            ("SecurityIncidents.ListSecurityIncidents", dict(parent=o.name)),
            # readiness and the audit log need a whole-system grant
            ("Readiness.GetReadinessReport", dict(name=o.name + "/readinessReports/wco-safe-aeo")),
            ("AuditLog.ListAuditEvents", dict(parent=o.name)),
            ("AuditLog.VerifyAuditLog", dict(parent=o.name)),
        ]
        for method, fields in refused:
            key = "name" if "name" in fields else "parent"
            with self.subTest(refused=method, fields=str(fields)):
                self.assertNotFoundAsMissing(self.val, method, fields, key)
        # writes: PERMISSION_DENIED in scope, NOT_FOUND outside it
        P = pb.policies
        for tag, code in (("in", C.PERMISSION_DENIED), ("out", C.NOT_FOUND)):
            n = names[tag]
            for method, fields in (
                    ("SecurityPolicies.UpdateSecurityPolicy", dict(
                        security_policy=P.SecurityPolicy(name=n["policy"], title="x"),
                        update_mask=mask("title"))),
                    ("SecurityPlans.SubmitSecurityPlan", dict(name=n["plan"])),
                    ("PlanItems.UpdatePlanItem", dict(
                        plan_item=pb.items.PlanItem(name=n["item"], owner="x"),
                        update_mask=mask("owner"))),
                    ("SecurityAssessments.CreateSecurityAssessmentRevision",
                     dict(name=n["assessment"]))):
                with self.subTest(write=method, scope=tag):
                    self.assertRpcError(code, self.val.call, method, **fields)
        # what was read, and only that, recorded
        got = self.events(o, start)
        self.assertEqual([(e.method, e.resource) for e in got],
                         [(full_method(m), res) for m, _, res in admitted])

    def test_scope_is_judged_on_the_revision_read(self):
        """A scoped grant admits a policy revision that names the statement,
        and not one that does not, whatever a later draft of the same policy
        says: approved revision 1 of one policy names the statement (its
        draft revision 2 no longer does); approved revision 1 of another
        does not (its draft revision 2 does)."""
        pb = protos()
        P = pb.policies
        o = self.light_operator("scope-rev")
        ctx = approved_assessment(o.admin, o.name)
        soa = o.admin.call("SecurityAssessments.GetSecurityAssessment",
                           name=ctx["assessment"]).scope.statement_of_application

        def approved_policy(title, commitments):
            name = o.admin.call("SecurityPolicies.CreateSecurityPolicy", parent=o.name,
                                security_policy=P.SecurityPolicy(
                                    title=title, text="We secure", commitments=commitments,
                                    sign_off=P.SignOff(signatory_name="CEO",
                                                       signatory_role="CEO",
                                                       sign_time=ts(-DAY)))).name
            o.admin.call("SecurityPolicies.SubmitSecurityPolicy", name=name)
            o.admin.call("SecurityPolicies.ApproveSecurityPolicy", name=name)
            return name

        def draft_names(name, commitments):
            o.admin.call("SecurityPolicies.CreateSecurityPolicyRevision", name=name)
            o.admin.call("SecurityPolicies.UpdateSecurityPolicy", security_policy=P.SecurityPolicy(
                name=name, commitments=commitments), update_mask=mask("commitments"))

        inside = approved_policy("Inside", P.PolicyCommitments(statement_of_application=soa))
        outside = approved_policy("Outside", P.PolicyCommitments(legal_compliance=True))
        self.grant(o, self.auth, soa=soa)
        self.assertEqual(self.val.call("SecurityPolicies.GetSecurityPolicy",
                                       name=inside + "@1").title, "Inside")
        self.assertNotFoundAsMissing(self.val, "SecurityPolicies.GetSecurityPolicy",
                                     dict(name=outside + "@1"), "name")
        draft_names(inside, P.PolicyCommitments(legal_compliance=True))
        draft_names(outside, P.PolicyCommitments(statement_of_application=soa))
        with self.subTest("approved revision in scope, its draft successor not"):
            code, e = rpc_code(self.val.call, "SecurityPolicies.GetSecurityPolicy",
                               name=inside + "@1")
            self.assertEqual(code, C.OK, e and e.details())
        with self.subTest("approved revision out of scope, its draft successor in"):
            self.assertNotFoundAsMissing(self.val, "SecurityPolicies.GetSecurityPolicy",
                                         dict(name=outside + "@1"), "name")
        with self.subTest("the list of revisions holds only those in scope"):
            # revision 2 of "outside" (naming the statement) approved: the list
            # (judged by the latest) holds it, and not revision 1
            o.admin.call("SecurityPolicies.SubmitSecurityPolicy", name=outside)
            o.admin.call("SecurityPolicies.ApproveSecurityPolicy", name=outside)
            revs = self.val.call("SecurityPolicies.ListSecurityPolicyRevisions", name=outside)
            self.assertEqual([r.revision_id for r in revs.security_policies], ["2"])
            revs = o.admin.call("SecurityPolicies.ListSecurityPolicyRevisions", name=outside)
            self.assertEqual(sorted(r.revision_id for r in revs.security_policies), ["1", "2"])

    def test_other_authorities_reads_are_not_shown_to_a_validator(self):
        """An operator's log shows a validator its own authority's reads and
        the operator's own events, never another authority's validators'
        (their grants are none of its business); the operator sees all."""
        o = self.light_operator("two-auth")
        self.grant(o, self.auth)
        self.grant(o, self.auth2)
        self.val2.call("SecurityPolicies.GetSecurityPolicy", name=o.policy)
        self.val.call("SecurityPolicies.GetSecurityPolicy", name=o.policy)
        seen = self.val.call("AuditLog.ListAuditEvents", parent=o.name, page_size=1000)
        principals = {e.principal_organization for e in seen.audit_events}
        self.assertIn(self.auth, principals)
        self.assertNotIn(self.auth2, principals)
        self.assertNotIn(self.auth2, str(seen))
        everything = o.admin.call("AuditLog.ListAuditEvents", parent=o.name, page_size=1000)
        self.assertIn(self.auth2, {e.principal_organization for e in everything.audit_events})

    def test_a_whole_grant_beside_a_scoped_one_admits_everything(self):
        """Three grants to one authority in force, the first and the last
        scoped, the middle one whole: the whole one is in force, so every
        read a whole-system grant admits is admitted, whichever grant the
        server finds first (and so in the other order, the whole one first)."""
        pb = protos()
        for first in ("scoped", "whole"):
            o = self.light_operator("two-grants-" + first)
            ctx = approved_assessment(o.admin, o.name)
            soa = o.admin.call("SecurityAssessments.GetSecurityAssessment",
                               name=ctx["assessment"]).scope.statement_of_application
            ids = {"scoped": ("a-scoped", "b-whole", "c-scoped"),
                   "whole": ("a-whole", "b-scoped", "c-scoped")}[first]
            for gid in ids:
                self.grant(o, self.auth, soa="" if "whole" in gid else soa, grant_id=gid)
            for method, fields in (
                    ("Organizations.GetOrganization", dict(name=o.name)),
                    ("SecurityAssessments.GetSecurityAssessment",
                     dict(name=ctx["assessment"])),
                    ("SecurityPolicies.GetSecurityPolicy", dict(name=o.policy)),
                    ("SecurityPolicies.ListSecurityPolicies", dict(parent=o.name)),
                    ("SecurityAssessments.ListSecurityAssessments", dict(parent=o.name)),
                    ("Readiness.GetReadinessReport",
                     dict(name=o.name + "/readinessReports/wco-safe-aeo")),
                    ("AuditLog.ListAuditEvents", dict(parent=o.name)),
                    ("AuditLog.VerifyAuditLog", dict(parent=o.name))):
                with self.subTest(first=first, method=method):
                    code, e = rpc_code(self.val.call, method, **fields)
                    self.assertEqual(code, C.OK, e and e.details())
            # the validator reads each of the grants
            for gid in ids:
                with self.subTest(first=first, grant=gid):
                    self.assertEqual(self.val.call(VG + "GetValidationGrant",
                                                   name=o.name + "/validationGrants/" + gid)
                                     .state, pb.validation_grants.GRANT_STATE_ACTIVE)

    def test_grant_update_rules(self):
        """An ADMIN changes a grant's end_time (within 731 days of its start)
        and application_reference, nothing else; an end brought into the
        past ends access at once; a stale etag changes nothing."""
        pb = protos()
        G = pb.validation_grants
        o = self.light_operator("update")
        g = self.grant(o, self.auth)

        def update(*paths, **fields):
            return o.admin.call(VG + "UpdateValidationGrant",
                                validation_grant=G.ValidationGrant(name=g.name, **fields),
                                update_mask=mask(*paths))

        got = update("end_time", "application_reference", end_time=ts(60 * DAY),
                     application_reference="DE-AEO-2026-00418")
        self.assertEqual((got.application_reference, got.end_time.seconds // 10),
                         ("DE-AEO-2026-00418", ts(60 * DAY).seconds // 10))
        for label, paths, fields, field in (
                ("end more than 731 days after the start", ("end_time",),
                 dict(end_time=ts(800 * DAY)), "validation_grant.end_time"),
                ("end before the start", ("end_time",), dict(end_time=ts(-3600)),
                 "validation_grant.end_time"),
                ("authority", ("authority",), dict(authority=self.auth2),
                 "validation_grant.authority"),
                ("start", ("start_time",), dict(start_time=ts(-DAY)),
                 "validation_grant.start_time"),
                ("scope", ("statement_of_application",),
                 dict(statement_of_application=self.op.statement),
                 "validation_grant.statement_of_application")):
            with self.subTest(label):
                e = self.assertRpcError(C.INVALID_ARGUMENT, update, *paths, **fields)
                self.assertIn(field, e.details())
        # output only: a revoke_time in the patch revokes nothing
        got = update("revoke_time", revoke_time=ts(0))
        self.assertEqual((got.state, got.HasField("revoke_time")),
                         (G.GRANT_STATE_ACTIVE, False))
        self.assertRpcError(C.ABORTED, o.admin.call, VG + "RevokeValidationGrant", name=g.name,
                            etag="0000000000000000")
        got = o.admin.call(VG + "GetValidationGrant", name=g.name)
        self.assertEqual((got.authority, got.state, got.application_reference),
                         (self.auth, G.GRANT_STATE_ACTIVE, "DE-AEO-2026-00418"))
        self.assertAdmitted(self.val, o)
        # the end brought forward to the past: expired, no access
        self.assertEqual(update("end_time", end_time=ts(-1)).state, G.GRANT_STATE_EXPIRED)
        self.assertShutOut(self.val, o)
        # an EDITOR changes nothing
        editor = self.client_of(o.name, pb.common.ROLE_EDITOR)
        self.assertRpcError(C.PERMISSION_DENIED, editor.call, VG + "UpdateValidationGrant",
                            validation_grant=G.ValidationGrant(name=g.name, end_time=ts(DAY)),
                            update_mask=mask("end_time"))
        self.assertRpcError(C.PERMISSION_DENIED, editor.call, VG + "RevokeValidationGrant",
                            name=g.name)

    # -- grants: the rules of a create --

    def test_grant_creation_rules(self):
        pb = protos()
        G = pb.validation_grants
        o = self.light_operator("rules")
        other_op = self.light_operator("rules-other")

        def create(**kw):
            g = dict(authority=self.auth, application_reference="APP-1",
                     start_time=ts(-60), end_time=ts(DAY))
            g.update(kw)
            return o.admin.call(VG + "CreateValidationGrant", parent=o.name,
                                validation_grant=G.ValidationGrant(**g))

        for label, kw, field in (
                ("an operator", dict(authority=other_op.name), "validation_grant.authority"),
                ("no organization", dict(authority="organizations/no-such-org"),
                 "validation_grant.authority"),
                ("no authority", dict(authority=""), "validation_grant.authority"),
                ("no reference", dict(application_reference=""),
                 "validation_grant.application_reference"),
                ("end before start", dict(start_time=ts(DAY), end_time=ts(60)),
                 "validation_grant.end_time"),
                ("longer than 731 days", dict(start_time=ts(0), end_time=ts(732 * DAY)),
                 "validation_grant.end_time"),
                ("no end", dict(end_time=None), "validation_grant.end_time"),
                ("no start", dict(start_time=None), "validation_grant.start_time")):
            with self.subTest(label):
                e = self.assertRpcError(C.INVALID_ARGUMENT, create, **kw)
                self.assertIn(field, e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, create, authority=other_op.name)
        self.assertIn("is not a customs authority on the platform", e.details())
        e2 = self.assertRpcError(C.INVALID_ARGUMENT, create, authority="organizations/no-such-org")
        self.assertEqual(e.details().replace(other_op.name, "{}"),
                         e2.details().replace("organizations/no-such-org", "{}"))
        # an authority does not grant itself
        auth_admin = self.auth_admin
        e = self.assertRpcError(C.INVALID_ARGUMENT, auth_admin.call, VG + "CreateValidationGrant",
                                parent=self.auth, validation_grant=G.ValidationGrant(
                                    authority=self.auth, application_reference="A",
                                    start_time=ts(-60), end_time=ts(DAY)))
        self.assertIn("is not a customs authority on the platform", e.details())
        self.assertEqual(list(o.admin.call(VG + "ListValidationGrants", parent=o.name)
                              .validation_grants), [])
        # 731 days exactly is allowed; only an ADMIN grants
        g = create(start_time=ts(0), end_time=ts(731 * DAY - 5))
        self.assertEqual(g.state, G.GRANT_STATE_ACTIVE)
        editor = self.client_of(o.name, pb.common.ROLE_EDITOR)
        self.assertRpcError(C.PERMISSION_DENIED, editor.call, VG + "CreateValidationGrant",
                            parent=o.name, validation_grant=G.ValidationGrant(
                                authority=self.auth, application_reference="A",
                                start_time=ts(-60), end_time=ts(DAY)))

    # -- the authority's kind --

    def test_kind_kept_while_validator_keys_are_active(self):
        pb = protos()
        O = pb.orgs
        auth = self.make_org(self.uid("kind"), kind=self.CA).name
        # other keys first, so a check that looked at one active key only
        # would miss the validator
        admin = self.client_of(auth, pb.common.ROLE_ADMIN)
        for role in (pb.common.ROLE_VIEWER, pb.common.ROLE_EDITOR):
            self.make_key(auth, role)
        v1 = self.make_key(auth, pb.common.ROLE_VALIDATOR).api_key.name
        v2 = self.make_key(auth, pb.common.ROLE_VALIDATOR).api_key.name

        def to_operator(client):
            return client.call("Organizations.UpdateOrganization",
                               organization=O.Organization(
                                   name=auth, kind=O.ORGANIZATION_KIND_OPERATOR),
                               update_mask=mask("kind"))

        e = self.assertRpcError(C.FAILED_PRECONDITION, to_operator, self.admin)
        self.assertIn("organization.kind", e.details())
        e = self.assertRpcError(C.PERMISSION_DENIED, to_operator, admin)
        self.assertIn("organization.kind", e.details())
        # other fields still change
        admin.call("Organizations.UpdateOrganization",
                   organization=O.Organization(name=auth, legal_name="Hauptzollamt"),
                   update_mask=mask("legal_name"))
        self.admin.call("ApiKeys.RevokeApiKey", name=v1)
        self.assertRpcError(C.FAILED_PRECONDITION, to_operator, self.admin)
        self.assertEqual(self.admin.call("Organizations.GetOrganization", name=auth).kind,
                         self.CA)
        admin.call("ApiKeys.RevokeApiKey", name=v2)
        self.assertEqual(to_operator(self.admin).kind, O.ORGANIZATION_KIND_OPERATOR)
        e = self.assertRpcError(C.FAILED_PRECONDITION, admin.call, "ApiKeys.CreateApiKey",
                                parent=auth, api_key=pb.keys.ApiKey(role=pb.common.ROLE_VALIDATOR))
        self.assertIn("api_key.role", e.details())


if __name__ == "__main__":
    import unittest
    unittest.main()
