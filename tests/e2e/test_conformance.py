"""Conformance of every resource kind the server serves, found through server
reflection: each service's standard methods (AIP-131..135: Create<T>,
Get<T>, List<Ts>, Update<T>, Delete<T>, recognised by name and by their
request and response types) make a kind T, and every kind gets the same
checks: create / get / list / update / delete; a stale etag is ABORTED and
changes nothing; the update mask is honoured; pagination over several pages
loses and repeats nothing; another tenant's resource is NOT_FOUND, worded as
for one that does not exist; a VIEWER's writes are PERMISSION_DENIED; an
invalid id or name is INVALID_ARGUMENT naming the field.

What differs between kinds is in FIXTURES below: how to make a valid
resource, which field to update, who creates. A kind whose resources only
the server makes (a plan's items) has no Create: its fixture says how one
comes about, and it gets every check but those of Create itself. A kind the
server serves without a fixture here fails the suite
(test_every_kind_has_a_fixture), so a new kind gets these checks the day it
is served."""

import time

import grpc
from google.protobuf import descriptor_pb2

from harness import ServerTestCase, protos

C = grpc.StatusCode

# Per kind: the standard verbs it serves (the server must serve exactly
# these), the message module (attribute of protos()), a valid resource (i: a
# number making it distinct), how it is created when its Create is custom
# (an ApiKey's answer carries the secret) or, for a kind with no Create, how
# the server is made to produce one ("produce": (client, parent, setup's
# context) -> a new resource under parent), a field an update changes and its
# new value, a field the patch also changes but the mask leaves out, and the
# least role for each verb ("platform": platform administrators only).
ALL_VERBS = {"Create", "Get", "List", "Update", "Delete"}

