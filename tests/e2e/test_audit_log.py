"""The AuditLog service end to end: reading an organization's audit log
(ListAuditEvents), checking its hash chain (VerifyAuditLog), catching
tampering done directly in the store, and carrying the chain through
`supplysecd export` / `supplysecd import`.

* AuditLogApiTest makes known writes on the run's store (SQLite, or MongoDB
  with SUPPLYSEC_E2E_STORE=mongodb) and checks what the API hands back:
  the events, their order, pages, filters, who may read, and Verify with and
  without a pinned head.
* SqliteTamperTest and MongoTamperTest change the audit events behind the
  server's back, one kind of change per organization, and check that
  VerifyAuditLog reports each where it breaks. Both run in every run: the
  SQLite one on a SQLite file of its own, the MongoDB one on the run's
  double (SUPPLYSEC_E2E_STORE=mongodb) or, otherwise, on a double it starts.
* ExportImportTest moves a store (the run's kind) into a fresh SQLite store
  and checks that the chain and its head survive, and that an edited export
  is refused.

The hash is recomputed here, apart from the server, from the canonical form
documented at the top of internal/store/audit_chain.c.
"""

import hashlib
import json
import os
import sqlite3
import struct
import subprocess
import time
import unittest

import grpc

from harness import (STORE_KIND, SUPPLYSECD, MongoDouble, RpcAssertions, Server, ServerTestCase,
                     protos, store_uri, tmpdir)

C = grpc.StatusCode
ORGS = "/supplysec.v1.Organizations/"
KEYS = "/supplysec.v1.ApiKeys/"
PARTNERS = "/supplysec.v1.BusinessPartners/"
BOOTSTRAP_KEY = "platform/apiKeys/bootstrap-admin"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def chain_hash(ev, prev):
    """SHA-256 of an event's canonical form and the previous event's hash
    (32 zero bytes before the first), as internal/store/audit_chain.c
    defines it. `ev` uses the export's field names."""
    def text(v):
        b = v.encode()
        return struct.pack(">I", len(b)) + b

    def num(v):
        return struct.pack(">q", v)
    m = (text("supplysec.audit.v1") + text(ev["org"]) + num(ev["position"]) + num(ev["timeUs"])
         + text(ev["principal"]) + text(ev["principalOrg"]) + text(ev["role"])
         + text(ev["method"]) + text(ev["resource"]) + text(ev["requestId"])
         + num(ev["versionBefore"]) + num(ev["versionAfter"]) + (prev or bytes(32)))
    return hashlib.sha256(m).digest()


def time_us(ts):
    return ts.seconds * 1000000 + ts.nanos // 1000


def rfc3339(us):
    """A filter literal for a time in microseconds since the epoch."""
    t = time.gmtime(us // 1000000)
    return '"%s.%06dZ"' % (time.strftime("%Y-%m-%dT%H:%M:%S", t), us % 1000000)


def list_all(client, parent, filter="", page_size=1000, order_by=""):
    """Every event of the log through all pages; also the number of pages."""
    events, token, pages = [], "", 0
    while True:
        r = client.call("AuditLog.ListAuditEvents", parent=parent, filter=filter,
                        page_size=page_size, page_token=token, order_by=order_by)
        pages += 1
        events += list(r.audit_events)
        token = r.next_page_token
        if not token:
            return events, pages
        if pages > 1000:
            raise AssertionError("more than 1000 pages: the token never ends")


def verify(client, parent, pin=None):
    """VerifyAuditLog; pin is (position, hex hash) or None."""
    if pin is None:
        return client.call("AuditLog.VerifyAuditLog", parent=parent)
    return client.call("AuditLog.VerifyAuditLog", parent=parent, pinned_position=pin[0],
                       pinned_hash=pin[1])


def operator(pb, legal_name):
    return pb.orgs.Organization(legal_name=legal_name, country_code="DE",
                                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)


def rename(pb, client, org, legal_name, rid=None):
    return client.call("Organizations.UpdateOrganization",
                       metadata=[("x-request-id", rid)] if rid else None,
                       organization=pb.orgs.Organization(name=org, legal_name=legal_name),
                       update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))


# --------------------------------------------------------------------------
# 1. Through the API
# --------------------------------------------------------------------------

