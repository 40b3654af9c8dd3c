"""Audit events compared with the calls that wrote them.

Every write appends an audit event (organization, principal, its
organization and role, method, resource, version before and after, request
id, time). Calls with known x-request-ids run in setUpClass; the server is
stopped and `supplysecd export` (JSON Lines, audit events last) reads the
events back; each successful write must have written exactly the event its
call implies, and failed writes and reads none."""

import hashlib
import struct
import subprocess
import time
import unittest

import grpc
from bson import json_util

from harness import SUPPLYSECD, RpcAssertions, Server, protos

C = grpc.StatusCode
ORGS = "/supplysec.v1.Organizations/"
KEYS = "/supplysec.v1.ApiKeys/"
BOOTSTRAP_KEY = "platform/apiKeys/bootstrap-admin"


def chain_hash(ev, prev):
    """The event's hash as docs/security.md defines it."""
    def text(v):
        b = v.encode()
        return struct.pack(">I", len(b)) + b
    def num(v):
        return struct.pack(">q", v)
    m = (text("supplysec.audit.v1") + text(ev["org"]) + num(ev["position"]) + num(ev["timeUs"])
         + text(ev["principal"]) + text(ev["principalOrg"]) + text(ev["role"])
         + text(ev["method"]) + text(ev["resource"]) + text(ev["requestId"])
         + num(ev["versionBefore"]) + num(ev["versionAfter"]) + prev)
    return hashlib.sha256(m).digest()


def event(org, principal, principal_org, role, method, resource, request_id, before, after):
    return {"org": org, "principal": principal, "principalOrg": principal_org, "role": role,
            "method": method, "resource": resource, "requestId": request_id,
            "versionBefore": before, "versionAfter": after}


