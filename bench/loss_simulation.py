"""What SimulateAnnualLoss costs (docs/performance.md, "Annual loss
simulation"): starts a server on a fresh SQLite store (the e2e harness's:
build/, or SUPPLYSEC_BUILD_DIR), makes an assessment on the semi-quantitative
preset with SCENARIOS threat scenarios (levels cycling through the five
consequence and five likelihood levels, so every rate of the preset, from
once a century to weekly, is used equally), each with an accepted
countermeasure one level lower on both scales, then times
SimulateAnnualLoss at TRIALS trials three times and prints the medians and
the server's CPU time.

    SCENARIOS=1000 TRIALS=100000 /usr/bin/python3 bench/loss_simulation.py
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import Server, protos  # noqa: E402

N = int(os.environ.get("SCENARIOS", "1000"))
TRIALS = int(os.environ.get("TRIALS", "100000"))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


pb = protos()
A, T, CM = pb.assessments, pb.scenarios, pb.countermeasures
with Server(workers=2) as srv:
    adm = srv.admin()
    org = adm.call("Organizations.CreateOrganization", organization_id="bench-eal",
                   organization=pb.orgs.Organization(
                       legal_name="Bench", country_code="DE",
                       kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).name
    key = adm.call("ApiKeys.CreateApiKey", parent=org,
                   api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN)).secret
    c = srv.client(key)
    scheme = c.call("ScoringSchemes.CreateScoringScheme", parent=org,
                    scoring_scheme=pb.scoring.ScoringScheme(
                        title="Costs", preset=pb.scoring.SCORING_PRESET_SEMI_QUANTITATIVE)).name
    target = c.call("BusinessPartners.CreateBusinessPartner", parent=org,
                    business_partner=pb.partners.BusinessPartner(
                        legal_name="Target", country_code="DE",
                        risk_tier=pb.partners.RISK_TIER_LOW)).name
    a = c.call("SecurityAssessments.CreateSecurityAssessment", parent=org,
               security_assessment=A.SecurityAssessment(title="EAL", scoring_scheme=scheme)).name
    for i in range(N):
        cl, ll = i % 5 + 1, (i // 5) % 5 + 1
        s = c.call("ThreatScenarios.CreateThreatScenario", parent=a,
                   threat_scenario=T.ThreatScenario(
                       title="S%d" % i, category=T.THREAT_CATEGORY_THEFT,
                       source=T.SCENARIO_SOURCE_ASSESSMENT_TEAM, target=target,
                       consequence_level=cl, likelihood_level=ll)).name
        m = c.call("Countermeasures.CreateCountermeasure", parent=s,
                   countermeasure=CM.Countermeasure(
                       description="M", aeo_criterion=pb.common.AEO_CRITERION_C_CARGO,
                       priority=1, residual_consequence_level=max(1, cl - 1),
                       residual_likelihood_level=max(1, ll - 1))).name
        c.call("Countermeasures.AcceptCountermeasure", name=m)
    walls, cpus = [], []
    for _ in range(3):
        cpu0, t0 = cpu_seconds(srv.proc.pid), time.perf_counter()
        r = c.call("SecurityAssessments.SimulateAnnualLoss", name=a, trials=TRIALS, seed=1,
                   timeout=600)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds(srv.proc.pid) - cpu0)
    print("%d scenarios x %d trials, before and after: median %.2f s wall, %.2f s server CPU "
          "(runs: %s)" % (N, TRIALS, statistics.median(walls), statistics.median(cpus),
                          ", ".join("%.2f" % w for w in walls)))
    print("total before: mean %.0f p50 %.0f p90 %.0f p99 %.0f %s; after: mean %.0f p99 %.0f" % (
        r.total_before.mean, r.total_before.p50, r.total_before.p90, r.total_before.p99,
        r.currency, r.total_after.mean, r.total_after.p99))
