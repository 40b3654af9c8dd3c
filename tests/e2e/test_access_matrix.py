"""The access matrix: every RPC of every service the server serves, called as
each kind of caller, against one table of expected outcomes.

The methods come from the running server's reflection (grpc.reflection.v1:
every service it lists, every method of each as its descriptor has it,
streaming included), so a method added later is in the matrix without anyone
remembering it: a served method without a row in MATRIX, or a row for a
method no longer served, fails the test.

The callers (the columns, CALLERS):

    nokey                     no `authorization` header
    revoked                   a revoked key (it was an ADMIN of the owner)
    viewer, editor, admin     VIEWER, EDITOR, ADMIN of the owner
    unrelated_admin           ADMIN of an operator with no tie to the owner
    partner_noshare           ADMIN of an operator the owner lists as a business
                              partner (linked), with nothing shared
    partner_share             ADMIN of an operator, also a linked partner, that the
                              owner shares its approved assessment, plan and
                              statement of application revisions (each `@1`) and
                              its wco-safe-aeo readiness report with
    addressee                 ADMIN of an operator on the other side of the owner's
                              declaration requests both ways: the owner asks it for
                              a declaration (it is the request's addressee,
                              `partner_organization`), and it asked the owner, who
                              answered with its declaration (it reads that
                              revision, `{declaration}@1`)
    validator_active          VALIDATOR of a customs authority the owner granted
                              access (whole system, in force)
    validator_expired         VALIDATOR of an authority whose grant by the owner
                              has expired
    validator_other_operator  VALIDATOR of an authority granted access by another
                              operator, not by the owner
    validator_none            VALIDATOR of an authority no one granted anything
    platform                  the platform administrator (bootstrap key)

The owner is an operator, OWNER, for every row but those of the customs
authorities' own (Recognitions, Attestations, ListValidatedOrganizations):
there the owner is a customs authority, AUTH, and viewer/editor/admin are its
members; AUTH's attestation attests the partner_noshare organization (which
therefore reads it by name, as the attested operator). The addressee also
shares its readiness report with the owner, and another operator grants AUTH
access, so that the lists of what others give the owner and AUTH are not
empty.

Requests. Each row builds its request from a subject: reads share one
subject (an approved document, a kept revision...); a write gets a fresh
subject for each cell expected OK (so every OK cell really writes), while the
cells expected to fail share one (made again if a cell wrongly succeeds).
The lists of what others address to an organization, share with it or grant
it (ListIncomingDeclarationRequests, ListSharedWithMe: the owner's;
ListValidatedOrganizations: AUTH's) are its own members' only.
ListOrganizations has no parent: each caller lists its own organization.
Health and server reflection are public. Subjects are chosen so that OK
cells are OK; the FAILED_PRECONDITION cells are so by design: the platform
administrator deleting the owner (it has active keys), the owner's members
answering a request addressed to a partner on the platform (the partner
answers it), the platform administrator answering it (it has no declaration
of its own to answer with).

Beyond the status codes, every cell is checked for leaks:

  * responses: every `organizations/{id}` in any string field, recursively,
    must be of a tenant the caller may see (AccessMatrixTest.visible): its own
    organization, the owner when the caller is let in (a share, an addressed
    request, a grant), what the owner's own data names for the owner's members
    and its validator (its partners, grantees, authorities), and AUTH, whose
    recognitions are published. The platform administrator sees every tenant.
    An outsider's answer never carries the sensitive marker (SENSITIVE, put in
    the fields the proto marks sensitive).
  * error messages: no error names a tenant the caller may not see, except
    inside a name the caller itself sent (any string of the request, or an
    ancestor of one: `organizations/x` of `organizations/x/securityPolicies/y`).
  * NOT_FOUND: the message is the one for a name that does not exist (the
    request's primary name, or parent, with its last id replaced, or for an
    organization another organization id that was never used), with the
    name swapped: an existing resource is not told apart from a missing one.

The checks are themselves checked not to be vacuous: the owner's viewer must
have read the sensitive marker and names of other tenants (its partners), and
each caller let in must have read answers naming the owner.

At the end the matrix is printed (methods x callers, each cell the outcome;
`*` marks a cell that differs or leaks) with the counts of each outcome, and
the test fails listing every differing cell.
"""

import copy
import re
import time

import grpc
from google.protobuf import descriptor_pb2

from harness import ServerTestCase, auth_md, protos

OK = "OK"
NF = "NOT_FOUND"
PD = "PERMISSION_DENIED"
UA = "UNAUTHENTICATED"
FP = "FAILED_PRECONDITION"

CALLERS = ("nokey", "revoked", "viewer", "editor", "admin", "unrelated_admin",
           "partner_noshare", "partner_share", "addressee", "validator_active",
           "validator_expired", "validator_other_operator", "validator_none", "platform")
SHORT = dict(zip(CALLERS, ("nokey", "revkd", "viewr", "editr", "admin", "unrel", "pnosh",
                           "pshar", "addr", "v-act", "v-exp", "v-oth", "v-non", "platf")))
MEMBERS = ("viewer", "editor", "admin")
# outsiders no grant, share or request lets in
OUTSIDERS = ("unrelated_admin", "partner_noshare", "partner_share", "addressee",
             "validator_expired", "validator_other_operator", "validator_none")
OPERATOR, AUTHORITY = "operator", "authority"

SENSITIVE = "SENSITIVE-matrix-7f3a"
DAY = 86400
ITEM_POOL = 6  # accepted countermeasures of the main assessment: items of each plan
MISSING_ORG = "organizations/zz-never-an-org"
MISSING_ID = "zz-no-such-thing"


def outcome(viewer, editor, admin, validator=NF, outsiders=NF, platform=OK, unauth=UA):
    """A row's expected codes: the owner's members, validator_active, the
    other outsiders, the platform administrator, the keyless and revoked."""
    d = {"nokey": unauth, "revoked": unauth, "viewer": viewer, "editor": editor,
         "admin": admin, "validator_active": validator, "platform": platform}
    for c in OUTSIDERS:
        d[c] = outsiders
    return d


# Public: no key needed, a revoked one is not even looked at.
PUBLIC = {c: OK for c in CALLERS}
# Any caller with a key (its own organization's, or published).
ANY_KEY = outcome(OK, OK, OK, validator=OK, outsiders=OK)
# The owner's documents and records: VIEWERs read, so do validators with a grant.
READ = outcome(OK, OK, OK, validator=OK)
# Written by EDITORs; a validator who reads it is refused the write.
EDIT = outcome(PD, OK, OK, validator=PD)
# Written by ADMINs.
ADMIN = outcome(PD, PD, OK, validator=PD)
# Read by ADMINs (and validators with a whole-system grant).
ADMIN_READ = outcome(PD, PD, OK, validator=OK)


class Row:
    """One method: expected code per caller; the request built from a cell
    context (x.s the subject, x.w the test class, x.caller the column); the
    subject shared by all cells (subject) or made fresh for each cell
    expected OK (fresh); whose resources it is about (owner)."""

    def __init__(self, expect, request, subject=None, fresh=None, owner=OPERATOR, **over):
        assert not (subject and fresh)
        unknown = set(over) - set(CALLERS)
        assert not unknown, unknown
        self.expect = dict(expect, **over)
        assert set(self.expect) == set(CALLERS)
        self.request = request
        self.subject = subject
        self.fresh = fresh
        self.owner = owner


row = Row


class _Protos:
    """protos() modules, looked up when a request is built."""

    def __getattr__(self, name):
        return getattr(protos(), name)


P = _Protos()


def ts(offset):
    return P.timestamp.Timestamp(seconds=int(time.time()) + offset)


def mask(*paths):
    return P.field_mask.FieldMask(paths=list(paths))


def sub(attr):
    """The shared subject: an attribute of the world (the test class)."""
    return lambda w: getattr(w, attr)


def new(kind, *args):
    """A fresh subject: w.new_<kind>(*args)."""
    return lambda w: getattr(w, "new_" + kind)(*args)


NAME = lambda x: dict(name=x.s)  # noqa: E731
PARENT = lambda x: dict(parent=x.s)  # noqa: E731
REASON = lambda x: dict(name=x.s, reason="Not good enough yet")  # noqa: E731


def update(field, cls, **values):
    """An Update request of x.s changing values (the mask: their names)."""
    return lambda x: {field: getattr(getattr(P, cls[0]), cls[1])(name=x.s, **values),
                      "update_mask": mask(*values)}


S = "/supplysec.v1."

# --------------------------------------------------------------------------
# THE MATRIX: one row per method the server serves.
# --------------------------------------------------------------------------