FIXTURES = {
    "Organization": dict(
        verbs=ALL_VERBS,
        module="orgs",
        make=lambda pb, i: pb.orgs.Organization(
            legal_name="Conformance %d" % i, country_code="DE",
            kind=pb.orgs.ORGANIZATION_KIND_OPERATOR),
        update=("legal_name", "Renamed Ltd"),
        untouched=("country_code", "FR"),
        roles=dict(read="viewer", create="platform", update="admin", delete="platform"),
        filter=lambda r: ('legal_name = "%s" AND kind = OPERATOR' % r.legal_name,
                          'legal_name = "%s" AND NOT kind = OPERATOR' % r.legal_name),
    ),
    "ApiKey": dict(
        verbs={"Get", "List"},  # created by CreateApiKey (it answers the secret), revoked by RevokeApiKey
        module="keys",
        make=lambda pb, i: pb.keys.ApiKey(display_name="Key %d" % i, role=pb.common.ROLE_VIEWER),
        create=lambda client, parent, res, key_id, ctx: client.call(
            "ApiKeys.CreateApiKey", parent=parent, api_key=res, api_key_id=key_id).api_key,
        id_field="api_key_id",
        roles=dict(read="admin", create="admin"),
        # (a filter that holds for the new key, one that does not)
        filter=lambda r: ("state = ACTIVE", "state = REVOKED"),
    ),
    "SecurityPolicy": dict(
        verbs=ALL_VERBS,
        module="policies",
        make=lambda pb, i: pb.policies.SecurityPolicy(title="Policy %d" % i, text="Text"),
        update=("title", "Renamed policy"),
        untouched=("text", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND state = DRAFT' % r.title,
                          'title = "%s" AND NOT state = DRAFT' % r.title),
    ),
    "StatementOfApplication": dict(
        verbs=ALL_VERBS,
        module="statements",
        make=lambda pb, i: pb.statements.StatementOfApplication(
            title="Scope %d" % i, functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER]),
        update=("title", "Renamed scope"),
        untouched=("functions", [4]),  # SUPPLY_CHAIN_ROLE_CARRIER
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND functions:FORWARDER' % r.title,
                          'title = "%s" AND functions:CARRIER' % r.title),
    ),
    "BusinessPartner": dict(
        verbs=ALL_VERBS,
        module="partners",
        make=lambda pb, i: pb.partners.BusinessPartner(
            legal_name="Partner %d" % i, country_code="NL",
            risk_tier=pb.partners.RISK_TIER_MEDIUM),
        update=("legal_name", "Renamed BV"),
        untouched=("country_code", "BE"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('legal_name = "%s" AND risk_tier = MEDIUM' % r.legal_name,
                          'legal_name = "%s" AND risk_tier = HIGH' % r.legal_name),
    ),
    "Declaration": dict(
        verbs=ALL_VERBS,
        module="declarations",
        make=lambda pb, i: pb.declarations.Declaration(title="Declaration %d" % i),
        update=("title", "Renamed declaration"),
        untouched=("paper_reference", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND state = DRAFT' % r.title,
                          'title = "%s" AND state = APPROVED' % r.title),
    ),
    "DeclarationRequest": dict(
        verbs=ALL_VERBS,
        module="requests",
        make=lambda pb, i: pb.requests.DeclarationRequest(message="Request %d" % i),
        # a request names a business partner of its organization: made first
        create=lambda client, parent, res, res_id, ctx: client.call(
            "DeclarationRequests.CreateDeclarationRequest", parent=parent,
            declaration_request_id=res_id,
            declaration_request=type(res)(
                message=res.message, business_partner=client.call(
                    "BusinessPartners.CreateBusinessPartner", parent=parent,
                    business_partner=protos().partners.BusinessPartner(
                        legal_name="Asked", country_code="DE",
                        risk_tier=protos().partners.RISK_TIER_LOW)).name)),
        update=("message", "Please answer by Friday"),
        untouched=("business_partner", "organizations/x/businessPartners/changed"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('state = REQUESTED AND business_partner = "%s"' % r.business_partner,
                          'state = ACCEPTED AND business_partner = "%s"' % r.business_partner),
    ),
    "CredibilityReview": dict(
        verbs={"Create", "Get", "List"},  # a record: never changed
        module="reviews",
        make=lambda pb, i: pb.reviews.CredibilityReview(
            method=pb.reviews.REVIEW_METHOD_DOCUMENT_REVIEW, reviewer="Reviewer %d" % i,
            result=pb.reviews.REVIEW_RESULT_CREDIBLE,
            review_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 60)),
        # a review is of an ACCEPTED request to its partner: setup makes them
        setup=lambda test: accepted_request(test.clients["admin"], test.org_a),
        create=lambda client, parent, res, res_id, ctx: client.call(
            "CredibilityReviews.CreateCredibilityReview", parent=parent,
            credibility_review_id=res_id,
            credibility_review=type(res)(declaration_request=ctx["request"], **{
                f.name: v for f, v in res.ListFields()})),
        roles=dict(read="viewer", create="editor"),
        filter=lambda r: ('result = CREDIBLE AND method = DOCUMENT_REVIEW',
                          'result = NOT_CREDIBLE'),
    ),
    "ScoringScheme": dict(
        verbs=ALL_VERBS,
        module="scoring",
        make=lambda pb, i: pb.scoring.ScoringScheme(
            title="Scheme %d" % i, preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE),
        update=("title", "Renamed scheme"),
        untouched=("acceptable_level", 9.0),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND preset = FIVE_BY_FIVE' % r.title,
                          'title = "%s" AND combination = SUM' % r.title),
    ),
    "SecurityAssessment": dict(
        verbs=ALL_VERBS,
        module="assessments",
        make=lambda pb, i: pb.assessments.SecurityAssessment(
            title="Assessment %d" % i, method="Workshops with the 5 x 5 scheme"),
        # an assessment copies a scoring scheme of its organization: setup makes one
        setup=lambda test: {"parent": test.org_a, "scheme": scoring_scheme(
            test.clients["admin"], test.org_a)},
        create=lambda client, parent, res, res_id, ctx: client.call(
            "SecurityAssessments.CreateSecurityAssessment", parent=parent,
            security_assessment_id=res_id,
            security_assessment=type(res)(scoring_scheme=ctx["scheme"], **{
                f.name: v for f, v in res.ListFields()})),
        update=("title", "Renamed assessment"),
        untouched=("method", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND state = DRAFT' % r.title,
                          'title = "%s" AND state = APPROVED' % r.title),
    ),
    "ThreatScenario": dict(
        verbs=ALL_VERBS,
        module="scenarios",
        make=lambda pb, i: pb.scenarios.ThreatScenario(
            title="Scenario %d" % i, category=pb.scenarios.THREAT_CATEGORY_THEFT,
            source=pb.scenarios.SCENARIO_SOURCE_ASSESSMENT_TEAM,
            consequence_level=2, likelihood_level=3),
        # a scenario is part of a draft assessment and targets a partner: setup makes them
        setup=lambda test: draft_assessment(test.clients["admin"], test.org_a),
        create=lambda client, parent, res, res_id, ctx: client.call(
            "ThreatScenarios.CreateThreatScenario", parent=parent, threat_scenario_id=res_id,
            threat_scenario=type(res)(target=ctx["target"], **{
                f.name: v for f, v in res.ListFields()})),
        update=("title", "Renamed scenario"),
        untouched=("narrative", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('category = THEFT AND consequence_level = 2 AND acceptable = true',
                          'category = CYBER'),
    ),
    "Countermeasure": dict(
        verbs=ALL_VERBS,
        module="countermeasures",
        make=lambda pb, i: pb.countermeasures.Countermeasure(
            description="Measure %d" % i, aeo_criterion=pb.common.AEO_CRITERION_E_PREMISES,
            priority=2, residual_consequence_level=1, residual_likelihood_level=2),
        # a countermeasure is of a scenario of a draft assessment: setup makes them
        setup=lambda test: draft_scenario(test.clients["admin"], test.org_a),
        update=("description", "Fence and lights"),
        untouched=("owner", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('state = PROPOSED AND aeo_criterion = E_PREMISES AND priority = 2',
                          'state = ACCEPTED'),
    ),
    "SecurityObjective": dict(
        verbs=ALL_VERBS,
        module="objectives",
        make=lambda pb, i: pb.objectives.SecurityObjective(
            title="Objective %d" % i, indicator="Seal discrepancies",
            direction=pb.objectives.TARGET_DIRECTION_AT_MOST, target=2, owner="Ops %d" % i),
        update=("title", "Renamed objective"),
        untouched=("indicator", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('status = NOT_MEASURED AND owner = "%s"' % r.owner,
                          'status = OFF_TARGET AND owner = "%s"' % r.owner),
    ),
    "SecurityIncident": dict(
        verbs=ALL_VERBS,
        module="incidents",
        make=lambda pb, i: pb.incidents.SecurityIncident(
            title="Incident %d" % i, severity=pb.incidents.INCIDENT_SEVERITY_MEDIUM,
            occur_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 3600),
            location="Gate %d" % i,
            required_notifications=[pb.incidents.RequiredNotification(
                kind=pb.incidents.AUTHORITY_KIND_CUSTOMS, authority="Customs")]),
        update=("title", "Renamed incident"),
        untouched=("location", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('state = OPEN AND severity = MEDIUM AND notifications_missing = true',
                          'state = CLOSED'),
    ),
    "SecurityPlan": dict(
        verbs=ALL_VERBS,
        module="plans",
        make=lambda pb, i: pb.plans.SecurityPlan(
            title="Plan %d" % i, training_programme="Awareness yearly, drills each quarter"),
        # a plan implements an approved assessment of its organization: setup makes one
        setup=lambda test: approved_assessment(test.clients["admin"], test.org_a),
        create=lambda client, parent, res, res_id, ctx: client.call(
            "SecurityPlans.CreateSecurityPlan", parent=parent, security_plan_id=res_id,
            security_plan=type(res)(security_assessment=ctx["assessment"], **{
                f.name: v for f, v in res.ListFields()})),
        update=("title", "Renamed plan"),
        untouched=("training_programme", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND state = DRAFT AND security_assessment = "%s"'
                          % (r.title, r.security_assessment),
                          'title = "%s" AND state = APPROVED' % r.title),
    ),
    "PlanItem": dict(
        # made by the server with their plan, one per accepted countermeasure,
        # and deleted with it: no Create, no Delete
        verbs={"Get", "List", "Update"},
        module="items",
        # the items of one plan, of an approved assessment with ITEM_POOL
        # accepted countermeasures: each check takes items no check used
        setup=lambda test: security_plan(test.clients["admin"], test.org_a, ITEM_POOL),
        produce=lambda client, parent, ctx: unused_item(client, parent, ctx),
        update=("owner", "Night shift lead"),
        untouched=("evidence", ["Changed outside the mask"]),
        # (create: who makes the plan that brings them)
        roles=dict(read="viewer", create="editor", update="editor"),
        filter=lambda r: ('owner = "%s" AND priority = %d AND status = PLANNED'
                          ' AND aeo_criterion = E_PREMISES' % (r.owner, r.priority),
                          'owner = "%s" AND status = VERIFIED' % r.owner),
    ),
    "TrainingRecord": dict(
        verbs=ALL_VERBS,
        module="trainings",
        make=lambda pb, i: pb.trainings.TrainingRecord(
            kind=pb.trainings.TRAINING_KIND_DRILL, topic="Breached seal drill %d" % i,
            hold_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 3600 - i),
            attendees=["Gate staff %d" % i], trainer="Trainer %d" % i),
        # a record is of a security plan: setup makes one
        setup=lambda test: security_plan(test.clients["admin"], test.org_a),
        update=("topic", "Intrusion drill"),
        untouched=("trainer", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('kind = DRILL AND hold_time = "%s"' % r.hold_time.ToJsonString(),
                          'kind = DRILL AND hold_time > "%s"' % r.hold_time.ToJsonString()),
    ),
    "MonitoringRecord": dict(
        verbs={"Create", "Get", "List", "Update"},  # a record kept: never deleted on its own
        module="monitorings",
        make=lambda pb, i: pb.monitorings.MonitoringRecord(
            activity="seal-log",
            perform_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 60 - i),
            performer="Guard %d" % i, result=pb.monitorings.MONITORING_RESULT_CONFORMING),
        # a record is of an activity of a security plan's schedule: setup makes them
        setup=lambda test: security_plan(test.clients["admin"], test.org_a),
        update=("performer", "Shift supervisor"),
        untouched=("findings", "Changed outside the mask"),
        roles=dict(read="viewer", create="editor", update="editor"),
        filter=lambda r: ('activity = "seal-log" AND result = CONFORMING AND perform_time = "%s"'
                          % r.perform_time.ToJsonString(),
                          'activity = "seal-log" AND result = NONCONFORMING'),
    ),
    "ManagementReview": dict(
        verbs=ALL_VERBS,
        module="mgmt_reviews",
        make=lambda pb, i: pb.mgmt_reviews.ManagementReview(
            title="Review %d" % i, attendees=["CEO %d" % i],
            review_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 86400)),
        update=("title", "Renamed review"),
        untouched=("attendees", ["Changed outside the mask"]),
        roles=dict(read="viewer", create="editor", update="editor", delete="admin"),
        filter=lambda r: ('title = "%s" AND state = DRAFT AND review_time = "%s"'
                          % (r.title, r.review_time.ToJsonString()),
                          'title = "%s" AND state = APPROVED' % r.title),
    ),
    "ReadinessReport": dict(
        # computed at each read, never stored: Get only (tests/e2e/test_readiness.py)
        verbs={"Get"},
        module="readiness",
        roles=dict(read="viewer"),
    ),
    "ValidationGrant": dict(
        verbs=ALL_VERBS,
        module="validation_grants",
        make=lambda pb, i: pb.validation_grants.ValidationGrant(
            application_reference="APP-%d" % i,
            start_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 60),
            end_time=pb.timestamp.Timestamp(seconds=int(time.time()) + 86400 * 30)),
        # a grant names a customs authority on the platform: setup makes one
        setup=lambda test: {"parent": test.org_a, "authority": test.make_org(
            test.uid("cfauth"), kind=protos().orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY).name},
        create=lambda client, parent, res, res_id, ctx: client.call(
            "ValidationGrants.CreateValidationGrant", parent=parent, validation_grant_id=res_id,
            validation_grant=type(res)(authority=ctx["authority"], **{
                f.name: v for f, v in res.ListFields()})),
        update=("application_reference", "APP-renamed"),
        untouched=("statement_of_application", "organizations/x/statementsOfApplication/y"),
        roles=dict(read="viewer", create="admin", update="admin", delete="admin"),
        filter=lambda r: ('authority = "%s" AND application_reference = "%s"'
                          % (r.authority, r.application_reference),
                          'authority = "organizations/nobody"'),
    ),
    "Share": dict(
        verbs={"Create", "Get", "List", "Delete"},  # revoked and made anew, never changed
        module="shares",
        make=lambda pb, i: pb.shares.Share(
            purpose="Need to know %d" % i,
            expire_time=pb.timestamp.Timestamp(seconds=int(time.time()) + 86400 * 30)),
        # a share of org_a's readiness report with org_b (tests/e2e/test_sharing.py
        # shares revisions)
        setup=lambda test: {"parent": test.org_a, "grantee": test.org_b,
                            "resource": test.org_a + "/readinessReports/wco-safe-aeo"},
        create=lambda client, parent, res, res_id, ctx: client.call(
            "Shares.CreateShare", parent=parent, share_id=res_id,
            share=type(res)(resource=ctx["resource"], grantee=ctx["grantee"], **{
                f.name: v for f, v in res.ListFields()})),
        roles=dict(read="viewer", create="admin", delete="admin"),
        filter=lambda r: ('grantee = "%s" AND resource = "%s"' % (r.grantee, r.resource),
                          'grantee = "organizations/nobody"'),
    ),
    "Recognition": dict(
        verbs=ALL_VERBS,
        module="recognitions",
        make=lambda pb, i: pb.recognitions.Recognition(
            certificate_type=pb.partners.PARTNER_CERTIFICATE_TYPE_CTPAT, issuing_country="US",
            issuer="U.S. CBP %d" % i, basis=pb.recognitions.RECOGNITION_BASIS_MUTUAL_RECOGNITION,
            arrangement="EU-US MRA (2012)"),
        update=("issuer", "U.S. Customs and Border Protection"),
        untouched=("arrangement", "Changed outside the mask"),
        roles=dict(read="viewer", create="admin", update="admin", delete="admin"),
        filter=lambda r: ('certificate_type = CTPAT AND issuing_country = "US"',
                          'certificate_type = AEO_S'),
        # published: other tenants read them (tests/e2e/test_access_matrix.py)
        outsiders_read=True,
    ),
    "Attestation": dict(
        verbs=ALL_VERBS,
        module="attestations",
        make=lambda pb, i: pb.attestations.Attestation(
            type=pb.orgs.CERTIFICATE_TYPE_AEO, aeo_type=pb.orgs.AEO_TYPE_AEOS,
            number="DEAEOS%06d" % i,
            valid_from=pb.timestamp.Timestamp(seconds=int(time.time()) - 86400),
            valid_until=pb.timestamp.Timestamp(seconds=int(time.time()) + 86400 * 365)),
        # of an operator on the platform: org_b
        setup=lambda test: {"parent": test.org_a, "operator": test.org_b},
        create=lambda client, parent, res, res_id, ctx: client.call(
            "Attestations.CreateAttestation", parent=parent, attestation_id=res_id,
            attestation=type(res)(operator=ctx["operator"], **{
                f.name: v for f, v in res.ListFields()})),
        update=("number", "DEAEOS999999"),
        untouched=("operator", "organizations/x"),
        roles=dict(read="viewer", create="admin", update="admin", delete="admin"),
        filter=lambda r: ('operator = "%s" AND number = "%s"' % (r.operator, r.number),
                          'operator = "organizations/nobody"'),
        # the attested operator (org_b, the stranger's) reads its own
        outsiders_read=True,
    ),
    "ValidatedOrganization": dict(
        # not stored: an authority's view of the grants in force to it, across
        # operators (tests/e2e/test_validators.py): List only
        verbs={"List"},
        module="validation_grants",
        roles=dict(read="viewer"),
    ),
    "AuditEvent": dict(
        # written by the store with every change, listed in position order (not
        # by name) by ADMINs: List only (tests/e2e/test_audit_log.py)
        verbs={"List"},
        module="audit",
        roles=dict(read="admin"),
    ),
}

