"""What a readiness report and a management review's compiled inputs cost
(docs/performance.md, "Readiness and review inputs"): both read the
organization's records once (internal/domain/evidence.c). Starts a server on
a fresh SQLite store (the e2e harness's: build/, or SUPPLYSEC_BUILD_DIR),
makes an organization with an approved assessment of SCENARIOS threat
scenarios (half of them treated by an accepted countermeasure, so its plan
has SCENARIOS/2 items), PARTNERS business partners each with an accepted
declaration, 50 incidents, 50 training records, 50 monitoring records and 20
objectives, then prints the median time of GetReadinessReport per framework
(20 calls each) and of CreateManagementReview (10 calls), twice.

    SCENARIOS=1000 PARTNERS=200 /usr/bin/python3 bench/readiness.py
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import Server, protos  # noqa: E402

SCENARIOS = int(os.environ.get("SCENARIOS", "1000"))
PARTNERS = int(os.environ.get("PARTNERS", "200"))
pb = protos()
ts = lambda s: pb.timestamp.Timestamp(seconds=int(s))  # noqa: E731
now = time.time()

with Server(workers=2) as srv:
    adm = srv.admin()
    org = adm.call("Organizations.CreateOrganization", organization_id="bench-ready",
                   organization=pb.orgs.Organization(legal_name="Bench", country_code="DE",
                                                     kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).name
    c = srv.client(adm.call("ApiKeys.CreateApiKey", parent=org,
                            api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN)).secret)
    S, A, T, CM = pb.statements, pb.assessments, pb.scenarios, pb.countermeasures
    P, D, R = pb.partners, pb.declarations, pb.requests
    partners = [c.call("BusinessPartners.CreateBusinessPartner", parent=org,
                       business_partner=P.BusinessPartner(
                           legal_name="Partner %d" % i, country_code="PL",
                           risk_tier=P.RISK_TIER_LOW)).name for i in range(PARTNERS)]
    st = c.call("StatementsOfApplication.CreateStatementOfApplication", parent=org,
                statement_of_application=S.StatementOfApplication(
                    title="Scope", functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                    facilities=[S.Facility(id="hamburg", name="Hamburg", country_code="DE")],
                    covered_portion=S.SupplyChainPortion(**{"from": "Shenzhen", "to": "Hamburg"},
                                                         transport_modes=[S.TRANSPORT_MODE_SEA]))).name
    c.call("StatementsOfApplication.SubmitStatementOfApplication", name=st)
    c.call("StatementsOfApplication.ApproveStatementOfApplication", name=st)
    scheme = c.call("ScoringSchemes.CreateScoringScheme", parent=org,
                    scoring_scheme=pb.scoring.ScoringScheme(
                        title="5x5", preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE)).name
    a = c.call("SecurityAssessments.CreateSecurityAssessment", parent=org,
               security_assessment=A.SecurityAssessment(
                   title="Bench", scoring_scheme=scheme, method="Workshops",
                   scope=A.AssessmentScope(statement_of_application=st),
                   team=[A.TeamMember(name="M", competences=["ISO 28000"])])).name
    criteria = [pb.common.AEO_CRITERION_C_CARGO, pb.common.AEO_CRITERION_E_PREMISES,
                pb.common.AEO_CRITERION_F_PERSONNEL, pb.common.AEO_CRITERION_D_CONVEYANCE]
    for i in range(SCENARIOS):
        high = i % 2 == 0
        s = c.call("ThreatScenarios.CreateThreatScenario", parent=a,
                   threat_scenario=T.ThreatScenario(
                       title="Scenario %d" % i, category=T.THREAT_CATEGORY_THEFT,
                       source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=partners[i % PARTNERS],
                       consequence_level=4 if high else 2, likelihood_level=4 if high else 2)).name
        if high:
            m = c.call("Countermeasures.CreateCountermeasure", parent=s,
                       countermeasure=CM.Countermeasure(
                           description="Measure %d" % i, aeo_criterion=criteria[i % 4],
                           priority=1, residual_consequence_level=1,
                           residual_likelihood_level=1, owner="Ops",
                           due_time=ts(now + 86400 * (i % 60 - 30)))).name
            c.call("Countermeasures.AcceptCountermeasure", name=m)
    c.call("SecurityAssessments.SubmitSecurityAssessment", name=a)
    c.call("SecurityAssessments.ApproveSecurityAssessment", name=a)
    plan = c.call("SecurityPlans.CreateSecurityPlan", parent=org, security_plan=pb.plans.SecurityPlan(
        title="Plan", security_assessment=a, training_programme="T", incident_procedure="P",
        considered_guidance=[pb.plans.GuidanceItem(annex=pb.plans.GUIDANCE_ANNEX_A, reference="A.1")],
        monitoring_schedule=[pb.plans.MonitoringActivity(id="seals", description="Seals",
                                                         interval_days=7)])).name
    c.call("SecurityPlans.SubmitSecurityPlan", name=plan)
    c.call("SecurityPlans.ApproveSecurityPlan", name=plan)
    for i, partner in enumerate(partners):
        d = c.call("Declarations.CreateDeclaration", parent=org, declaration=D.Declaration(
            title="Paper %d" % i, recorded_for=partner, paper_reference="P-%d" % i,
            measures=D.SecurityMeasures(cargo_security="c", premises_security="e",
                                        personnel_security="f", trading_partner_security="g"),
            signatory=D.Signatory(name="S", position="MD"), sign_time=ts(now - 86400),
            valid_until=ts(now + 86400 * (30 + i % 400)))).name
        c.call("Declarations.SubmitDeclaration", name=d)
        c.call("Declarations.ApproveDeclaration", name=d)
        r = c.call("DeclarationRequests.CreateDeclarationRequest", parent=org,
                   declaration_request=R.DeclarationRequest(business_partner=partner)).name
        c.call("DeclarationRequests.AnswerDeclarationRequest", name=r, declaration=d)
        c.call("DeclarationRequests.AcceptDeclarationRequest", name=r)
    for i in range(50):
        c.call("SecurityIncidents.CreateSecurityIncident", parent=org,
               security_incident=pb.incidents.SecurityIncident(
                   title="Incident %d" % i, occur_time=ts(now - 86400 * i),
                   severity=pb.incidents.INCIDENT_SEVERITY_LOW))
        c.call("TrainingRecords.CreateTrainingRecord", parent=plan,
               training_record=pb.trainings.TrainingRecord(
                   kind=pb.trainings.TRAINING_KIND_DRILL, topic="Drill %d" % i,
                   hold_time=ts(now - 86400 * 7 * i), attendees=["A", "B"]))
        c.call("MonitoringRecords.CreateMonitoringRecord", parent=plan,
               monitoring_record=pb.monitorings.MonitoringRecord(
                   activity="seals", perform_time=ts(now - 86400 * 7 * i), performer="G",
                   result=pb.monitorings.MONITORING_RESULT_CONFORMING))
    for i in range(20):
        c.call("SecurityObjectives.CreateSecurityObjective", parent=org,
               security_objective=pb.objectives.SecurityObjective(
                   title="Objective %d" % i, indicator="i",
                   direction=pb.objectives.TARGET_DIRECTION_AT_MOST, target=2,
                   measurements=[pb.objectives.ObjectiveMeasurement(
                       measure_time=ts(now - 3600), value=i % 4)]))

    def timeit(fn, n):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e3

    print("%d scenarios, %d partners, %d plan items" % (SCENARIOS, PARTNERS, SCENARIOS // 2))
    for rnd in range(2):
        for fw in ("wco-safe-aeo", "eu-aeo-security", "ctpat-msc"):
            name = org + "/readinessReports/" + fw
            ms = timeit(lambda: c.call("Readiness.GetReadinessReport", name=name), 20)
            rep = c.call("Readiness.GetReadinessReport", name=name)
            print("GetReadinessReport %-16s median %7.1f ms (met %d, partial %d, missing %d)"
                  % (fw, ms, rep.met_count, rep.partial_count, rep.missing_count))
        n = [0]

        def review():
            n[0] += 1
            c.call("ManagementReviews.CreateManagementReview", parent=org,
                   management_review=pb.mgmt_reviews.ManagementReview(
                       title="Review %d-%d" % (rnd, n[0]), review_time=ts(now)))
        print("CreateManagementReview             median %7.1f ms" % timeit(review, 10))