MATRIX = {
    # ---- Organizations: platform administrators create and delete tenants
    S + "Organizations/CreateOrganization": row(
        outcome(PD, PD, PD, validator=PD, outsiders=PD),
        lambda x: dict(organization=P.orgs.Organization(
            legal_name="Matrix Ltd", country_code="DE", kind=P.orgs.ORGANIZATION_KIND_OPERATOR))),
    S + "Organizations/GetOrganization": row(READ, NAME, sub("A")),
    # no parent: each caller lists its own organization (the platform all)
    S + "Organizations/ListOrganizations": row(ANY_KEY, lambda x: dict(page_size=1000)),
    S + "Organizations/UpdateOrganization": row(
        ADMIN, update("organization", ("orgs", "Organization"), legal_name="Renamed by matrix"),
        sub("A")),
    # the owner has active keys: refused even to the platform administrator
    S + "Organizations/DeleteOrganization": row(
        outcome(PD, PD, PD, validator=PD, platform=FP), NAME, sub("A")),

    # ---- ApiKeys: ADMINs; keys are no validator's business
    S + "ApiKeys/CreateApiKey": row(
        ADMIN, lambda x: dict(parent=x.s, api_key=P.keys.ApiKey(
            role=P.common.ROLE_VIEWER, display_name="matrix")), sub("A"), validator_active=NF),
    S + "ApiKeys/GetApiKey": row(ADMIN_READ, NAME, sub("viewer_key"), validator_active=NF),
    S + "ApiKeys/ListApiKeys": row(ADMIN_READ, PARENT, sub("A"), validator_active=NF),
    S + "ApiKeys/RevokeApiKey": row(ADMIN, NAME, fresh=new("key"), validator_active=NF),
    # every key reads itself
    S + "ApiKeys/GetCaller": row(ANY_KEY, lambda x: {}),

    # ---- SecurityPolicies (a controlled document)
    S + "SecurityPolicies/CreateSecurityPolicy": row(
        EDIT, lambda x: dict(parent=x.s, security_policy=P.policies.SecurityPolicy(
            title="Matrix policy", text="We secure")), sub("A")),
    S + "SecurityPolicies/GetSecurityPolicy": row(READ, NAME, sub("policy")),
    S + "SecurityPolicies/ListSecurityPolicies": row(READ, PARENT, sub("A")),
    S + "SecurityPolicies/UpdateSecurityPolicy": row(
        EDIT, update("security_policy", ("policies", "SecurityPolicy"), title="Renamed"),
        fresh=new("policy", "draft")),
    S + "SecurityPolicies/DeleteSecurityPolicy": row(ADMIN, NAME, fresh=new("policy", "draft")),
    S + "SecurityPolicies/SubmitSecurityPolicy": row(EDIT, NAME, fresh=new("policy", "draft")),
    S + "SecurityPolicies/ApproveSecurityPolicy": row(
        ADMIN, NAME, fresh=new("policy", "in_review")),
    S + "SecurityPolicies/RejectSecurityPolicy": row(
        ADMIN, REASON, fresh=new("policy", "in_review")),
    S + "SecurityPolicies/CreateSecurityPolicyRevision": row(
        EDIT, NAME, fresh=new("policy", "approved")),
    S + "SecurityPolicies/ListSecurityPolicyRevisions": row(READ, NAME, sub("policy")),

    # ---- StatementsOfApplication (controlled; revision 1 shared with partner_share)
    S + "StatementsOfApplication/CreateStatementOfApplication": row(
        EDIT, lambda x: dict(parent=x.s, statement_of_application=P.statements.
                             StatementOfApplication(title="Matrix scope")), sub("A")),
    S + "StatementsOfApplication/GetStatementOfApplication": row(
        READ, NAME, sub("soa_rev"), partner_share=OK),
    S + "StatementsOfApplication/ListStatementsOfApplication": row(READ, PARENT, sub("A")),
    S + "StatementsOfApplication/UpdateStatementOfApplication": row(
        EDIT, update("statement_of_application", ("statements", "StatementOfApplication"),
                     title="Renamed"), fresh=new("soa", "draft")),
    S + "StatementsOfApplication/DeleteStatementOfApplication": row(
        ADMIN, NAME, fresh=new("soa", "draft")),
    S + "StatementsOfApplication/SubmitStatementOfApplication": row(
        EDIT, NAME, fresh=new("soa", "draft")),
    S + "StatementsOfApplication/ApproveStatementOfApplication": row(
        ADMIN, NAME, fresh=new("soa", "in_review")),
    S + "StatementsOfApplication/RejectStatementOfApplication": row(
        ADMIN, REASON, fresh=new("soa", "in_review")),
    S + "StatementsOfApplication/CreateStatementOfApplicationRevision": row(
        EDIT, NAME, fresh=new("soa", "approved")),
    S + "StatementsOfApplication/ListStatementOfApplicationRevisions": row(
        READ, NAME, sub("soa")),

    # ---- BusinessPartners
    S + "BusinessPartners/CreateBusinessPartner": row(
        EDIT, lambda x: dict(parent=x.s, business_partner=P.partners.BusinessPartner(
            legal_name="Matrix partner", country_code="NL",
            risk_tier=P.partners.RISK_TIER_LOW)), sub("A")),
    S + "BusinessPartners/GetBusinessPartner": row(READ, NAME, sub("bp_d")),
    S + "BusinessPartners/ListBusinessPartners": row(READ, PARENT, sub("A")),
    S + "BusinessPartners/UpdateBusinessPartner": row(
        EDIT, update("business_partner", ("partners", "BusinessPartner"), legal_name="Renamed"),
        fresh=new("bp")),
    S + "BusinessPartners/DeleteBusinessPartner": row(ADMIN, NAME, fresh=new("bp")),

    # ---- Declarations (controlled; the addressee reads the revision attached)
    S + "Declarations/CreateDeclaration": row(
        EDIT, lambda x: dict(parent=x.s, declaration=P.declarations.Declaration(
            title="Matrix declaration")), sub("A")),
    S + "Declarations/GetDeclaration": row(READ, NAME, sub("decl_rev"), addressee=OK),
    S + "Declarations/ListDeclarations": row(READ, PARENT, sub("A")),
    S + "Declarations/UpdateDeclaration": row(
        EDIT, update("declaration", ("declarations", "Declaration"), title="Renamed"),
        fresh=new("decl", "draft")),
    S + "Declarations/DeleteDeclaration": row(ADMIN, NAME, fresh=new("decl", "draft")),
    S + "Declarations/SubmitDeclaration": row(EDIT, NAME, fresh=new("decl", "draft")),
    S + "Declarations/ApproveDeclaration": row(ADMIN, NAME, fresh=new("decl", "in_review")),
    S + "Declarations/RejectDeclaration": row(ADMIN, REASON, fresh=new("decl", "in_review")),
    S + "Declarations/CreateDeclarationRevision": row(
        EDIT, NAME, fresh=new("decl", "approved")),
    S + "Declarations/ListDeclarationRevisions": row(READ, NAME, sub("decl")),
    S + "Declarations/RevokeDeclaration": row(ADMIN, NAME, fresh=new("decl", "approved")),

    # ---- DeclarationRequests (the owner's requests to the addressee)
    S + "DeclarationRequests/CreateDeclarationRequest": row(
        EDIT, lambda x: dict(parent=x.s, declaration_request=P.requests.DeclarationRequest(
            business_partner=x.w.bp_paper, message="Matrix request")), sub("A")),
    S + "DeclarationRequests/GetDeclarationRequest": row(
        READ, NAME, sub("req_to_d"), addressee=OK),
    S + "DeclarationRequests/ListDeclarationRequests": row(READ, PARENT, sub("A")),
    # the addressee reads the request: a write it may not make is
    # PERMISSION_DENIED (kind.h), as its Accept and Reject are
    S + "DeclarationRequests/UpdateDeclarationRequest": row(
        EDIT, update("declaration_request", ("requests", "DeclarationRequest"),
                     message="Changed by matrix"),
        fresh=new("request", "requested"), addressee=PD),
    S + "DeclarationRequests/DeleteDeclarationRequest": row(
        ADMIN, NAME, fresh=new("request", "requested"), addressee=PD),
    # what others address to the owner: its members' only
    S + "DeclarationRequests/ListIncomingDeclarationRequests": row(
        outcome(OK, OK, OK), PARENT, sub("A")),
    # The moves. Answered by the partner organization itself (the addressee)
    # with its own declaration: the owner's side answers only paper requests,
    # so its members, whatever their role, are refused FAILED_PRECONDITION,
    # and so is the platform administrator (no declaration of its own to
    # answer with). The validator reads the request: its writes are
    # PERMISSION_DENIED (docs/api.md), as they are of every other kind. The
    # platform administrator passes every role check in every organization
    # (as in Approve*, AcceptCountermeasure...): it accepts and rejects. A
    # caller who reads the request is never told it is NOT_FOUND.
    S + "DeclarationRequests/AnswerDeclarationRequest": row(
        outcome(FP, FP, FP, validator=PD, platform=FP),
        lambda x: dict(name=x.s, declaration=x.w.d_decl),
        fresh=new("request", "requested"), addressee=OK),
    S + "DeclarationRequests/AcceptDeclarationRequest": row(
        ADMIN, NAME, fresh=new("request", "answered"), addressee=PD),
    S + "DeclarationRequests/RejectDeclarationRequest": row(
        ADMIN, REASON, fresh=new("request", "answered"), addressee=PD),

    # ---- CredibilityReviews (records of a partner with an ACCEPTED request)
    S + "CredibilityReviews/CreateCredibilityReview": row(
        EDIT, lambda x: dict(parent=x.s, credibility_review=P.reviews.CredibilityReview(
            declaration_request=x.w.cr_request, method=P.reviews.REVIEW_METHOD_DOCUMENT_REVIEW,
            reviewer="Matrix", result=P.reviews.REVIEW_RESULT_CREDIBLE,
            review_time=ts(-60))), sub("cr_partner")),
    S + "CredibilityReviews/GetCredibilityReview": row(READ, NAME, sub("cr_review")),
    S + "CredibilityReviews/ListCredibilityReviews": row(READ, PARENT, sub("cr_partner")),

    # ---- ScoringSchemes
    S + "ScoringSchemes/CreateScoringScheme": row(
        EDIT, lambda x: dict(parent=x.s, scoring_scheme=P.scoring.ScoringScheme(
            title="Matrix scheme", preset=P.scoring.SCORING_PRESET_FIVE_BY_FIVE)), sub("A")),
    S + "ScoringSchemes/GetScoringScheme": row(READ, NAME, sub("scheme")),
    S + "ScoringSchemes/ListScoringSchemes": row(READ, PARENT, sub("A")),
    S + "ScoringSchemes/UpdateScoringScheme": row(
        EDIT, update("scoring_scheme", ("scoring", "ScoringScheme"), title="Renamed"),
        fresh=new("scheme")),
    S + "ScoringSchemes/DeleteScoringScheme": row(ADMIN, NAME, fresh=new("scheme")),

    # ---- SecurityAssessments (controlled; revision 1 shared with partner_share)
    S + "SecurityAssessments/CreateSecurityAssessment": row(
        EDIT, lambda x: dict(parent=x.s, security_assessment=P.assessments.SecurityAssessment(
            title="Matrix assessment", scoring_scheme=x.w.scheme)), sub("A")),
    S + "SecurityAssessments/GetSecurityAssessment": row(
        READ, NAME, sub("assessment_rev"), partner_share=OK),
    S + "SecurityAssessments/ListSecurityAssessments": row(READ, PARENT, sub("A")),
    S + "SecurityAssessments/UpdateSecurityAssessment": row(
        EDIT, update("security_assessment", ("assessments", "SecurityAssessment"),
                     title="Renamed"), fresh=new("assessment", "draft")),
    S + "SecurityAssessments/DeleteSecurityAssessment": row(
        ADMIN, NAME, fresh=new("assessment", "draft")),
    S + "SecurityAssessments/SubmitSecurityAssessment": row(
        EDIT, NAME, fresh=new("assessment", "draft")),
    S + "SecurityAssessments/ApproveSecurityAssessment": row(
        ADMIN, NAME, fresh=new("assessment", "in_review")),
    S + "SecurityAssessments/RejectSecurityAssessment": row(
        ADMIN, REASON, fresh=new("assessment", "in_review")),
    S + "SecurityAssessments/CreateSecurityAssessmentRevision": row(
        EDIT, NAME, fresh=new("assessment", "approved")),
    S + "SecurityAssessments/ListSecurityAssessmentRevisions": row(
        READ, NAME, sub("assessment")),
    S + "SecurityAssessments/RankThreatScenarios": row(READ, NAME, sub("assessment")),
    S + "SecurityAssessments/ComputeRiskMatrix": row(READ, NAME, sub("assessment")),
    S + "SecurityAssessments/SimulateAnnualLoss": row(
        READ, lambda x: dict(name=x.s, trials=200, seed=7), sub("semi_assessment")),

    # ---- ThreatScenarios (parts of an assessment: kept with revision 1)
    S + "ThreatScenarios/CreateThreatScenario": row(
        EDIT, lambda x: dict(parent=x.s, threat_scenario=P.scenarios.ThreatScenario(
            title="Matrix scenario", category=P.scenarios.THREAT_CATEGORY_THEFT,
            source=P.scenarios.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=x.w.bp_paper,
            consequence_level=2, likelihood_level=2)), sub("draft_assessment")),
    S + "ThreatScenarios/GetThreatScenario": row(
        READ, NAME, sub("kept_scenario"), partner_share=OK),
    S + "ThreatScenarios/ListThreatScenarios": row(
        READ, PARENT, sub("assessment_rev"), partner_share=OK),
    S + "ThreatScenarios/UpdateThreatScenario": row(
        EDIT, update("threat_scenario", ("scenarios", "ThreatScenario"), title="Renamed"),
        fresh=new("scenario")),
    S + "ThreatScenarios/DeleteThreatScenario": row(ADMIN, NAME, fresh=new("scenario")),

    # ---- Countermeasures (parts of an assessment: kept with revision 1)
    S + "Countermeasures/CreateCountermeasure": row(
        EDIT, lambda x: dict(parent=x.s, countermeasure=P.countermeasures.Countermeasure(
            description="Matrix measure", aeo_criterion=P.common.AEO_CRITERION_E_PREMISES,
            priority=2, residual_consequence_level=1, residual_likelihood_level=2)),
        sub("draft_scenario")),
    S + "Countermeasures/GetCountermeasure": row(
        READ, NAME, sub("kept_countermeasure"), partner_share=OK),
    S + "Countermeasures/ListCountermeasures": row(
        READ, PARENT, sub("kept_scenario"), partner_share=OK),
    S + "Countermeasures/UpdateCountermeasure": row(
        EDIT, update("countermeasure", ("countermeasures", "Countermeasure"),
                     description="Changed"), fresh=new("countermeasure")),
    S + "Countermeasures/DeleteCountermeasure": row(ADMIN, NAME, fresh=new("countermeasure")),
    S + "Countermeasures/AcceptCountermeasure": row(ADMIN, NAME, fresh=new("countermeasure")),
    S + "Countermeasures/DeclineCountermeasure": row(
        ADMIN, REASON, fresh=new("countermeasure")),

    # ---- SecurityObjectives
    S + "SecurityObjectives/CreateSecurityObjective": row(
        EDIT, lambda x: dict(parent=x.s, security_objective=P.objectives.SecurityObjective(
            title="Matrix objective", indicator="Seal discrepancies",
            direction=P.objectives.TARGET_DIRECTION_AT_MOST, target=2, owner="Ops")), sub("A")),
    S + "SecurityObjectives/GetSecurityObjective": row(READ, NAME, sub("objective")),
    S + "SecurityObjectives/ListSecurityObjectives": row(READ, PARENT, sub("A")),
    S + "SecurityObjectives/UpdateSecurityObjective": row(
        EDIT, update("security_objective", ("objectives", "SecurityObjective"),
                     title="Renamed"), fresh=new("objective")),
    S + "SecurityObjectives/DeleteSecurityObjective": row(ADMIN, NAME, fresh=new("objective")),
    S + "SecurityObjectives/AddObjectiveMeasurement": row(
        EDIT, lambda x: dict(name=x.s, measurement=P.objectives.ObjectiveMeasurement(
            measure_time=ts(-60), value=1)), fresh=new("objective")),

    # ---- SecurityIncidents
    S + "SecurityIncidents/CreateSecurityIncident": row(
        EDIT, lambda x: dict(parent=x.s, security_incident=P.incidents.SecurityIncident(
            title="Matrix incident", severity=P.incidents.INCIDENT_SEVERITY_LOW,
            occur_time=ts(-3600), location="Gate 1")), sub("A")),
    S + "SecurityIncidents/GetSecurityIncident": row(READ, NAME, sub("incident")),
    S + "SecurityIncidents/ListSecurityIncidents": row(READ, PARENT, sub("A")),
    S + "SecurityIncidents/UpdateSecurityIncident": row(
        EDIT, update("security_incident", ("incidents", "SecurityIncident"), title="Renamed"),
        fresh=new("incident", False)),
    S + "SecurityIncidents/DeleteSecurityIncident": row(
        ADMIN, NAME, fresh=new("incident", False)),
    S + "SecurityIncidents/CloseSecurityIncident": row(
        ADMIN, NAME, fresh=new("incident", False)),
    S + "SecurityIncidents/ReopenSecurityIncident": row(
        ADMIN, REASON, fresh=new("incident", True)),

    # ---- SecurityPlans (controlled; revision 1 shared with partner_share)
    S + "SecurityPlans/CreateSecurityPlan": row(
        EDIT, lambda x: dict(parent=x.s, security_plan=P.plans.SecurityPlan(
            title="Matrix plan", security_assessment=x.w.assessment)), sub("A")),
    S + "SecurityPlans/GetSecurityPlan": row(READ, NAME, sub("plan_rev"), partner_share=OK),
    S + "SecurityPlans/ListSecurityPlans": row(READ, PARENT, sub("A")),
    S + "SecurityPlans/UpdateSecurityPlan": row(
        EDIT, update("security_plan", ("plans", "SecurityPlan"), title="Renamed"),
        fresh=new("plan", "draft")),
    S + "SecurityPlans/DeleteSecurityPlan": row(ADMIN, NAME, fresh=new("plan", "draft")),
    S + "SecurityPlans/SubmitSecurityPlan": row(EDIT, NAME, fresh=new("plan", "draft")),
    S + "SecurityPlans/ApproveSecurityPlan": row(ADMIN, NAME, fresh=new("plan", "in_review")),
    S + "SecurityPlans/RejectSecurityPlan": row(ADMIN, REASON, fresh=new("plan", "in_review")),
    S + "SecurityPlans/CreateSecurityPlanRevision": row(
        EDIT, NAME, fresh=new("plan", "approved")),
    S + "SecurityPlans/ListSecurityPlanRevisions": row(READ, NAME, sub("plan")),

    # ---- PlanItems (made with their plan: no Create, no Delete)
    S + "PlanItems/GetPlanItem": row(READ, NAME, sub("item")),
    S + "PlanItems/ListPlanItems": row(READ, PARENT, sub("plan")),
    S + "PlanItems/UpdatePlanItem": row(
        EDIT, update("plan_item", ("items", "PlanItem"), owner="Night shift"),
        fresh=new("item")),

    # ---- TrainingRecords
    S + "TrainingRecords/CreateTrainingRecord": row(
        EDIT, lambda x: dict(parent=x.s, training_record=P.trainings.TrainingRecord(
            kind=P.trainings.TRAINING_KIND_DRILL, topic="Matrix drill", hold_time=ts(-3600),
            attendees=["Gate staff"], trainer="Trainer")), sub("plan")),
    S + "TrainingRecords/GetTrainingRecord": row(READ, NAME, sub("training")),
    S + "TrainingRecords/ListTrainingRecords": row(READ, PARENT, sub("plan")),
    S + "TrainingRecords/UpdateTrainingRecord": row(
        EDIT, update("training_record", ("trainings", "TrainingRecord"), topic="Changed"),
        fresh=new("training")),
    S + "TrainingRecords/DeleteTrainingRecord": row(ADMIN, NAME, fresh=new("training")),

    # ---- MonitoringRecords (kept: no Delete)
    S + "MonitoringRecords/CreateMonitoringRecord": row(
        EDIT, lambda x: dict(parent=x.s, monitoring_record=P.monitorings.MonitoringRecord(
            activity="seal-log", perform_time=ts(-60), performer="Guard",
            result=P.monitorings.MONITORING_RESULT_CONFORMING)), sub("plan")),
    S + "MonitoringRecords/GetMonitoringRecord": row(READ, NAME, sub("monitoring")),
    S + "MonitoringRecords/ListMonitoringRecords": row(READ, PARENT, sub("plan")),
    S + "MonitoringRecords/UpdateMonitoringRecord": row(
        EDIT, update("monitoring_record", ("monitorings", "MonitoringRecord"),
                     performer="Supervisor"), fresh=new("monitoring")),

    # ---- ManagementReviews (controlled)
    S + "ManagementReviews/CreateManagementReview": row(
        EDIT, lambda x: dict(parent=x.s, management_review=P.mgmt_reviews.ManagementReview(
            title="Matrix review", review_time=ts(-DAY))), sub("A")),
    S + "ManagementReviews/GetManagementReview": row(READ, NAME, sub("mreview")),
    S + "ManagementReviews/ListManagementReviews": row(READ, PARENT, sub("A")),
    S + "ManagementReviews/UpdateManagementReview": row(
        EDIT, update("management_review", ("mgmt_reviews", "ManagementReview"),
                     title="Renamed"), fresh=new("mreview", "draft")),
    S + "ManagementReviews/DeleteManagementReview": row(
        ADMIN, NAME, fresh=new("mreview", "draft")),
    S + "ManagementReviews/SubmitManagementReview": row(
        EDIT, NAME, fresh=new("mreview", "draft")),
    S + "ManagementReviews/ApproveManagementReview": row(
        ADMIN, NAME, fresh=new("mreview", "in_review")),
    S + "ManagementReviews/RejectManagementReview": row(
        ADMIN, REASON, fresh=new("mreview", "in_review")),
    S + "ManagementReviews/CreateManagementReviewRevision": row(
        EDIT, NAME, fresh=new("mreview", "approved")),
    S + "ManagementReviews/ListManagementReviewRevisions": row(READ, NAME, sub("mreview")),

    # ---- Readiness (the wco-safe-aeo report is shared with partner_share)
    S + "Readiness/GetReadinessReport": row(READ, NAME, sub("report"), partner_share=OK),
    S + "Readiness/ListReadinessFrameworks": row(ANY_KEY, lambda x: {}),

    # ---- AuditLog: ADMINs, and validators with a whole-system grant
    S + "AuditLog/ListAuditEvents": row(
        ADMIN_READ, lambda x: dict(parent=x.s, page_size=1000), sub("A")),
    S + "AuditLog/VerifyAuditLog": row(ADMIN_READ, PARENT, sub("A")),

    # ---- ValidationGrants: a validator reads only the grants to its own
    # authority, by name (not the list, not a new one's parent)
    S + "ValidationGrants/CreateValidationGrant": row(
        ADMIN, lambda x: dict(parent=x.s, validation_grant=P.validation_grants.ValidationGrant(
            authority=x.w.V1, application_reference="DE-AEO-MATRIX", start_time=ts(-60),
            end_time=ts(30 * DAY))), sub("A"), validator_active=NF),
    S + "ValidationGrants/GetValidationGrant": row(READ, NAME, sub("grant_v1")),
    S + "ValidationGrants/ListValidationGrants": row(
        READ, PARENT, sub("A"), validator_active=NF),
    S + "ValidationGrants/UpdateValidationGrant": row(
        ADMIN, update("validation_grant", ("validation_grants", "ValidationGrant"),
                      application_reference="DE-AEO-CHANGED"), fresh=new("grant")),
    S + "ValidationGrants/DeleteValidationGrant": row(ADMIN, NAME, fresh=new("grant")),
    S + "ValidationGrants/RevokeValidationGrant": row(ADMIN, NAME, fresh=new("grant")),
    # the operators that granted the authority AUTH access (another operator
    # did): its VALIDATORs' and ADMINs' only
    S + "ValidationGrants/ListValidatedOrganizations": row(
        outcome(PD, PD, OK), lambda x: dict(authority=x.s), sub("AUTH"), owner=AUTHORITY),

    # ---- Shares: the share itself is not the grantee's to read
    S + "Shares/CreateShare": row(
        ADMIN, lambda x: dict(parent=x.s, share=P.shares.Share(
            resource=x.w.assessment_rev, grantee=x.w.P2, purpose="Matrix",
            expire_time=ts(30 * DAY))), sub("A")),
    S + "Shares/GetShare": row(READ, NAME, sub("share")),
    S + "Shares/ListShares": row(READ, PARENT, sub("A")),
    S + "Shares/DeleteShare": row(ADMIN, NAME, fresh=new("share")),
    S + "Shares/RevokeShare": row(ADMIN, NAME, fresh=new("share")),
    # what others share with the owner (the addressee its readiness report):
    # the owner's members' only
    S + "Shares/ListSharedWithMe": row(outcome(OK, OK, OK), PARENT, sub("A")),

    # ---- Recognitions (owner: the customs authority AUTH): published
    S + "Recognitions/CreateRecognition": row(
        outcome(PD, PD, OK, validator=PD, outsiders=PD),
        lambda x: dict(parent=x.s, recognition=recognition()), sub("AUTH"), owner=AUTHORITY),
    S + "Recognitions/GetRecognition": row(ANY_KEY, NAME, sub("recognition"), owner=AUTHORITY),
    S + "Recognitions/ListRecognitions": row(ANY_KEY, PARENT, sub("AUTH"), owner=AUTHORITY),
    S + "Recognitions/UpdateRecognition": row(
        outcome(PD, PD, OK, validator=PD, outsiders=PD),
        update("recognition", ("recognitions", "Recognition"), issuer="Changed"),
        fresh=new("recognition"), owner=AUTHORITY),
    S + "Recognitions/DeleteRecognition": row(
        outcome(PD, PD, OK, validator=PD, outsiders=PD), NAME, fresh=new("recognition"),
        owner=AUTHORITY),

    # ---- Attestations (owner: AUTH; it attests partner_noshare's organization)
    S + "Attestations/CreateAttestation": row(
        outcome(PD, PD, OK), lambda x: dict(parent=x.s, attestation=attestation(x.w.P1)),
        sub("AUTH"), owner=AUTHORITY),
    S + "Attestations/GetAttestation": row(
        outcome(OK, OK, OK), NAME, sub("attestation"), owner=AUTHORITY, partner_noshare=OK),
    S + "Attestations/ListAttestations": row(
        outcome(OK, OK, OK), PARENT, sub("AUTH"), owner=AUTHORITY),
    S + "Attestations/UpdateAttestation": row(
        outcome(PD, PD, OK), update("attestation", ("attestations", "Attestation"),
                                    number="DEAEOS999999"),
        fresh=new("attestation"), owner=AUTHORITY, partner_noshare=PD),
    S + "Attestations/DeleteAttestation": row(
        outcome(PD, PD, OK), NAME, fresh=new("attestation"), owner=AUTHORITY,
        partner_noshare=PD),

    # ---- public: health and server reflection (streams: the first answer)
    "/grpc.health.v1.Health/Check": row(PUBLIC, lambda x: dict(service="")),
    "/grpc.health.v1.Health/Watch": row(PUBLIC, lambda x: dict(service="")),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": row(
        PUBLIC, lambda x: dict(list_services="")),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": row(
        PUBLIC, lambda x: dict(list_services="")),
}