# The accepted countermeasures, hence items, of the PlanItem fixture's plan:
# its checks take 12 (create 2, stale etag 1, mask 1, pages 5, tenancy 1,
# viewer 1, filter 1).
ITEM_POOL = 16

ROLE_ORDER = ["viewer", "editor", "admin", "platform"]


def accepted_request(admin, org):
    """A business partner of org not on the platform, with an ACCEPTED
    declaration request answered by a paper declaration recorded for it:
    {"parent": the partner, "request": the request}."""
    pb = protos()
    partner = admin.call("BusinessPartners.CreateBusinessPartner", parent=org,
                         business_partner=pb.partners.BusinessPartner(
                             legal_name="Reviewed", country_code="DE",
                             risk_tier=pb.partners.RISK_TIER_HIGH)).name
    request = admin.call("DeclarationRequests.CreateDeclarationRequest", parent=org,
                         declaration_request=pb.requests.DeclarationRequest(
                             business_partner=partner)).name
    P = pb.declarations
    now = int(time.time())
    paper = admin.call("Declarations.CreateDeclaration", parent=org, declaration=P.Declaration(
        title="Paper declaration", recorded_for=partner, paper_reference="P-1",
        measures=P.SecurityMeasures(cargo_security="c", premises_security="e",
                                    personnel_security="f", trading_partner_security="g"),
        signatory=P.Signatory(name="A", position="B"),
        sign_time=pb.timestamp.Timestamp(seconds=now - 60),
        valid_until=pb.timestamp.Timestamp(seconds=now + 86400 * 365))).name
    admin.call("Declarations.SubmitDeclaration", name=paper)
    admin.call("Declarations.ApproveDeclaration", name=paper)
    admin.call("DeclarationRequests.AnswerDeclarationRequest", name=request, declaration=paper)
    admin.call("DeclarationRequests.AcceptDeclarationRequest", name=request)
    return {"parent": partner, "request": request}