class AuditEventsTest(unittest.TestCase, RpcAssertions):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.expected = []      # the events the successful writes imply, in call order
        cls.quiet_rids = []    # request ids of failed writes and of reads: no event
        cls.server = srv = Server()
        srv.start()
        cls.t_start_us = int(time.time() * 1e6)
        try:
            cls.calls(srv)
        except BaseException:
            srv.kill()
            raise
        cls.t_end_us = int(time.time() * 1e6)
        cls.exit_code = srv.stop(expect_code=None)
        cls.export = subprocess.run([SUPPLYSECD, "export", "--store", srv.store],
                                    stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        cls.events = []
        cls.exported = []  # with their place in the chain and hash
        for line in cls.export.stdout.splitlines():
            obj = json_util.loads(line) if line.strip() else {}
            if obj.get("kind") == "audit":
                ev = {k: (int(v) if k in ("versionBefore", "versionAfter", "timeUs", "position")
                          else v) for k, v in obj.items() if k != "kind"}
                cls.exported.append(dict(ev))
                cls.events.append({k: v for k, v in ev.items() if k not in ("position", "hash")})

    @classmethod
    def calls(cls, srv):
        pb = protos()
        admin = srv.admin()
        n = [0]

        def rid():
            n[0] += 1
            return "audit-rid-%d" % n[0]

        def write(client, method, expect=(), **fields):
            """A successful write with a fresh request id; `expect` lists the
            events it implies as (org, resource, before, after) with the
            caller's identity filled in."""
            r = rid()
            resp = client.call(method, metadata=[("x-request-id", r)], **fields)
            for org, resource, before, after in expect:
                cls.expected.append(event(org, client.who[0], client.who[1], client.who[2],
                                          method_path(method), resource, r, before, after))
            return resp

        def fails(code, client, method, **fields):
            r = rid()
            try:
                client.call(method, metadata=[("x-request-id", r)], **fields)
            except grpc.RpcError as e:
                if e.code() != code:
                    raise AssertionError("%s (%s): expected %s, got %s: %s" % (
                        method, r, code.name, e.code().name, e.details()))
                cls.quiet_rids.append(r)
                return
            raise AssertionError("%s (%s): expected %s, got OK" % (method, r, code.name))

        def read(client, method, **fields):
            r = rid()
            client.call(method, metadata=[("x-request-id", r)], **fields)
            cls.quiet_rids.append(r)

        def org(legal_name):
            return pb.orgs.Organization(legal_name=legal_name, country_code="DE",
                                        kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)

        mask = pb.field_mask.FieldMask(paths=["legal_name"])
        admin.who = (BOOTSTRAP_KEY, "", "ROLE_PLATFORM_ADMIN")

        # an organization takes its id for good (organizationIds/{id}) as it is made
        write(admin, "Organizations.CreateOrganization",
              [("aud-a", "organizationIds/aud-a", 0, 1), ("aud-a", "organizations/aud-a", 0, 1)],
              organization_id="aud-a", organization=org("Audit A"))
        k = write(admin, "ApiKeys.CreateApiKey",
                  [("aud-a", "organizations/aud-a/apiKeys/aud-adm", 0, 1)],
                  parent="organizations/aud-a", api_key_id="aud-adm",
                  api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
        a = srv.client(k.secret)
        a.who = ("organizations/aud-a/apiKeys/aud-adm", "aud-a", "ROLE_ADMIN")
        o = write(a, "Organizations.UpdateOrganization",
                  [("aud-a", "organizations/aud-a", 1, 2)],
                  organization=pb.orgs.Organization(name="organizations/aud-a",
                                                    legal_name="Audit A2"), update_mask=mask)
        write(a, "Organizations.UpdateOrganization", [("aud-a", "organizations/aud-a", 2, 3)],
              organization=pb.orgs.Organization(name="organizations/aud-a",
                                                legal_name="Audit A3", etag=o.etag),
              update_mask=mask)
        v = write(a, "ApiKeys.CreateApiKey",
                  [("aud-a", "organizations/aud-a/apiKeys/aud-view", 0, 1)],
                  parent="organizations/aud-a", api_key_id="aud-view",
                  api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
        viewer = srv.client(v.secret)
        read(viewer, "Organizations.GetOrganization", name="organizations/aud-a")
        write(a, "ApiKeys.RevokeApiKey",
              [("aud-a", "organizations/aud-a/apiKeys/aud-view", 1, 2)],
              name="organizations/aud-a/apiKeys/aud-view")
        p = write(admin, "ApiKeys.CreateApiKey", [("", "platform/apiKeys/aud-plat", 0, 1)],
                  parent="platform", api_key_id="aud-plat",
                  api_key=pb.keys.ApiKey(role=pb.common.ROLE_PLATFORM_ADMIN))
        p2 = srv.client(p.secret)
        p2.who = ("platform/apiKeys/aud-plat", "", "ROLE_PLATFORM_ADMIN")
        write(p2, "Organizations.CreateOrganization",
              [("aud-b", "organizationIds/aud-b", 0, 1), ("aud-b", "organizations/aud-b", 0, 1)],
              organization_id="aud-b", organization=org("Audit B"))
        write(p2, "ApiKeys.CreateApiKey",
              [("aud-b", "organizations/aud-b/apiKeys/aud-bed", 0, 1)],
              parent="organizations/aud-b", api_key_id="aud-bed",
              api_key=pb.keys.ApiKey(role=pb.common.ROLE_EDITOR))
        write(p2, "ApiKeys.RevokeApiKey",
              [("aud-b", "organizations/aud-b/apiKeys/aud-bed", 1, 2)],
              name="organizations/aud-b/apiKeys/aud-bed")
        # deleting an organization deletes its (revoked) keys first, each audited
        write(p2, "Organizations.DeleteOrganization",
              [("aud-b", "organizations/aud-b/apiKeys/aud-bed", 2, 0),
               ("aud-b", "organizations/aud-b", 1, 0)],
              name="organizations/aud-b")
        # a write without x-request-id: the event has the id the server made
        # and echoed
        o, call = a.call("Organizations.UpdateOrganization", with_call=True,
                         organization=pb.orgs.Organization(name="organizations/aud-a",
                                                           legal_name="Audit A4"),
                         update_mask=mask)
        made = dict(call.initial_metadata()).get("x-request-id")
        assert made, "no x-request-id echoed"
        cls.expected.append(event("aud-a", a.who[0], "aud-a", "ROLE_ADMIN",
                                  ORGS + "UpdateOrganization", "organizations/aud-a", made, 3, 4))
        cls.generated_rid = made

        # writes that fail write nothing; reads write nothing
        fails(C.ABORTED, a, "Organizations.UpdateOrganization",
              organization=pb.orgs.Organization(name="organizations/aud-a",
                                                legal_name="Stale", etag=o.etag + "0"),
              update_mask=mask)
        fails(C.INVALID_ARGUMENT, a, "Organizations.UpdateOrganization",
              organization=pb.orgs.Organization(name="organizations/aud-a", country_code="XX"),
              update_mask=pb.field_mask.FieldMask(paths=["country_code"]))
        fails(C.PERMISSION_DENIED, a, "Organizations.UpdateOrganization",
              organization=pb.orgs.Organization(
                  name="organizations/aud-a", kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY),
              update_mask=pb.field_mask.FieldMask(paths=["kind"]))
        fails(C.PERMISSION_DENIED, a, "Organizations.CreateOrganization",
              organization_id="aud-c", organization=org("Audit C"))
        fails(C.FAILED_PRECONDITION, admin, "Organizations.DeleteOrganization",
              name="organizations/aud-a")
        fails(C.ALREADY_EXISTS, a, "ApiKeys.CreateApiKey", parent="organizations/aud-a",
              api_key_id="aud-view", api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
        fails(C.FAILED_PRECONDITION, a, "ApiKeys.RevokeApiKey",
              name="organizations/aud-a/apiKeys/aud-view")
        fails(C.NOT_FOUND, a, "Organizations.DeleteOrganization", name="organizations/aud-b")
        fails(C.UNAUTHENTICATED, viewer, "Organizations.UpdateOrganization",
              organization=pb.orgs.Organization(name="organizations/aud-a", legal_name="Gone"),
              update_mask=mask)
        read(a, "Organizations.GetOrganization", name="organizations/aud-a")
        read(a, "ApiKeys.ListApiKeys", parent="organizations/aud-a")
        read(admin, "Organizations.ListOrganizations")

    def test_server_stopped_and_export_ran(self):
        self.assertEqual(self.exit_code, 0, self.server.log_tail())
        self.assertExit(self.export.returncode, 0, self.export.stderr, "supplysecd exported")

    def test_export_chain_recomputed(self):
        """Each organization's events are chained: positions 1, 2, 3... and
        each hash SHA-256 over the event's canonical form (docs/security.md)
        and the previous hash, recomputed here apart from the server."""
        by_org = {}
        for ev in self.exported:
            by_org.setdefault(ev["org"], []).append(ev)
        self.assertIn("aud-a", by_org)
        for org, evs in by_org.items():
            prev = bytes(32)
            for i, ev in enumerate(evs):
                self.assertEqual(ev["position"], i + 1, (org, ev))
                want = chain_hash(ev, prev)
                self.assertEqual(ev["hash"], want.hex(), (org, ev))
                prev = want

    def test_bootstrap_event(self):
        boot = [e for e in self.events if e.get("method") == "bootstrap"]
        self.assertEqual(len(boot), 1, self.events)
        got = {k: v for k, v in boot[0].items() if k != "timeUs"}
        self.assertEqual(got, event("", "bootstrap", "", "ROLE_PLATFORM_ADMIN", "bootstrap",
                                    BOOTSTRAP_KEY, "", 0, 1))

    def test_each_write_recorded_as_called(self):
        got = [{k: v for k, v in e.items() if k != "timeUs"} for e in self.events
               if e.get("method") != "bootstrap"]
        # the export orders events within each organization; compare per organization
        for org in sorted({e["org"] for e in self.expected} | {e.get("org") for e in got}):
            with self.subTest(org=org):
                self.assertEqual([e for e in got if e.get("org") == org],
                                 [e for e in self.expected if e["org"] == org])
        self.assertEqual(len(got), len(self.expected))

    def test_failed_writes_and_reads_recorded_nothing(self):
        rids = {e.get("requestId") for e in self.events}
        self.assertEqual(sorted(rids & set(self.quiet_rids)), [])

    def test_generated_request_id_recorded(self):
        self.assertIn(self.generated_rid, {e.get("requestId") for e in self.events})

    def test_event_times(self):
        ours = [e for e in self.events if e.get("method") != "bootstrap"]
        self.assertTrue(ours)
        for e in ours:
            self.assertGreaterEqual(e["timeUs"], self.t_start_us - 2000000, e)
            self.assertLessEqual(e["timeUs"], self.t_end_us + 2000000, e)
        for org in {e["org"] for e in ours}:
            times = [e["timeUs"] for e in ours if e["org"] == org]
            self.assertEqual(times, sorted(times), "events of %r out of time order" % org)


def method_path(name):
    svc, method = name.split(".")
    return (ORGS if svc == "Organizations" else KEYS) + method


if __name__ == "__main__":
    unittest.main()
