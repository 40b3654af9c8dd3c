#!/usr/bin/python3
"""Seeds a supplysec server for the benchmark.

    /usr/bin/python3 bench/seed.py --addr 127.0.0.1:PORT --secret-file F --out F.json [--orgs 10000]

Creates N organizations, each with a realistic document, and one ROLE_ADMIN
API key per organization, keeping ~16 calls in flight (gRPC futures). Prints
the seeding rate; writes to --out the name and admin secret of one org in
the middle of the list (the GetOrganization target). Exits non-zero if any
call failed.
"""

import argparse
import json
import sys
import threading
import time

import grpc

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--orgs", type=int, default=10000)
    ap.add_argument("--inflight", type=int, default=16)
    a = ap.parse_args()

    p = common.protos()
    secret = open(a.secret_file).read().strip()
    md = common.auth(secret)
    chan = grpc.insecure_channel(a.addr)
    common.wait_ready(chan)
    create_org = common.method(chan, "/supplysec.v1.Organizations/CreateOrganization",
                               p.orgs.CreateOrganizationRequest, p.orgs.Organization)
    create_key = common.method(chan, "/supplysec.v1.ApiKeys/CreateApiKey",
                               p.keys.CreateApiKeyRequest, p.keys.CreateApiKeyResponse)

    rng = common.rng()
    slots = threading.Semaphore(a.inflight)
    lock = threading.Lock()
    errors = []
    done = [0]
    target_index = a.orgs // 2
    target = {}

    def fail(what, e):
        with lock:
            errors.append("%s: %s %s" % (what, e.code(), e.details()))
        slots.release()

    def on_key(i, org_name, fut):
        try:
            r = fut.result()
        except grpc.RpcError as e:
            return fail("CreateApiKey " + org_name, e)
        if i == target_index:
            target.update(name=org_name, secret=r.secret, key=r.api_key.name)
        with lock:
            done[0] += 1
        slots.release()

    def on_org(i, fut):
        try:
            org = fut.result()
        except grpc.RpcError as e:
            return fail("CreateOrganization #%d" % i, e)
        req = p.keys.CreateApiKeyRequest(
            parent=org.name,
            api_key=p.keys.ApiKey(display_name="ops admin", role=p.common.ROLE_ADMIN))
        f = create_key.future(req, metadata=md, timeout=60)
        f.add_done_callback(lambda f2: on_key(i, org.name, f2))

    t0 = time.monotonic()
    for i in range(a.orgs):
        slots.acquire()
        if errors:
            slots.release()
            break
        org = common.organization(p, rng, i)
        req = p.orgs.CreateOrganizationRequest(
            organization=org, organization_id="op-%05d-%s" % (i, org.country_code.lower()))
        f = create_org.future(req, metadata=md, timeout=60)
        f.add_done_callback(lambda f2, i=i: on_org(i, f2))
        if i and i % 2000 == 0:
            print("  seeded %d organizations (%.0f/s)" % (i, i / (time.monotonic() - t0)),
                  flush=True)
    for _ in range(a.inflight):
        slots.acquire()
    dt = time.monotonic() - t0
    if errors:
        print("seeding FAILED: %d error(s); first: %s" % (len(errors), errors[0]),
              file=sys.stderr)
        sys.exit(1)
    n = done[0]
    print("seeded %d organizations + %d ADMIN keys in %.1f s: %.0f organizations/s, "
          "%.0f calls/s (%d in flight)" % (n, n, dt, n / dt, 2 * n / dt, a.inflight), flush=True)
    with open(a.out, "w") as f:
        json.dump(target, f)


if __name__ == "__main__":
    main()