class AuditLogApiTest(ServerTestCase):
    """Known writes in setUpClass, then what ListAuditEvents and
    VerifyAuditLog say about them. Nothing in the tests writes to al-a, al-b
    or the platform (reads and verifications record no event), so every
    test sees the same logs."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = cls.pb
        admin = cls.admin
        cls.expected = []  # al-a's events, in order: (principal, principal_org, role, method,
        #                    resource, request_id, version_before, version_after)
        n = [0]

        def call(client, who, method, events, **fields):
            """A write with a known request id; `events` lists the
            (resource, before, after) it records in al-a's log."""
            n[0] += 1
            rid = "al-rid-%d" % n[0]
            resp = client.call(method, metadata=[("x-request-id", rid)], **fields)
            for resource, before, after in events:
                cls.expected.append(who + ("/supplysec.v1." + method.replace(".", "/"),
                                           resource, rid, before, after))
            return resp

        plat = (BOOTSTRAP_KEY, "", pb.common.ROLE_PLATFORM_ADMIN)
        adm = ("organizations/al-a/apiKeys/adm", "organizations/al-a", pb.common.ROLE_ADMIN)
        edi = ("organizations/al-a/apiKeys/edit", "organizations/al-a", pb.common.ROLE_EDITOR)

        cls.t_start = int(time.time() * 1e6)
        # group 1: al-a made and given an ADMIN; al-b made in between (its own log)
        call(admin, plat, "Organizations.CreateOrganization",
             [("organizationIds/al-a", 0, 1), ("organizations/al-a", 0, 1)],
             organization_id="al-a", organization=operator(pb, "Audit Log A"))
        call(admin, plat, "Organizations.CreateOrganization", [],
             organization_id="al-b", organization=operator(pb, "Audit Log B"))
        b_admin = call(admin, plat, "ApiKeys.CreateApiKey", [], parent="organizations/al-b",
                       api_key_id="adm", api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
        a_admin = call(admin, plat, "ApiKeys.CreateApiKey",
                       [("organizations/al-a/apiKeys/adm", 0, 1)], parent="organizations/al-a",
                       api_key_id="adm", api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
        time.sleep(0.05)
        cls.t_mid = int(time.time() * 1e6)
        time.sleep(0.05)
        # group 2: al-a's ADMIN and EDITOR at work, then the platform again
        cls.a_admin = a = cls.server.client(a_admin.secret)
        cls.b_admin = cls.server.client(b_admin.secret)
        cls.a_viewer = cls.server.client(call(
            a, adm, "ApiKeys.CreateApiKey", [("organizations/al-a/apiKeys/view", 0, 1)],
            parent="organizations/al-a", api_key_id="view",
            api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER)).secret)
        cls.a_editor = e = cls.server.client(call(
            a, adm, "ApiKeys.CreateApiKey", [("organizations/al-a/apiKeys/edit", 0, 1)],
            parent="organizations/al-a", api_key_id="edit",
            api_key=pb.keys.ApiKey(role=pb.common.ROLE_EDITOR)).secret)
        mask = pb.field_mask.FieldMask(paths=["legal_name"])
        call(a, adm, "Organizations.UpdateOrganization", [("organizations/al-a", 1, 2)],
             organization=pb.orgs.Organization(name="organizations/al-a", legal_name="A2"),
             update_mask=mask)
        call(e, edi, "BusinessPartners.CreateBusinessPartner",
             [("organizations/al-a/businessPartners/carrier", 0, 1)],
             parent="organizations/al-a", business_partner_id="carrier",
             business_partner=pb.partners.BusinessPartner(
                 legal_name="Carrier", country_code="PL", risk_tier=pb.partners.RISK_TIER_LOW))
        call(a, adm, "Organizations.UpdateOrganization", [("organizations/al-a", 2, 3)],
             organization=pb.orgs.Organization(name="organizations/al-a", legal_name="A3"),
             update_mask=mask)
        call(a, adm, "ApiKeys.CreateApiKey", [("organizations/al-a/apiKeys/gone", 0, 1)],
             parent="organizations/al-a", api_key_id="gone",
             api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
        call(a, adm, "ApiKeys.RevokeApiKey", [("organizations/al-a/apiKeys/gone", 1, 2)],
             name="organizations/al-a/apiKeys/gone")
        ops = call(admin, plat, "ApiKeys.CreateApiKey", [], parent="platform", api_key_id="ops",
                   api_key=pb.keys.ApiKey(role=pb.common.ROLE_PLATFORM_ADMIN))
        cls.ops = cls.server.client(ops.secret)
        cls.ops_rid = "al-rid-%d" % n[0]
        call(admin, plat, "Organizations.UpdateOrganization", [("organizations/al-a", 3, 4)],
             organization=pb.orgs.Organization(name="organizations/al-a", legal_name="A4"),
             update_mask=mask)
        time.sleep(0.05)
        cls.t_end = int(time.time() * 1e6)
        cls.events, _ = list_all(a, "organizations/al-a")

    def positions(self, events):
        return [e.position for e in events]

    def filtered(self, flt, client=None, page_size=1000):
        events, _ = list_all(client or self.a_admin, "organizations/al-a", filter=flt,
                             page_size=page_size)
        return self.positions(events)

    # -- the events --

    def test_events_are_the_writes_in_position_order(self):
        """ADMIN lists exactly the events the writes imply, oldest first,
        named organizations/al-a/auditEvents/{position}, positions 1, 2, 3...
        with method, resource, principal, its organization, role, request id
        and the versions before and after; al-b's events (made in between)
        are not in al-a's log."""
        got = [(e.principal, e.principal_organization, e.role, e.method, e.resource,
                e.request_id, e.version_before, e.version_after) for e in self.events]
        self.assertEqual(got, self.expected)
        self.assertEqual(self.positions(self.events), list(range(1, len(self.expected) + 1)))
        self.assertEqual([e.name for e in self.events],
                         ["organizations/al-a/auditEvents/%d" % p
                          for p in range(1, len(self.expected) + 1)])

    def test_event_times(self):
        """Event times lie within the calls' window, never go back, and put
        the events of group 1 before the mark between the groups and the
        rest after it."""
        times = [time_us(e.event_time) for e in self.events]
        self.assertEqual(times, sorted(times))
        self.assertGreaterEqual(times[0], self.t_start - 1000000)
        self.assertLessEqual(times[-1], self.t_end + 1000000)
        self.assertTrue(all(t < self.t_mid for t in times[:3]), times)
        self.assertTrue(all(self.t_mid <= t < self.t_end for t in times[3:]), times)

    def test_hashes_are_the_chain_recomputed(self):
        """Each event's hash is SHA-256 over its canonical form and the
        previous event's hash, recomputed here from the fields the API
        hands out."""
        pb = self.pb
        prev = None
        for e in self.events:
            ev = {"org": "al-a", "position": e.position, "timeUs": time_us(e.event_time),
                  "principal": e.principal,
                  "principalOrg": e.principal_organization[len("organizations/"):],
                  "role": pb.common.Role.Name(e.role), "method": e.method,
                  "resource": e.resource, "requestId": e.request_id,
                  "versionBefore": e.version_before, "versionAfter": e.version_after}
            prev = chain_hash(ev, prev)
            self.assertEqual(e.hash, prev.hex(), e)

    # -- pages --

    def test_pages_lose_and_repeat_nothing(self):
        """Small pages, with and without a filter, give the same events as
        one large page, in order; only the last page has no token."""
        for size in (1, 2, 3, 4, 10, 11, 12, 0):
            with self.subTest(page_size=size):
                got, pages = list_all(self.a_admin, "organizations/al-a", page_size=size)
                self.assertEqual([e.name for e in got], [e.name for e in self.events])
                self.assertEqual(list(got), list(self.events))
                if size:
                    self.assertGreaterEqual(pages, -(-len(self.events) // size))
        want = self.filtered('principal = "organizations/al-a/apiKeys/adm"')
        self.assertEqual(want, [4, 5, 6, 8, 9, 10])
        for size in (1, 2, 4):
            with self.subTest(filtered_page_size=size):
                self.assertEqual(self.filtered('principal = "organizations/al-a/apiKeys/adm"',
                                               page_size=size), want)

    def test_pages_follow_events_appended_meanwhile(self):
        """A page token continues after the last event handed out: an event
        appended between two pages is on a later page (al-c, an organization
        of its own, so the other tests' logs stay as they are)."""
        pb = self.pb
        self.make_org("al-c")
        r = self.admin.call("AuditLog.ListAuditEvents", parent="organizations/al-c", page_size=1)
        self.assertEqual(self.positions(r.audit_events), [1])
        self.assertTrue(r.next_page_token)
        rename(pb, self.admin, "organizations/al-c", "C2")
        seen = list(r.audit_events)
        token = r.next_page_token
        while token:
            r = self.admin.call("AuditLog.ListAuditEvents", parent="organizations/al-c",
                                page_size=1, page_token=token)
            seen += r.audit_events
            token = r.next_page_token
        self.assertEqual([(e.position, e.resource) for e in seen],
                         [(1, "organizationIds/al-c"), (2, "organizations/al-c"),
                          (3, "organizations/al-c")])

    def test_newest_first(self):
        """order_by "position desc" pages back from the newest event: the same events in
        reverse, with and without a filter; "position" (and "position asc") is the default
        order; any other order is INVALID_ARGUMENT naming order_by; a token of one order is
        refused for the other."""
        names = [e.name for e in self.events]
        for order in ("position desc", "  position   desc ", "position DESC"):
            for size in (1, 3, 0):
                with self.subTest(order_by=order, page_size=size):
                    if order == "position DESC":
                        e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call,
                                                "AuditLog.ListAuditEvents",
                                                parent="organizations/al-a", order_by=order)
                        self.assertIn("order_by", e.details())
                        continue
                    got, _ = list_all(self.a_admin, "organizations/al-a", page_size=size,
                                      order_by=order)
                    self.assertEqual([e.name for e in got], names[::-1])
        for order in ("position", "position asc", ""):
            with self.subTest(order_by=order):
                got, _ = list_all(self.a_admin, "organizations/al-a", page_size=2, order_by=order)
                self.assertEqual([e.name for e in got], names)
        flt = 'principal = "organizations/al-a/apiKeys/adm"'
        got, _ = list_all(self.a_admin, "organizations/al-a", flt, 2, "position desc")
        self.assertEqual([e.position for e in got], self.filtered(flt)[::-1])
        for bad in ("event_time desc", "position desc, method", "desc", "position sideways",
                    "positiondesc"):
            with self.subTest(bad=bad):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call,
                                        "AuditLog.ListAuditEvents", parent="organizations/al-a",
                                        order_by=bad)
                self.assertIn("order_by", e.details())
        t = self.a_admin.call("AuditLog.ListAuditEvents", parent="organizations/al-a",
                              page_size=1, order_by="position desc").next_page_token
        self.assertTrue(t)
        self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "AuditLog.ListAuditEvents",
                            parent="organizations/al-a", page_size=1, page_token=t)
        # with a long filter too (the order must not be what a long query key loses)
        long_flt = " OR ".join('resource = "organizations/al-a/x%02d-%s"' % (i, "y" * 40)
                               for i in range(20)) + ' OR method != ""'
        self.assertGreater(len(long_flt), 1000)
        t = self.a_admin.call("AuditLog.ListAuditEvents", parent="organizations/al-a",
                              page_size=1, filter=long_flt).next_page_token
        self.assertTrue(t)
        self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "AuditLog.ListAuditEvents",
                            parent="organizations/al-a", page_size=1, filter=long_flt,
                            order_by="position desc", page_token=t)

    def test_page_token_of_another_query_refused(self):
        """A page token is good for its own query only: with another filter,
        another parent, or made up, it is INVALID_ARGUMENT."""
        r = self.a_admin.call("AuditLog.ListAuditEvents", parent="organizations/al-a",
                              page_size=2, filter='method != "x"')
        self.assertTrue(r.next_page_token)
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call,
                                "AuditLog.ListAuditEvents", parent="organizations/al-a",
                                page_size=2, filter='method != "y"', page_token=r.next_page_token)
        self.assertIn("page_token", e.details())
        self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "AuditLog.ListAuditEvents",
                            parent="organizations/al-a", page_size=2,
                            page_token=r.next_page_token)
        t = self.admin.call("AuditLog.ListAuditEvents", parent="organizations/al-a",
                            page_size=1).next_page_token
        self.assertTrue(t)
        self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call, "AuditLog.ListAuditEvents",
                            parent="platform", page_size=1, page_token=t)
        self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call, "AuditLog.ListAuditEvents",
                            parent="organizations/al-b", page_size=1, page_token=t)
        self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "AuditLog.ListAuditEvents",
                            parent="organizations/al-a", page_token="not-a-token")

    # -- filters --

    def test_filters(self):
        """Each facet keeps the events it names, and combinations too:
        method, principal, principal_organization (unset for platform keys,
        so only != matches them), role, resource, event_time."""
        upd, key = '"%sUpdateOrganization"' % ORGS, '"%sCreateApiKey"' % KEYS
        cases = {
            "method = " + upd: [6, 8, 11],
            "method = " + key: [3, 4, 5, 9],
            'method = "%sCreateBusinessPartner"' % PARTNERS: [7],
            'method = "/supplysec.v1.Organizations/GetOrganization"': [],
            'principal = "organizations/al-a/apiKeys/adm"': [4, 5, 6, 8, 9, 10],
            'principal = "%s"' % BOOTSTRAP_KEY: [1, 2, 3, 11],
            'principal = "organizations/al-a/apiKeys/edit"': [7],
            'principal_organization = "organizations/al-a"': [4, 5, 6, 7, 8, 9, 10],
            'principalOrganization = "organizations/al-a"': [4, 5, 6, 7, 8, 9, 10],
            'principal_organization != "organizations/al-a"': [1, 2, 3, 11],
            'principal_organization = "organizations/al-b"': [],
            "role = ROLE_ADMIN": [4, 5, 6, 8, 9, 10],
            "role = EDITOR": [7],
            'role = "ROLE_PLATFORM_ADMIN"': [1, 2, 3, 11],
            "role = ROLE_VIEWER": [],
            "NOT role = ROLE_ADMIN": [1, 2, 3, 7, 11],
            'resource = "organizations/al-a"': [2, 6, 8, 11],
            'resource = "organizations/al-a/apiKeys/gone"': [9, 10],
            'resource >= "organizations/al-a/apiKeys/" AND '
            'resource < "organizations/al-a/apiKeys0"': [3, 4, 5, 9, 10],
            "event_time < " + rfc3339(self.t_mid): [1, 2, 3],
            "event_time >= " + rfc3339(self.t_mid): list(range(4, 12)),
            "event_time >= %s AND event_time < %s" % (rfc3339(self.t_mid), rfc3339(self.t_end)):
                list(range(4, 12)),
            "eventTime > " + rfc3339(self.t_end): [],
            "event_time < " + rfc3339(self.t_start - 60000000): [],
            'principal = "%s" AND event_time >= %s' % (BOOTSTRAP_KEY, rfc3339(self.t_mid)): [11],
            "method = %s OR role = EDITOR" % upd: [6, 7, 8, 11],
            "method = %s AND principal_organization = \"organizations/al-a\"" % upd: [6, 8],
        }
        for flt, want in cases.items():
            with self.subTest(filter=flt):
                self.assertEqual(self.filtered(flt), want)

    def test_event_time_bounds(self):
        """event_time compares to the microsecond: >= an event's own time
        keeps it, > drops it (with any event of the same time)."""
        times = [time_us(e.event_time) for e in self.events]
        t = times[5]
        self.assertEqual(self.filtered("event_time >= " + rfc3339(t)),
                         [e.position for e, u in zip(self.events, times) if u >= t])
        self.assertEqual(self.filtered("event_time > " + rfc3339(t)),
                         [e.position for e, u in zip(self.events, times) if u > t])
        self.assertEqual(self.filtered("event_time = " + rfc3339(t)),
                         [e.position for e, u in zip(self.events, times) if u == t])

    def test_bad_filter(self):
        """An unknown field, a bad value or bad syntax is INVALID_ARGUMENT
        saying "filter"."""
        for flt in ('colour = "red"', "name = \"organizations/al-a/auditEvents/1\"",
                    "role = ROLE_NOPE", 'event_time >= "yesterday"', 'method = ',
                    'method = "a" principal = "b"', "(role = ROLE_ADMIN"):
            with self.subTest(filter=flt):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call,
                                        "AuditLog.ListAuditEvents", parent="organizations/al-a",
                                        filter=flt)
                self.assertIn("filter", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "AuditLog.ListAuditEvents",
                                parent="organizations/al-a", filter='colour = "red"')
        self.assertIn('"colour"', e.details())

    # -- who reads --

    def test_viewer_and_editor_denied(self):
        """The organization's VIEWERs and EDITORs read neither its log nor
        the platform's: PERMISSION_DENIED."""
        for who, client in (("viewer", self.a_viewer), ("editor", self.a_editor)):
            for parent in ("organizations/al-a", "platform"):
                with self.subTest(who=who, parent=parent):
                    self.assertRpcError(C.PERMISSION_DENIED, client.call,
                                        "AuditLog.ListAuditEvents", parent=parent)
                    self.assertRpcError(C.PERMISSION_DENIED, client.call,
                                        "AuditLog.VerifyAuditLog", parent=parent)

    def test_other_tenant_admin_not_found(self):
        """An ADMIN of another organization gets NOT_FOUND, word for word
        what a nonexistent organization gives with the name swapped: the
        answer tells nothing of whether the organization exists."""
        for method in ("AuditLog.ListAuditEvents", "AuditLog.VerifyAuditLog"):
            for client, mine, theirs in ((self.b_admin, "al-b", "al-a"),
                                         (self.a_admin, "al-a", "al-b")):
                with self.subTest(method=method, caller=mine):
                    e = self.assertRpcError(C.NOT_FOUND, client.call, method,
                                            parent="organizations/" + theirs)
                    ghost = self.assertRpcError(C.NOT_FOUND, client.call, method,
                                                parent="organizations/al-nope")
                    self.assertEqual(e.details(),
                                     ghost.details().replace("al-nope", theirs))
                    self.assertNotIn(mine, e.details())

    def test_platform_admin_reads_every_log(self):
        """A platform administrator reads and verifies an organization's log
        (the same events its ADMIN sees) and the platform's own, `platform`:
        the bootstrap event first, then the platform key made later, named
        platform/auditEvents/{position} and with no principal_organization."""
        for client in (self.admin, self.ops):
            got, _ = list_all(client, "organizations/al-a")
            self.assertEqual(list(got), list(self.events))
        plat, _ = list_all(self.admin, "platform")
        self.assertEqual([(e.name, e.principal, e.principal_organization, e.role, e.method,
                           e.resource, e.version_before, e.version_after) for e in plat],
                         [("platform/auditEvents/1", "bootstrap", "",
                           self.pb.common.ROLE_PLATFORM_ADMIN, "bootstrap", BOOTSTRAP_KEY, 0, 1),
                          ("platform/auditEvents/2", BOOTSTRAP_KEY, "",
                           self.pb.common.ROLE_PLATFORM_ADMIN, KEYS + "CreateApiKey",
                           "platform/apiKeys/ops", 0, 1)])
        self.assertEqual([e.request_id for e in plat], ["", self.ops_rid])
        v = verify(self.ops, "platform")
        self.assertTrue(v.intact, v)
        self.assertEqual((v.checked_count, v.head_position, v.head_hash),
                         (2, 2, plat[-1].hash))
        self.assertEqual(self.positions(list_all(self.admin, "platform",
                                                 filter='method = "bootstrap"')[0]), [1])

    def test_platform_parent_denied_to_organization_admin(self):
        """`platform` is PERMISSION_DENIED to an organization's ADMIN, for
        both methods."""
        for method in ("AuditLog.ListAuditEvents", "AuditLog.VerifyAuditLog"):
            with self.subTest(method=method):
                self.assertRpcError(C.PERMISSION_DENIED, self.a_admin.call, method,
                                    parent="platform")

    def test_bad_parent(self):
        """A parent that is neither organizations/{organization} nor
        platform is INVALID_ARGUMENT naming parent; no credentials is
        UNAUTHENTICATED."""
        for parent in ("", "organizations/", "orgs/al-a", "organizations/al-a/auditEvents",
                       "Platform"):
            for method in ("AuditLog.ListAuditEvents", "AuditLog.VerifyAuditLog"):
                with self.subTest(parent=parent, method=method):
                    e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, method,
                                            parent=parent)
                    self.assertIn("parent", e.details())
        self.assertRpcError(C.UNAUTHENTICATED, self.server.client().call,
                            "AuditLog.ListAuditEvents", parent="organizations/al-a")

    # -- verify --

    def test_verify_intact(self):
        """The whole chain holds: checked_count is the number of events, the
        head is the last event and its hash, and nothing is broken."""
        v = verify(self.a_admin, "organizations/al-a")
        self.assertTrue(v.intact, v)
        self.assertEqual(v.checked_count, len(self.events))
        self.assertEqual(v.head_position, self.events[-1].position)
        self.assertEqual(v.head_hash, self.events[-1].hash)
        self.assertEqual((v.broken_position, v.problem), (0, ""))
        self.assertLess(abs(v.verify_time.seconds - time.time()), 60)
        self.assertEqual(verify(self.admin, "organizations/al-a").head_hash, v.head_hash)

    def test_verify_pins(self):
        """A head pinned earlier (any event's position and hash, in either
        case of hex) verifies; a wrong hash breaks the chain at the pinned
        position, the events before it still counted; a pin past the end of
        the log breaks it just after the end."""
        n = len(self.events)
        for p in (1, 6, n):
            with self.subTest(pinned_position=p):
                v = verify(self.a_admin, "organizations/al-a", (p, self.events[p - 1].hash))
                self.assertTrue(v.intact, v)
                self.assertEqual((v.checked_count, v.head_position), (n, n))
        v = verify(self.a_admin, "organizations/al-a", (6, self.events[5].hash.upper()))
        self.assertTrue(v.intact, v)
        v = verify(self.a_admin, "organizations/al-a", (6, self.events[4].hash))
        self.assertFalse(v.intact, v)
        self.assertEqual(v.broken_position, 6)
        self.assertEqual((v.checked_count, v.head_position, v.head_hash),
                         (5, 5, self.events[4].hash))
        self.assertTrue(v.problem)
        v = verify(self.a_admin, "organizations/al-a", (n + 1, self.events[-1].hash))
        self.assertFalse(v.intact, v)
        self.assertEqual(v.broken_position, n + 1)
        self.assertEqual(v.checked_count, n)

    def test_verify_malformed_pin(self):
        """A pinned hash that is not 64 hex digits, or only one of the two
        pin fields, or a negative position, is INVALID_ARGUMENT naming the
        field at fault."""
        good = self.events[0].hash
        cases = [
            (dict(pinned_position=1, pinned_hash="zz" * 32), "pinned_hash"),
            (dict(pinned_position=1, pinned_hash=good[:-1]), "pinned_hash"),
            (dict(pinned_position=1, pinned_hash=good + "0"), "pinned_hash"),
            (dict(pinned_position=1), "pinned_hash"),
            (dict(pinned_hash=good), "pinned_position"),
            (dict(pinned_position=-1, pinned_hash=good), "pinned_position"),
        ]
        for fields, name in cases:
            with self.subTest(**fields):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call,
                                        "AuditLog.VerifyAuditLog", parent="organizations/al-a",
                                        **fields)
                self.assertIn(name, e.details())