def recognition():
    R = P.recognitions
    return R.Recognition(
        certificate_type=P.partners.PARTNER_CERTIFICATE_TYPE_CTPAT, issuing_country="US",
        issuer="U.S. CBP", basis=R.RECOGNITION_BASIS_MUTUAL_RECOGNITION,
        arrangement="EU-US MRA (2012)")


def attestation(operator):
    return P.attestations.Attestation(
        operator=operator, type=P.orgs.CERTIFICATE_TYPE_AEO, aeo_type=P.orgs.AEO_TYPE_AEOS,
        number="DEAEOS%06d" % (int(time.time() * 1000) % 1000000), valid_from=ts(-DAY),
        valid_until=ts(365 * DAY))


# --------------------------------------------------------------------------
# The methods, from the server's reflection
# --------------------------------------------------------------------------

REFLECTION_V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


class Method:
    def __init__(self, path, input_type, output_type, client_streaming, server_streaming):
        self.path = path
        self.input_type = input_type
        self.output_type = output_type
        self.client_streaming = client_streaming
        self.server_streaming = server_streaming
        self.req_cls = message_class(input_type)
        self.resp_cls = message_class(output_type)


def message_class(full_name):
    """The generated class of a message type named by reflection. The
    v1alpha reflection messages are wire-identical to v1's: v1's classes."""
    p = protos()
    pkg, _, short = full_name.rpartition(".")
    if pkg == "grpc.reflection.v1alpha":
        pkg = "grpc.reflection.v1"
    for mod in p.services + [p.reflection, p.common, p.empty]:
        d = mod.DESCRIPTOR
        if d.package == pkg and short in d.message_types_by_name:
            return getattr(mod, short)
    raise KeyError("no generated class for %s" % full_name)


