"""Security plans (ISO 28001 5.4-5.6), the forwarder's story going on from
its assessment: a plan implements an APPROVED assessment of its own
organization (a draft one is refused; another organization's is refused
worded as for one that does not exist). Made from it, the plan records the
assessment's revision in force and has one item per countermeasure that
revision ACCEPTED (the declined and the proposed ones give none, nor do a
later draft's), copied from it and PLANNED. The
items move on as the work is done: a client's countermeasure and
description are ignored, VERIFIED needs evidence and records who verified
it and when (a step back clears them), an item past its due time reads
overdue until IMPLEMENTED. Approval waits for the annex guidance
considered, the training programme, the monitoring schedule and the
incident procedure, named one by one; the first approval puts the plan in
force. Drills are recorded under it; a monitoring record names an activity
of the schedule and has findings when nonconforming, and the plan shows
each activity's latest record; records are kept, never deleted on their
own. A VIEWER writes nothing; another organization sees none of it; a plan
never approved is deleted with its items and records, an approved one is
kept."""

import time

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
SP = "SecurityPlans."
PI = "PlanItems."
TR = "TrainingRecords."
MR = "MonitoringRecords."
DAY = 86400


class PlanStoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("fwd")).name
        key = cls.make_key(cls.org, pb.common.ROLE_EDITOR)
        cls.editor_key = key.api_key.name
        cls.editor = cls.server.client(key.secret)
        cls.org_admin = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_ADMIN).secret)
        cls.viewer = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_VIEWER).secret)
        cls.other = cls.make_org(cls.uid("oth")).name
        cls.stranger = cls.server.client(cls.make_key(cls.other, pb.common.ROLE_ADMIN).secret)

    # -- helpers --

    def mask(self, *paths):
        return protos().field_mask.FieldMask(paths=list(paths))

    def ts(self, seconds):
        return protos().timestamp.Timestamp(seconds=seconds)

    def assessment(self, org=None, admin=None, approve=True):
        """An assessment of org (ours by default) of the Hamburg warehouse in
        the scope of an approved statement, with the theft scenario (4 x 3,
        over the acceptable 6) and four countermeasures: fence (ACCEPTED, due
        in 60 days), gate (ACCEPTED, due 10 days ago), patrol (DECLINED) and
        cameras (left PROPOSED). Approved unless approve is false:
        (assessment, {id: countermeasure})."""
        pb = protos()
        S, A, T, CM = pb.statements, pb.assessments, pb.scenarios, pb.countermeasures
        org, admin = org or self.org, admin or self.org_admin
        now = int(time.time())
        st = admin.call("StatementsOfApplication.CreateStatementOfApplication", parent=org,
                        statement_of_application=S.StatementOfApplication(
                            title="Asia-Europe sea freight",
                            functions=[pb.orgs.SUPPLY_CHAIN_ROLE_FORWARDER],
                            facilities=[S.Facility(id="hamburg", name="Hamburg export warehouse",
                                                   country_code="DE")],
                            covered_portion=S.SupplyChainPortion(
                                **{"from": "Shenzhen", "to": "Hamburg"},
                                transport_modes=[S.TRANSPORT_MODE_SEA]))).name
        admin.call("StatementsOfApplication.SubmitStatementOfApplication", name=st)
        admin.call("StatementsOfApplication.ApproveStatementOfApplication", name=st)
        scheme = admin.call("ScoringSchemes.CreateScoringScheme", parent=org,
                            scoring_scheme=pb.scoring.ScoringScheme(
                                title="5 x 5", preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE))
        a = admin.call("SecurityAssessments.CreateSecurityAssessment", parent=org,
                       security_assessment=A.SecurityAssessment(
                           title="2026 assessment", scoring_scheme=scheme.name,
                           scope=A.AssessmentScope(statement_of_application=st),
                           method="Workshops per facility",
                           team=[A.TeamMember(name="M. Weber", role="Security manager",
                                              competences=["ISO 28000 lead auditor"])])).name
        theft = admin.call("ThreatScenarios.CreateThreatScenario", parent=a,
                           threat_scenario_id="theft", threat_scenario=T.ThreatScenario(
                               title="Theft from the yard", category=T.THREAT_CATEGORY_THEFT,
                               source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
                               target=st + "/facilities/hamburg",
                               consequence_level=4, likelihood_level=3)).name

        def measure(mid, text, criterion, priority, owner, due):
            return admin.call("Countermeasures.CreateCountermeasure", parent=theft,
                              countermeasure_id=mid, countermeasure=CM.Countermeasure(
                                  description=text, priority=priority, owner=owner,
                                  aeo_criterion=getattr(pb.common, "AEO_CRITERION_" + criterion),
                                  due_time=self.ts(due), residual_consequence_level=3,
                                  residual_likelihood_level=2)).name
        ms = {
            "fence": measure("fence", "Fence, lights and CCTV on the yard", "E_PREMISES", 1,
                             "Site manager", now + 60 * DAY),
            "gate": measure("gate", "Gate register checked against the seal log", "C_CARGO", 2,
                            "Gate supervisor", now - 10 * DAY),
            "patrol": measure("patrol", "Night patrols", "E_PREMISES", 3, "Guards",
                              now + 30 * DAY),
            "cameras": measure("cameras", "Cameras at the dock doors", "E_PREMISES", 4,
                               "IT", now + 30 * DAY),
        }
        for mid in ("fence", "gate"):
            admin.call("Countermeasures.AcceptCountermeasure", name=ms[mid])
        admin.call("Countermeasures.DeclineCountermeasure", name=ms["patrol"],
                   reason="The fence and CCTV suffice")
        if approve:
            admin.call("SecurityAssessments.SubmitSecurityAssessment", name=a)
            admin.call("SecurityAssessments.ApproveSecurityAssessment", name=a)
        return a, ms

    def plan(self, assessment, **fields):
        """A draft plan of assessment, made by the editor."""
        fields.setdefault("title", "Hamburg security plan")
        return self.editor.call(SP + "CreateSecurityPlan", parent=self.org,
                                security_plan=protos().plans.SecurityPlan(
                                    security_assessment=assessment, **fields))

    def items(self, plan):
        """The plan's items by the id of the countermeasure each carries out."""
        got = self.viewer.call(PI + "ListPlanItems", parent=plan).plan_items
        return {x.countermeasure.rsplit("/", 1)[1]: x for x in got}

    def set_item(self, client, item, *paths, **fields):
        return client.call(PI + "UpdatePlanItem",
                           plan_item=protos().items.PlanItem(name=item.name, **fields),
                           update_mask=self.mask(*paths))

    def schedule(self):
        P = protos().plans
        return [P.MonitoringActivity(id="seal-log", description="Seal log against the gate "
                                     "register", interval_days=7, owner="Gate supervisor"),
                P.MonitoringActivity(id="fence-walk", description="Walk the fence line",
                                     interval_days=1)]

    def complete(self):
        """What approval needs: {field: value} for an UpdateSecurityPlan."""
        P = protos().plans
        return dict(
            considered_guidance=[P.GuidanceItem(annex=P.GUIDANCE_ANNEX_A, reference="A.3",
                                                applied=True, note="Access control"),
                                 P.GuidanceItem(annex=P.GUIDANCE_ANNEX_B, reference="B.2",
                                                note="Not a port facility")],
            training_programme="Awareness yearly for all staff; a seal drill each quarter",
            monitoring_schedule=self.schedule(),
            incident_procedure="Secure the site, call the police and Zoll Hamburg, record it")

    def monitoring(self, plan, **fields):
        M = protos().monitorings
        record = dict(activity="seal-log", perform_time=self.ts(int(time.time()) - 3600),
                      performer="Gate supervisor", result=M.MONITORING_RESULT_CONFORMING)
        record.update(fields)
        return self.editor.call(MR + "CreateMonitoringRecord", parent=plan,
                                monitoring_record=M.MonitoringRecord(**record))

    def drill(self, plan, client=None, **fields):
        T = protos().trainings
        record = dict(kind=T.TRAINING_KIND_DRILL, topic="Breached seal at the gate",
                      hold_time=self.ts(int(time.time()) - 2 * DAY),
                      attendees=["Gate staff, early shift"], trainer="M. Weber",
                      outcome="The seal log was found in time")
        record.update(fields)
        return (client or self.editor).call(TR + "CreateTrainingRecord", parent=plan,
                                            training_record=T.TrainingRecord(**record))

    # -- the story --

    def test_story(self):
        """From an approved assessment to a plan in force: its items worked
        through, approval waiting for what it needs, a drill and monitoring
        recorded; a draft or missing assessment refused; the approved plan
        kept; another organization seeing none of it."""
        pb = protos()
        I, D = pb.items, pb.common
        assessment, ms = self.assessment()

        # only an approved assessment of the organization's own is implemented
        draft, _ = self.assessment(approve=False)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.plan, draft)
        self.assertIn("security_plan.security_assessment", e.details())
        self.assertIn("no approved revision", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.plan,
                                self.org + "/securityAssessments/no-such-thing")
        self.assertIn("security_plan.security_assessment", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.plan, "")
        self.assertIn("security_plan.security_assessment", e.details())

        # made from the approved one: revision 1, a DRAFT, the assessment's
        # revision recorded (not the client's)
        plan = self.plan(assessment, assessment_revision_id="7",
                         in_force_time=self.ts(int(time.time()) - DAY))
        self.assertEqual((plan.state, plan.revision_id), (D.DOCUMENT_STATE_DRAFT, "1"))
        self.assertEqual(plan.security_assessment, assessment)
        self.assertEqual(plan.assessment_revision_id, "1")
        self.assertFalse(plan.HasField("in_force_time"))

        # one item per ACCEPTED countermeasure, copied from it, PLANNED
        items = self.items(plan.name)
        self.assertEqual(sorted(items), ["fence", "gate"])
        for mid, item in items.items():
            with self.subTest(mid):
                # the countermeasure as the approved revision keeps it
                a = plan.security_assessment
                kept = ms[mid].replace(a + "/", a + "@1/", 1)
                c = self.viewer.call("Countermeasures.GetCountermeasure", name=kept)
                self.assertTrue(item.name.startswith(plan.name + "/items/"), item.name)
                self.assertEqual(item.countermeasure, kept)
                self.assertEqual((item.description, item.aeo_criterion, item.priority),
                                 (c.description, c.aeo_criterion, c.priority))
                self.assertEqual((item.owner, item.due_time), (c.owner, c.due_time))
                self.assertEqual(item.status, I.PLAN_ITEM_STATUS_PLANNED)
                self.assertEqual(item.evidence, [])
                self.assertEqual(self.viewer.call(PI + "GetPlanItem", name=item.name), item)
        fence, gate = items["fence"], items["gate"]

        # the gate check is past its due time: overdue while not IMPLEMENTED
        self.assertTrue(gate.overdue)
        self.assertFalse(fence.overdue)
        overdue = self.viewer.call(PI + "ListPlanItems", parent=plan.name, filter=(
            'due_time < "%s" AND (status = PLANNED OR status = IN_PROGRESS)'
            % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
        self.assertEqual([x.name for x in overdue.plan_items], [gate.name])
        got = self.set_item(self.editor, gate, "status", status=I.PLAN_ITEM_STATUS_IN_PROGRESS)
        self.assertTrue(got.overdue)
        got = self.set_item(self.editor, gate, "status", status=I.PLAN_ITEM_STATUS_IMPLEMENTED)
        self.assertFalse(got.overdue)
        self.assertFalse(self.viewer.call(PI + "GetPlanItem", name=gate.name).overdue)
        self.assertGreater(got.status_time.ToNanoseconds(), gate.status_time.ToNanoseconds())

        # what the item carries out and says is the countermeasure's: a
        # client's is ignored; owner and due time are the item's own
        got = self.set_item(self.editor, fence, "countermeasure", "description", "aeo_criterion",
                            "priority", "owner",
                            countermeasure=ms["patrol"], description="Something else",
                            aeo_criterion=D.AEO_CRITERION_H_CRISIS, priority=5,
                            owner="Facility manager")
        self.assertEqual((got.countermeasure, got.description, got.aeo_criterion, got.priority),
                         (fence.countermeasure, fence.description, fence.aeo_criterion,
                          fence.priority))
        self.assertEqual(got.owner, "Facility manager")

        # VERIFIED only with evidence, recording who verified it and when
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.set_item, self.editor, fence, "status",
                                status=I.PLAN_ITEM_STATUS_VERIFIED)
        self.assertIn("plan_item.evidence", e.details())
        self.assertEqual(self.viewer.call(PI + "GetPlanItem", name=fence.name).status,
                         I.PLAN_ITEM_STATUS_PLANNED)
        before = int(time.time())
        verified = self.set_item(self.editor, fence, "status", "evidence",
                                 status=I.PLAN_ITEM_STATUS_VERIFIED,
                                 evidence=["Audit report AR-2026-14", "Photos of the fence"])
        self.assertEqual(verified.status, I.PLAN_ITEM_STATUS_VERIFIED)
        self.assertEqual(verified.verifier, self.editor_key)
        self.assertGreaterEqual(verified.verify_time.seconds, before - 1)
        self.assertGreaterEqual(verified.status_time.seconds, before - 1)
        self.assertEqual(self.viewer.call(PI + "GetPlanItem", name=fence.name), verified)
        # a verification that failed: a step back clears who and when
        back = self.set_item(self.editor, fence, "status", status=I.PLAN_ITEM_STATUS_IMPLEMENTED)
        self.assertEqual(back.verifier, "")
        self.assertFalse(back.HasField("verify_time"))
        self.assertEqual(list(back.evidence), ["Audit report AR-2026-14", "Photos of the fence"])
        # the verifier is never the client's
        got = self.set_item(self.editor, fence, "verifier", "verify_time",
                            verifier="organizations/x/apiKeys/forged",
                            verify_time=self.ts(int(time.time()) - DAY))
        self.assertEqual((got.verifier, got.HasField("verify_time")), ("", False))

        # approval waits for each of the four, named
        self.editor.call(SP + "SubmitSecurityPlan", name=plan.name)
        complete = self.complete()
        for missing in ("considered_guidance", "training_programme", "monitoring_schedule",
                        "incident_procedure"):
            with self.subTest(missing=missing):
                e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                        SP + "ApproveSecurityPlan", name=plan.name)
                self.assertIn("cannot be approved without " + missing, e.details())
                self.org_admin.call(SP + "RejectSecurityPlan", name=plan.name,
                                    reason="Add the " + missing)
                self.editor.call(SP + "UpdateSecurityPlan", security_plan=pb.plans.SecurityPlan(
                    name=plan.name, **{missing: complete[missing]}),
                    update_mask=self.mask(missing))
                self.editor.call(SP + "SubmitSecurityPlan", name=plan.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, SP + "ApproveSecurityPlan",
                            name=plan.name)
        before = int(time.time())
        approved = self.org_admin.call(SP + "ApproveSecurityPlan", name=plan.name)
        self.assertEqual(approved.state, D.DOCUMENT_STATE_APPROVED)
        self.assertGreaterEqual(approved.in_force_time.seconds, before - 1)
        self.assertLessEqual(approved.in_force_time.seconds, int(time.time()) + 1)
        self.assertEqual(self.viewer.call(SP + "GetSecurityPlan", name=plan.name).in_force_time,
                         approved.in_force_time)
        self.assertEqual(list(approved.considered_guidance), complete["considered_guidance"])

        # items move on whatever the plan's state
        got = self.set_item(self.editor, gate, "status", "evidence",
                            status=I.PLAN_ITEM_STATUS_VERIFIED, evidence=["Seal log audit"])
        self.assertEqual(got.status, I.PLAN_ITEM_STATUS_VERIFIED)

        # a drill held under it: attended, and not in the future
        T = pb.trainings
        now = int(time.time())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.drill, plan.name, attendees=[])
        self.assertIn("training_record.attendees", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.drill, plan.name,
                                hold_time=self.ts(now + DAY))
        self.assertIn("training_record.hold_time", e.details())
        drill = self.drill(plan.name)
        self.assertTrue(drill.name.startswith(plan.name + "/trainingRecords/"), drill.name)
        self.assertEqual(drill.kind, T.TRAINING_KIND_DRILL)
        drills = self.viewer.call(TR + "ListTrainingRecords", parent=plan.name,
                                  filter="kind = DRILL").training_records
        self.assertEqual(list(drills), [drill])

        # monitoring: an activity of the schedule, findings when nonconforming
        M = pb.monitorings
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.monitoring, plan.name,
                                activity="dock-doors")
        self.assertIn("monitoring_record.activity", e.details())
        self.assertIn("dock-doors", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.monitoring, plan.name,
                                result=M.MONITORING_RESULT_NONCONFORMING)
        self.assertIn("monitoring_record.findings", e.details())
        later = self.monitoring(plan.name, perform_time=self.ts(now - DAY),
                                result=M.MONITORING_RESULT_NONCONFORMING,
                                findings="Seal 4711 is not in the gate register")
        self.assertTrue(later.name.startswith(plan.name + "/monitoringRecords/"), later.name)
        self.monitoring(plan.name, perform_time=self.ts(now - 3 * DAY))  # recorded late
        # the plan shows each activity's latest record
        got = self.viewer.call(SP + "GetSecurityPlan", name=plan.name)
        acts = {a.id: a for a in got.monitoring_schedule}
        self.assertEqual(acts["seal-log"].last_perform_time, later.perform_time)
        self.assertFalse(acts["seal-log"].overdue)
        self.assertFalse(acts["fence-walk"].HasField("last_perform_time"))
        self.assertFalse(acts["fence-walk"].overdue)  # in force for a day yet
        # a record names an activity of the schedule on every change too
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call,
                                MR + "UpdateMonitoringRecord",
                                monitoring_record=M.MonitoringRecord(name=later.name,
                                                                     activity="dock-doors"),
                                update_mask=self.mask("activity"))
        self.assertIn("monitoring_record.activity", e.details())
        # a record is kept: there is no deleting one on its own
        delete = self.server.channel.unary_unary(
            "/supplysec.v1.MonitoringRecords/DeleteMonitoringRecord",
            request_serializer=pb.trainings.DeleteTrainingRecordRequest.SerializeToString,
            response_deserializer=pb.empty.Empty.FromString)
        with self.assertRaises(grpc.RpcError) as cm:
            delete(pb.trainings.DeleteTrainingRecordRequest(name=later.name),
                   metadata=[("authorization", "Bearer " + self.server.admin_secret)],
                   timeout=10)
        self.assertEqual(cm.exception.code(), C.UNIMPLEMENTED, cm.exception.details())
        self.assertEqual(self.viewer.call(MR + "GetMonitoringRecord", name=later.name), later)

        # an approved plan is kept; its next revision keeps the time it came in force
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                SP + "DeleteSecurityPlan", name=plan.name)
        self.assertIn("approved revision", e.details())
        rev = self.editor.call(SP + "CreateSecurityPlanRevision", name=plan.name)
        self.assertEqual((rev.revision_id, rev.state), ("2", D.DOCUMENT_STATE_DRAFT))
        self.assertEqual(rev.in_force_time, approved.in_force_time)
        self.editor.call(SP + "SubmitSecurityPlan", name=plan.name)
        again = self.org_admin.call(SP + "ApproveSecurityPlan", name=plan.name)
        self.assertEqual((again.revision_id, again.state), ("2", D.DOCUMENT_STATE_APPROVED))
        self.assertEqual(again.in_force_time, approved.in_force_time)
        self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                            SP + "DeleteSecurityPlan", name=plan.name)
        self.assertEqual(sorted(self.items(plan.name)), ["fence", "gate"])

        # another organization sees none of it, worded as for what does not exist
        for method, name in ((SP + "GetSecurityPlan", plan.name),
                             (PI + "GetPlanItem", fence.name),
                             (TR + "GetTrainingRecord", drill.name),
                             (MR + "GetMonitoringRecord", later.name),
                             (SP + "DeleteSecurityPlan", plan.name),
                             (TR + "DeleteTrainingRecord", drill.name)):
            with self.subTest(method):
                missing = name.rsplit("/", 1)[0] + "/no-such-thing"
                e1 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=name)
                e2 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=missing)
                self.assertEqual(e1.details().replace(name, "{}"),
                                 e2.details().replace(missing, "{}"))
        for method in (PI + "ListPlanItems", TR + "ListTrainingRecords",
                       MR + "ListMonitoringRecords"):
            with self.subTest(method):
                self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, parent=plan.name)
        self.assertRpcError(C.NOT_FOUND, self.set_item, self.stranger, fence, "owner",
                            owner="Stranger")
        self.assertEqual(self.viewer.call(PI + "GetPlanItem", name=fence.name).owner,
                         "Facility manager")
        self.assertRpcError(C.NOT_FOUND, self.stranger.call, MR + "CreateMonitoringRecord",
                            parent=plan.name, monitoring_record=M.MonitoringRecord(
                                activity="seal-log", perform_time=self.ts(now - 60),
                                performer="Stranger", result=M.MONITORING_RESULT_CONFORMING))

    def test_another_organizations_assessment_is_refused_unseen(self):
        """A plan implements an assessment of its own organization: another
        organization's approved one is INVALID_ARGUMENT, worded as for one
        that does not exist, either way round."""
        pb = protos()
        ours, _ = self.assessment()
        theirs, _ = self.assessment(org=self.other, admin=self.stranger)
        for client, org, name in ((self.editor, self.org, theirs),
                                  (self.stranger, self.other, ours)):
            with self.subTest(org=org):
                missing = name.rsplit("/", 1)[0] + "/no-such-thing"
                errors = [self.assertRpcError(
                    C.INVALID_ARGUMENT, client.call, SP + "CreateSecurityPlan", parent=org,
                    security_plan=pb.plans.SecurityPlan(title="Borrowed",
                                                        security_assessment=n))
                    for n in (name, missing)]
                self.assertIn("security_plan.security_assessment", errors[0].details())
                self.assertEqual(errors[0].details().replace(name, "{}"),
                                 errors[1].details().replace(missing, "{}"))
                plans = client.call(SP + "ListSecurityPlans", parent=org).security_plans
                self.assertNotIn(name, [p.security_assessment for p in plans])

    def test_plan_implements_the_revision_in_force(self):
        """A plan implements the assessment's revision in force: made while
        the next revision is a draft (in which the fence is declined and the
        cameras accepted), its items are the approved revision's accepted
        countermeasures, never the draft's (or the plan waits, refused, for
        the draft's approval); made once that is approved, they are its."""
        assessment, ms = self.assessment()
        self.editor.call("SecurityAssessments.CreateSecurityAssessmentRevision", name=assessment)
        self.org_admin.call("Countermeasures.DeclineCountermeasure", name=ms["fence"],
                            reason="The cameras replace it")
        self.org_admin.call("Countermeasures.AcceptCountermeasure", name=ms["cameras"])
        try:
            plan = self.plan(assessment)
        except grpc.RpcError as e:  # refused while the draft is pending: as good
            self.assertEqual(e.code(), C.FAILED_PRECONDITION, e.details())
            self.assertIn("security_plan.security_assessment", e.details())
        else:
            self.assertEqual(plan.assessment_revision_id, "1")
            self.assertEqual(sorted(self.items(plan.name)), ["fence", "gate"],
                             "the items of a plan of revision 1 of %s" % assessment)
        self.editor.call("SecurityAssessments.SubmitSecurityAssessment", name=assessment)
        self.org_admin.call("SecurityAssessments.ApproveSecurityAssessment", name=assessment)
        plan = self.plan(assessment)
        self.assertEqual(plan.assessment_revision_id, "2")
        self.assertEqual(sorted(self.items(plan.name)), ["cameras", "gate"])

    def test_viewer_writes_nothing(self):
        """A VIEWER reads the plan, its items and records, and writes none of
        them; an EDITOR neither approves nor deletes."""
        pb = protos()
        I, M = pb.items, pb.monitorings
        assessment, _ = self.assessment()
        plan = self.plan(assessment, monitoring_schedule=self.schedule())
        item = self.items(plan.name)["fence"]
        drill = self.drill(plan.name)
        record = self.monitoring(plan.name)
        plan = self.viewer.call(SP + "GetSecurityPlan", name=plan.name)  # with the record's time
        now = int(time.time())
        writes = [
            (SP + "CreateSecurityPlan", dict(parent=self.org, security_plan=pb.plans.SecurityPlan(
                title="Viewer's", security_assessment=assessment))),
            (SP + "UpdateSecurityPlan", dict(security_plan=pb.plans.SecurityPlan(
                name=plan.name, title="Viewer's"), update_mask=self.mask("title"))),
            (SP + "SubmitSecurityPlan", dict(name=plan.name)),
            (SP + "DeleteSecurityPlan", dict(name=plan.name)),
            (PI + "UpdatePlanItem", dict(plan_item=I.PlanItem(name=item.name, owner="Viewer"),
                                         update_mask=self.mask("owner"))),
            (TR + "CreateTrainingRecord", dict(parent=plan.name, training_record=drill)),
            (TR + "UpdateTrainingRecord", dict(training_record=pb.trainings.TrainingRecord(
                name=drill.name, topic="Viewer's"), update_mask=self.mask("topic"))),
            (TR + "DeleteTrainingRecord", dict(name=drill.name)),
            (MR + "CreateMonitoringRecord", dict(parent=plan.name, monitoring_record=(
                M.MonitoringRecord(activity="seal-log", perform_time=self.ts(now - 60),
                                   performer="Viewer", result=M.MONITORING_RESULT_CONFORMING)))),
            (MR + "UpdateMonitoringRecord", dict(monitoring_record=M.MonitoringRecord(
                name=record.name, performer="Viewer"), update_mask=self.mask("performer"))),
        ]
        for method, fields in writes:
            with self.subTest(method):
                self.assertRpcError(C.PERMISSION_DENIED, self.viewer.call, method, **fields)
        self.assertEqual(self.viewer.call(SP + "GetSecurityPlan", name=plan.name), plan)
        self.assertEqual(self.viewer.call(PI + "GetPlanItem", name=item.name), item)
        self.assertEqual(self.viewer.call(TR + "GetTrainingRecord", name=drill.name), drill)
        self.assertEqual(self.viewer.call(MR + "GetMonitoringRecord", name=record.name), record)
        self.assertEqual(len(self.viewer.call(TR + "ListTrainingRecords",
                                              parent=plan.name).training_records), 1)
        self.assertEqual(len(self.viewer.call(SP + "ListSecurityPlans", parent=self.org,
                                              filter='title = "Viewer\'s"').security_plans), 0)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, SP + "DeleteSecurityPlan",
                            name=plan.name)
        self.editor.call(SP + "SubmitSecurityPlan", name=plan.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, SP + "ApproveSecurityPlan",
                            name=plan.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.viewer.call, SP + "ApproveSecurityPlan",
                            name=plan.name)

    def test_deleting_a_draft_plan_takes_its_items_and_records(self):
        """A plan never approved is deleted, by an ADMIN, with its items,
        training and monitoring records; the assessment stays to be planned
        again, with new items."""
        assessment, _ = self.assessment()
        plan = self.plan(assessment, monitoring_schedule=self.schedule())
        items = self.items(plan.name)
        drill = self.drill(plan.name)
        record = self.monitoring(plan.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, SP + "DeleteSecurityPlan",
                            name=plan.name)
        self.org_admin.call(SP + "DeleteSecurityPlan", name=plan.name)
        for method, name in [(SP + "GetSecurityPlan", plan.name),
                             (TR + "GetTrainingRecord", drill.name),
                             (MR + "GetMonitoringRecord", record.name)] + [
                (PI + "GetPlanItem", x.name) for x in items.values()]:
            with self.subTest(name):
                self.assertRpcError(C.NOT_FOUND, self.org_admin.call, method, name=name)
        again = self.plan(assessment)
        self.assertEqual(sorted(self.items(again.name)), ["fence", "gate"])

    def test_invalid_fields_name_the_field(self):
        """Each refused field is named: in a plan, an item and the records."""
        pb = protos()
        P, I, T, M = pb.plans, pb.items, pb.trainings, pb.monitorings
        assessment, _ = self.assessment()
        plan = self.plan(assessment, monitoring_schedule=self.schedule())
        a = P.MonitoringActivity
        cases = [
            (dict(title=""), "security_plan.title"),
            (dict(considered_guidance=[P.GuidanceItem(reference="A.1")]),
             "security_plan.considered_guidance[0].annex"),
            (dict(considered_guidance=[P.GuidanceItem(annex=P.GUIDANCE_ANNEX_A,
                                                      reference="A.1")] * 2),
             "security_plan.considered_guidance[1].reference"),
            (dict(monitoring_schedule=[a(id="Bad Id", description="d", interval_days=1)]),
             "security_plan.monitoring_schedule[0].id"),
            (dict(monitoring_schedule=[a(id="walk", description="d", interval_days=1),
                                       a(id="walk", description="e", interval_days=2)]),
             "security_plan.monitoring_schedule[1].id"),
            (dict(monitoring_schedule=[a(id="walk", description="d", interval_days=0)]),
             "security_plan.monitoring_schedule[0].interval_days"),
            (dict(monitoring_schedule=[a(id="walk", interval_days=3)]),
             "security_plan.monitoring_schedule[0].description"),
        ]
        for fields, field in cases:
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.plan, assessment, **fields)
                self.assertIn(field, e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call, SP + "UpdateSecurityPlan",
                                security_plan=P.SecurityPlan(
                                    name=plan.name,
                                    security_assessment=self.org + "/securityAssessments/other"),
                                update_mask=self.mask("security_assessment"))
        self.assertIn("security_plan.security_assessment", e.details())

        item = self.items(plan.name)["fence"]
        for fields, field in ((dict(status=I.PLAN_ITEM_STATUS_UNSPECIFIED), "plan_item.status"),
                              (dict(evidence=[""]), "plan_item.evidence[0]"),
                              (dict(owner="x" * 201), "plan_item.owner")):
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.set_item, self.editor, item,
                                        *fields, **fields)
                self.assertIn(field, e.details())

        now = int(time.time())
        for fields, field in ((dict(kind=T.TRAINING_KIND_UNSPECIFIED), "training_record.kind"),
                              (dict(topic=""), "training_record.topic"),
                              (dict(attendees=["ok", ""]), "training_record.attendees[1]")):
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.drill, plan.name, **fields)
                self.assertIn(field, e.details())
        for fields, field in ((dict(performer=""), "monitoring_record.performer"),
                              (dict(perform_time=self.ts(now + DAY)),
                               "monitoring_record.perform_time"),
                              (dict(result=M.MONITORING_RESULT_UNSPECIFIED),
                               "monitoring_record.result")):
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.monitoring, plan.name, **fields)
                self.assertIn(field, e.details())


if __name__ == "__main__":
    import unittest
    unittest.main()
