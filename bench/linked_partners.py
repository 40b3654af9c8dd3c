"""What certificates_from_organization costs (docs/performance.md, "Partners
linked to their organization"): a partner linked that way reads its
organization's record at each read of it. Starts a server on a fresh SQLite
store (the e2e harness's: build/, or SUPPLYSEC_BUILD_DIR), makes N partners
linked to 200 organizations that publish their certificates and N with the
certificates typed in, and prints the median time of a GetBusinessPartner
(500 calls) and of a ListBusinessPartners page of all N (20 calls), twice.

    N=1000 /usr/bin/python3 bench/linked_partners.py
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import Server, protos  # noqa: E402

N = int(os.environ.get("N", "1000"))
pb = protos()
O, P = pb.orgs, pb.partners
with Server(workers=2) as srv:
    adm = srv.admin()
    def org(oid, publish=False):
        return adm.call("Organizations.CreateOrganization", organization_id=oid,
                        organization=O.Organization(
                            legal_name=oid, country_code="PL",
                            kind=O.ORGANIZATION_KIND_OPERATOR, publish_certificates=publish,
                            certificates=[O.Certificate(type=O.CERTIFICATE_TYPE_CTPAT,
                                issuer="KAS", number="PLAEOS%04d" % 1,
                                valid_until=pb.timestamp.Timestamp(seconds=int(time.time()) + 10**8))]
                            if publish else [])).name
    fwd = org("fwd-linked"); plain = org("fwd-plain")
    targets = [org("carrier-%04d" % i, True) for i in range(200)]
    ka = srv.client(adm.call("ApiKeys.CreateApiKey", parent=fwd,
                             api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN)).secret)
    kp = srv.client(adm.call("ApiKeys.CreateApiKey", parent=plain,
                             api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN)).secret)
    cert = P.PartnerCertificate(type=P.PARTNER_CERTIFICATE_TYPE_AEO_S, number="PLAEOS0001",
                                issuing_country="PL", issuing_authority="KAS",
                                valid_until=pb.timestamp.Timestamp(seconds=int(time.time()) + 10**8),
                                verified_by=P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER,
                                verify_time=pb.timestamp.Timestamp(seconds=int(time.time()) - 100))
    for i in range(N):
        ka.call("BusinessPartners.CreateBusinessPartner", parent=fwd, business_partner_id="p%04d" % i,
                business_partner=P.BusinessPartner(legal_name="P", country_code="PL",
                    risk_tier=P.RISK_TIER_LOW, organization=targets[i % len(targets)],
                    certificates_from_organization=True))
        kp.call("BusinessPartners.CreateBusinessPartner", parent=plain, business_partner_id="p%04d" % i,
                business_partner=P.BusinessPartner(legal_name="P", country_code="PL",
                    risk_tier=P.RISK_TIER_LOW, certificates=[cert]))
    got = ka.call("BusinessPartners.GetBusinessPartner", name=fwd + "/businessPartners/p0001")
    assert got.certificates and got.certificates_from_organization, got
    def timeit(fn, n):
        ts = []
        for _ in range(n):
            t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3
    for rnd in range(2):
        for label, c, parent in (("linked", ka, fwd), ("typed-in", kp, plain)):
            g = timeit(lambda: c.call("BusinessPartners.GetBusinessPartner", name=parent + "/businessPartners/p0007"), 500)
            l = timeit(lambda: c.call("BusinessPartners.ListBusinessPartners", parent=parent, page_size=1000), 20)
            print("%-8s Get median %.3f ms; List page of %d median %.1f ms" % (label, g, N, l))