def reflect_methods(channel):
    """{path: Method} of every method of every service the server lists."""
    R = protos().reflection
    call = channel.stream_stream(REFLECTION_V1,
                                 request_serializer=R.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=R.ServerReflectionResponse.FromString)

    def ask(**kw):
        return list(call(iter([R.ServerReflectionRequest(**kw)]), timeout=10))[0]

    methods, missing = {}, []
    for svc in [s.name for s in ask(list_services="").list_services_response.service]:
        found = False
        for raw in ask(file_containing_symbol=svc).file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for s in fd.service:
                if "%s.%s" % (fd.package, s.name) != svc:
                    continue
                found = True
                for m in s.method:
                    path = "/%s/%s" % (svc, m.name)
                    methods[path] = Method(path, m.input_type.lstrip("."),
                                           m.output_type.lstrip("."), m.client_streaming,
                                           m.server_streaming)
        if not found:
            missing.append(svc)
    return methods, missing


# --------------------------------------------------------------------------
# Leak checks
# --------------------------------------------------------------------------

ORG_RE = re.compile(r"organizations/([a-z][a-z0-9-]*)")


def strings_of(msg):
    """Every string in msg, nested messages and repeated fields included."""
    out = []
    for f, v in msg.ListFields():
        vals = v if f.label == f.LABEL_REPEATED else [v]
        for item in vals:
            if f.type == f.TYPE_STRING:
                out.append(item)
            elif f.type == f.TYPE_BYTES:
                out.append(item.decode("utf-8", "replace"))
            elif f.type == f.TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
                val = v[item]  # (item is a key of the map v)
                out.append(str(item))
                out += strings_of(val) if hasattr(val, "ListFields") else [str(val)]
            elif f.type == f.TYPE_MESSAGE:
                out += strings_of(item)
    return out