# --------------------------------------------------------------------------
# 2. Tampering in the store
# --------------------------------------------------------------------------

EVENTS_PER_ORG = 7  # CreateOrganization (2), CreateApiKey, 4 renames
K = 4               # the event in the middle that most tampers aim at

# camelCase (the export's and MongoDB's names) -> SQLite columns
SQLITE_COLUMNS = {"seq": "seq", "org": "org", "principal": "principal",
                  "principalOrg": "principal_org", "role": "role", "method": "method",
                  "resource": "resource", "requestId": "request_id",
                  "versionBefore": "version_before", "versionAfter": "version_after",
                  "timeUs": "time_us", "position": "position", "hash": "hash"}
CONTENT = ["principal", "principalOrg", "role", "method", "resource", "requestId",
           "versionBefore", "versionAfter", "timeUs"]


class TamperCases(RpcAssertions):
    """The tampers, written once for both backends. Each gets an
    organization of its own (each organization has its own chain): tampering
    with one leaves the others intact (t-ctrl shows it).

    A subclass provides the store: open_store(cls) starts a server and
    returns it; rows(org) reads the org's events in store order (dicts with
    the export's field names, seq, position and hash as bytes);
    update(org, row, fields), delete(org, row), swap_order(org, a, b) edit
    them; tamper_begin/tamper_end bracket the edits."""

    ORGS = ["t-ctrl", "t-edit-res", "t-edit-princ", "t-edit-ver", "t-edit-time", "t-rehash",
            "t-delete", "t-order", "t-swap", "t-trunc", "t-rewrite"]

    @classmethod
    def setUpClass(cls):
        cls.pb = pb = protos()
        cls.server = cls.open_store()
        try:
            admin = cls.server.admin()
            for org in cls.ORGS:
                admin.call("Organizations.CreateOrganization", organization_id=org,
                           organization=operator(pb, org))
                admin.call("ApiKeys.CreateApiKey", parent="organizations/" + org,
                           api_key_id="adm", api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
                for i in range(4):
                    rename(pb, admin, "organizations/" + org, "%s %d" % (org, i))
            # the heads (and every event's hash) as the API gives them before
            cls.before = {}
            for org in cls.ORGS:
                events, _ = list_all(admin, "organizations/" + org)
                assert [e.position for e in events] == list(range(1, EVENTS_PER_ORG + 1)), events
                cls.before[org] = [e.hash for e in events]
                v = verify(admin, "organizations/" + org)
                assert v.intact and v.head_hash == events[-1].hash, v
            cls.tamper_begin()
            cls.tamper()
            cls.tamper_end()
        except BaseException:
            cls.server.kill()
            cls.close_store()
            raise
        cls.admin = cls.server.admin()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.close_store()

    @classmethod
    def close_store(cls):
        pass

    @classmethod
    def at(cls, org, position):
        """The row of org's event at position."""
        rows = [r for r in cls.rows(org) if r["position"] == position]
        assert len(rows) == 1, (org, position, rows)
        return rows[0]

    @classmethod
    def rehash_from(cls, org, position):
        """Recomputes the hashes of org's events from position on, in
        store order, as someone who knows the canonical form would."""
        prev = None
        for r in cls.rows(org):
            if r["position"] >= position:
                h = chain_hash(r, prev)
                cls.update(org, r, {"hash": h})
                prev = h
            else:
                prev = r["hash"]

    @classmethod
    def tamper(cls):
        forged = "organizations/t-edit-res/apiKeys/forged"
        # (a) one field of one event edited: the resource, the principal, a
        # version, the time (backdated by an hour)
        cls.update("t-edit-res", cls.at("t-edit-res", K), {"resource": forged})
        cls.update("t-edit-princ", cls.at("t-edit-princ", K),
                   {"principal": "organizations/t-edit-princ/apiKeys/adm"})
        cls.update("t-edit-ver", cls.at("t-edit-ver", K), {"versionAfter": 99})
        r = cls.at("t-edit-time", K)
        cls.update("t-edit-time", r, {"timeUs": r["timeUs"] - 3600 * 1000000})
        # ... and its own hash made to fit: the next event's link breaks
        r = cls.at("t-rehash", K)
        r["resource"] = "organizations/t-rehash/apiKeys/forged"
        cls.update("t-rehash", r, {"resource": r["resource"],
                                   "hash": chain_hash(r, cls.at("t-rehash", K - 1)["hash"])})
        # (b) one event in the middle deleted
        cls.delete("t-delete", cls.at("t-delete", K))
        # (c) two events reordered: the rows change places in the store's
        # order (each keeps its content, position and hash) ...
        cls.swap_order("t-order", cls.at("t-order", K), cls.at("t-order", K + 1))
        # ... or they swap contents (hash too), each row keeping its position
        a, b = cls.at("t-swap", K), cls.at("t-swap", K + 1)
        cls.update("t-swap", a, {f: b[f] for f in CONTENT + ["hash"]})
        cls.update("t-swap", b, {f: a[f] for f in CONTENT + ["hash"]})
        # (d) the latest event deleted
        cls.delete("t-trunc", cls.at("t-trunc", EVENTS_PER_ORG))
        # (e) an event edited and every hash from it on recomputed
        cls.update("t-rewrite", cls.at("t-rewrite", K),
                   {"resource": "organizations/t-rewrite/apiKeys/forged"})
        cls.rehash_from("t-rewrite", K)

    def check_broken(self, org, position, says, pin=None, head_as_before=True):
        """Verify says org's chain breaks at position, the problem saying
        `says`; what holds is what comes before the break (with the hashes
        it had before the tamper, unless head_as_before is false)."""
        v = verify(self.admin, "organizations/" + org, pin)
        self.assertFalse(v.intact, v)
        self.assertEqual(v.broken_position, position, v)
        self.assertIn(says, v.problem)
        self.assertEqual(v.checked_count, position - 1, v)
        self.assertEqual(v.head_position, position - 1, v)
        if head_as_before:
            self.assertEqual(v.head_hash, self.before[org][position - 2] if position > 1 else "",
                             v)
        return v

    def test_untouched_organization_intact(self):
        """An organization nobody tampered with verifies as before, pinned
        head included: the tampers are caught per organization."""
        v = verify(self.admin, "organizations/t-ctrl",
                   (EVENTS_PER_ORG, self.before["t-ctrl"][-1]))
        self.assertTrue(v.intact, v)
        self.assertEqual((v.checked_count, v.head_position, v.head_hash),
                         (EVENTS_PER_ORG, EVENTS_PER_ORG, self.before["t-ctrl"][-1]))

    def test_edited_field(self):
        """(a) One event's resource, principal, version or time edited in
        the store: the chain breaks at that event, which no longer matches
        its hash (the list shows the forged value: the server reads what
        the store holds)."""
        for org in ("t-edit-res", "t-edit-princ", "t-edit-ver", "t-edit-time"):
            with self.subTest(org=org):
                self.check_broken(org, K, "does not match its hash")
        events, _ = list_all(self.admin, "organizations/t-edit-res")
        self.assertEqual(events[K - 1].resource, "organizations/t-edit-res/apiKeys/forged")

    def test_edited_field_rehashed(self):
        """(a) An edited event given a hash that fits its new content: the
        next event's link to it breaks."""
        # the head is the edited event, with the hash made for it
        self.check_broken("t-rehash", K + 1, "does not match its hash", head_as_before=False)

    def test_deleted_event(self):
        """(b) An event in the middle deleted: the chain breaks at its
        position, reported as not next in the log."""
        self.check_broken("t-delete", K, "not next in the log")

    def test_reordered_events(self):
        """(c) Two events in each other's place in the store's order, or
        with their contents swapped: the chain breaks at the first of
        them."""
        self.check_broken("t-order", K, "")
        self.check_broken("t-swap", K, "does not match its hash")

    def test_deleted_latest_event(self):
        """(d) The latest event deleted: the shorter chain still holds, so
        without a pin it is intact (one event fewer); a head pinned before
        the deletion shows it, and a pin of an earlier event still
        verifies."""
        n, h = EVENTS_PER_ORG, self.before["t-trunc"]
        v = verify(self.admin, "organizations/t-trunc")
        self.assertTrue(v.intact, v)
        self.assertEqual((v.checked_count, v.head_position, v.head_hash), (n - 1, n - 1, h[-2]))
        v = verify(self.admin, "organizations/t-trunc", (n, h[-1]))
        self.assertFalse(v.intact, v)
        self.assertEqual(v.broken_position, n, v)
        self.assertIn("removed", v.problem)
        v = verify(self.admin, "organizations/t-trunc", (n - 1, h[-2]))
        self.assertTrue(v.intact, v)

    def test_rewritten_chain_caught_by_pin(self):
        """(e) An edit with every hash after it recomputed holds together,
        so only a pin shows it: a head pinned before breaks at its position,
        a pin of the edited event breaks there, a pin of an event before the
        edit still verifies."""
        n, h = EVENTS_PER_ORG, self.before["t-rewrite"]
        v = verify(self.admin, "organizations/t-rewrite")
        self.assertTrue(v.intact, v)
        self.assertEqual(v.checked_count, n)
        self.assertNotEqual(v.head_hash, h[-1])
        self.check_broken("t-rewrite", n, "pinned", pin=(n, h[-1]), head_as_before=False)
        self.check_broken("t-rewrite", K, "pinned", pin=(K, h[K - 1]))
        v = verify(self.admin, "organizations/t-rewrite", (K - 1, h[K - 2]))
        self.assertTrue(v.intact, v)


class SqliteTamperTest(TamperCases, unittest.TestCase):
    """The tampers on a SQLite store file, edited with Python's sqlite3.

    The edits are made while the server is stopped, and a new server is
    then started on the same file. Editing under a running server would be
    safe too (WAL lets another process write between the server's
    transactions, and the server caches no events), but a stopped server
    is the case of someone with the file (a copy, a backup put back), and
    a restart shows nothing in the server's memory stands in for what the
    file holds."""

    @classmethod
    def open_store(cls):
        d = tmpdir("tamper-sqlite-")
        cls.db = os.path.join(d, "db.sqlite")
        return Server(store_dir=d, store="sqlite:" + cls.db).start()

    @classmethod
    def tamper_begin(cls):
        cls.server.stop()
        cls.conn = sqlite3.connect(cls.db)

    @classmethod
    def tamper_end(cls):
        cls.conn.commit()
        cls.conn.close()
        again = Server(store_dir=cls.server.dir, bootstrap=False, store=cls.server.store)
        again.admin_secret = cls.server.admin_secret
        cls.server = again.start()

    @classmethod
    def rows(cls, org):
        cols = list(SQLITE_COLUMNS)
        cur = cls.conn.execute("SELECT %s FROM audit_events WHERE org = ? ORDER BY seq" % ", ".join(
            SQLITE_COLUMNS[c] for c in cols), (org,))
        return [dict(zip(cols, row)) for row in cur]

    @classmethod
    def update(cls, org, row, fields):
        sets = ", ".join("%s = ?" % SQLITE_COLUMNS[f] for f in fields)
        cur = cls.conn.execute("UPDATE audit_events SET %s WHERE seq = ? AND org = ?" % sets,
                               list(fields.values()) + [row["seq"], org])
        assert cur.rowcount == 1, (org, row, fields)

    @classmethod
    def delete(cls, org, row):
        cur = cls.conn.execute("DELETE FROM audit_events WHERE seq = ? AND org = ?",
                               (row["seq"], org))
        assert cur.rowcount == 1, (org, row)

    @classmethod
    def swap_order(cls, org, a, b):
        for frm, to in ((a["seq"], -1), (b["seq"], a["seq"]), (-1, b["seq"])):
            cur = cls.conn.execute("UPDATE audit_events SET seq = ? WHERE seq = ?", (to, frm))
            assert cur.rowcount == 1, (org, frm, to)


class MongoTamperTest(TamperCases, unittest.TestCase):
    """The tampers on the MongoDB backend, through pymongo on the store's
    database: the events in `auditEvents` (ordered by seq, unique per
    organization), the server running all along (MongoDB has no file; the
    server keeps no events, and the per-organization counter's chain head
    is left alone as someone editing events would). On the run's double
    (or real MongoDB) with SUPPLYSEC_E2E_STORE=mongodb, else on a double
    of its own, so the default run covers MongoDB too."""

    double = None

    @classmethod
    def open_store(cls):
        import pymongo
        d = tmpdir("tamper-mongo-")
        if STORE_KIND == "mongodb":
            uri = store_uri(d)
        else:
            cls.double = MongoDouble()
            uri = cls.double.uri("tamper")
        cls.client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)
        cls.coll = cls.client.get_default_database()["auditEvents"]
        return Server(store_dir=d, store=uri).start()

    @classmethod
    def close_store(cls):
        if getattr(cls, "client", None) is not None:
            cls.client.close()
            cls.client = None
        if cls.double is not None:
            cls.double.stop()
            cls.double = None

    @classmethod
    def tamper_begin(cls):
        pass

    @classmethod
    def tamper_end(cls):
        pass

    @classmethod
    def rows(cls, org):
        out = []
        for doc in cls.coll.find({"org": org}).sort("seq", 1):
            r = {f: doc[f] for f in ["_id", "seq", "org", "position"] + CONTENT}
            r["hash"] = bytes(doc["hash"])
            out.append(r)
        return out

    @classmethod
    def update(cls, org, row, fields):
        from bson import Binary, Int64
        values = {f: (Binary(v) if f == "hash" else Int64(v) if isinstance(v, int) else v)
                  for f, v in fields.items()}
        r = cls.coll.update_one({"_id": row["_id"], "org": org}, {"$set": values})
        assert r.matched_count == 1, (org, row, fields)

    @classmethod
    def delete(cls, org, row):
        r = cls.coll.delete_one({"_id": row["_id"], "org": org})
        assert r.deleted_count == 1, (org, row)

    @classmethod
    def swap_order(cls, org, a, b):
        from bson import Int64
        # (org, seq) is unique: through a seq no event has
        for _id, seq in ((a["_id"], -1), (b["_id"], a["seq"]), (a["_id"], b["seq"])):
            r = cls.coll.update_one({"_id": _id}, {"$set": {"seq": Int64(seq)}})
            assert r.matched_count == 1, (org, _id, seq)


