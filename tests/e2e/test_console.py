"""The web console (api/console/, served under /console/) in a real browser:
Debian's chromium, headless, driven by puppeteer-core (.tools/node_modules,
scripts/deps.sh) through tests/e2e/browser/console_story.mjs.

Python seeds the story with gRPC: a forwarder with a policy in review (its
revision 2), business partners, a declaration request to a carrier, an
approved assessment with scored scenarios and accepted countermeasures (its
next revision a draft with two countermeasures proposed), a plan with an
overdue item, an incident with a missing notification, one that may be
closed and one closed, and a validation grant to a customs authority. The
browser then walks the story through the console's pages only, typing and
clicking as people would: the forwarder's security manager approves the
policy; the carrier writes, submits and approves a declaration and answers
the request with it; the forwarder reads the assessment's heat map, accepts
one proposed countermeasure and declines the other, moves the overdue plan
item on, closes an incident and reopens another (each refusal on the way
shown as the API's own message); the authority's validator reads the
forwarder's readiness report and prints it, and is offered none of those
writes.
Each step asserts what the page shows and saves a screenshot (into
$SUPPLYSEC_ARTIFACTS, else <build>/artifacts/console/). Python then checks
through gRPC that the effects happened, and that no key reached the server's
log. A second test calls the API from pages of other origins: allowed for
the origin in --cors-origins, blocked by the browser for another.

The pages are the ones embedded in supplysecd at build time; while working on
the console, SUPPLYSEC_CONSOLE_DIR=api/console serves them from there instead
(--console-dir)."""

import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import Server, ServerTestCase, protos

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BROWSER_DIR = os.path.join(HERE, "browser")
STORY = os.path.join(BROWSER_DIR, "console_story.mjs")
CORS_SCRIPT = os.path.join(BROWSER_DIR, "cors_check.mjs")
CORS_PAGE_DIR = os.path.join(BROWSER_DIR, "cors_page")
CHROMIUM = "/usr/bin/chromium"
PUPPETEER = os.path.join(REPO, ".tools", "node_modules", "puppeteer-core")
NODE = shutil.which("node")
DAY = 86400


def artifacts_dir():
    d = os.environ.get("SUPPLYSEC_ARTIFACTS") or os.path.join(harness.BUILD, "artifacts",
                                                               "console")
    os.makedirs(d, exist_ok=True)
    return d




def ts(seconds_from_now):
    return protos().timestamp.Timestamp(seconds=int(time.time()) + seconds_from_now)