def name_prefixes(s):
    """s and its ancestors at segment boundaries, longest first."""
    segs = s.split("/")
    return ["/".join(segs[:i]) for i in range(len(segs), 1, -1)]


def unsent(text, sent):
    """text without the names the caller sent (sent: the request's strings),
    nor their ancestors, each with or without its revision (`@1`), where
    text has them as whole names (not the start of a longer one)."""
    names = set()
    for s in sent:
        for v in (s, re.sub(r"@[0-9]+", "", s)):
            names.update(p for p in name_prefixes(v) if p.startswith("organizations/"))
    for n in sorted(names, key=len, reverse=True):
        text = re.sub(re.escape(n) + r"(?![/A-Za-z0-9@_-])", "", text)
    return text


def primary_field(req):
    """(message holding it, field name) of the request's primary name: name,
    parent or authority, else the name of the resource an Update sends."""
    for f in ("name", "parent", "authority"):
        if f in req.DESCRIPTOR.fields_by_name and getattr(req, f):
            return req, f
    for f, v in req.ListFields():
        if f.type == f.TYPE_MESSAGE and f.label != f.LABEL_REPEATED and \
                "name" in f.message_type.fields_by_name and v.name:
            return v, "name"
    return None, None


def missing_twin(name):
    """A name like `name` that does not exist: its last id replaced (an
    organization's: by one never used)."""
    segs = name.split("/")
    if len(segs) < 2 or segs[0] != "organizations":
        return None
    if len(segs) == 2 or segs[2] == "readinessReports":
        segs[1] = MISSING_ORG.split("/")[1]
        return "/".join(segs)
    last, at, rev = segs[-1].partition("@")
    segs[-1] = MISSING_ID + at + rev
    return "/".join(segs)


def swapped(text, name):
    """text with name, and name without its revision (`@1`: a message may name
    the document), replaced by {}."""
    for n in (name, re.sub(r"@[0-9]+", "", name)):
        text = text.replace(n, "{}")
    return text


def abbrev(code):
    return {OK: "OK", NF: "NF", PD: "PD", UA: "UA", FP: "FP", "INVALID_ARGUMENT": "IA",
            "UNIMPLEMENTED": "UI", "ABORTED": "AB", "INTERNAL": "IN", "UNAVAILABLE": "UV",
            "ALREADY_EXISTS": "AE", "DATA_LOSS": "DL", "RESOURCE_EXHAUSTED": "RE",
            "DEADLINE_EXCEEDED": "DE", "CANCELLED": "CA", "UNKNOWN": "UK"}.get(code, code[:2])


class Cell:
    """What a row's request builder sees."""

    def __init__(self, w, s, caller):
        self.w, self.s, self.caller = w, s, caller


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

class AccessMatrixTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t0 = time.monotonic()
        cls.methods, cls.unreflected = reflect_methods(cls.server.channel)
        cls.build_world()
        cls.setup_seconds = time.monotonic() - t0

    # ---- the world ----

    @classmethod
    def org(cls, prefix, kind=None):
        return cls.make_org(cls.uid(prefix), kind=kind, legal_name="Matrix " + prefix).name

    @classmethod
    def key(cls, org, role):
        return cls.make_key(org, getattr(protos().common, "ROLE_" + role.upper()))

    @classmethod
    def build_world(cls):
        pb = protos()
        AUTHORITY_KIND = pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY
        cls.A = cls.org("own")
        cls.U = cls.org("unrel")
        cls.P1 = cls.org("pnosh")
        cls.P2 = cls.org("pshar")
        cls.D = cls.org("addr")
        cls.O = cls.org("other")
        cls.V1 = cls.org("vact", AUTHORITY_KIND)
        cls.V2 = cls.org("vexp", AUTHORITY_KIND)
        cls.V3 = cls.org("voth", AUTHORITY_KIND)
        cls.V4 = cls.org("vnon", AUTHORITY_KIND)
        cls.AUTH = cls.org("auth", AUTHORITY_KIND)

        secrets = {}
        for role in MEMBERS:
            k = cls.key(cls.A, role)
            secrets[role] = k.secret
            if role == "viewer":
                cls.viewer_key = k.api_key.name
        revoked = cls.key(cls.A, "admin")
        cls.admin.call("ApiKeys.RevokeApiKey", name=revoked.api_key.name)
        secrets["revoked"] = revoked.secret
        for col, org, role in (("unrelated_admin", cls.U, "admin"),
                               ("partner_noshare", cls.P1, "admin"),
                               ("partner_share", cls.P2, "admin"),
                               ("addressee", cls.D, "admin"),
                               ("validator_active", cls.V1, "validator"),
                               ("validator_expired", cls.V2, "validator"),
                               ("validator_other_operator", cls.V3, "validator"),
                               ("validator_none", cls.V4, "validator")):
            secrets[col] = cls.key(org, role).secret
        secrets["platform"] = cls.server.admin_secret
        cls.secrets = {OPERATOR: secrets, AUTHORITY: dict(secrets)}
        for role in MEMBERS:
            cls.secrets[AUTHORITY][role] = cls.key(cls.AUTH, role).secret

        cls.a = cls.server.client(secrets["admin"])      # the owner's ADMIN
        cls.d = cls.server.client(secrets["addressee"])  # the addressee's ADMIN
        cls.auth = cls.server.client(cls.secrets[AUTHORITY]["admin"])
        cls.n = 0
        a, A = cls.a, cls.A

        # the owner's partners: linked to P1, P2 and D; one not on the platform
        cls.bp_p1 = cls.partner(a, A, cls.P1)
        cls.bp_p2 = cls.partner(a, A, cls.P2)
        cls.bp_d = cls.partner(a, A, cls.D)
        cls.bp_paper = cls.partner(a, A)

        # its approved system: statement (a sensitive facility), scheme,
        # assessment with ITEM_POOL accepted countermeasures, plan (sensitive
        # guarding), policy, and revision 1 of each document kept
        cls.scheme = cls.new_scheme()
        cls.soa = cls.new_soa("approved")
        cls.soa_rev = cls.soa + "@1"
        cls.assessment = cls.new_assessment("approved", measures=ITEM_POOL)
        cls.assessment_rev = cls.assessment + "@1"
        scenario = a.call("ThreatScenarios.ListThreatScenarios",
                          parent=cls.assessment).threat_scenarios[0].name
        cms = a.call("Countermeasures.ListCountermeasures", parent=scenario).countermeasures
        cls.kept_scenario = scenario.replace(cls.assessment, cls.assessment_rev, 1)
        cls.kept_countermeasure = cms[0].name.replace(cls.assessment, cls.assessment_rev, 1)
        cls.plan = cls.new_plan("approved")
        cls.plan_rev = cls.plan + "@1"
        cls.used_items = set()
        cls.item = cls.new_item()
        cls.training = cls.new_training()
        cls.monitoring = cls.new_monitoring()
        cls.policy = cls.new_policy("approved")
        cls.objective = cls.new_objective()
        cls.incident = cls.new_incident(False)
        cls.mreview = cls.new_mreview("approved")
        cls.report = A + "/readinessReports/wco-safe-aeo"
        cls.draft_assessment = cls.new_assessment("draft")
        cls.draft_scenario = cls.scenario_in(cls.draft_assessment)
        cls.semi_assessment = cls.semi_quantitative_assessment()

        # shared with partner_share: the three revisions and the report
        for resource in (cls.assessment_rev, cls.plan_rev, cls.soa_rev, cls.report):
            share = cls.share_of(resource)
        cls.share = share

        # the addressee: the owner asks it, it asks the owner, and the owner
        # answers with its declaration (the addressee reads revision 1)
        cls.d_decl = cls.declaration(cls.d, cls.D, "approved")
        cls.req_to_d = cls.new_request("requested")
        d_bp = cls.partner(cls.d, cls.D, A)
        d_req = cls.d.call("DeclarationRequests.CreateDeclarationRequest", parent=cls.D,
                           declaration_request=pb.requests.DeclarationRequest(
                               business_partner=d_bp, message="Your declaration, please")).name
        cls.decl = cls.new_decl("approved")
        a.call("DeclarationRequests.AnswerDeclarationRequest", name=d_req, declaration=cls.decl)
        cls.decl_rev = cls.decl + "@1"
        # ... and shares its readiness report with the owner
        cls.d.call("Shares.CreateShare", parent=cls.D, share=pb.shares.Share(
            resource=cls.D + "/readinessReports/wco-safe-aeo", grantee=A,
            purpose="Customer onboarding", expire_time=ts(30 * DAY)))

        # a partner not on the platform with an ACCEPTED paper request, reviewed
        cls.cr_partner = cls.partner(a, A)
        cls.cr_request = a.call("DeclarationRequests.CreateDeclarationRequest", parent=A,
                                declaration_request=pb.requests.DeclarationRequest(
                                    business_partner=cls.cr_partner)).name
        paper = cls.declaration(a, A, "approved", recorded_for=cls.cr_partner,
                                paper_reference="P-1")
        a.call("DeclarationRequests.AnswerDeclarationRequest", name=cls.cr_request,
               declaration=paper)
        a.call("DeclarationRequests.AcceptDeclarationRequest", name=cls.cr_request)
        R = pb.reviews
        cls.cr_review = a.call("CredibilityReviews.CreateCredibilityReview",
                               parent=cls.cr_partner, credibility_review=R.CredibilityReview(
                                   declaration_request=cls.cr_request, reviewer="Auditor",
                                   method=R.REVIEW_METHOD_DOCUMENT_REVIEW,
                                   result=R.REVIEW_RESULT_CREDIBLE, review_time=ts(-60))).name

        # the validators: V1 in force, V2 expired, V3 by another operator, V4 none
        cls.grant_v1 = cls.grant(a, A, cls.V1)
        cls.grant(a, A, cls.V2, start=-2 * DAY, end=-DAY)
        cls.grant(cls.admin, cls.O, cls.V3)
        cls.grant(cls.admin, cls.O, cls.AUTH)

        # the customs authority AUTH publishes a recognition and attests P1
        cls.recognition = cls.new_recognition()
        cls.attestation = cls.new_attestation()

    # -- makers (each returns a name) --

    @classmethod
    def seq(cls):
        cls.n += 1
        return cls.n

    @classmethod
    def partner(cls, client, org, linked=""):
        pb = protos()
        return client.call("BusinessPartners.CreateBusinessPartner", parent=org,
                           business_partner=pb.partners.BusinessPartner(
                               legal_name="Partner %d" % cls.seq(), country_code="PL",
                               risk_tier=pb.partners.RISK_TIER_HIGH, organization=linked)).name

    @classmethod
    def advance(cls, client, service, kind, name, state):
        """Moves a fresh DRAFT to state: in_review, approved."""
        if state in ("in_review", "approved"):
            client.call("%s.Submit%s" % (service, kind), name=name)
        if state == "approved":
            client.call("%s.Approve%s" % (service, kind), name=name)
        return name

    @classmethod
    def new_policy(cls, state):
        pb = protos()
        P_ = pb.policies
        name = cls.a.call("SecurityPolicies.CreateSecurityPolicy", parent=cls.A,
                          security_policy=P_.SecurityPolicy(
                              title="Policy %d" % cls.seq(), text="We secure the chain",
                              sign_off=P_.SignOff(signatory_name="CEO", signatory_role="CEO",
                                                  sign_time=ts(-DAY)))).name
        return cls.advance(cls.a, "SecurityPolicies", "SecurityPolicy", name, state)

    @classmethod
    def new_soa(cls, state):
        pb = protos()
        S_ = pb.statements
        name = cls.a.call(
            "StatementsOfApplication.CreateStatementOfApplication", parent=cls.A,
            statement_of_application=S_.StatementOfApplication(
                title="Scope %d" % cls.seq(), functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                facilities=[S_.Facility(id="hamburg", name="Hamburg warehouse",
                                        country_code="DE", security_arrangements=SENSITIVE)],
                covered_portion=S_.SupplyChainPortion(
                    **{"from": "Shenzhen", "to": "Hamburg"},
                    transport_modes=[S_.TRANSPORT_MODE_SEA]))).name
        return cls.advance(cls.a, "StatementsOfApplication", "StatementOfApplication", name,
                           state)

    @classmethod
    def new_scheme(cls):
        pb = protos()
        return cls.a.call("ScoringSchemes.CreateScoringScheme", parent=cls.A,
                          scoring_scheme=pb.scoring.ScoringScheme(
                              title="Scheme %d" % cls.seq(),
                              preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE)).name

    @classmethod
    def scenario_in(cls, assessment, target=None):
        """A scenario (levels 4 and 4) of a draft assessment."""
        pb = protos()
        T = pb.scenarios
        return cls.a.call("ThreatScenarios.CreateThreatScenario", parent=assessment,
                          threat_scenario=T.ThreatScenario(
                              title="Scenario %d" % cls.seq(), category=T.THREAT_CATEGORY_THEFT,
                              source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
                              target=target or cls.bp_paper,
                              consequence_level=4, likelihood_level=4)).name

    @classmethod
    def measure_in(cls, scenario, i=0):
        pb = protos()
        return cls.a.call("Countermeasures.CreateCountermeasure", parent=scenario,
                          countermeasure=pb.countermeasures.Countermeasure(
                              description="Measure %d" % cls.seq(), priority=1 + i % 5,
                              aeo_criterion=pb.common.AEO_CRITERION_E_PREMISES,
                              residual_consequence_level=1, residual_likelihood_level=2,
                              owner="Owner %d" % i, due_time=ts(90 * DAY))).name

    @classmethod
    def new_assessment(cls, state, measures=1):
        """An assessment of the approved statement; beyond a draft, with a
        scenario treated by `measures` accepted countermeasures."""
        pb = protos()
        A_ = pb.assessments
        name = cls.a.call("SecurityAssessments.CreateSecurityAssessment", parent=cls.A,
                          security_assessment=A_.SecurityAssessment(
                              title="Assessment %d" % cls.seq(), scoring_scheme=cls.scheme,
                              scope=A_.AssessmentScope(statement_of_application=cls.soa),
                              method="Workshops",
                              team=[A_.TeamMember(name="M. Weber", role="Security manager",
                                                  competences=["ISO 28000 lead auditor"])])).name
        if state != "draft":
            scenario = cls.scenario_in(name, cls.soa + "/facilities/hamburg")
            for i in range(measures):
                cls.a.call("Countermeasures.AcceptCountermeasure",
                           name=cls.measure_in(scenario, i))
        return cls.advance(cls.a, "SecurityAssessments", "SecurityAssessment", name, state)

    @classmethod
    def semi_quantitative_assessment(cls):
        pb = protos()
        scheme = cls.a.call("ScoringSchemes.CreateScoringScheme", parent=cls.A,
                            scoring_scheme=pb.scoring.ScoringScheme(
                                title="Costs",
                                preset=pb.scoring.SCORING_PRESET_SEMI_QUANTITATIVE)).name
        name = cls.a.call("SecurityAssessments.CreateSecurityAssessment", parent=cls.A,
                          security_assessment=pb.assessments.SecurityAssessment(
                              title="Loss", scoring_scheme=scheme)).name
        T = pb.scenarios
        cls.a.call("ThreatScenarios.CreateThreatScenario", parent=name,
                   threat_scenario=T.ThreatScenario(
                       title="Theft", category=T.THREAT_CATEGORY_THEFT,
                       source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=cls.bp_paper,
                       consequence_level=3, likelihood_level=3))
        return name

    @classmethod
    def new_scenario(cls):
        return cls.scenario_in(cls.draft_assessment)

    @classmethod
    def new_countermeasure(cls):
        return cls.measure_in(cls.draft_scenario)

    @classmethod
    def new_plan(cls, state):
        """A plan of the main approved assessment, complete for approval."""
        pb = protos()
        L = pb.plans
        name = cls.a.call("SecurityPlans.CreateSecurityPlan", parent=cls.A,
                          security_plan=L.SecurityPlan(
                              title="Plan %d" % cls.seq(), security_assessment=cls.assessment,
                              considered_guidance=[L.GuidanceItem(
                                  annex=L.GUIDANCE_ANNEX_A, reference="A.1", applied=True)],
                              training_programme="Awareness yearly, drills each quarter",
                              monitoring_schedule=[L.MonitoringActivity(
                                  id="seal-log", description="Seal log", interval_days=7)],
                              incident_procedure="Call the duty manager",
                              guarding_arrangements=SENSITIVE)).name
        return cls.advance(cls.a, "SecurityPlans", "SecurityPlan", name, state)

    @classmethod
    def new_item(cls):
        """An item of the main plan no cell used yet."""
        for it in cls.a.call("PlanItems.ListPlanItems", parent=cls.plan,
                             page_size=1000).plan_items:
            if it.name not in cls.used_items:
                cls.used_items.add(it.name)
                return it.name
        raise AssertionError("all items of %s are used: raise ITEM_POOL" % cls.plan)

    @classmethod
    def new_training(cls):
        pb = protos()
        T = pb.trainings
        return cls.a.call("TrainingRecords.CreateTrainingRecord", parent=cls.plan,
                          training_record=T.TrainingRecord(
                              kind=T.TRAINING_KIND_DRILL, topic="Drill %d" % cls.seq(),
                              hold_time=ts(-7200), attendees=["Gate staff"],
                              trainer="Trainer")).name

    @classmethod
    def new_monitoring(cls):
        pb = protos()
        M = pb.monitorings
        return cls.a.call("MonitoringRecords.CreateMonitoringRecord", parent=cls.plan,
                          monitoring_record=M.MonitoringRecord(
                              activity="seal-log", perform_time=ts(-60), performer="Guard",
                              result=M.MONITORING_RESULT_CONFORMING)).name

    @classmethod
    def new_mreview(cls, state):
        pb = protos()
        name = cls.a.call("ManagementReviews.CreateManagementReview", parent=cls.A,
                          management_review=pb.mgmt_reviews.ManagementReview(
                              title="Review %d" % cls.seq(), review_time=ts(-DAY),
                              attendees=["CEO"], decisions=["Keep the seal log"])).name
        return cls.advance(cls.a, "ManagementReviews", "ManagementReview", name, state)

    @classmethod
    def declaration(cls, client, org, state, **kw):
        pb = protos()
        D_ = pb.declarations
        name = client.call("Declarations.CreateDeclaration", parent=org,
                           declaration=D_.Declaration(
                               title="Declaration %d" % cls.seq(),
                               measures=D_.SecurityMeasures(
                                   cargo_security="Sealed", premises_security="Fenced",
                                   personnel_security="Screened",
                                   trading_partner_security="Bound"),
                               signatory=D_.Signatory(name="J. Doe", position="Director"),
                               sign_time=ts(-3600), valid_until=ts(365 * DAY), **kw)).name
        return cls.advance(client, "Declarations", "Declaration", name, state)

    @classmethod
    def new_decl(cls, state):
        return cls.declaration(cls.a, cls.A, state)

    @classmethod
    def new_request(cls, state):
        """The owner's request to the addressee; answered by it."""
        pb = protos()
        name = cls.a.call("DeclarationRequests.CreateDeclarationRequest", parent=cls.A,
                          declaration_request=pb.requests.DeclarationRequest(
                              business_partner=cls.bp_d, message="Matrix %d" % cls.seq())).name
        if state == "answered":
            cls.d.call("DeclarationRequests.AnswerDeclarationRequest", name=name,
                       declaration=cls.d_decl)
        return name

    @classmethod
    def new_bp(cls):
        return cls.partner(cls.a, cls.A)

    @classmethod
    def new_objective(cls):
        pb = protos()
        return cls.a.call("SecurityObjectives.CreateSecurityObjective", parent=cls.A,
                          security_objective=pb.objectives.SecurityObjective(
                              title="Objective %d" % cls.seq(), indicator="Discrepancies",
                              direction=pb.objectives.TARGET_DIRECTION_AT_MOST, target=2,
                              owner="Ops")).name

    @classmethod
    def new_incident(cls, closed):
        pb = protos()
        I_ = pb.incidents
        name = cls.a.call("SecurityIncidents.CreateSecurityIncident", parent=cls.A,
                          security_incident=I_.SecurityIncident(
                              title="Incident %d" % cls.seq(),
                              severity=I_.INCIDENT_SEVERITY_LOW, occur_time=ts(-3600),
                              location="Gate 2")).name
        if closed:
            cls.a.call("SecurityIncidents.CloseSecurityIncident", name=name)
        return name

    @classmethod
    def new_key(cls):
        return cls.key(cls.A, "viewer").api_key.name

    @classmethod
    def share_of(cls, resource):
        pb = protos()
        return cls.a.call("Shares.CreateShare", parent=cls.A, share=pb.shares.Share(
            resource=resource, grantee=cls.P2, purpose="Onboarding %d" % cls.seq(),
            expire_time=ts(30 * DAY))).name

    @classmethod
    def new_share(cls):
        return cls.share_of(cls.assessment_rev)

    @classmethod
    def grant(cls, client, org, authority, start=-60, end=30 * DAY):
        pb = protos()
        return client.call("ValidationGrants.CreateValidationGrant", parent=org,
                           validation_grant=pb.validation_grants.ValidationGrant(
                               authority=authority, application_reference="DE-AEO-%d" % cls.seq(),
                               start_time=ts(start), end_time=ts(end))).name

    @classmethod
    def new_grant(cls):
        return cls.grant(cls.a, cls.A, cls.V1)

    @classmethod
    def new_recognition(cls):
        return cls.auth.call("Recognitions.CreateRecognition", parent=cls.AUTH,
                             recognition=recognition()).name

    @classmethod
    def new_attestation(cls):
        return cls.auth.call("Attestations.CreateAttestation", parent=cls.AUTH,
                             attestation=attestation(cls.P1)).name

    # ---- who sees what ----

    def visible(self, caller, owner):
        """The tenants (org ids) caller may see named anywhere; None: all."""
        i = lambda *names: {n.split("/")[1] for n in names}  # noqa: E731
        if caller == "platform":
            return None
        if caller in MEMBERS:
            if owner == AUTHORITY:  # the operators it attests and validates
                return i(self.AUTH, self.P1, self.O)
            # the owner, and what its data names: partners, grantees, authorities
            return i(self.A, self.P1, self.P2, self.D, self.V1, self.V2, self.AUTH)
        return {
            "nokey": i(self.AUTH),
            "revoked": i(self.AUTH),
            "unrelated_admin": i(self.U, self.AUTH),
            "partner_noshare": i(self.P1, self.AUTH),
            "partner_share": i(self.P2, self.A, self.AUTH),
            "addressee": i(self.D, self.A, self.AUTH),
            # what the owner's data names, not its grants to other authorities
            "validator_active": i(self.V1, self.A, self.P1, self.P2, self.D, self.AUTH),
            "validator_expired": i(self.V2, self.AUTH),
            "validator_other_operator": i(self.V3, self.O, self.AUTH),
            "validator_none": i(self.V4, self.AUTH),
        }[caller]

    # ---- calling ----

    def invoke(self, m, req, caller, owner):
        """(code name, responses, details)."""
        md = None if caller == "nokey" else auth_md(self.secrets[owner][caller])
        ch = self.server.channel
        ser, de = type(req).SerializeToString, m.resp_cls.FromString
        try:
            if m.client_streaming:
                fn = ch.stream_stream(m.path, request_serializer=ser, response_deserializer=de)
                resps = list(fn(iter([req]), metadata=md, timeout=10))
            elif m.server_streaming:
                fn = ch.unary_stream(m.path, request_serializer=ser, response_deserializer=de)
                it = fn(req, metadata=md, timeout=10)
                try:
                    resps = [next(it)]
                finally:
                    it.cancel()
            else:
                fn = ch.unary_unary(m.path, request_serializer=ser, response_deserializer=de)
                resps = [fn(req, metadata=md, timeout=10)]
        except grpc.RpcError as e:
            return e.code().name, [], e.details() or ""
        return OK, resps, ""

    def build(self, m, r, subject, caller):
        fields = r.request(Cell(type(self), subject, caller))
        req = fields if not isinstance(fields, dict) else m.req_cls(**fields)
        if req.DESCRIPTOR.full_name != m.req_cls.DESCRIPTOR.full_name:
            raise AssertionError("%s: the row builds a %s, the method takes %s" % (
                m.path, req.DESCRIPTOR.full_name, m.input_type))
        return req

    def leaks(self, m, r, caller, req, code, resps, details, seen):
        """What the cell's answer reveals that it must not: sentences. Adds
        to seen["orgs"] the tenants the answer names, seen["sensitive"]
        whether it carries a sensitive value."""
        out = []
        vis = self.visible(caller, r.owner)
        insider = caller == "platform" or (caller in MEMBERS)
        for resp in resps:
            strs = strings_of(resp)
            orgs = {o for s in strs for o in ORG_RE.findall(s)}
            seen["orgs"] |= orgs
            seen["sensitive"] |= any(SENSITIVE in s for s in strs)
            if vis is not None and orgs - vis:
                out.append("the answer names tenant(s) %s" % ", ".join(sorted(orgs - vis)))
            if not insider and any(SENSITIVE in s for s in strs):
                out.append("the answer carries a sensitive field's value")
        if code != OK and vis is not None:
            # a caller let in to one resource (a share, a request) is told of
            # none of the owner's but the ones it named itself
            if caller in ("partner_share", "addressee"):
                vis = vis - {self.A.split("/")[1]}
            text = unsent(details, strings_of(req))
            named = sorted(set(ORG_RE.findall(text)) - vis)
            if named:
                out.append("the error names tenant(s) %s: %r" % (", ".join(named), details))
        if code == NF:
            holder, field = primary_field(req)
            sent_name = getattr(holder, field) if holder is not None else ""
            twin_name = missing_twin(sent_name) if sent_name else None
            if twin_name:
                twin = copy.deepcopy(req)
                h2, f2 = primary_field(twin)
                setattr(h2, f2, twin_name)
                code2, _, details2 = self.invoke(m, twin, caller, r.owner)
                if code2 != NF or swapped(details, sent_name) != swapped(details2, twin_name):
                    out.append("NOT_FOUND %r differs from a missing name's %s %r" % (
                        details, code2, details2))
        return out

    def run_row(self, path, m, r):
        """{caller: (code, details, leaks, seen)} of the row's cells."""
        w = type(self)
        got = {}
        shared = [None]

        def shared_subject():
            if shared[0] is None:
                shared[0] = r.fresh(w)
            return shared[0]

        for caller in CALLERS:
            want = r.expect[caller]
            if r.fresh is None:
                subject = r.subject(w) if r.subject else None
            elif want == OK:
                subject = r.fresh(w)
            else:
                subject = shared_subject()
            seen = {"orgs": set(), "sensitive": False}
            try:
                req = self.build(m, r, subject, caller)
                code, resps, details = self.invoke(m, req, caller, r.owner)
                leaks = self.leaks(m, r, caller, req, code, resps, details, seen)
            except Exception as e:  # a fixture or a builder failed: the cell fails
                code, details, leaks = "ERROR", "%s: %s" % (type(e).__name__, e), []
            if r.fresh is not None and want != OK and code == OK:
                shared[0] = None  # written: the next cell gets another
            got[caller] = (code, details, leaks, seen)
        return got

    def vacuous(self, results):
        """The leak checks would catch something: the owner's viewer read a
        sensitive value and named other tenants (its partners), and each
        caller let in (by a share, a request, a grant) read answers naming the
        owner. Sentences for what did not happen."""
        out = []
        ops = [p for p in results if MATRIX[p].owner == OPERATOR]
        seen = lambda c, k: [results[p][c][3][k] for p in ops]  # noqa: E731
        if not any(seen("viewer", "sensitive")):
            out.append("no answer to the owner's viewer carried the sensitive marker")
        if self.D.split("/")[1] not in set().union(*seen("viewer", "orgs")):
            out.append("no answer to the owner's viewer named its partner %s" % self.D)
        for c in ("partner_share", "addressee", "validator_active"):
            if self.A.split("/")[1] not in set().union(*seen(c, "orgs")):
                out.append("no answer to %s named the owner %s" % (c, self.A))
        return out

    # ---- the tests ----

    def test_every_method_has_a_row(self):
        self.assertFalse(self.unreflected, "services listed but not described by reflection")
        self.assertGreater(len(self.methods), 100, "reflection listed too few methods")
        missing = sorted(set(self.methods) - set(MATRIX))
        stale = sorted(set(MATRIX) - set(self.methods))
        self.assertFalse(missing, "methods served without a row in MATRIX: %s" % missing)
        self.assertFalse(stale, "rows for methods the server does not serve: %s" % stale)

    def test_access_matrix(self):
        t0 = time.monotonic()
        problems, results = [], {}
        for path in sorted(set(self.methods) - set(MATRIX)):
            problems.append("%s: served, but MATRIX has no row for it" % path)
        for path in sorted(set(MATRIX) - set(self.methods)):
            problems.append("%s: a row in MATRIX, but the server does not serve it" % path)
        for path in [p for p in MATRIX if p in self.methods]:
            got = results[path] = self.run_row(path, self.methods[path], MATRIX[path])
            for caller in CALLERS:
                want = MATRIX[path].expect[caller]
                code, details, leaks, _ = got[caller]
                if code != want:
                    problems.append("%s as %s: expected %s, got %s%s" % (
                        path, caller, want, code, ": %r" % details if details else ""))
                for leak in leaks:
                    problems.append("%s as %s: LEAK: %s" % (path, caller, leak))
        problems += ["the leak checks are vacuous: %s" % v for v in self.vacuous(results)]
        self.print_matrix(results, time.monotonic() - t0)
        if problems:
            self.fail("%d of the matrix's cells differ or leak:\n  %s" % (
                len(problems), "\n  ".join(problems)))

    def print_matrix(self, results, seconds):
        width = max(len(p) for p in results) if results else 20
        out = ["", "ACCESS MATRIX: %d methods x %d callers (the owner: an operator; of "
               "Recognitions, Attestations, ListValidatedOrganizations: a customs "
               "authority); * marks a cell that differs or leaks" % (
                   len(results), len(CALLERS))]
        out.append("%-*s %s" % (width, "method", " ".join("%-5s" % SHORT[c] for c in CALLERS)))
        got_counts, want_counts = {}, {}
        diffs = 0
        for path in sorted(results):
            cells = []
            for caller in CALLERS:
                code, _, leaks, _ = results[path][caller]
                want = MATRIX[path].expect[caller]
                bad = code != want or leaks
                diffs += bool(bad)
                got_counts[code] = got_counts.get(code, 0) + 1
                want_counts[want] = want_counts.get(want, 0) + 1
                cells.append("%-5s" % (abbrev(code) + ("*" if bad else "")))
            out.append("%-*s %s" % (width, path, " ".join(cells)))
        total = sum(got_counts.values())
        out.append("cells: %d (%d methods x %d callers); differing or leaking: %d" % (
            total, len(results), len(CALLERS), diffs))
        out.append("expected: " + ", ".join("%s %d" % kv for kv in sorted(
            want_counts.items(), key=lambda kv: -kv[1])))
        out.append("got:      " + ", ".join("%s %d" % kv for kv in sorted(
            got_counts.items(), key=lambda kv: -kv[1])))
        out.append("(world set up in %.1fs, matrix run in %.1fs)" % (self.setup_seconds, seconds))
        print("\n".join(out), flush=True)