def scoring_scheme(admin, org):
    """A 5 x 5 scoring scheme of org: its name."""
    pb = protos()
    return admin.call("ScoringSchemes.CreateScoringScheme", parent=org,
                      scoring_scheme=pb.scoring.ScoringScheme(
                          title="Scheme", preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE)).name


def draft_assessment(admin, org):
    """A draft assessment of org and a business partner of org to target:
    {"parent": the assessment, "target": the partner}."""
    pb = protos()
    assessment = admin.call("SecurityAssessments.CreateSecurityAssessment", parent=org,
                            security_assessment=pb.assessments.SecurityAssessment(
                                title="Assessed", scoring_scheme=scoring_scheme(admin, org))).name
    target = admin.call("BusinessPartners.CreateBusinessPartner", parent=org,
                        business_partner=pb.partners.BusinessPartner(
                            legal_name="Target", country_code="DE",
                            risk_tier=pb.partners.RISK_TIER_LOW)).name
    return {"parent": assessment, "target": target}


def draft_scenario(admin, org):
    """A threat scenario (at levels 4 and 4) of a draft assessment of org:
    {"parent": the scenario}."""
    pb = protos()
    ctx = draft_assessment(admin, org)
    T = pb.scenarios
    scenario = admin.call("ThreatScenarios.CreateThreatScenario", parent=ctx["parent"],
                          threat_scenario=T.ThreatScenario(
                              title="Treated", category=T.THREAT_CATEGORY_TAMPERING,
                              source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=ctx["target"],
                              consequence_level=4, likelihood_level=4)).name
    return {"parent": scenario}


