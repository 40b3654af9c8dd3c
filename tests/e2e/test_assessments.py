"""Security assessments (ISO 28001 5.2-5.3), the forwarder's story going on
from its partners and declarations: it starts a 5 x 5 scoring scheme from
the preset, assesses the scope of its approved statement of application
with a qualified team, and records five threat scenarios, one required by
customs, against its carrier and its Hamburg warehouse. The server scores
them (a client's scores are ignored), ranks them, and draws the risk matrix;
approval waits while a scenario over the acceptable level is untreated. An
accepted countermeasure brings the theft scenario within the acceptable
level (the matrix after shows it moved); an ADMIN's risk acceptance treats
the customs one. A scenario changes only while the
assessment is a draft; the one customs requires is never deleted; another
organization sees none of it."""

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
SA = "SecurityAssessments."
TS = "ThreatScenarios."


class AssessmentStoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("fwd")).name
        cls.editor = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_EDITOR).secret)
        cls.org_admin = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_ADMIN).secret)
        cls.viewer = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_VIEWER).secret)
        other = cls.make_org(cls.uid("oth")).name
        cls.stranger = cls.server.client(cls.make_key(other, pb.common.ROLE_ADMIN).secret)

    def scope(self):
        """An approved statement of application with the Hamburg warehouse,
        and a carrier: (statement, carrier)."""
        pb = protos()
        S, O = pb.statements, pb.orgs
        carrier = self.editor.call("BusinessPartners.CreateBusinessPartner", parent=self.org,
                                   business_partner=pb.partners.BusinessPartner(
                                       legal_name="Carrier Sp. z o.o.", country_code="PL",
                                       risk_tier=pb.partners.RISK_TIER_HIGH)).name
        st = self.editor.call(
            "StatementsOfApplication.CreateStatementOfApplication", parent=self.org,
            statement_of_application=S.StatementOfApplication(
                title="Asia-Europe sea freight", functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER],
                facilities=[S.Facility(id="hamburg", name="Hamburg export warehouse",
                                       country_code="DE", un_locode="DEHAM")],
                covered_portion=S.SupplyChainPortion(
                    **{"from": "Shenzhen", "to": "Hamburg"},
                    transport_modes=[S.TRANSPORT_MODE_SEA]),
                business_partners=[S.CoveredPartner(business_partner=carrier)])).name
        self.editor.call("StatementsOfApplication.SubmitStatementOfApplication", name=st)
        self.org_admin.call("StatementsOfApplication.ApproveStatementOfApplication", name=st)
        return st, carrier

    def test_story(self):
        pb = protos()
        A, T = pb.assessments, pb.scenarios
        statement, carrier = self.scope()
        warehouse = statement + "/facilities/hamburg"
        scheme = self.editor.call("ScoringSchemes.CreateScoringScheme", parent=self.org,
                                  scoring_scheme=pb.scoring.ScoringScheme(
                                      title="Group 5 x 5",
                                      preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE))
        self.assertEqual(scheme.acceptable_level, 6)
        a = self.editor.call(SA + "CreateSecurityAssessment", parent=self.org,
                             security_assessment=A.SecurityAssessment(
                                 title="2026 supply chain security assessment",
                                 scoring_scheme=scheme.name,
                                 scope=A.AssessmentScope(statement_of_application=statement),
                                 method="Workshops per facility; threats from customs bulletins",
                                 team=[A.TeamMember(name="M. Weber", role="Security manager",
                                                    competences=["ISO 28000 lead auditor"])]))
        self.assertEqual(a.state, pb.common.DOCUMENT_STATE_DRAFT)
        self.assertEqual(a.scheme.consequence.levels[4].label, "Severe")

        def scenario(sid, title, category, target, c, l, **kw):
            return self.editor.call(TS + "CreateThreatScenario", parent=a.name,
                                    threat_scenario_id=sid, threat_scenario=T.ThreatScenario(
                                        title=title, target=target,
                                        category=getattr(T, "THREAT_CATEGORY_" + category),
                                        source=kw.pop("source", T.SCENARIO_SOURCE_ASSESSMENT_TEAM),
                                        consequence_level=c, likelihood_level=l, **kw))

        # five scenarios; the client's scores are ignored
        theft = scenario("theft", "Theft from the yard", "THEFT", warehouse, 4, 3,
                         incident_score=1, acceptable=True)
        self.assertEqual((theft.incident_score, theft.acceptable), (12, False))
        self.assertEqual(theft.residual_score, 12)
        gov = scenario("narcotics", "Narcotics in containers", "CONTRABAND_SMUGGLING", carrier,
                       5, 2, source=T.SCENARIO_SOURCE_GOVERNMENT_REQUIRED,
                       authority="Zoll Hamburg")
        self.assertEqual(gov.incident_score, 10)
        scenario("stowaways", "Stowaways in trailers", "HUMAN_SMUGGLING", carrier, 3, 2)
        scenario("seals", "Seal tampering", "TAMPERING", carrier, 2, 2)
        scenario("phishing", "Booking data phished", "CYBER", warehouse, 2, 3)

        # ranked, highest first; the three over 6 untreated
        rank = self.viewer.call(SA + "RankThreatScenarios", name=a.name)
        self.assertEqual([r.threat_scenario.rsplit("/", 1)[1] for r in rank.scenarios],
                         ["theft", "narcotics", "phishing", "stowaways", "seals"])
        self.assertEqual([r.untreated for r in rank.scenarios],
                         [True, True, False, False, False])
        # the heat map: 25 cells, each scenario in its own
        m = self.viewer.call(SA + "ComputeRiskMatrix", name=a.name)
        self.assertEqual((len(m.before), len(m.after)), (25, 25))
        cell = {(x.consequence_level, x.likelihood_level): x for x in m.before}
        self.assertEqual(list(cell[4, 3].threat_scenarios), [theft.name])
        self.assertEqual(sum(x.count for x in m.before), 5)
        self.assertFalse(cell[4, 3].acceptable)
        self.assertTrue(cell[2, 3].acceptable)

        # approval waits for the untreated ones, named
        self.editor.call(SA + "SubmitSecurityAssessment", name=a.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                SA + "ApproveSecurityAssessment", name=a.name)
        self.assertIn("2 scenarios over the acceptable level", e.details())
        self.assertIn(theft.name, e.details())
        # nothing changes while it is in review
        e = self.assertRpcError(C.FAILED_PRECONDITION, scenario, "late", "Late", "OTHER",
                                carrier, 1, 1)
        self.assertIn("IN_REVIEW", e.details())
        self.org_admin.call(SA + "RejectSecurityAssessment", name=a.name,
                            reason="Treat theft and narcotics")

        # theft is treated by countermeasures: one proposed and accepted
        # brings it within the acceptable level, one declined counts for nothing
        CM = pb.countermeasures
        CS = "Countermeasures."

        def measure(mid, text, criterion, c, l):
            return self.editor.call(CS + "CreateCountermeasure", parent=theft.name,
                                    countermeasure_id=mid, countermeasure=CM.Countermeasure(
                                        description=text, priority=1, owner="Site manager",
                                        aeo_criterion=getattr(pb.common, "AEO_CRITERION_" +
                                                              criterion),
                                        residual_consequence_level=c,
                                        residual_likelihood_level=l,
                                        state=CM.COUNTERMEASURE_STATE_ACCEPTED))
        fence = measure("fence", "Fence, lights and CCTV on the yard", "E_PREMISES", 3, 2)
        self.assertEqual(fence.state, CM.COUNTERMEASURE_STATE_PROPOSED)  # not the client's
        self.assertEqual(fence.residual_score, 6)
        patrol = measure("patrol", "Night patrols", "E_PREMISES", 2, 2)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, CS + "AcceptCountermeasure",
                            name=fence.name)
        self.org_admin.call(CS + "AcceptCountermeasure", name=fence.name)
        self.org_admin.call(CS + "DeclineCountermeasure", name=patrol.name,
                            reason="The fence and CCTV suffice")
        got = self.viewer.call(TS + "GetThreatScenario", name=theft.name)
        self.assertEqual((got.incident_score, got.residual_score), (12, 6))
        after = {(x.consequence_level, x.likelihood_level): x
                 for x in self.viewer.call(SA + "ComputeRiskMatrix", name=a.name).after}
        self.assertIn(theft.name, after[3, 2].threat_scenarios)  # with the stowaways
        self.assertEqual(after[4, 3].count, 0)

        # only an ADMIN accepts a risk
        accept = T.ThreatScenario(risk_acceptance=T.RiskAcceptance(
            reason="Container scanning by customs at the port of entry"))
        for s in (gov,):
            accept.name = s.name
            self.assertRpcError(C.PERMISSION_DENIED, self.editor.call,
                                TS + "UpdateThreatScenario", threat_scenario=accept,
                                update_mask=pb.field_mask.FieldMask(paths=["risk_acceptance"]))
            got = self.org_admin.call(TS + "UpdateThreatScenario", threat_scenario=accept,
                                      update_mask=pb.field_mask.FieldMask(
                                          paths=["risk_acceptance"]))
            self.assertTrue(got.risk_acceptance.accepter.startswith(self.org + "/apiKeys/"))
        # the customs-required scenario is never deleted; a team one is
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                TS + "DeleteThreatScenario", name=gov.name)
        self.assertIn("Zoll Hamburg", e.details())
        self.org_admin.call(TS + "DeleteThreatScenario", name=a.name + "/threatScenarios/seals")

        self.editor.call(SA + "SubmitSecurityAssessment", name=a.name)
        ok = self.org_admin.call(SA + "ApproveSecurityAssessment", name=a.name)
        self.assertEqual(ok.state, pb.common.DOCUMENT_STATE_APPROVED)
        self.assertEqual(ok.scope.statement_revision_id, "1")
        self.assertFalse(any(r.untreated for r in self.viewer.call(
            SA + "RankThreatScenarios", name=a.name).scenarios))
        # approved: its scenarios and measures are as approved until the next revision
        self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                            CS + "DeclineCountermeasure", name=fence.name, reason="Later")

        # another organization sees none of it, worded as for what does not exist
        for method, name, missing in (
                (SA + "GetSecurityAssessment", a.name,
                 self.org + "/securityAssessments/no-such-thing"),
                (SA + "RankThreatScenarios", a.name,
                 self.org + "/securityAssessments/no-such-thing"),
                (SA + "ComputeRiskMatrix", a.name,
                 self.org + "/securityAssessments/no-such-thing"),
                (TS + "GetThreatScenario", theft.name,
                 a.name + "/threatScenarios/no-such-thing")):
            with self.subTest(method):
                e1 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=name)
                e2 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=missing)
                self.assertEqual(e1.details().replace(name, "{}"),
                                 e2.details().replace(missing, "{}"))

    def test_approved_revision_keeps_its_scenarios(self):
        """An approved revision keeps its scenarios and countermeasures as they
        were, read (only) under `{assessment}@{revision}/...`, while the next
        revision's draft changes the live ones; another organization gets
        NOT_FOUND there too."""
        pb = protos()
        T, CM, A = pb.scenarios, pb.countermeasures, pb.assessments
        st, carrier = self.scope()
        scheme = self.editor.call("ScoringSchemes.CreateScoringScheme", parent=self.org,
                                  scoring_scheme=pb.scoring.ScoringScheme(
                                      title="5x5", preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE))
        a = self.editor.call(SA + "CreateSecurityAssessment", parent=self.org,
                             security_assessment=A.SecurityAssessment(
                                 title="Kept", scoring_scheme=scheme.name, method="Workshops",
                                 scope=A.AssessmentScope(statement_of_application=st),
                                 team=[A.TeamMember(name="M", competences=["ISO 28000"])])).name
        s = self.editor.call(TS + "CreateThreatScenario", parent=a, threat_scenario_id="theft",
                             threat_scenario=T.ThreatScenario(
                                 title="Theft", category=T.THREAT_CATEGORY_THEFT,
                                 source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=carrier,
                                 consequence_level=4, likelihood_level=4)).name
        m = self.editor.call("Countermeasures.CreateCountermeasure", parent=s,
                             countermeasure_id="seals", countermeasure=CM.Countermeasure(
                                 description="Seals", aeo_criterion=pb.common.AEO_CRITERION_C_CARGO,
                                 priority=1, residual_consequence_level=2,
                                 residual_likelihood_level=2)).name
        self.org_admin.call("Countermeasures.AcceptCountermeasure", name=m)
        self.editor.call(SA + "SubmitSecurityAssessment", name=a)
        self.org_admin.call(SA + "ApproveSecurityAssessment", name=a)
        self.editor.call(SA + "CreateSecurityAssessmentRevision", name=a)
        self.editor.call(TS + "UpdateThreatScenario",
                         threat_scenario=T.ThreatScenario(name=s, title="Theft, revised"),
                         update_mask=pb.field_mask.FieldMask(paths=["title"]))
        kept = a + "@1/threatScenarios/theft"
        got = self.viewer.call(TS + "GetThreatScenario", name=kept)
        self.assertEqual((got.name, got.title, got.residual_score), (kept, "Theft", 4.0))
        self.assertEqual(self.viewer.call(TS + "GetThreatScenario", name=s).title,
                         "Theft, revised")
        listed = self.viewer.call(TS + "ListThreatScenarios", parent=a + "@1")
        self.assertEqual([x.name for x in listed.threat_scenarios], [kept])
        cm = self.viewer.call("Countermeasures.ListCountermeasures", parent=kept)
        self.assertEqual([x.name for x in cm.countermeasures], [kept + "/countermeasures/seals"])
        self.assertRpcError(C.NOT_FOUND, self.viewer.call, TS + "GetThreatScenario",
                            name=a + "@2/threatScenarios/theft")
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call, TS + "UpdateThreatScenario",
                                threat_scenario=T.ThreatScenario(name=kept, title="x"),
                                update_mask=pb.field_mask.FieldMask(paths=["title"]))
        self.assertIn("threat_scenario.name", e.details())
        self.assertRpcError(C.NOT_FOUND, self.stranger.call, TS + "GetThreatScenario", name=kept)
        self.assertRpcError(C.NOT_FOUND, self.stranger.call, TS + "ListThreatScenarios",
                            parent=a + "@1")
        # the reports of the approved revision, from its kept scenarios: the ranking and the
        # matrix as they were approved while the draft changes the live scenario's levels
        self.editor.call(TS + "UpdateThreatScenario",
                         threat_scenario=T.ThreatScenario(name=s, likelihood_level=1),
                         update_mask=pb.field_mask.FieldMask(paths=["likelihood_level"]))
        rank = self.viewer.call(SA + "RankThreatScenarios", name=a + "@1")
        self.assertEqual([(x.threat_scenario, x.title, x.incident_score, x.residual_score)
                          for x in rank.scenarios], [(kept, "Theft", 16.0, 4.0)])
        live = self.viewer.call(SA + "RankThreatScenarios", name=a)
        self.assertEqual([(x.threat_scenario, x.title, x.incident_score)
                          for x in live.scenarios], [(s, "Theft, revised", 4.0)])

        def cells(m):
            return ({(c.consequence_level, c.likelihood_level): list(c.threat_scenarios)
                     for c in m.before if c.threat_scenarios},
                    {(c.consequence_level, c.likelihood_level): list(c.threat_scenarios)
                     for c in m.after if c.threat_scenarios})
        self.assertEqual(cells(self.viewer.call(SA + "ComputeRiskMatrix", name=a + "@1")),
                         ({(4, 4): [kept]}, {(2, 2): [kept]}))
        self.assertEqual(cells(self.viewer.call(SA + "ComputeRiskMatrix", name=a))[0],
                         {(4, 1): [s]})
        for method in ("RankThreatScenarios", "ComputeRiskMatrix"):
            with self.subTest(method=method):
                self.assertRpcError(C.NOT_FOUND, self.viewer.call, SA + method, name=a + "@2")
                self.assertRpcError(C.NOT_FOUND, self.stranger.call, SA + method, name=a + "@1")
        # a 5 x 5 scheme has no costs: the kept revision is judged as the live one is
        self.assertRpcError(C.FAILED_PRECONDITION, self.viewer.call, SA + "SimulateAnnualLoss",
                            name=a + "@1")

    def test_annual_loss_simulation(self):
        """On the semi-quantitative preset: theft once a year at 10,000 to
        100,000 EUR (55,000 a year expected); the same seed, the same
        figures; a 5 x 5 assessment has no costs to simulate."""
        pb = protos()
        A, T = pb.assessments, pb.scenarios
        _, carrier = self.scope()
        costs = self.editor.call("ScoringSchemes.CreateScoringScheme", parent=self.org,
                                 scoring_scheme=pb.scoring.ScoringScheme(
                                     title="Costs",
                                     preset=pb.scoring.SCORING_PRESET_SEMI_QUANTITATIVE)).name
        a = self.editor.call(SA + "CreateSecurityAssessment", parent=self.org,
                             security_assessment=A.SecurityAssessment(
                                 title="Loss", scoring_scheme=costs)).name
        theft = self.editor.call(TS + "CreateThreatScenario", parent=a,
                                 threat_scenario=T.ThreatScenario(
                                     title="Theft", category=T.THREAT_CATEGORY_THEFT,
                                     source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=carrier,
                                     consequence_level=3, likelihood_level=3))
        self.assertEqual(theft.incident_score, 55000)
        r = self.viewer.call(SA + "SimulateAnnualLoss", name=a, trials=20000, seed=2026)
        self.assertEqual((r.seed, r.trials, r.currency), (2026, 20000, "EUR"))
        self.assertAlmostEqual(r.total_before.mean, 55000, delta=0.03 * 55000)
        self.assertEqual(r.total_after, r.total_before)  # no countermeasure yet
        self.assertEqual(r.scenarios[0].threat_scenario, theft.name)
        again = self.viewer.call(SA + "SimulateAnnualLoss", name=a, trials=20000, seed=2026)
        self.assertEqual(again, r)
        drawn = self.viewer.call(SA + "SimulateAnnualLoss", name=a)
        self.assertNotEqual(drawn.seed, 0)
        self.assertEqual(drawn.trials, 10000)
        self.assertRpcError(C.INVALID_ARGUMENT, self.viewer.call, SA + "SimulateAnnualLoss",
                            name=a, trials=100001)
        five = self.editor.call("ScoringSchemes.CreateScoringScheme", parent=self.org,
                                scoring_scheme=pb.scoring.ScoringScheme(
                                    title="5x5", preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE))
        b = self.editor.call(SA + "CreateSecurityAssessment", parent=self.org,
                             security_assessment=A.SecurityAssessment(
                                 title="No costs", scoring_scheme=five.name)).name
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.viewer.call,
                                SA + "SimulateAnnualLoss", name=b)
        self.assertIn("expected-annual-loss", e.details())
        self.assertRpcError(C.NOT_FOUND, self.stranger.call, SA + "SimulateAnnualLoss", name=a)

    def test_invalid_fields_name_the_field(self):
        pb = protos()
        A, T = pb.assessments, pb.scenarios
        scheme = self.editor.call("ScoringSchemes.CreateScoringScheme", parent=self.org,
                                  scoring_scheme=pb.scoring.ScoringScheme(
                                      title="C-TPAT", preset=pb.scoring.
                                      SCORING_PRESET_CTPAT_THREAT_VULNERABILITY)).name
        cases = [
            (A.SecurityAssessment(title="", scoring_scheme=scheme), "security_assessment.title"),
            (A.SecurityAssessment(title="T"), "security_assessment.scoring_scheme"),
            (A.SecurityAssessment(title="T", scoring_scheme=scheme,
                                  team=[A.TeamMember(name="")]), "security_assessment.team[0].name"),
            (A.SecurityAssessment(title="T", scoring_scheme=scheme, scope=A.AssessmentScope(
                excluded_portions=[A.ExcludedPortion(description="Port leg",
                                                     business_partner="x")])),
             "security_assessment.scope.excluded_portions[0]"),
        ]
        for res, field in cases:
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call,
                                        SA + "CreateSecurityAssessment", parent=self.org,
                                        security_assessment=res)
                self.assertIn(field, e.details())
        a = self.editor.call(SA + "CreateSecurityAssessment", parent=self.org,
                             security_assessment=A.SecurityAssessment(title="T",
                                                                      scoring_scheme=scheme))
        self.assertEqual(a.scheme.consequence.name, "Threat")
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call,
                                TS + "CreateThreatScenario", parent=a.name,
                                threat_scenario=T.ThreatScenario(
                                    title="T", category=T.THREAT_CATEGORY_THEFT,
                                    source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
                                    target=self.org + "/businessPartners/nobody",
                                    consequence_level=4, likelihood_level=1))
        self.assertIn("threat_scenario.", e.details())


if __name__ == "__main__":
    import unittest
    unittest.main()
