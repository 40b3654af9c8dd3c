"""Readiness reports (service Readiness) and the management review's
compiled inputs, the forwarder's story going on from its partners,
declarations, assessment and plan: one body of evidence judged against the
WCO SAFE AEO criteria, the EU AEO questionnaire's security section and the
C-TPAT minimum security criteria (docs/readiness.md). test_story tells it
end to end, reading the reports as the evidence arrives.

The refusals on the way are each a test of their own: a client's scores
ignored, the scenario customs requires never deleted, an assessment with
an untreated scenario not approved, an incident with a notification missing
not closed, an unknown framework named with the known ones; another
organization's ADMIN gets NOT_FOUND on the plan, the review and the
reports, worded as for what does not exist; a VIEWER reads the report. The
qualified team is judged, and named, as the assessment in force has it."""

import time

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
RD = "Readiness."
SA = "SecurityAssessments."
TS = "ThreatScenarios."
CM = "Countermeasures."
SP = "SecurityPlans."
PI = "PlanItems."
SI = "SecurityIncidents."
MRV = "ManagementReviews."
SO = "SecurityObjectives."
DAY = 86400
YEAR = 365 * DAY
WCO, EU, CTPAT = "wco-safe-aeo", "eu-aeo-security", "ctpat-msc"


class Tenant:
    """An organization and a client per role."""

    def __init__(self, name, admin, editor, viewer):
        self.name, self.admin, self.editor, self.viewer = name, admin, editor, viewer


class ReadinessTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fwd = cls.tenant("fwd")  # the story's forwarder: only test_story writes to it

    @classmethod
    def tenant(cls, prefix):
        pb = protos()
        name = cls.make_org(cls.uid(prefix), legal_name="Hamburg Forwarding GmbH").name
        clients = [cls.server.client(cls.make_key(name, getattr(pb.common, "ROLE_" + r)).secret)
                   for r in ("ADMIN", "EDITOR", "VIEWER")]
        return Tenant(name, *clients)

    # -- helpers --

    def ts(self, seconds_from_now):
        return protos().timestamp.Timestamp(seconds=int(time.time()) + seconds_from_now)

    def mask(self, *paths):
        return protos().field_mask.FieldMask(paths=list(paths))

    def approve(self, t, service, name):
        """Submit (EDITOR) and approve (ADMIN) a controlled document of service."""
        kind = {"StatementsOfApplication": "StatementOfApplication",
                "SecurityPolicies": "SecurityPolicy"}.get(service, service[:-1])
        t.editor.call("%s.Submit%s" % (service, kind), name=name)
        return t.admin.call("%s.Approve%s" % (service, kind), name=name)

    def carrier(self, t):
        """A carrier not on the platform: no certificate, a declaration required."""
        pb = protos()
        return t.editor.call("BusinessPartners.CreateBusinessPartner", parent=t.name,
                             business_partner_id="carrier",
                             business_partner=pb.partners.BusinessPartner(
                                 legal_name="Baltic Road Carrier Sp. z o.o.", country_code="PL",
                                 risk_tier=pb.partners.RISK_TIER_HIGH,
                                 roles=[pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER]))

    def port_operator(self, t, valid_for):
        """A port operator holding a verified AEO-S, valid for valid_for seconds."""
        pb = protos()
        P = pb.partners
        return t.editor.call("BusinessPartners.CreateBusinessPartner", parent=t.name,
                             business_partner_id="port",
                             business_partner=P.BusinessPartner(
                                 legal_name="Port of Gdansk Terminal", country_code="PL",
                                 risk_tier=P.RISK_TIER_MEDIUM,
                                 roles=[pb.orgs.SUPPLY_CHAIN_ROLE_PORT_OPERATOR],
                                 certificates=[P.PartnerCertificate(
                                     type=P.PARTNER_CERTIFICATE_TYPE_AEO_S,
                                     number="PLAEOS0042", issuing_country="PL",
                                     issuing_authority="Krajowa Administracja Skarbowa",
                                     valid_until=self.ts(valid_for),
                                     verified_by=P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER,
                                     verify_time=self.ts(-DAY))]))

    def statement(self, t, partners=()):
        """An approved statement of application with the Hamburg warehouse
        (facility id "hamburg") covering partners."""
        pb = protos()
        S, O = pb.statements, pb.orgs
        st = t.editor.call(
            "StatementsOfApplication.CreateStatementOfApplication", parent=t.name,
            statement_of_application=S.StatementOfApplication(
                title="Scope of service: Asia-Europe sea freight",
                functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER],
                facilities=[S.Facility(id="hamburg", name="Hamburg export warehouse",
                                       address="Am Hafen 1, Hamburg", country_code="DE",
                                       un_locode="DEHAM",
                                       functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER])],
                covered_portion=S.SupplyChainPortion(
                    **{"from": "Supplier's dock, Shenzhen", "to": "Consignee, Hamburg"},
                    transport_modes=[S.TRANSPORT_MODE_SEA, S.TRANSPORT_MODE_ROAD],
                    goods="Consumer electronics", crosses_border=True),
                business_partners=[S.CoveredPartner(business_partner=p.name,
                                                    exemption_basis=p.exemption_basis)
                                   for p in partners]))
        return self.approve(t, "StatementsOfApplication", st.name)

    def assessment(self, t, statement):
        """A draft assessment of statement's scope on a 5 x 5 scheme
        (acceptable level 6), by a qualified team."""
        pb = protos()
        A = pb.assessments
        scheme = t.editor.call("ScoringSchemes.CreateScoringScheme", parent=t.name,
                               scoring_scheme=pb.scoring.ScoringScheme(
                                   title="Group 5 x 5",
                                   preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE))
        self.assertEqual(scheme.acceptable_level, 6)
        return t.editor.call(SA + "CreateSecurityAssessment", parent=t.name,
                             security_assessment=A.SecurityAssessment(
                                 title="2026 supply chain security assessment",
                                 scoring_scheme=scheme.name,
                                 scope=A.AssessmentScope(statement_of_application=statement),
                                 method="Workshops per facility; threats from customs bulletins",
                                 team=[A.TeamMember(name="M. Weber", role="Security manager",
                                                    competences=["ISO 28000 lead auditor"])]))

    def scenario(self, t, assessment, sid, title, category, target, c, l, **kw):
        T = protos().scenarios
        return t.editor.call(TS + "CreateThreatScenario", parent=assessment,
                             threat_scenario_id=sid, threat_scenario=T.ThreatScenario(
                                 title=title, target=target,
                                 category=getattr(T, "THREAT_CATEGORY_" + category),
                                 source=kw.pop("source", T.SCENARIO_SOURCE_ASSESSMENT_TEAM),
                                 consequence_level=c, likelihood_level=l, **kw))

    def countermeasure(self, t, scenario, mid, text, criterion, c, l):
        """A countermeasure proposed, due in 60 days, and accepted by an ADMIN."""
        pb = protos()
        m = t.editor.call(CM + "CreateCountermeasure", parent=scenario, countermeasure_id=mid,
                          countermeasure=pb.countermeasures.Countermeasure(
                              description=text, priority=1, owner="Site manager",
                              aeo_criterion=getattr(pb.common, "AEO_CRITERION_" + criterion),
                              due_time=self.ts(60 * DAY),
                              residual_consequence_level=c, residual_likelihood_level=l))
        return t.admin.call(CM + "AcceptCountermeasure", name=m.name)

    def report(self, t, framework, client=None):
        return (client or t.viewer).call(
            RD + "GetReadinessReport", name="%s/readinessReports/%s" % (t.name, framework))

    def req(self, report, rid):
        """The requirement rid of report."""
        got = [r for r in report.requirements if r.id == rid]
        self.assertEqual(len(got), 1, "requirement %s in %s" % (rid, report.name))
        return got[0]

    def statuses(self, report):
        """{requirement id: status name without its prefix}."""
        RS = protos().readiness.RequirementStatus
        return {r.id: RS.Name(r.status)[len("REQUIREMENT_STATUS_"):] for r in report.requirements}

    def assertRequirement(self, report, rid, status, evidence, missing=()):
        """Requirement rid of report has status, exactly the evidence
        resources given (in order) and, in order, a missing sentence per
        entry of missing, containing it (a string) or each of it (a tuple)."""
        r = self.req(report, rid)
        RS = protos().readiness.RequirementStatus
        self.assertEqual(RS.Name(r.status), "REQUIREMENT_STATUS_" + status,
                         "%s %s: missing %s" % (report.name, rid, list(r.missing)))
        self.assertEqual([e.resource for e in r.evidence], list(evidence), "%s %s" % (
            report.name, rid))
        for e in r.evidence:
            self.assertTrue(e.description, "%s %s: %s has no description" % (
                report.name, rid, e.resource))
        self.assertEqual(len(r.missing), len(missing), "%s %s: %s" % (
            report.name, rid, list(r.missing)))
        for want, got in zip(missing, r.missing):
            for part in (want,) if isinstance(want, str) else want:
                self.assertIn(part, got, "%s %s" % (report.name, rid))
        return r

    def assertCounts(self, report, met, partial, missing, not_applicable):
        """The report's counts are as given, and are its requirements'."""
        got = list(self.statuses(report).values())
        self.assertEqual((report.met_count, report.partial_count, report.missing_count,
                          report.not_applicable_count), (met, partial, missing, not_applicable),
                         self.statuses(report))
        self.assertEqual((got.count("MET"), got.count("PARTIAL"), got.count("MISSING"),
                          got.count("NOT_APPLICABLE")), (met, partial, missing, not_applicable))
        self.assertEqual(len(got), met + partial + missing + not_applicable)

    # -- the story --

    def test_story(self):
        """The forwarder in Hamburg lists a carrier that is not on the
        platform and a port operator exempt by its verified AEO-S (valid 60
        days more), and approves its statement of application covering both,
        with the Hamburg warehouse: WCO criterion G is PARTIAL, the carrier
        uncovered. It records the carrier's paper declaration of security,
        answers its own request with it, accepts it and reviews its
        credibility: G is MET. It writes a security policy, signed off by
        top management, and has it approved. It assesses the scope on a
        5 x 5 scheme with a qualified team: five threat scenarios, one
        required by customs; the three over the acceptable level get
        countermeasures (cargo, premises, personnel) an ADMIN accepts, and
        the assessment is approved.

        Criterion H (crisis management) is MISSING then: no plan, no drill.
        The plan made from the assessment has the three accepted
        countermeasures as its items; a draft plan makes H PARTIAL, and so
        does the plan approved with its guidance, training programme,
        monitoring schedule and incident procedure, a training recorded but
        no drill; a drill makes H MET. The items are implemented and
        verified with evidence, the seal log is monitored. A break-in at the
        warehouse customs must be told of makes H PARTIAL again until
        customs is told and the incident closed; a minor incident stays
        open. Two objectives are set, one measured on target, one off.

        The management review's inputs count exactly what was arranged (the
        open incident, the port operator's certificate expiring within 90
        days, the objective off target; nothing else) and stay as compiled
        when the incident is closed after; the review is approved. Then each
        framework's report says, requirement by requirement, what is met
        with which evidence (documents at their revision in force) and what
        is missing, and its counts add up."""
        pb = protos()
        D, I, T, P = pb.common, pb.items, pb.trainings, pb.plans
        f = self.fwd

        # -- the scope: a carrier to declare, a port operator exempt --
        carrier = self.carrier(f)
        self.assertTrue(carrier.declaration_required)
        port = self.port_operator(f, valid_for=60 * DAY)  # expires within the review's 90 days
        self.assertFalse(port.declaration_required)
        self.assertTrue(port.exemption_basis.startswith("AEO-S PLAEOS0042 (PL), valid until "),
                        port.exemption_basis)
        st = self.statement(f, [carrier, port])
        self.assertEqual((st.state, st.revision_id), (D.DOCUMENT_STATE_APPROVED, "1"))
        statement = st.name
        warehouse = statement + "/facilities/hamburg"
        # criterion G: the statement is in force, the carrier is not covered
        self.assertRequirement(self.report(f, WCO), "G", "PARTIAL", [statement + "@1", port.name],
                               [("1 of 2 business partners are neither exempt nor covered",
                                 "Baltic Road Carrier Sp. z o.o.: no accepted declaration")])

        # -- the carrier's paper declaration, accepted and reviewed --
        DC, RQ = pb.declarations, pb.requests
        paper = f.editor.call("Declarations.CreateDeclaration", parent=f.name,
                              declaration=DC.Declaration(
                                  title="Declaration of security (paper)",
                                  recorded_for=carrier.name, paper_reference="ARCH-2026-0415",
                                  measures=DC.SecurityMeasures(
                                      cargo_security="Sealed units, seal log at hand-over",
                                      premises_security="Fenced depot, CCTV",
                                      personnel_security="Background checks of drivers",
                                      trading_partner_security="Subcontractors bound alike"),
                                  signatory=DC.Signatory(name="J. Kowalski",
                                                         position="Managing Director"),
                                  sign_time=self.ts(-3600), valid_until=self.ts(YEAR)))
        paper = self.approve(f, "Declarations", paper.name)
        request = f.editor.call("DeclarationRequests.CreateDeclarationRequest", parent=f.name,
                                declaration_request=RQ.DeclarationRequest(
                                    business_partner=carrier.name,
                                    message="Please send your declaration of security"))
        self.assertEqual(request.partner_organization, "")  # not on the platform
        f.editor.call("DeclarationRequests.AnswerDeclarationRequest", name=request.name,
                      declaration=paper.name)
        accepted = f.admin.call("DeclarationRequests.AcceptDeclarationRequest", name=request.name)
        self.assertEqual(accepted.state, RQ.DECLARATION_REQUEST_STATE_ACCEPTED)
        f.editor.call("CredibilityReviews.CreateCredibilityReview", parent=carrier.name,
                      credibility_review=pb.reviews.CredibilityReview(
                          declaration_request=request.name,
                          method=pb.reviews.REVIEW_METHOD_DOCUMENT_REVIEW,
                          reviewer="M. Weber", findings="Measures match the depot visit notes",
                          result=pb.reviews.REVIEW_RESULT_CREDIBLE, review_time=self.ts(-600)))
        # covered (listed first), and exempt: G is met
        self.assertRequirement(self.report(f, WCO), "G", "MET",
                               [statement + "@1", carrier.name, port.name])

        # -- the security policy, signed off and approved --
        policy = f.editor.call("SecurityPolicies.CreateSecurityPolicy", parent=f.name,
                               security_policy_id="policy",
                               security_policy=pb.policies.SecurityPolicy(
                                   title="Supply chain security policy",
                                   text="We protect the cargo and the data we handle.",
                                   sign_off=pb.policies.SignOff(
                                       signatory_name="A. Chief",
                                       signatory_role="Managing Director",
                                       sign_time=self.ts(-DAY))))
        policy = self.approve(f, "SecurityPolicies", policy.name)
        self.assertEqual(policy.state, D.DOCUMENT_STATE_APPROVED)
        self.assertRequirement(self.report(f, WCO), "B", "MET",
                               [policy.name + "@1", statement + "@1"])

        # -- the assessment: five scenarios, three over the acceptable level --
        a = self.assessment(f, statement).name
        theft = self.scenario(f, a, "theft", "Theft from the yard", "THEFT", warehouse, 4, 3)
        narcotics = self.scenario(f, a, "narcotics", "Narcotics in the carrier's trailers",
                                  "CONTRABAND_SMUGGLING", carrier.name, 5, 2,
                                  source=pb.scenarios.SCENARIO_SOURCE_GOVERNMENT_REQUIRED,
                                  authority="Zoll Hamburg")
        insider = self.scenario(f, a, "insider", "Warehouse staff colluding with thieves",
                                "OTHER", warehouse, 3, 3)
        self.scenario(f, a, "stowaways", "Stowaways in trailers", "HUMAN_SMUGGLING",
                      carrier.name, 3, 2)
        pests = self.scenario(f, a, "pests", "Wood pests in pallets", "AGRICULTURAL",
                              warehouse, 2, 2)
        self.assertEqual([s.incident_score for s in (theft, narcotics, insider, pests)],
                         [12, 10, 9, 4])
        # the three over 6 are treated: premises, cargo, personnel
        self.countermeasure(f, theft.name, "fence", "Fence, lights and CCTV on the yard",
                            "E_PREMISES", 3, 2)
        self.countermeasure(f, narcotics.name, "seals",
                            "Seal numbers checked against the carrier's manifest at the gate",
                            "C_CARGO", 3, 2)
        self.countermeasure(f, insider.name, "vetting",
                            "Background checks and four-eyes release of high-value cargo",
                            "F_PERSONNEL", 2, 3)
        approved = self.approve(f, "SecurityAssessments", a)
        self.assertEqual(approved.state, D.DOCUMENT_STATE_APPROVED)
        ranked = f.viewer.call(SA + "RankThreatScenarios", name=a).scenarios
        self.assertEqual([r.untreated for r in ranked], [False] * 5)

        # H, point 1: no plan, no drill, no incident to judge: MISSING
        wco = self.report(f, WCO)
        self.assertRequirement(wco, "H", "MISSING", [],
                               ["Write a security plan", "No drill or exercise"])
        self.assertRequirement(wco, "C", "MISSING", [], ["criterion C_CARGO"])
        self.assertRequirement(wco, "I", "PARTIAL", [a + "@1"],
                               ["No management review", "No security objective",
                                "No monitoring recorded"])

        # -- the plan: its items are the accepted countermeasures --
        plan = f.editor.call(SP + "CreateSecurityPlan", parent=f.name,
                             security_plan=P.SecurityPlan(title="Hamburg security plan",
                                                          security_assessment=a))
        items = {x.countermeasure.rsplit("/", 1)[1]: x for x in f.viewer.call(
            PI + "ListPlanItems", parent=plan.name).plan_items}
        self.assertEqual(sorted(items), ["fence", "seals", "vetting"])
        self.assertEqual({x.aeo_criterion for x in items.values()},
                         {D.AEO_CRITERION_C_CARGO, D.AEO_CRITERION_E_PREMISES,
                          D.AEO_CRITERION_F_PERSONNEL})
        # a draft plan is not a plan in force
        self.assertRequirement(self.report(f, WCO), "H", "PARTIAL", [plan.name],
                               ["is in force: approve " + plan.name, "No drill or exercise"])
        f.editor.call(SP + "UpdateSecurityPlan", security_plan=P.SecurityPlan(
            name=plan.name,
            considered_guidance=[P.GuidanceItem(annex=P.GUIDANCE_ANNEX_A, reference="A.3",
                                                applied=True, note="Access control")],
            training_programme="Awareness yearly for all staff; a seal drill each quarter",
            monitoring_schedule=[P.MonitoringActivity(
                id="seal-log", description="Seal log against the gate register",
                interval_days=7, owner="Gate supervisor")],
            incident_procedure="Secure the site, call the police and Zoll Hamburg, record it"),
            update_mask=self.mask("considered_guidance", "training_programme",
                                  "monitoring_schedule", "incident_procedure"))
        plan = self.approve(f, "SecurityPlans", plan.name)
        self.assertEqual(plan.state, D.DOCUMENT_STATE_APPROVED)

        # H, point 2: a plan in force, no drill: PARTIAL; a training is no drill
        training = f.editor.call("TrainingRecords.CreateTrainingRecord", parent=plan.name,
                                 training_record=T.TrainingRecord(
                                     kind=T.TRAINING_KIND_TRAINING, topic="Security awareness",
                                     hold_time=self.ts(-3 * DAY),
                                     attendees=["Warehouse staff", "Gate staff"],
                                     trainer="M. Weber"))
        wco = self.report(f, WCO)
        self.assertRequirement(wco, "H", "PARTIAL", [plan.name + "@1"], ["No drill or exercise"])
        # the items are in force now, none done yet
        self.assertRequirement(wco, "C", "PARTIAL", [],
                               ["1 of the 1 plan items for criterion C_CARGO are not "
                                "implemented yet, e.g. " + items["seals"].name])

        # H, point 3: a drill: MET (no incident yet: nothing more to judge)
        drill = f.editor.call("TrainingRecords.CreateTrainingRecord", parent=plan.name,
                              training_record=T.TrainingRecord(
                                  kind=T.TRAINING_KIND_DRILL, topic="Breached seal at the gate",
                                  hold_time=self.ts(-2 * DAY),
                                  attendees=["Gate staff, early shift"], trainer="M. Weber",
                                  outcome="The seal log was found in time"))
        self.assertRequirement(self.report(f, WCO), "H", "MET", [plan.name + "@1", drill.name])

        # -- the work done: items implemented and verified, the seal log monitored --
        for mid, status, evidence in (
                ("seals", I.PLAN_ITEM_STATUS_VERIFIED, ["Seal log audit SL-2026-03"]),
                ("fence", I.PLAN_ITEM_STATUS_IMPLEMENTED, []),
                ("vetting", I.PLAN_ITEM_STATUS_VERIFIED, ["HR file check HR-2026-11"])):
            got = f.editor.call(PI + "UpdatePlanItem", plan_item=I.PlanItem(
                name=items[mid].name, status=status, evidence=evidence),
                update_mask=self.mask("status", "evidence"))
            self.assertEqual(got.status, status)
        record = f.editor.call("MonitoringRecords.CreateMonitoringRecord", parent=plan.name,
                               monitoring_record=pb.monitorings.MonitoringRecord(
                                   activity="seal-log", perform_time=self.ts(-3600),
                                   performer="Gate supervisor",
                                   result=pb.monitorings.MONITORING_RESULT_CONFORMING))

        # -- a break-in customs must be told of: H is PARTIAL until it is --
        IN = pb.incidents
        fence_repair = IN.IncidentAction(description="Repair the fence",
                                         kind=IN.ACTION_KIND_CORRECTIVE, owner="Site manager",
                                         status=IN.ACTION_STATUS_OPEN)
        breakin = f.editor.call(SI + "CreateSecurityIncident", parent=f.name,
                                security_incident=IN.SecurityIncident(
                                    title="Break-in at the yard", occur_time=self.ts(-7200),
                                    severity=IN.INCIDENT_SEVERITY_HIGH, facility=warehouse,
                                    assets_hit=["MSCU1234567"],
                                    required_notifications=[IN.RequiredNotification(
                                        kind=IN.AUTHORITY_KIND_CUSTOMS,
                                        authority="Zoll Hamburg")],
                                    actions=[fence_repair]))
        self.assertEqual(list(breakin.covering_partners), [carrier.name])  # declaration accepted
        self.assertTrue(breakin.notifications_missing)
        self.assertRequirement(self.report(f, WCO), "H", "PARTIAL",
                               [plan.name + "@1", breakin.name, drill.name],
                               ["1 open incident still waits for a required notification to "
                                "customs or law enforcement, e.g. " + breakin.name])
        self.assertRequirement(self.report(f, CTPAT), "procedural-security", "PARTIAL",
                               [items["seals"].name, breakin.name], [breakin.name])
        fence_repair.status = IN.ACTION_STATUS_DONE
        f.editor.call(SI + "UpdateSecurityIncident", security_incident=IN.SecurityIncident(
            name=breakin.name, actions=[fence_repair], notifications=[IN.NotificationMade(
                kind=IN.AUTHORITY_KIND_CUSTOMS, authority="Zoll Hamburg",
                reference="ZH-2026-0077", notify_time=self.ts(-3600))]),
            update_mask=self.mask("actions", "notifications"))
        closed = f.admin.call(SI + "CloseSecurityIncident", name=breakin.name)
        self.assertEqual(closed.state, IN.INCIDENT_STATE_CLOSED)
        # closed with its notification made: the evidence of H now
        self.assertRequirement(self.report(f, WCO), "H", "MET",
                               [plan.name + "@1", breakin.name, drill.name])
        # a minor incident, nothing to notify, still being looked into
        loiterer = f.editor.call(SI + "CreateSecurityIncident", parent=f.name,
                                 security_incident=IN.SecurityIncident(
                                     title="Stranger photographing the gate",
                                     occur_time=self.ts(-1800), facility=warehouse,
                                     severity=IN.INCIDENT_SEVERITY_LOW))
        self.assertFalse(loiterer.notifications_missing)

        # -- objectives: one on target, one off --
        O = pb.objectives

        def objective(title, indicator, target, direction, value):
            o = f.editor.call(SO + "CreateSecurityObjective", parent=f.name,
                              security_objective=O.SecurityObjective(
                                  title=title, indicator=indicator, target=target,
                                  direction=getattr(O, "TARGET_DIRECTION_" + direction),
                                  owner="Security manager"))
            return f.editor.call(SO + "AddObjectiveMeasurement", name=o.name,
                                 measurement=O.ObjectiveMeasurement(
                                     measure_time=self.ts(-DAY), value=value))
        seals = objective("No undetected seal tampering",
                          "Seal discrepancies per 1,000 containers", 2, "AT_MOST", 1)
        trained = objective("New staff trained within 30 days",
                            "Share of new staff trained in time, %", 100, "AT_LEAST", 80)
        self.assertEqual((seals.status, trained.status),
                         (O.OBJECTIVE_STATUS_ON_TARGET, O.OBJECTIVE_STATUS_OFF_TARGET))

        # -- the management review: its inputs as arranged, exactly --
        RV = pb.mgmt_reviews
        K = RV.ReviewInputKind
        review = f.editor.call(MRV + "CreateManagementReview", parent=f.name,
                               management_review=RV.ManagementReview(
                                   title="Management review 2026", review_time=self.ts(-600),
                                   attendees=["A. Chief", "M. Weber"],
                                   decisions=["Train the new staff in their first week"],
                                   action_items=[RV.ReviewActionItem(
                                       description="Awareness session for the new staff",
                                       owner="HR", due_time=self.ts(30 * DAY),
                                       status=IN.ACTION_STATUS_OPEN)]))
        inputs = review.inputs
        want = {K.Value(k): 0 for k in K.keys() if k != "REVIEW_INPUT_KIND_UNSPECIFIED"}
        want.update({K.Value("REVIEW_INPUT_KIND_OPEN_INCIDENT"): 1,
                     K.Value("REVIEW_INPUT_KIND_EXPIRING_CERTIFICATE"): 1,
                     K.Value("REVIEW_INPUT_KIND_OBJECTIVE_OFF_TARGET"): 1})
        self.assertEqual([c.kind for c in inputs.counts], sorted(want))  # the enum's order
        self.assertEqual({K.Name(c.kind): c.count for c in inputs.counts},
                         {K.Name(k): n for k, n in want.items()})
        self.assertEqual([(K.Name(x.kind), x.resource) for x in inputs.items],
                         [("REVIEW_INPUT_KIND_OPEN_INCIDENT", loiterer.name),
                          ("REVIEW_INPUT_KIND_EXPIRING_CERTIFICATE", port.name),
                          ("REVIEW_INPUT_KIND_OBJECTIVE_OFF_TARGET", trained.name)])
        self.assertEqual(inputs.items[1].time.seconds, port.certificates[0].valid_until.seconds)
        self.assertIn("PLAEOS0042", inputs.items[1].summary)
        self.assertEqual(inputs.previous_review, "")
        # as compiled: what changes later does not change them
        f.admin.call(SI + "CloseSecurityIncident", name=loiterer.name)
        self.assertEqual(f.viewer.call(MRV + "GetManagementReview", name=review.name).inputs,
                         inputs)
        review = self.approve(f, "ManagementReviews", review.name)
        self.assertEqual(review.state, D.DOCUMENT_STATE_APPROVED)

        # -- the reports --
        stmt, pol, asmt, pln, rev = (statement + "@1", policy.name + "@1", a + "@1",
                                     plan.name + "@1", review.name + "@1")
        # closed incidents are kept in order of name
        closed_incidents = sorted([breakin.name, loiterer.name])

        wco = self.report(f, WCO)
        self.assertEqual(wco.name, f.name + "/readinessReports/" + WCO)
        self.assertEqual(self.statuses(wco), dict(
            A="MET", B="MET", C="MET", D="MISSING", E="MET", F="MET", G="MET", H="MET",
            I="PARTIAL"))
        self.assertCounts(wco, 7, 1, 1, 0)
        self.assertRequirement(wco, "B", "MET", [pol, stmt])
        self.assertRequirement(wco, "C", "MET", [items["seals"].name])
        self.assertRequirement(wco, "D", "MISSING", [], ["criterion D_CONVEYANCE"])
        self.assertRequirement(wco, "E", "MET", [items["fence"].name])
        self.assertRequirement(wco, "F", "MET", [items["vetting"].name])
        self.assertRequirement(wco, "G", "MET", [stmt, carrier.name, port.name])
        self.assertRequirement(wco, "H", "MET", [pln] + closed_incidents + [drill.name])
        self.assertRequirement(wco, "I", "PARTIAL", [asmt, rev, seals.name, record.name],
                               ["1 objective is off target, e.g. " + trained.name])
        # A: the team (its naming: test_team_is_the_assessment_in_force), the training
        a_req = self.req(wco, "A")
        self.assertEqual(a_req.status, pb.readiness.REQUIREMENT_STATUS_MET, a_req.missing)
        self.assertEqual([e.resource for e in a_req.evidence][1:],
                         sorted([training.name, drill.name]))
        self.assertEqual(a_req.evidence[0].resource.split("@")[0], a)
        self.assertIn("M. Weber (Security manager): ISO 28000 lead auditor",
                      a_req.evidence[0].description)
        self.assertEqual(list(self.req(wco, "H").clauses),
                         ["ISO 28000 4.5.3", "ISO 28000 4.4.6", "ISO 28000 4.4.7",
                          "ISO 28001 5.7"])
        self.assertEqual([o.id for o in wco.outside_system],
                         ["customs-compliance", "commercial-records", "financial-viability",
                          "consultation"])

        eu = self.report(f, EU)
        self.assertEqual(self.statuses(eu), {
            "security-assessment": "MET", "building-security": "MET",
            "access-to-premises": "MET", "cargo-units": "MET", "logistical-processes": "PARTIAL",
            "incoming-goods": "MET", "storage": "MET", "production": "NOT_APPLICABLE",
            "loading": "MET", "business-partners": "MET", "personnel-security": "MET",
            "external-services": "MET"})
        self.assertCounts(eu, 10, 1, 0, 1)
        self.assertRequirement(eu, "logistical-processes", "PARTIAL", [items["seals"].name],
                               ["criterion D_CONVEYANCE"])
        self.assertRequirement(eu, "production", "NOT_APPLICABLE", [])  # not a manufacturer
        self.assertRequirement(eu, "personnel-security", "MET",
                               [items["vetting"].name] + sorted([training.name, drill.name]))
        self.assertRequirement(eu, "external-services", "MET", [carrier.name, port.name])
        self.assertEqual([e.resource for e in self.req(eu, "security-assessment").evidence][:2],
                         [pol, asmt])  # then the team, as in A
        self.assertEqual([o.id for o in eu.outside_system], ["1", "2", "3", "4", "5"])

        ctpat = self.report(f, CTPAT)
        self.assertEqual(self.statuses(ctpat), {
            "security-vision": "MET", "risk-assessment": "MET", "business-partners": "MET",
            "cybersecurity": "MISSING", "conveyances": "MISSING", "seal-security": "MET",
            "procedural-security": "MET", "agricultural-security": "MET",
            "physical-security": "MET", "physical-access-controls": "MET",
            "personnel-security": "MET", "education-training": "MET"})
        self.assertCounts(ctpat, 10, 0, 2, 0)
        self.assertRequirement(ctpat, "security-vision", "MET", [pol, rev])
        self.assertRequirement(ctpat, "risk-assessment", "MET", [stmt, asmt])
        self.assertRequirement(ctpat, "cybersecurity", "MISSING", [], ["criterion B_INFORMATION"])
        self.assertRequirement(ctpat, "procedural-security", "MET",
                               [items["seals"].name] + closed_incidents)
        self.assertRequirement(ctpat, "agricultural-security", "MET", [pests.name])
        self.assertRequirement(ctpat, "education-training", "MET",
                               sorted([training.name, drill.name]) + [drill.name])
        self.assertEqual(self.req(ctpat, "education-training").group,
                         "People and physical security")
        self.assertEqual(list(ctpat.outside_system), [])

    # -- refusals --

    def test_client_scores_are_ignored(self):
        """The incident and residual scores are the server's: a client's
        are ignored on create."""
        t = self.tenant("sco")
        st = self.statement(t).name
        a = self.assessment(t, st).name
        s = self.scenario(t, a, "theft", "Theft from the yard", "THEFT", st + "/facilities/hamburg",
                          4, 3, incident_score=1, residual_score=1, acceptable=True,
                          residual_consequence_level=1, residual_likelihood_level=1)
        self.assertEqual((s.incident_score, s.residual_score, s.acceptable), (12, 12, False))
        self.assertEqual((s.residual_consequence_level, s.residual_likelihood_level), (4, 3))
        got = t.viewer.call(TS + "GetThreatScenario", name=s.name)
        self.assertEqual((got.incident_score, got.residual_score), (12, 12))

    def test_government_required_scenario_is_never_deleted(self):
        """Deleting the scenario customs requires is FAILED_PRECONDITION
        naming it and its authority; it stays."""
        pb = protos()
        t = self.tenant("gov")
        st = self.statement(t).name
        a = self.assessment(t, st).name
        gov = self.scenario(t, a, "narcotics", "Narcotics in containers", "CONTRABAND_SMUGGLING",
                            st + "/facilities/hamburg", 2, 2,
                            source=pb.scenarios.SCENARIO_SOURCE_GOVERNMENT_REQUIRED,
                            authority="Zoll Hamburg")
        e = self.assertRpcError(C.FAILED_PRECONDITION, t.admin.call, TS + "DeleteThreatScenario",
                                name=gov.name)
        self.assertIn(gov.name, e.details())
        self.assertIn("Zoll Hamburg", e.details())
        self.assertEqual(t.viewer.call(TS + "GetThreatScenario", name=gov.name).name, gov.name)

    def test_untreated_scenario_blocks_approval(self):
        """An assessment with a scenario over the acceptable level, neither
        treated nor accepted, is not approved: FAILED_PRECONDITION naming
        that scenario (not the treated one); once treated it is."""
        pb = protos()
        t = self.tenant("unt")
        st = self.statement(t).name
        warehouse = st + "/facilities/hamburg"
        a = self.assessment(t, st).name
        theft = self.scenario(t, a, "theft", "Theft from the yard", "THEFT", warehouse, 4, 3)
        arson = self.scenario(t, a, "arson", "Arson at the dock", "OTHER", warehouse, 4, 2)
        self.countermeasure(t, arson.name, "sprinklers", "Sprinklers and fire doors",
                            "E_PREMISES", 2, 2)
        t.editor.call(SA + "SubmitSecurityAssessment", name=a)
        e = self.assertRpcError(C.FAILED_PRECONDITION, t.admin.call,
                                SA + "ApproveSecurityAssessment", name=a)
        self.assertIn("1 scenario over the acceptable level", e.details())
        self.assertIn(theft.name, e.details())
        self.assertNotIn(arson.name, e.details())
        got = t.viewer.call(SA + "GetSecurityAssessment", name=a)
        self.assertEqual(got.state, pb.common.DOCUMENT_STATE_IN_REVIEW)
        t.admin.call(SA + "RejectSecurityAssessment", name=a, reason="Treat the theft")
        self.countermeasure(t, theft.name, "fence", "Fence and CCTV", "E_PREMISES", 3, 2)
        self.assertEqual(self.approve(t, "SecurityAssessments", a).state,
                         pb.common.DOCUMENT_STATE_APPROVED)

    def test_incident_not_closed_with_a_notification_missing(self):
        """Closing an incident whose required notification was not made is
        FAILED_PRECONDITION naming the notification; it stays OPEN."""
        pb = protos()
        IN = pb.incidents
        t = self.tenant("inc")
        inc = t.editor.call(SI + "CreateSecurityIncident", parent=t.name,
                            security_incident=IN.SecurityIncident(
                                title="Seal found broken on arrival", occur_time=self.ts(-3600),
                                severity=IN.INCIDENT_SEVERITY_MEDIUM,
                                required_notifications=[
                                    IN.RequiredNotification(kind=IN.AUTHORITY_KIND_CUSTOMS,
                                                            authority="Zoll Hamburg"),
                                    IN.RequiredNotification(kind=IN.AUTHORITY_KIND_LAW_ENFORCEMENT,
                                                            authority="Polizei Hamburg")],
                                notifications=[IN.NotificationMade(
                                    kind=IN.AUTHORITY_KIND_LAW_ENFORCEMENT,
                                    authority="Polizei Hamburg", reference="PH-1",
                                    notify_time=self.ts(-1800))]))
        e = self.assertRpcError(C.FAILED_PRECONDITION, t.admin.call,
                                SI + "CloseSecurityIncident", name=inc.name)
        self.assertIn(inc.name, e.details())
        self.assertIn("the notification to CUSTOMS Zoll Hamburg", e.details())
        self.assertNotIn("Polizei", e.details())
        self.assertEqual(t.viewer.call(SI + "GetSecurityIncident", name=inc.name).state,
                         IN.INCIDENT_STATE_OPEN)

    def test_unknown_framework(self):
        """A framework the server does not judge is NOT_FOUND naming the
        report and the known frameworks; ListReadinessFrameworks lists those
        three with the requirements their reports judge."""
        t = self.tenant("unk")
        name = t.name + "/readinessReports/iso-27001"
        e = self.assertRpcError(C.NOT_FOUND, t.viewer.call, RD + "GetReadinessReport", name=name)
        self.assertIn(name, e.details())
        self.assertIn("the frameworks are wco-safe-aeo, eu-aeo-security, ctpat-msc", e.details())
        fws = t.viewer.call(RD + "ListReadinessFrameworks").frameworks
        self.assertEqual([fw.id for fw in fws], [WCO, EU, CTPAT])
        for fw in fws:
            with self.subTest(fw.id):
                rep = self.report(t, fw.id)
                self.assertEqual(rep.framework_title, fw.title)
                self.assertEqual([r.id for r in rep.requirements],
                                 [r.id for r in fw.requirements])
                self.assertEqual({r.status for r in fw.requirements}, {0})
        e = self.assertRpcError(C.INVALID_ARGUMENT, t.viewer.call, RD + "GetReadinessReport",
                                name=t.name + "/reports/" + WCO)
        self.assertIn("name", e.details())

    def test_another_organization_sees_nothing(self):
        """Another organization's ADMIN gets NOT_FOUND on the plan, the
        review and every report, worded as for a name that does not exist;
        so does a name of its own that does not."""
        pb = protos()
        t = self.tenant("own")
        stranger = self.tenant("str").admin
        st = self.statement(t).name
        a = self.assessment(t, st).name
        self.scenario(t, a, "seals", "Seal tampering", "TAMPERING", st + "/facilities/hamburg",
                      2, 2)
        self.approve(t, "SecurityAssessments", a)
        plan = t.editor.call(SP + "CreateSecurityPlan", parent=t.name,
                             security_plan=pb.plans.SecurityPlan(title="Plan",
                                                                 security_assessment=a)).name
        review = t.editor.call(MRV + "CreateManagementReview", parent=t.name,
                               management_review=pb.mgmt_reviews.ManagementReview(
                                   title="Review", review_time=self.ts(-60))).name
        calls = [(SP + "GetSecurityPlan", plan, t.name + "/securityPlans/no-such-thing"),
                 (MRV + "GetManagementReview", review,
                  t.name + "/managementReviews/no-such-thing")]
        for fw in (WCO, EU, CTPAT):
            calls.append((RD + "GetReadinessReport", t.name + "/readinessReports/" + fw,
                          "organizations/no-such-org/readinessReports/" + fw))
        calls.append((RD + "GetReadinessReport", t.name + "/readinessReports/iso-27001",
                      "organizations/no-such-org/readinessReports/iso-27001"))
        for method, name, missing in calls:
            with self.subTest(name=name):
                e1 = self.assertRpcError(C.NOT_FOUND, stranger.call, method, name=name)
                e2 = self.assertRpcError(C.NOT_FOUND, stranger.call, method, name=missing)
                self.assertEqual(e1.details().replace(name, "{}"),
                                 e2.details().replace(missing, "{}"))
                self.assertNotIn("frameworks", e1.details())
        # the owner reads them all
        self.assertEqual(t.viewer.call(SP + "GetSecurityPlan", name=plan).name, plan)
        self.assertEqual(t.viewer.call(MRV + "GetManagementReview", name=review).name, review)

    def test_team_is_the_assessment_in_force(self):
        """The team rule judges the assessment in force (docs/readiness.md),
        and its evidence names it as every controlled document's, at the
        revision: `{name}@1` once approved, and still while revision 2, a
        draft whose team has no competence recorded, is in the making."""
        pb = protos()
        A = pb.assessments
        t = self.tenant("tea")
        st = self.statement(t).name
        a = self.assessment(t, st).name
        self.scenario(t, a, "seals", "Seal tampering", "TAMPERING", st + "/facilities/hamburg",
                      2, 2)
        self.approve(t, "SecurityAssessments", a)
        # A: the team of revision 1, named so; no training is recorded
        with self.subTest("named at its revision"):
            self.assertRequirement(self.report(t, WCO), "A", "PARTIAL", [a + "@1"],
                                   ["No training recorded"])
        t.editor.call(SA + "CreateSecurityAssessmentRevision", name=a)
        t.editor.call(SA + "UpdateSecurityAssessment", security_assessment=A.SecurityAssessment(
            name=a, team=[A.TeamMember(name="J. Neu", role="Trainee")]),
            update_mask=self.mask("team"))
        self.assertEqual(len(t.viewer.call(SA + "GetSecurityAssessment",
                                           name=a + "@1").team[0].competences), 1)
        # revision 1 is still the one in force, its team qualified
        with self.subTest("judged in force"):
            self.assertRequirement(self.report(t, WCO), "A", "PARTIAL", [a + "@1"],
                                   ["No training recorded"])
        with self.subTest("judged in force, EU security-assessment"):
            self.assertRequirement(self.report(t, EU), "security-assessment", "PARTIAL",
                                   [a + "@1", a + "@1"], ["Write a security policy"])

    def test_viewer_reads_the_report(self):
        """A VIEWER reads each report, judged as its ADMIN's is; an EDITOR
        too."""
        t = self.tenant("vie")
        st = self.statement(t).name
        for fw in (WCO, EU, CTPAT):
            with self.subTest(fw):
                by_viewer = self.report(t, fw, t.viewer)
                by_admin = self.report(t, fw, t.admin)
                by_editor = self.report(t, fw, t.editor)
                self.assertEqual(by_viewer.name, t.name + "/readinessReports/" + fw)
                for other in (by_admin, by_editor):
                    self.assertEqual(self.statuses(by_viewer), self.statuses(other))
                    self.assertEqual(list(by_viewer.requirements), list(other.requirements))
        self.assertRequirement(self.report(t, WCO, t.viewer), "B", "PARTIAL", [st + "@1"],
                               ["Write a security policy"])


if __name__ == "__main__":
    import unittest
    unittest.main()