def approved_assessment(admin, org, measures=1):
    """An APPROVED security assessment of org: an approved statement of
    application in scope, a method, a team member with a competence, and one
    threat scenario (at levels 4 and 4, over the acceptable level) treated by
    `measures` ACCEPTED countermeasures, each with an owner ("Owner {i}"), a
    priority (1 to 5 in turn) and a due time 90 days away:
    {"parent": org, "assessment": the assessment, "countermeasures": theirs}."""
    pb = protos()
    S, A, T, CM = pb.statements, pb.assessments, pb.scenarios, pb.countermeasures
    SOA = "StatementsOfApplication."
    statement = admin.call(SOA + "CreateStatementOfApplication", parent=org,
                           statement_of_application=S.StatementOfApplication(
                               title="Planned scope", functions=[
                                   pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                               facilities=[S.Facility(id="hamburg", name="Hamburg warehouse",
                                                      country_code="DE")],
                               covered_portion=S.SupplyChainPortion(
                                   **{"from": "Shenzhen", "to": "Hamburg"},
                                   transport_modes=[S.TRANSPORT_MODE_SEA]))).name
    admin.call(SOA + "SubmitStatementOfApplication", name=statement)
    admin.call(SOA + "ApproveStatementOfApplication", name=statement)
    assessment = admin.call("SecurityAssessments.CreateSecurityAssessment", parent=org,
                            security_assessment=A.SecurityAssessment(
                                title="Planned", scoring_scheme=scoring_scheme(admin, org),
                                scope=A.AssessmentScope(statement_of_application=statement),
                                method="Workshops",
                                team=[A.TeamMember(name="M. Weber", role="Security manager",
                                                   competences=["ISO 28000 lead auditor"])])).name
    scenario = admin.call("ThreatScenarios.CreateThreatScenario", parent=assessment,
                          threat_scenario=T.ThreatScenario(
                              title="Theft from the yard", category=T.THREAT_CATEGORY_THEFT,
                              source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
                              target=statement + "/facilities/hamburg",
                              consequence_level=4, likelihood_level=4)).name
    due = pb.timestamp.Timestamp(seconds=int(time.time()) + 90 * 86400)
    made = []
    for i in range(measures):
        c = admin.call("Countermeasures.CreateCountermeasure", parent=scenario,
                       countermeasure=CM.Countermeasure(
                           description="Measure %d" % i, priority=1 + i % 5,
                           aeo_criterion=pb.common.AEO_CRITERION_E_PREMISES,
                           residual_consequence_level=1, residual_likelihood_level=2,
                           owner="Owner %d" % i, due_time=due)).name
        admin.call("Countermeasures.AcceptCountermeasure", name=c)
        made.append(c)
    admin.call("SecurityAssessments.SubmitSecurityAssessment", name=assessment)
    admin.call("SecurityAssessments.ApproveSecurityAssessment", name=assessment)
    return {"parent": org, "assessment": assessment, "countermeasures": made}


def security_plan(admin, org, measures=1):
    """A draft security plan of an approved assessment of org (see
    approved_assessment), with one monitoring activity, "seal-log":
    {"parent": the plan, "used": the names of its items a check took (none yet)}."""
    pb = protos()
    ctx = approved_assessment(admin, org, measures)
    plan = admin.call("SecurityPlans.CreateSecurityPlan", parent=org,
                      security_plan=pb.plans.SecurityPlan(
                          title="Plan", security_assessment=ctx["assessment"],
                          monitoring_schedule=[pb.plans.MonitoringActivity(
                              id="seal-log", description="Seal log against the gate register",
                              interval_days=7)])).name
    return {"parent": plan, "used": set()}


def unused_item(client, plan, ctx):
    """An item of plan, as ListPlanItems answers it, that no check used yet."""
    items = client.call("PlanItems.ListPlanItems", parent=plan, page_size=1000).plan_items
    for item in items:
        if item.name not in ctx["used"]:
            ctx["used"].add(item.name)
            return item
    raise AssertionError("%s: all its %d items are used: raise ITEM_POOL" % (plan, len(items)))


def snake(name):
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out += "_"
        out += ch.lower()
    return out


def reflect_kinds(addr):
    """{type name: {verb: "Service.Method"}} for the supplysec services the
    server at addr lists through reflection (grpc.reflection.v1)."""
    pb = protos()
    R = pb.reflection
    with grpc.insecure_channel(addr) as ch:
        call = ch.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                request_serializer=R.ServerReflectionRequest.SerializeToString,
                                response_deserializer=R.ServerReflectionResponse.FromString)

        def ask(**kw):
            return next(iter(call(iter([R.ServerReflectionRequest(**kw)]), timeout=10)))

        services = [s.name for s in ask(list_services="").list_services_response.service
                    if s.name.startswith("supplysec.v1.")]
        kinds = {}
        for svc in services:
            files = ask(file_containing_symbol=svc).file_descriptor_response.file_descriptor_proto
            for raw in files:
                fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
                msgs = {"." + fd.package + "." + m.name: m for m in fd.message_type}
                for s in fd.service:
                    if fd.package + "." + s.name != svc:
                        continue
                    for m in s.method:
                        kind_of_method(kinds, s.name, m, msgs, fd.package)
    return kinds