def seed(server, tag=""):
    """The story's data, made with gRPC as the platform administrator and the
    organizations' own keys. Returns a dict of names and key secrets (the
    JSON the browser script reads)."""
    pb = protos()
    O, S, P, A = pb.orgs, pb.statements, pb.partners, pb.assessments
    T, CM, I = pb.scenarios, pb.countermeasures, pb.incidents
    admin = server.admin()
    sfx = tag and "-" + tag

    def org(oid, legal, country, kind=O.ORGANIZATION_KIND_OPERATOR, roles=()):
        return admin.call("Organizations.CreateOrganization", organization_id=oid + sfx,
                          organization=O.Organization(legal_name=legal, country_code=country,
                                                      kind=kind,
                                                      supply_chain_roles=list(roles))).name

    def key(parent, role, display):
        return admin.call("ApiKeys.CreateApiKey", parent=parent, api_key=pb.keys.ApiKey(
            role=role, display_name=display)).secret

    fwd = org("fwd", "Hanse Forwarding GmbH", "DE", roles=[O.SUPPLY_CHAIN_ROLE_FORWARDER])
    carrier = org("carrier", "Baltic Carriers Sp. z o.o.", "PL",
                  roles=[O.SUPPLY_CHAIN_ROLE_CARRIER])
    customs = org("zoll", "Hauptzollamt Hamburg", "DE",
                  kind=O.ORGANIZATION_KIND_CUSTOMS_AUTHORITY)
    out = {"fwd": fwd, "carrier": carrier, "customs": customs,
           "fwdLegalName": "Hanse Forwarding GmbH", "carrierLegalName": "Baltic Carriers Sp. z o.o.",
           "customsLegalName": "Hauptzollamt Hamburg",
           "keys": {"fwdAdmin": key(fwd, pb.common.ROLE_ADMIN, "security manager"),
                    "fwdEditor": key(fwd, pb.common.ROLE_EDITOR, "security officer"),
                    "carrierAdmin": key(carrier, pb.common.ROLE_ADMIN, "carrier's manager"),
                    "customsAdmin": key(customs, pb.common.ROLE_ADMIN, "authority admin"),
                    "validator": key(customs, pb.common.ROLE_VALIDATOR, "validator")}}
    fa = server.client(out["keys"]["fwdAdmin"])
    ca = server.client(out["keys"]["customsAdmin"])

    # the scope of service, approved
    statement = fa.call("StatementsOfApplication.CreateStatementOfApplication", parent=fwd,
                        statement_of_application_id="scope",
                        statement_of_application=S.StatementOfApplication(
                            title="Asia-Europe freight via Hamburg",
                            functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER],
                            facilities=[S.Facility(id="hamburg", name="Hamburg warehouse",
                                                   country_code="DE", un_locode="DEHAM")],
                            covered_portion=S.SupplyChainPortion(
                                **{"from": "Shenzhen", "to": "Hamburg"},
                                transport_modes=[S.TRANSPORT_MODE_SEA, S.TRANSPORT_MODE_ROAD],
                                crosses_border=True))).name
    fa.call("StatementsOfApplication.SubmitStatementOfApplication", name=statement)
    fa.call("StatementsOfApplication.ApproveStatementOfApplication", name=statement)

    # the security policy: revision 1 approved, revision 2 in review
    pol = pb.policies
    policy = fa.call("SecurityPolicies.CreateSecurityPolicy", parent=fwd,
                     security_policy_id="policy", security_policy=pol.SecurityPolicy(
                         title="Supply chain security policy",
                         text="Hanse Forwarding protects the cargo entrusted to it.",
                         commitments=pol.PolicyCommitments(
                             legal_compliance=True, continual_improvement=True,
                             protection_of_assets_and_information=True),
                         sign_off=pol.SignOff(signatory_name="K. Hansen",
                                              signatory_role="Managing Director",
                                              sign_time=ts(-30 * DAY)),
                         next_review_time=ts(300 * DAY))).name
    fa.call("SecurityPolicies.SubmitSecurityPolicy", name=policy)
    fa.call("SecurityPolicies.ApproveSecurityPolicy", name=policy)
    fa.call("SecurityPolicies.CreateSecurityPolicyRevision", name=policy)
    fa.call("SecurityPolicies.UpdateSecurityPolicy", security_policy=pol.SecurityPolicy(
        name=policy, text="Hanse Forwarding protects the cargo entrusted to it, "
                          "on its premises and on the road."),
        update_mask=pb.field_mask.FieldMask(paths=["text"]))
    fa.call("SecurityPolicies.SubmitSecurityPolicy", name=policy)
    out["policy"] = policy

    # business partners: the carrier (on the platform), a warehouse exempt by
    # its ISO 28001 certificate, a haulier whose first review is due
    bp = "BusinessPartners.CreateBusinessPartner"
    fa.call(bp, parent=fwd, business_partner_id="carrier", business_partner=P.BusinessPartner(
        legal_name="Baltic Carriers Sp. z o.o.", country_code="PL", organization=carrier,
        roles=[O.SUPPLY_CHAIN_ROLE_CARRIER], risk_tier=P.RISK_TIER_HIGH))
    fa.call(bp, parent=fwd, business_partner_id="warehouse", business_partner=P.BusinessPartner(
        legal_name="Nordlager KG", country_code="DE", roles=[O.SUPPLY_CHAIN_ROLE_WAREHOUSE],
        risk_tier=P.RISK_TIER_MEDIUM, certificates=[P.PartnerCertificate(
            type=P.PARTNER_CERTIFICATE_TYPE_ISO_28001, issuing_country="DE", number="ISO-1",
            valid_until=ts(300 * DAY), verify_time=ts(-DAY),
            verified_by=P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER)]))
    fa.call(bp, parent=fwd, business_partner_id="haulier", business_partner=P.BusinessPartner(
        legal_name="Elbe Haulage OHG", country_code="DE", roles=[O.SUPPLY_CHAIN_ROLE_CARRIER],
        risk_tier=P.RISK_TIER_LOW))

    # the forwarder asks the carrier for its declaration of security
    out["request"] = fa.call(
        "DeclarationRequests.CreateDeclarationRequest", parent=fwd,
        declaration_request_id="carrier-2026",
        declaration_request=pb.requests.DeclarationRequest(
            business_partner=fwd + "/businessPartners/carrier",
            message="Please send your declaration of security for the Hamburg lane")).name

    # the assessment: three scenarios, two treated by accepted countermeasures
    scheme = fa.call("ScoringSchemes.CreateScoringScheme", parent=fwd,
                     scoring_scheme=pb.scoring.ScoringScheme(
                         title="Five by five",
                         preset=pb.scoring.SCORING_PRESET_FIVE_BY_FIVE)).name
    assessment = fa.call("SecurityAssessments.CreateSecurityAssessment", parent=fwd,
                         security_assessment_id="hamburg-2026",
                         security_assessment=A.SecurityAssessment(
                             title="Hamburg hub assessment 2026", scoring_scheme=scheme,
                             scope=A.AssessmentScope(statement_of_application=statement),
                             method="Workshops with the site team; CCTV and gate logs reviewed",
                             team=[A.TeamMember(name="M. Weber", role="Security manager",
                                                competences=["ISO 28000 lead auditor"])])).name
    target = statement + "/facilities/hamburg"
    measures = []
    for sid, title, cat, c, l, fix in (
            ("theft", "Theft from the yard", T.THREAT_CATEGORY_THEFT, 4, 4,
             ("Fence and CCTV around the yard", 1, 2, -5 * DAY)),
            ("smuggling", "Contraband in a sealed container", T.THREAT_CATEGORY_CONTRABAND_SMUGGLING,
             3, 4, ("Seal checks at the gate", 2, 2, 60 * DAY)),
            ("phishing", "Phishing of the booking desk", T.THREAT_CATEGORY_CYBER, 2, 1, None)):
        scenario = fa.call("ThreatScenarios.CreateThreatScenario", parent=assessment,
                           threat_scenario_id=sid, threat_scenario=T.ThreatScenario(
                               title=title, category=cat, target=target,
                               source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM,
                               consequence_level=c, likelihood_level=l)).name
        if fix:
            m = fa.call("Countermeasures.CreateCountermeasure", parent=scenario,
                        countermeasure=CM.Countermeasure(
                            description=fix[0], priority=1,
                            aeo_criterion=pb.common.AEO_CRITERION_E_PREMISES,
                            residual_consequence_level=fix[1], residual_likelihood_level=fix[2],
                            owner="Site manager", due_time=ts(fix[3]))).name
            fa.call("Countermeasures.AcceptCountermeasure", name=m)
            measures.append(m)
    fa.call("SecurityAssessments.SubmitSecurityAssessment", name=assessment)
    fa.call("SecurityAssessments.ApproveSecurityAssessment", name=assessment)
    out["assessment"] = assessment

    # the plan made from it: the fence's item is past its due time
    out["plan"] = fa.call("SecurityPlans.CreateSecurityPlan", parent=fwd,
                          security_plan_id="hamburg-plan", security_plan=pb.plans.SecurityPlan(
                              title="Hamburg hub security plan", security_assessment=assessment,
                              training_programme="Yearly security awareness for all staff",
                              monitoring_schedule=[pb.plans.MonitoringActivity(
                                  id="seal-log", description="Seal log against the gate register",
                                  interval_days=7, owner="Gate supervisor")])).name

    # the assessment's next revision, a draft: two countermeasures proposed
    # for the security manager to decide (one to accept, one to decline)
    fa.call("SecurityAssessments.CreateSecurityAssessmentRevision", name=assessment)
    for key_, sid, text, crit, c, l in (
            ("proposedAccept", "phishing", "Phishing awareness training for the booking desk",
             pb.common.AEO_CRITERION_A_EDUCATION_TRAINING, 1, 1),
            ("proposedDecline", "smuggling", "X-ray scan of every inbound container",
             pb.common.AEO_CRITERION_C_CARGO, 1, 1)):
        out[key_] = fa.call("Countermeasures.CreateCountermeasure",
                            parent=assessment + "/threatScenarios/" + sid,
                            countermeasure=CM.Countermeasure(
                                description=text, priority=2, aeo_criterion=crit,
                                residual_consequence_level=c, residual_likelihood_level=l,
                                owner="Security manager", due_time=ts(90 * DAY))).name

    # an incident whose customs notification is not made yet
    out["incident"] = fa.call(
        "SecurityIncidents.CreateSecurityIncident", parent=fwd, security_incident_id="seal-broken",
        security_incident=I.SecurityIncident(
            title="Broken seal on MSCU1234567", occur_time=ts(-2 * 3600),
            severity=I.INCIDENT_SEVERITY_HIGH, facility=target, assets_hit=["MSCU1234567"],
            required_notifications=[I.RequiredNotification(
                kind=I.AUTHORITY_KIND_CUSTOMS, authority="Hauptzollamt Hamburg",
                due_time=ts(DAY))])).name
    # one that may be closed (its notification made, its action done), and
    # one closed already
    done = I.IncidentAction(description="Barrier repaired and the driver briefed",
                            kind=I.ACTION_KIND_CORRECTIVE, owner="Facility manager",
                            status=I.ACTION_STATUS_DONE)
    out["closable"] = fa.call(
        "SecurityIncidents.CreateSecurityIncident", parent=fwd, security_incident_id="gate-damage",
        security_incident=I.SecurityIncident(
            title="Gate barrier damaged by a truck", occur_time=ts(-3 * DAY),
            severity=I.INCIDENT_SEVERITY_LOW, facility=target,
            required_notifications=[I.RequiredNotification(
                kind=I.AUTHORITY_KIND_OTHER, authority="Hamburg Port Authority")],
            notifications=[I.NotificationMade(
                kind=I.AUTHORITY_KIND_OTHER, authority="Hamburg Port Authority",
                reference="HPA-2026-118", notify_time=ts(-2 * DAY))],
            actions=[done])).name
    out["closed"] = fa.call(
        "SecurityIncidents.CreateSecurityIncident", parent=fwd, security_incident_id="fence-cut",
        security_incident=I.SecurityIncident(
            title="Cut in the perimeter fence", occur_time=ts(-20 * DAY),
            severity=I.INCIDENT_SEVERITY_MEDIUM, facility=target,
            actions=[I.IncidentAction(description="Fence mended", kind=I.ACTION_KIND_CORRECTIVE,
                                      owner="Facility manager", status=I.ACTION_STATUS_DONE)])).name
    fa.call("SecurityIncidents.CloseSecurityIncident", name=out["closed"])

    # the authority recognizes AEO-S of its own programme; the forwarder grants it access
    ca.call("Recognitions.CreateRecognition", parent=customs, recognition=pb.recognitions.Recognition(
        certificate_type=P.PARTNER_CERTIFICATE_TYPE_AEO_S, issuing_country="DE",
        issuer="German customs", basis=pb.recognitions.RECOGNITION_BASIS_OWN_PROGRAMME))
    out["grant"] = fa.call(
        "ValidationGrants.CreateValidationGrant", parent=fwd,
        validation_grant=pb.validation_grants.ValidationGrant(
            authority=customs, application_reference="DE-AEO-2026-00417",
            start_time=ts(-60), end_time=ts(90 * DAY))).name
    return out


