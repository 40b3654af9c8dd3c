"""Filtered lists: does a deep page cost what the first does?

    /usr/bin/python3 bench/filters.py [--policies 10000] [--store sqlite|mongodb://...]

Starts build/supplysecd on a fresh SQLite store in a temp dir (or on the
MongoDB URI given), creates one organization and N security policies in it
(every 10th submitted for review, so `state = IN_REVIEW` holds for a tenth),
then times ListSecurityPolicies (page_size 50), each figure the median of 15
calls, for: the first page and the last page of the whole list; the first
and the last page of `state = IN_REVIEW`; the first page of a filter that
holds for no record (an equality: SQLite drives the list from the facets'
value index, so it finds none at once).
A deep page is reached through its page token (a keyset cursor), not by
skipping. Prints a markdown table; stops the server.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SVC = "/supplysec.v1.SecurityPolicies/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", type=int, default=10000)
    ap.add_argument("--store", default="sqlite")
    args = ap.parse_args()
    p = common.protos()
    import importlib
    pol = importlib.import_module("supplysec.v1.security_policies_pb2")
    tmp = tempfile.mkdtemp(prefix="supplysec-bench-filters-")
    store = "sqlite:%s/store.db" % tmp if args.store == "sqlite" else args.store
    binary = os.path.join(common.REPO, "build", "supplysecd")
    secret = subprocess.run([binary, "bootstrap", "--store", store], capture_output=True,
                            text=True, check=True).stdout.strip()
    log = open(os.path.join(tmp, "server.log"), "w")
    srv = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--store", store,
                            "--log-level", "warn"], stderr=log, stdin=subprocess.DEVNULL)
    try:
        port = None
        for _ in range(150):
            # the port is in the start-up line even at warn: read it from /proc
            out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                if "pid=%d," % srv.pid in line:
                    port = line.split()[3].rsplit(":", 1)[1]
            if port:
                break
            time.sleep(0.1)
        if not port:
            sys.exit("supplysecd did not listen")
        chan = grpc.insecure_channel("127.0.0.1:" + port)
        common.wait_ready(chan)
        md = common.auth(secret)
        create_org = common.method(chan, "/supplysec.v1.Organizations/CreateOrganization",
                                   p.orgs.CreateOrganizationRequest, p.orgs.Organization)
        org = create_org(p.orgs.CreateOrganizationRequest(
            organization=p.orgs.Organization(legal_name="Bench", country_code="DE",
                                             kind=p.orgs.ORGANIZATION_KIND_OPERATOR),
            organization_id="bench"), metadata=md).name
        create = common.method(chan, SVC + "CreateSecurityPolicy",
                               pol.CreateSecurityPolicyRequest, pol.SecurityPolicy)
        submit = common.method(chan, SVC + "SubmitSecurityPolicy",
                               pol.SubmitSecurityPolicyRequest, pol.SecurityPolicy)
        lst = common.method(chan, SVC + "ListSecurityPolicies",
                            pol.ListSecurityPoliciesRequest, pol.ListSecurityPoliciesResponse)
        t0 = time.time()
        futures = []
        for i in range(args.policies):
            futures.append(create.future(pol.CreateSecurityPolicyRequest(
                parent=org, security_policy_id="p%06d" % i,
                security_policy=pol.SecurityPolicy(title="Policy %d" % i)), metadata=md))
            if len(futures) >= 64:
                [f.result() for f in futures]
                futures = []
        [f.result() for f in futures]
        futures = [submit.future(pol.SubmitSecurityPolicyRequest(
            name="%s/securityPolicies/p%06d" % (org, i)), metadata=md)
            for i in range(0, args.policies, 10)]
        [f.result() for f in futures]
        seeded = time.time() - t0

        def page(flt, token=""):
            return lst(pol.ListSecurityPoliciesRequest(parent=org, filter=flt, page_size=50,
                                                       page_token=token), metadata=md)

        def last_token(flt):
            token, prev = "", ""
            while True:
                r = page(flt, token)
                if not r.next_page_token:
                    return prev
                prev, token = token, r.next_page_token

        def timed(flt, token=""):
            ms = []
            for _ in range(15):
                t = time.perf_counter()
                page(flt, token)
                ms.append((time.perf_counter() - t) * 1000)
            return statistics.median(ms)

        rows = [
            ("no filter, first page", timed("")),
            ("no filter, last page", timed("", last_token(""))),
            ("`state = IN_REVIEW`, first page", timed("state = IN_REVIEW")),
            ("`state = IN_REVIEW`, last page", timed("state = IN_REVIEW",
                                                     last_token("state = IN_REVIEW"))),
            ("`title = \"none\"` (holds for none), the one page", timed('title = "none"')),
        ]
        print("%d policies (%s), seeded in %.1f s; ListSecurityPolicies, page_size 50, median "
              "of 15 calls" % (args.policies, args.store.split(":")[0], seeded))
        print()
        print("| list | ms |")
        print("|---|--:|")
        for name, ms in rows:
            print("| %s | %.2f |" % (name, ms))
    finally:
        srv.terminate()
        srv.wait(timeout=30)
        log.close()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