def kind_of_method(kinds, svc, m, msgs, package):
    """Files m under its kind when it is a standard method by name and shape."""
    out = m.output_type.rsplit(".", 1)[-1]
    for verb in ("Create", "Get", "Update", "Delete"):
        if m.name.startswith(verb) and m.name[len(verb):]:
            t = m.name[len(verb):]
            resource = "." + package + "." + t
            if verb != "Delete" and m.output_type != resource:
                return
            if verb == "Delete" and resource not in msgs and t not in kinds:
                return
            kinds.setdefault(t, {})[verb] = svc + "." + m.name
            return
    if m.name.startswith("List") and out == m.name + "Response":
        resp = msgs.get(m.output_type)
        if resp is None:
            return
        for f in resp.field:
            if f.label == f.LABEL_REPEATED and f.type_name.startswith("." + package + "."):
                t = f.type_name.rsplit(".", 1)[-1]
                # AIP-132: List{Plural} answers the field {plural}; other lists
                # of the kind (revisions, incoming requests) are custom
                if m.name != "List" + "".join(w.title() for w in f.name.split("_")):
                    return
                kinds.setdefault(t, {})["List"] = svc + "." + m.name
                kinds[t]["list_field"] = f.name
                return


class ConformanceTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.kinds = reflect_kinds(cls.server.addr)
        # a customs authority, which keeps every kind of the operators' and
        # also the authorities' own (recognitions, attestations)
        cls.org_a = cls.make_org(cls.uid("cfa"),
                                 kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY).name
        cls.org_b = cls.make_org(cls.uid("cfb")).name
        cls.clients = {"platform": cls.admin}
        for role in ("viewer", "editor", "admin"):
            r = cls.make_key(cls.org_a, getattr(pb.common, "ROLE_" + role.upper()))
            cls.clients[role] = cls.server.client(r.secret)
        cls.stranger = cls.server.client(cls.make_key(cls.org_b, pb.common.ROLE_ADMIN).secret)
        cls.n = 0
        ConformanceTest.contexts = {}

    # -- helpers --

    def for_each_kind(self, check, verbs=()):
        """Runs check(t, methods, fx) for every kind serving all of verbs."""
        ran = 0
        for t in sorted(FIXTURES):
            fx = FIXTURES[t]
            served = fx["verbs"] | ({"Create"} if "create" in fx or "produce" in fx else set())
            if t not in self.kinds or not set(verbs) <= served:
                continue
            with self.subTest(kind=t):
                check(t, self.kinds[t], fx)
            ran += 1
        self.assertGreater(ran, 0, "no kind to check")

    def top_level(self, methods):
        return methods["Get"].startswith("Organizations.")

    def parent(self, t):
        """Where kind t's resources are made and listed: the organization, or
        for a kind deeper down, the parent its fixture's `setup` made (once
        per run; setup also leaves what its `create` needs)."""
        fx = FIXTURES[t]
        if "setup" not in fx:
            return self.org_a
        ctx = ConformanceTest.contexts.get(t)
        if ctx is None:
            ctx = ConformanceTest.contexts[t] = fx["setup"](self)
        return ctx["parent"]

    def parent_fields(self, methods, t):
        return {} if self.top_level(methods) else {"parent": self.parent(t)}

    def message_class(self, t, fx):
        return getattr(getattr(protos(), fx["module"]), t)

    def produced(self, fx):
        """Whether the kind's resources are made by the server, not by a Create."""
        return "produce" in fx

    def create(self, t, methods, fx, client=None, res_id=""):
        pb = protos()
        ConformanceTest.n += 1
        c = client or self.clients[fx["roles"]["create"]]
        if self.produced(fx):
            assert client is None and not res_id, "%s has no Create to call so" % t
            return fx["produce"](c, self.parent(t), ctx=ConformanceTest.contexts[t])
        res = fx["make"](pb, self.n)
        if "create" in fx:
            return fx["create"](c, self.parent(t), res, res_id,
                                ctx=ConformanceTest.contexts.get(t))
        fields = dict(self.parent_fields(methods, t), **{snake(t): res, snake(t) + "_id": res_id})
        return c.call(methods["Create"], **fields)

    def subject(self, t, methods, fx, verb):
        """A resource the role for verb may write: for a top-level kind
        written by its members, their own organization's resource."""
        if self.top_level(methods) and fx["roles"][verb] != "platform":
            return self.admin.call(methods["Get"], name=self.org_a)
        return self.create(t, methods, fx)

    def caller(self, fx, verb):
        return self.clients[fx["roles"][verb]]

    def update(self, t, methods, client, resource, paths):
        pb = protos()
        return client.call(methods["Update"], **{
            snake(t): resource, "update_mask": pb.field_mask.FieldMask(paths=paths)})

    def all_pages(self, t, methods, client, page_size=2):
        names, token, pages = [], "", 0
        while True:
            resp = client.call(methods["List"], page_size=page_size, page_token=token,
                               **self.parent_fields(methods, t))
            names += [x.name for x in getattr(resp, methods["list_field"])]
            token = resp.next_page_token
            pages += 1
            if not token:
                return names
            self.assertLess(pages, 10000)

    # -- the checks --

    def test_every_kind_has_a_fixture(self):
        self.assertTrue(self.kinds, "reflection listed no resource kinds")
        missing = sorted(set(self.kinds) - set(FIXTURES))
        self.assertFalse(missing, "kinds served without a conformance fixture: %s" % missing)
        stale = sorted(set(FIXTURES) - set(self.kinds))
        self.assertFalse(stale, "fixtures for kinds the server does not serve: %s" % stale)
        for t, methods in self.kinds.items():
            served = {v for v in ALL_VERBS if v in methods}
            self.assertEqual(served, FIXTURES[t]["verbs"], "%s: standard methods served" % t)

    def test_create_get_list_update_delete(self):
        def check(t, methods, fx):
            r = self.create(t, methods, fx)
            self.assertTrue(r.name, r)
            got = self.caller(fx, "read").call(methods["Get"], name=self.org_a) \
                if self.top_level(methods) else self.caller(fx, "read").call(methods["Get"],
                                                                            name=r.name)
            if not self.top_level(methods):
                self.assertEqual(got, r)
            self.assertEqual(self.admin.call(methods["Get"], name=r.name), r)
            self.assertIn(r.name, self.all_pages(t, methods, self.caller(fx, "create")))
            if "Update" in fx["verbs"]:
                s = self.subject(t, methods, fx, "update")
                field, value = fx["update"]
                u = self.update(t, methods, self.caller(fx, "update"),
                                self.message_class(t, fx)(name=s.name, **{field: value}), [field])
                self.assertEqual(getattr(u, field), value)
                self.assertNotEqual(u.etag, s.etag)
            if "Delete" in fx["verbs"]:
                self.caller(fx, "delete").call(methods["Delete"], name=r.name)
                self.assertRpcError(C.NOT_FOUND, self.admin.call, methods["Get"], name=r.name)
        self.for_each_kind(check, {"Create", "Get", "List"})

    def test_stale_etag_aborted_nothing_changed(self):
        def check(t, methods, fx):
            r = self.subject(t, methods, fx, "update")
            field, value = fx["update"]
            cls = self.message_class(t, fx)
            w = self.caller(fx, "update")
            self.update(t, methods, w, cls(name=r.name, etag=r.etag, **{field: value}), [field])
            before = self.admin.call(methods["Get"], name=r.name)
            self.assertRpcError(C.ABORTED, self.update, t, methods, w,
                                cls(name=r.name, etag=r.etag, **{field: "Stale " + value}),
                                [field])
            self.assertEqual(self.admin.call(methods["Get"], name=r.name), before)
            if "Delete" not in fx["verbs"]:
                return
            d = self.subject(t, methods, fx, "delete")
            self.update(t, methods, self.admin,
                        cls(name=d.name, **{field: "Moved on"}), [field])
            self.assertRpcError(C.ABORTED, self.caller(fx, "delete").call, methods["Delete"],
                                name=d.name, etag=d.etag)
            self.assertEqual(self.admin.call(methods["Get"], name=r.name), before)
            self.admin.call(methods["Get"], name=d.name)
        self.for_each_kind(check, {"Update"})

    def test_update_mask_honoured(self):
        def check(t, methods, fx):
            r = self.subject(t, methods, fx, "update")
            field, value = fx["update"]
            other, other_value = fx["untouched"]
            u = self.update(t, methods, self.caller(fx, "update"),
                            self.message_class(t, fx)(name=r.name,
                                                      **{field: value + " (mask)",
                                                         other: other_value}), [field])
            self.assertEqual(getattr(u, field), value + " (mask)")
            self.assertEqual(getattr(u, other), getattr(r, other))
        self.for_each_kind(check, {"Update"})

    def test_pagination_loses_and_repeats_nothing(self):
        def check(t, methods, fx):
            made = [self.create(t, methods, fx).name for _ in range(5)]
            names = self.all_pages(t, methods, self.caller(fx, "create"))
            self.assertEqual(len(names), len(set(names)), "a name repeated across pages")
            self.assertEqual(names, sorted(names), "pages out of name order")
            self.assertGreater(len(names), 2, "one page only")
            for n in made:
                self.assertIn(n, names)
        self.for_each_kind(check, {"Create", "List"})

    def test_other_tenant_sees_not_found(self):
        def check(t, methods, fx):
            r = self.create(t, methods, fx)
            missing = r.name.rsplit("/", 1)[0] + "/no-such-thing"
            calls = [lambda n: self.stranger.call(methods["Get"], name=n)]
            if "Update" in fx["verbs"]:
                field, value = fx["update"]
                cls = self.message_class(t, fx)
                calls.append(lambda n: self.update(t, methods, self.stranger,
                                                   cls(name=n, **{field: value}), [field]))
            if "Delete" in fx["verbs"]:
                calls.append(lambda n: self.stranger.call(methods["Delete"], name=n))
            if fx.get("outsiders_read"):  # the stranger reads it, and writes nothing
                self.assertEqual(self.stranger.call(methods["Get"], name=r.name), r)
                for call in calls[1:]:
                    self.assertRpcError(C.PERMISSION_DENIED, call, r.name)
                self.assertEqual(self.admin.call(methods["Get"], name=r.name), r)
                return
            for call in calls:
                e1 = self.assertRpcError(C.NOT_FOUND, call, r.name)
                e2 = self.assertRpcError(C.NOT_FOUND, call, missing)
                self.assertEqual(e1.details().replace(r.name, "{}"),
                                 e2.details().replace(missing, "{}"))
            if not self.top_level(methods):
                if not self.produced(fx):
                    self.assertRpcError(C.NOT_FOUND, self.create, t, methods, fx,
                                        client=self.stranger)
                self.assertRpcError(C.NOT_FOUND, self.stranger.call, methods["List"],
                                    parent=self.parent(t))
            self.assertEqual(self.admin.call(methods["Get"], name=r.name), r)
        self.for_each_kind(check, {"Create", "Get"})

    def test_viewer_writes_denied(self):
        def check(t, methods, fx):
            viewer = self.clients["viewer"]
            if not self.produced(fx):
                self.assertRpcError(C.PERMISSION_DENIED, self.create, t, methods, fx,
                                    client=viewer)
            if "Update" in fx["verbs"]:
                r = self.subject(t, methods, fx, "update")
                field, value = fx["update"]
                self.assertRpcError(C.PERMISSION_DENIED, self.update, t, methods, viewer,
                                    self.message_class(t, fx)(name=r.name, **{field: value}),
                                    [field])
                self.assertEqual(self.admin.call(methods["Get"], name=r.name), r)
            if "Delete" in fx["verbs"]:
                d = self.org_a if self.top_level(methods) else self.create(t, methods, fx).name
                self.assertRpcError(C.PERMISSION_DENIED, viewer.call, methods["Delete"], name=d)
                self.admin.call(methods["Get"], name=d)
        self.for_each_kind(check, {"Create"})

    def test_filter(self):
        def check(t, methods, fx):
            client = self.caller(fx, "read")
            if fx["filter"] is None:  # the list must then take no filter at all
                req = client.request(methods["List"])
                self.assertNotIn("filter", req.DESCRIPTOR.fields_by_name,
                                 "%s: its List takes a filter but the fixture has none" % t)
                return
            r = self.create(t, methods, fx)
            if self.top_level(methods):  # a new tenant: only platform administrators list it
                client = self.admin
            holds, fails = fx["filter"](r)
            names = lambda f: [x.name for x in getattr(client.call(
                methods["List"], filter=f, page_size=1000, **self.parent_fields(methods, t)),
                methods["list_field"])]
            self.assertIn(r.name, names(holds))
            self.assertNotIn(r.name, names(fails))
            e = self.assertRpcError(C.INVALID_ARGUMENT, client.call, methods["List"],
                                    filter="no_such_field = 1", **self.parent_fields(methods, t))
            self.assertIn("filter", e.details())
        self.for_each_kind(check, {"Create", "List"})

    def test_invalid_id_and_name(self):
        def check(t, methods, fx):
            if not self.produced(fx):
                id_field = fx.get("id_field", snake(t) + "_id")
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.create, t, methods, fx,
                                        res_id="Not_An_Id")
                self.assertIn(id_field, e.details())
            for bad in ("", "nope", self.org_a + "/x", "organizations/UPPER"):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call, methods["Get"],
                                        name=bad)
                self.assertIn("name", e.details())
        self.for_each_kind(check, {"Create", "Get"})