class PageServer:
    """A tiny static HTTP server on a free loopback port (another origin)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    def __init__(self, directory):
        handler = functools.partial(PageServer.Handler, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def node_json(script, cfg, timeout=120):
    """Run a Node script with cfg as JSON on its standard input; answer
    (returncode, its last stdout line as JSON or None, stderr)."""
    # its own process group, so that a script out of time goes with its chromium
    proc = subprocess.Popen([NODE, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=BROWSER_DIR,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(json.dumps(cfg), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        stderr += "\n(killed after %ds)" % timeout
    lines = stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1]) if lines else None
    except ValueError:
        out = None
    return proc.returncode, out, stderr


@unittest.skipUnless(os.path.exists(CHROMIUM), "no %s (apt-get install chromium)" % CHROMIUM)
@unittest.skipUnless(NODE and os.path.isdir(PUPPETEER),
                     "node or .tools/node_modules/puppeteer-core is missing (scripts/deps.sh)")
class ConsoleBrowserTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pb = protos()
        # two pages of other origins: the first allowed by --cors-origins
        cls.pages = [PageServer(CORS_PAGE_DIR), PageServer(CORS_PAGE_DIR)]
        args = ["--http-listen", "127.0.0.1:0", "--cors-origins", cls.pages[0].origin]
        if os.environ.get("SUPPLYSEC_CONSOLE_DIR"):  # working on the console: its files from there
            args += ["--console-dir", os.environ["SUPPLYSEC_CONSOLE_DIR"]]
        cls.server = Server(extra_args=args)
        try:
            cls.server.start()
            cls.admin = cls.server.admin()
            cls.base = "http://127.0.0.1:%d" % harness.http_port(cls.server)
            cls.data = seed(cls.server)
        except BaseException:
            cls.server.kill()
            for p in cls.pages:
                p.stop()
            raise
        cls.artifacts = artifacts_dir()

    @classmethod
    def tearDownClass(cls):
        for p in cls.pages:
            p.stop()
        super().tearDownClass()

    def client(self, key):
        return self.server.client(self.data["keys"][key])

    def test_1_the_story_through_the_console(self):
        pb, d = self.pb, self.data
        wrong_key = "ssk_0123456789abcdef_" + "A" * 43
        # the messages the console must show are the API's own: the same call over gRPC
        e = self.assertNotOk(self.server.client(wrong_key).call,
                             "Organizations.ListOrganizations")
        wrong_message = e.details()
        e = self.assertNotOk(self.client("fwdEditor").call,
                             "SecurityPolicies.ApproveSecurityPolicy", name=d["policy"])
        self.assertEqual(e.code().name, "PERMISSION_DENIED")
        editor_message = e.details()
        # the refusals the manager meets on the way (refused: nothing changes)
        fa = self.client("fwdAdmin")
        e = self.assertNotOk(fa.call, "Countermeasures.DeclineCountermeasure",
                             name=d["proposedDecline"], reason="")
        self.assertEqual(e.code().name, "INVALID_ARGUMENT")
        decline_empty_message = e.details()
        items = fa.call("PlanItems.ListPlanItems", parent=d["plan"]).plan_items
        fence_item = [x for x in items if x.description == "Fence and CCTV around the yard"][0]
        e = self.assertNotOk(fa.call, "PlanItems.UpdatePlanItem", plan_item=pb.items.PlanItem(
            name=fence_item.name, status=pb.items.PLAN_ITEM_STATUS_VERIFIED),
            update_mask=pb.field_mask.FieldMask(paths=["status"]))
        self.assertEqual(e.code().name, "INVALID_ARGUMENT")
        verify_message = e.details()
        e = self.assertNotOk(fa.call, "SecurityIncidents.CloseSecurityIncident",
                             name=d["incident"])
        self.assertEqual(e.code().name, "FAILED_PRECONDITION")
        close_refused_message = e.details()

        cells = lambda cs: sorted(([c, l, n, str(n)] for c, l, n in cs),
                                  key=lambda x: ",".join(map(str, x)))
        cfg = dict(d, base=self.base, artifacts=self.artifacts, wrongKey=wrong_key,
                   userDataDir=harness.tmpdir("chromium-"), fwdId=d["fwd"].split("/")[1],
                   expect={
                       "wrongKeyMessage": wrong_message,
                       "editorApproveMessage": editor_message,
                       "policyTitle": "Supply chain security policy",
                       "requestMessage": "Please send your declaration of security",
                       "declarationTitle": "Baltic Carriers declaration of security",
                       "assessmentTitle": "Hamburg hub assessment 2026",
                       # (consequence, likelihood, count): incident levels, then residual
                       "before": cells([(2, 1, 1), (3, 4, 1), (4, 4, 1)]),
                       "after": cells([(1, 2, 1), (2, 1, 1), (2, 2, 1)]),
                       "heatSummaries": ["3 scenarios, 2 over the acceptable level",
                                         "3 scenarios, 0 over the acceptable level"],
                       "ranked": ["Theft from the yard", "Contraband in a sealed container",
                                  "Phishing of the booking desk"],
                       "overdueItem": "Fence and CCTV around the yard",
                       "acceptCountermeasure": "Phishing awareness training for the booking desk",
                       "declineCountermeasure": "X-ray scan of every inbound container",
                       "declineEmptyMessage": decline_empty_message,
                       "declineReason": "Out of proportion: seal checks and risk profiling "
                                        "cover it",
                       # phishing's residual moves from (2, 1) to its countermeasure's (1, 1)
                       "afterAccepted": cells([(1, 1, 1), (1, 2, 1), (2, 2, 1)]),
                       "verifyMessage": verify_message,
                       "missingIncident": "Broken seal on MSCU1234567",
                       "closeRefusedMessage": close_refused_message,
                       "closableIncident": "Gate barrier damaged by a truck",
                       "closedIncident": "Cut in the perimeter fence",
                       "reopenReason": "The fence was cut again at the same place",
                       "frameworkTitle": "WCO SAFE Framework AEO criteria A to I",
                   })
        stale = os.path.join(self.artifacts, "failure.png")
        if os.path.exists(stale):
            os.remove(stale)
        code, seen, err = node_json(STORY, cfg)
        self.assertEqual(code, 0, "the story failed (screenshots in %s): %s\n%s\nserver: %s" % (
            self.artifacts, json.dumps(seen, indent=1)[-4000:], err[-3000:],
            self.server.log_tail(1500)))
        self.assertTrue(seen["ok"])
        self.assertGreaterEqual(len(seen["steps"]), 12, seen["steps"])
        for name in seen["steps"]:
            self.assertTrue(os.path.exists(os.path.join(
                self.artifacts, "%02d-%s.png" % (seen["steps"].index(name) + 1, name))), name)

        # the effects, through gRPC
        D = pb.common
        manager = fa.call("ApiKeys.GetCaller").api_key.name
        policy = fa.call("SecurityPolicies.GetSecurityPolicy", name=d["policy"])
        self.assertEqual((policy.state, policy.revision_id), (D.DOCUMENT_STATE_APPROVED, "2"))
        approver = policy.control.approver
        self.assertTrue(approver.startswith(d["fwd"] + "/apiKeys/"), approver)
        request = fa.call("DeclarationRequests.GetDeclarationRequest", name=d["request"])
        self.assertEqual(request.state, pb.requests.DECLARATION_REQUEST_STATE_ACCEPTED)
        self.assertTrue(request.declaration.startswith(d["carrier"] + "/declarations/"),
                        request.declaration)
        self.assertEqual(request.declaration_revision_id, "1")
        self.assertTrue(request.answerer.startswith(d["carrier"] + "/apiKeys/"), request.answerer)
        declaration = self.client("carrierAdmin").call("Declarations.GetDeclaration",
                                                       name=request.declaration)
        self.assertEqual(declaration.title, "Baltic Carriers declaration of security")
        self.assertEqual(declaration.state, D.DOCUMENT_STATE_APPROVED)
        self.assertEqual(declaration.measures.conveyance_security,
                         "Trucks locked and tracked by GPS")
        self.assertEqual(declaration.signatory.name, "J. Kowalski")
        self.assertIn(request.declaration.split("/")[-1], seen["declarationUrl"])

        # the countermeasures decided in the assessment's draft, the scenario scored again
        CM = pb.countermeasures
        accepted = fa.call("Countermeasures.GetCountermeasure", name=d["proposedAccept"])
        self.assertEqual((accepted.state, accepted.decider, accepted.decline_reason),
                         (CM.COUNTERMEASURE_STATE_ACCEPTED, manager, ""))
        declined = fa.call("Countermeasures.GetCountermeasure", name=d["proposedDecline"])
        self.assertEqual((declined.state, declined.decider, declined.decline_reason),
                         (CM.COUNTERMEASURE_STATE_DECLINED, manager,
                          "Out of proportion: seal checks and risk profiling cover it"))
        phishing = fa.call("ThreatScenarios.GetThreatScenario",
                           name=d["proposedAccept"].split("/countermeasures/")[0])
        self.assertEqual((phishing.residual_consequence_level, phishing.residual_likelihood_level),
                         (1, 1))
        smuggling = fa.call("ThreatScenarios.GetThreatScenario",
                            name=d["proposedDecline"].split("/countermeasures/")[0])
        self.assertEqual((smuggling.residual_consequence_level,
                          smuggling.residual_likelihood_level), (2, 2))
        assessment = fa.call("SecurityAssessments.GetSecurityAssessment", name=d["assessment"])
        self.assertEqual((assessment.state, assessment.revision_id), (D.DOCUMENT_STATE_DRAFT, "2"))

        # the plan item moved on (its status only), the other one left as it was
        PI = pb.items
        items = {x.description: x for x in
                 fa.call("PlanItems.ListPlanItems", parent=d["plan"]).plan_items}
        fence = items["Fence and CCTV around the yard"]
        self.assertEqual((fence.status, fence.overdue, list(fence.evidence), fence.owner),
                         (PI.PLAN_ITEM_STATUS_IMPLEMENTED, False, [], "Site manager"))
        self.assertEqual(fence.due_time, fence_item.due_time)
        self.assertGreater(fence.status_time.ToNanoseconds(),
                           fence_item.status_time.ToNanoseconds())
        self.assertEqual(items["Seal checks at the gate"].status, PI.PLAN_ITEM_STATUS_PLANNED)

        # the incidents: one closed, one reopened, the one missing a notification still open
        I = pb.incidents
        closed = fa.call("SecurityIncidents.GetSecurityIncident", name=d["closable"])
        self.assertEqual((closed.state, closed.closer), (I.INCIDENT_STATE_CLOSED, manager))
        self.assertTrue(closed.HasField("close_time"))
        reopened = fa.call("SecurityIncidents.GetSecurityIncident", name=d["closed"])
        self.assertEqual((reopened.state, reopened.reopen_reason),
                         (I.INCIDENT_STATE_OPEN, "The fence was cut again at the same place"))
        still = fa.call("SecurityIncidents.GetSecurityIncident", name=d["incident"])
        self.assertEqual(still.state, I.INCIDENT_STATE_OPEN)

        # the validator's reads, in the forwarder's audit log
        validator_keys = self.admin.call("ApiKeys.ListApiKeys", parent=d["customs"],
                                         filter="role = VALIDATOR").api_keys
        self.assertEqual(len(validator_keys), 1)
        events = fa.call("AuditLog.ListAuditEvents", parent=d["fwd"], page_size=1000,
                         filter='principal = "%s"' % validator_keys[0].name).audit_events
        reads = [(e.method.rsplit("/", 1)[1], e.resource) for e in events]
        report = d["fwd"] + "/readinessReports/wco-safe-aeo"
        self.assertIn(("GetReadinessReport", report), reads)
        self.assertIn(("GetSecurityPolicy", d["policy"]), reads)
        self.assertIn(("ListSecurityPolicies", d["fwd"]), reads)
        for e in events:
            self.assertEqual(e.role, D.ROLE_VALIDATOR)
            self.assertEqual(e.principal_organization, d["customs"])
        # and the console's calls went over Connect
        self.assertIn('"protocol":"connect"', self.server.log_text().replace(" ", ""))

    def test_2_cors_from_other_origins(self):
        allowed, other = self.pages
        cfg = {"allowedPage": allowed.origin + "/index.html", "otherPage": other.origin + "/index.html",
               "base": self.base, "key": self.data["keys"]["fwdAdmin"],
               "userDataDir": harness.tmpdir("chromium-"), "artifacts": self.artifacts}
        code, out, err = node_json(CORS_SCRIPT, cfg)
        self.assertEqual(code, 0, "%s\n%s" % (out, err[-3000:]))
        self.assertEqual(out["allowedOrigin"], allowed.origin)
        self.assertEqual(out["allowed"], "ok 200 %s x-request-id:exposed" % self.data["fwd"])
        self.assertEqual(out["otherOrigin"], other.origin)
        self.assertTrue(out["other"].startswith("blocked: TypeError"), out)
        self.assertTrue(any("CORS" in m and other.origin in m for m in out["otherConsole"]),
                        out["otherConsole"])

    def test_3_no_key_in_the_server_log(self):
        log = self.server.log_text()
        self.assertIn('"msg":"call"', log.replace(" ", ""))
        for name, secret in list(self.data["keys"].items()) + [("admin", self.server.admin_secret)]:
            with self.subTest(key=name):
                self.assertNotIn(secret, log)
                # nor its secret part alone
                self.assertNotIn(secret.split("_", 2)[2], log)


if __name__ == "__main__":
    unittest.main()
