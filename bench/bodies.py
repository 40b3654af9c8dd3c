#!/usr/bin/python3
"""Writes the h2load request bodies (gRPC-framed protobuf) for the benchmark.

    /usr/bin/python3 bench/bodies.py --addr A --secret-file F --target seed.json --out DIR

DIR/health.bin      grpc.health.v1.HealthCheckRequest{}
DIR/get.bin         GetOrganizationRequest for the seeded target organization
DIR/list_first.bin  ListOrganizationsRequest{page_size: 50}
DIR/list_deep.bin   the same with the page token of page --deep-page, found by
                    walking next_page_token over the whole list (by default
                    page 3/4 of the way: 150 of 200)
DIR/create.bin      CreateOrganizationRequest with an organization document and
                    an empty organization_id (the server generates one per call)
DIR/bodies.json     what was found (page count, deep page number, ...)
"""

import argparse
import json
import os
import sys

import grpc

import common


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--deep-page", type=int, default=0)
    a = ap.parse_args()

    p = common.protos()
    O = p.orgs
    md = common.auth(open(a.secret_file).read().strip())
    target = json.load(open(a.target))
    chan = grpc.insecure_channel(a.addr)
    common.wait_ready(chan)
    get = common.method(chan, "/supplysec.v1.Organizations/GetOrganization",
                        O.GetOrganizationRequest, O.Organization)
    lst = common.method(chan, "/supplysec.v1.Organizations/ListOrganizations",
                        O.ListOrganizationsRequest, O.ListOrganizationsResponse)

    def write(name, msg):
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(common.grpc_frame(msg))

    # Health: an empty HealthCheckRequest serializes to zero bytes.
    with open(os.path.join(a.out, "health.bin"), "wb") as f:
        f.write(b"\x00\x00\x00\x00\x00")

    get_req = O.GetOrganizationRequest(name=target["name"])
    # Checked with the organization's own ADMIN key, the one h2load will send.
    org = get(get_req, metadata=common.auth(target["secret"]), timeout=10)
    write("get.bin", get_req)

    # Walk the whole list, keeping every page's token; the deep page is
    # --deep-page, or three quarters of the way down (page 150 of 200).
    first = O.ListOrganizationsRequest(page_size=a.page_size)
    write("list_first.bin", first)
    token, tokens, firsts, total = "", [], [], 0
    while True:
        r = lst(O.ListOrganizationsRequest(page_size=a.page_size, page_token=token),
                metadata=md, timeout=10)
        if not r.organizations:
            break
        tokens.append(token)
        firsts.append(r.organizations[0].name)
        total += len(r.organizations)
        token = r.next_page_token
        if not token:
            break
    pages = len(tokens)
    deep = a.deep_page or max(1, (pages * 3 + 3) // 4)
    if deep > pages:
        sys.exit("the list has only %d pages, fewer than --deep-page %d" % (pages, deep))
    deep_token, deep_first = tokens[deep - 1], firsts[deep - 1]
    write("list_deep.bin", O.ListOrganizationsRequest(page_size=a.page_size,
                                                      page_token=deep_token))

    doc = common.organization(p, common.rng(28001), 0)
    write("create.bin", O.CreateOrganizationRequest(organization=doc, organization_id=""))

    info = {"pages": pages, "organizations": total, "deep_page": deep,
            "deep_page_first": deep_first, "target": target["name"],
            "target_bytes": org.ByteSize(), "create_bytes": doc.ByteSize()}
    with open(os.path.join(a.out, "bodies.json"), "w") as f:
        json.dump(info, f)
    print("list: %d organizations in %d pages of %d; deep page %d starts at %s; "
          "GetOrganization target %s (%d bytes)" % (total, pages, a.page_size, deep,
                                                   deep_first, target["name"], org.ByteSize()))


if __name__ == "__main__":
    main()