# --------------------------------------------------------------------------
# 3. Export and import
# --------------------------------------------------------------------------

def supplysecd(args, stdin=None):
    return subprocess.run([SUPPLYSECD] + args, input=stdin, capture_output=True, timeout=120)


class ExportImportTest(unittest.TestCase, RpcAssertions):
    """A store of the run's kind exported and imported into a fresh SQLite
    store keeps every log's chain: same events, same head, and a head pinned
    before the move verifies after it. An export with an audit line edited
    is refused, naming the line."""

    maxDiff = None
    PARENTS = ["organizations/ex-a", "organizations/ex-b", "platform"]

    @classmethod
    def setUpClass(cls):
        cls.pb = pb = protos()
        src = Server()
        src.start()
        try:
            admin = src.admin()
            for org in ("ex-a", "ex-b"):
                admin.call("Organizations.CreateOrganization", organization_id=org,
                           organization=operator(pb, org))
                k = admin.call("ApiKeys.CreateApiKey", parent="organizations/" + org,
                               api_key_id="adm", api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
                a = src.client(k.secret)
                for i in range(3):
                    rename(pb, a, "organizations/" + org, "%s %d" % (org, i))
            admin.call("ApiKeys.CreateApiKey", parent="platform", api_key_id="ops",
                       api_key=pb.keys.ApiKey(role=pb.common.ROLE_PLATFORM_ADMIN))
            cls.events = {p: list_all(admin, p)[0] for p in cls.PARENTS}
            cls.heads = {p: verify(admin, p) for p in cls.PARENTS}
        finally:
            src.stop()
        cls.src = src
        r = supplysecd(["export", "--store", src.store])
        assert r.returncode == 0, r.stderr
        cls.export = r.stdout

    def import_into_fresh(self, data):
        d = tmpdir("imported-")
        uri = "sqlite:" + os.path.join(d, "db.sqlite")
        return d, uri, supplysecd(["import", "--store", uri], stdin=data)

    def serve(self, d, uri):
        dst = Server(store_dir=d, bootstrap=False, store=uri)
        dst.admin_secret = self.src.admin_secret
        return dst.start()

    def audit_lines(self):
        """(line number, parsed line) of every audit line of the export."""
        out = []
        for i, line in enumerate(self.export.splitlines(), 1):
            obj = json.loads(line) if line.strip() else {}
            if obj.get("kind") == "audit":
                out.append((i, obj))
        return out

    def edited_export(self, org, position, change):
        """The export with `change` applied to org's audit line at position;
        returns the new export and the line's number."""
        lines = self.export.splitlines()
        for i, obj in self.audit_lines():
            p = obj["position"]
            p = int(p["$numberLong"]) if isinstance(p, dict) else int(p)
            if obj["org"] == org and p == position:
                change(obj)
                lines[i - 1] = json.dumps(obj).encode()
                return b"\n".join(lines) + b"\n", i
        raise AssertionError("no audit line of %s at %d" % (org, position))

    def test_export_carries_positions_and_hashes(self):
        """Every audit line of the export carries its position and its hash,
        the hash the API gave for that event."""
        by_org = {}
        for _, obj in self.audit_lines():
            by_org.setdefault(obj["org"], []).append(obj["hash"])
        for parent in self.PARENTS:
            org = "" if parent == "platform" else parent.split("/")[1]
            self.assertEqual(by_org.get(org), [e.hash for e in self.events[parent]], parent)

    def test_import_keeps_the_chain(self):
        """Imported into a fresh SQLite store, each log lists the same
        events (names, times, hashes) and verifies with the same head; the
        heads pinned before the move verify."""
        d, uri, r = self.import_into_fresh(self.export)
        self.assertExit(r.returncode, 0, r.stderr, "supplysecd imported")
        dst = self.serve(d, uri)
        try:
            admin = dst.admin()
            for parent in self.PARENTS:
                with self.subTest(parent=parent):
                    before = self.heads[parent]
                    v = verify(admin, parent)
                    self.assertTrue(v.intact, v)
                    self.assertEqual((v.checked_count, v.head_position, v.head_hash),
                                     (before.checked_count, before.head_position,
                                      before.head_hash))
                    self.assertEqual(list(list_all(admin, parent)[0]), self.events[parent])
                    v = verify(admin, parent, (before.head_position, before.head_hash))
                    self.assertTrue(v.intact, v)
        finally:
            dst.stop()

    def test_export_of_format_1_chained_on_import(self):
        """An export made before the chain (format 1: no positions, no
        hashes) imports, and its events are chained as they come: the same
        head as the original log, since the content is the same."""
        lines = []
        for line in self.export.splitlines():
            obj = json.loads(line)
            if obj.get("kind") == "supplysec-export":
                obj["format"] = 1
            obj.pop("hash", None)
            obj.pop("position", None)
            lines.append(json.dumps(obj).encode())
        d, uri, r = self.import_into_fresh(b"\n".join(lines) + b"\n")
        self.assertExit(r.returncode, 0, r.stderr, "supplysecd imported")
        dst = self.serve(d, uri)
        try:
            admin = dst.admin()
            for parent in self.PARENTS:
                with self.subTest(parent=parent):
                    v = verify(admin, parent)
                    self.assertTrue(v.intact, v)
                    self.assertEqual(v.head_hash, self.heads[parent].head_hash)
        finally:
            dst.stop()

    def test_edited_export_refused(self):
        """An export with one audit line's field edited (resource, principal,
        a version, or the hash itself) is refused: exit 1, the message names
        the line and the organization whose log breaks there."""
        edits = {
            "resource": lambda o: o.update(resource="organizations/ex-a/apiKeys/forged"),
            "principal": lambda o: o.update(principal="organizations/ex-a/apiKeys/other"),
            "versionAfter": lambda o: o.update(versionAfter={"$numberLong": "42"}),
            "hash": lambda o: o.update(hash="0" * 64),
        }
        for field, change in edits.items():
            with self.subTest(field=field):
                data, lineno = self.edited_export("ex-a", 3, change)
                _, _, r = self.import_into_fresh(data)
                self.assertExit(r.returncode, 1, r.stderr, "line %d:" % lineno)
                self.assertIn(b'"ex-a"', r.stderr)
                self.assertIn(b"broken at event 3", r.stderr)

    def test_edited_export_without_its_hash_refused(self):
        """An edited line whose hash and position are removed (as an export
        made before the chain had them) is refused, in the middle of a log
        or at its end: in an export of this format an organization's events
        carry their hashes, or (a log not chained yet) none does."""
        def change(o):
            o["resource"] = "organizations/ex-a/apiKeys/forged"
            del o["hash"]
            del o["position"]
        last = max(obj["position"]["$numberLong"] if isinstance(obj["position"], dict)
                   else obj["position"] for _, obj in self.audit_lines() if obj["org"] == "ex-a")
        for position in (3, int(last)):
            with self.subTest(position=position):
                data, lineno = self.edited_export("ex-a", position, change)
                _, _, r = self.import_into_fresh(data)
                self.assertExit(r.returncode, 1, r.stderr, "line %d:" % lineno)
                self.assertIn(b"without its hash among chained ones", r.stderr)

    def test_rewritten_export_caught_by_pin(self):
        """An export edited with every later hash of that log recomputed
        imports (nothing in it tells), but the head pinned before the move
        no longer verifies on the imported store."""
        lines = self.export.splitlines()
        prev = None
        for i, obj in self.audit_lines():
            if obj["org"] != "ex-a":
                continue
            ev = {k: (int(v["$numberLong"]) if isinstance(v, dict) else v)
                  for k, v in obj.items()}
            if ev["position"] == 3:
                obj["resource"] = ev["resource"] = "organizations/ex-a/apiKeys/forged"
            if ev["position"] >= 3:
                obj["hash"] = chain_hash(ev, prev).hex()
                lines[i - 1] = json.dumps(obj).encode()
            prev = bytes.fromhex(obj["hash"])
        d, uri, r = self.import_into_fresh(b"\n".join(lines) + b"\n")
        self.assertExit(r.returncode, 0, r.stderr)
        dst = self.serve(d, uri)
        try:
            before = self.heads["organizations/ex-a"]
            v = verify(dst.admin(), "organizations/ex-a")
            self.assertTrue(v.intact, v)
            self.assertNotEqual(v.head_hash, before.head_hash)
            v = verify(dst.admin(), "organizations/ex-a",
                       (before.head_position, before.head_hash))
            self.assertFalse(v.intact, v)
            self.assertEqual(v.broken_position, before.head_position)
            v = verify(dst.admin(), "organizations/ex-b",
                       (self.heads["organizations/ex-b"].head_position,
                        self.heads["organizations/ex-b"].head_hash))
            self.assertTrue(v.intact, v)
        finally:
            dst.stop()


if __name__ == "__main__":
    unittest.main()
