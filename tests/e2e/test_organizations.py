"""Organizations: CRUD, validation, etags, update masks, pagination."""

import time
import unittest

import grpc

from harness import ID_RE, ServerTestCase, protos

C = grpc.StatusCode


def ts_ns(ts):
    return ts.seconds * 10**9 + ts.nanos


class OrganizationsTest(ServerTestCase):

    def org(self, **kw):
        pb = protos()
        kw.setdefault("legal_name", "Acme GmbH")
        kw.setdefault("country_code", "DE")
        kw.setdefault("kind", pb.orgs.ORGANIZATION_KIND_OPERATOR)
        return pb.orgs.Organization(**kw)

    def create(self, org_id="", **kw):
        return self.admin.call("Organizations.CreateOrganization",
                               organization=self.org(**kw), organization_id=org_id)

    def get(self, name):
        return self.admin.call("Organizations.GetOrganization", name=name)

    def update(self, org, paths, client=None):
        pb = protos()
        return (client or self.admin).call(
            "Organizations.UpdateOrganization", organization=org,
            update_mask=pb.field_mask.FieldMask(paths=paths))

    # -- create / get / list / update / delete --

    def test_create_with_chosen_id(self):
        oid = self.uid("chosen")
        o = self.create(oid, legal_name="Chosen Ltd", country_code="GB")
        self.assertEqual(o.name, "organizations/" + oid)
        self.assertEqual(o.legal_name, "Chosen Ltd")
        self.assertEqual(o.country_code, "GB")
        self.assertEqual(o.kind, protos().orgs.ORGANIZATION_KIND_OPERATOR)
        self.assertTrue(o.etag)
        self.assertTrue(o.HasField("create_time"))
        self.assertTrue(o.HasField("update_time"))

    def test_create_with_generated_id(self):
        seen = set()
        for _ in range(3):
            o = self.create("")
            self.assertTrue(o.name.startswith("organizations/"), o.name)
            oid = o.name[len("organizations/"):]
            self.assertRegex(oid, ID_RE)
            self.assertTrue(ID_RE.fullmatch(oid), oid)
            seen.add(oid)
        self.assertEqual(len(seen), 3, "generated ids are not unique")
        for oid in seen:
            self.assertEqual(self.get("organizations/" + oid).name, "organizations/" + oid)

    def test_get(self):
        pb = protos()
        oid = self.uid("get")
        created = self.create(
            oid, legal_name="Get Me SA", country_code="FR",
            kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY,
            identifiers=pb.orgs.Identifiers(eori="FR123456789", aeo_type=pb.orgs.AEO_TYPE_AEOF),
            supply_chain_roles=[pb.orgs.SUPPLY_CHAIN_ROLE_EXPORTER, pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER])
        got = self.get("organizations/" + oid)
        self.assertEqual(got, created)
        self.assertEqual(got.identifiers.eori, "FR123456789")
        self.assertEqual(list(got.supply_chain_roles),
                         [pb.orgs.SUPPLY_CHAIN_ROLE_EXPORTER, pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER])

    def test_get_missing(self):
        self.assertRpcError(C.NOT_FOUND, self.get, "organizations/does-not-exist")

    def test_list(self):
        ids = [self.uid("lst") for _ in range(3)]
        for i in ids:
            self.create(i)
        r = self.admin.call("Organizations.ListOrganizations", page_size=1000)
        names = [o.name for o in r.organizations]
        for i in ids:
            self.assertIn("organizations/" + i, names)
        self.assertEqual(names, sorted(names))

    def test_list_filter(self):
        pb = protos()
        R = pb.orgs
        tag = self.uid("flt")
        a = self.create(tag + "-a", legal_name=tag + " Carrier", country_code="NL",
                        supply_chain_roles=[R.SUPPLY_CHAIN_ROLE_CARRIER])
        b = self.create(tag + "-b", legal_name=tag + " Port", country_code="DE",
                        supply_chain_roles=[R.SUPPLY_CHAIN_ROLE_PORT_OPERATOR,
                                            R.SUPPLY_CHAIN_ROLE_CARRIER])
        c = self.create(tag + "-c", legal_name=tag + " Customs", country_code="DE",
                        kind=R.ORGANIZATION_KIND_CUSTOMS_AUTHORITY)

        def names(flt, client=None):
            r = (client or self.admin).call("Organizations.ListOrganizations", page_size=1000,
                                            filter=flt)
            return [o.name for o in r.organizations if o.legal_name.startswith(tag)]

        self.assertEqual(names('country_code = "DE"'), [b.name, c.name])
        self.assertEqual(names("supply_chain_roles:CARRIER"), [a.name, b.name])
        self.assertEqual(names("kind = CUSTOMS_AUTHORITY OR supply_chain_roles:PORT_OPERATOR"),
                         [b.name, c.name])
        self.assertEqual(names('legal_name >= "%s P" AND kind = OPERATOR' % tag), [b.name])
        # an update moves a record in and out of a filter's results
        a.country_code = "DE"
        self.update(a, ["country_code"])
        self.assertEqual(names('country_code = "DE" AND kind = OPERATOR'), [a.name, b.name])
        # a member lists its own organization only, filter or not
        key = self.make_key(a.name, pb.common.ROLE_VIEWER)
        member = self.server.client(key.secret)
        r = member.call("Organizations.ListOrganizations", filter='country_code = "DE"')
        self.assertEqual([o.name for o in r.organizations], [a.name])
        r = member.call("Organizations.ListOrganizations", filter="kind = CUSTOMS_AUTHORITY")
        self.assertEqual(list(r.organizations), [])
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                "Organizations.ListOrganizations", filter="identifiers = 1")
        self.assertIn("identifiers", e.details())

    def test_update(self):
        oid = self.uid("upd")
        o = self.create(oid, legal_name="Before")
        o.legal_name = "After"
        u = self.update(o, ["legal_name"])
        self.assertEqual(u.legal_name, "After")
        self.assertEqual(self.get(o.name).legal_name, "After")

    def test_delete(self):
        oid = self.uid("del")
        o = self.create(oid)
        r = self.admin.call("Organizations.DeleteOrganization", name=o.name)
        self.assertIsInstance(r, protos().empty.Empty)
        self.assertRpcError(C.NOT_FOUND, self.get, o.name)
        self.assertRpcError(C.NOT_FOUND, self.admin.call,
                            "Organizations.DeleteOrganization", name=o.name)

    def test_delete_with_current_etag(self):
        o = self.create(self.uid("dele"))
        self.admin.call("Organizations.DeleteOrganization", name=o.name, etag=o.etag)
        self.assertRpcError(C.NOT_FOUND, self.get, o.name)

    # -- validation --

    def test_create_taken_id(self):
        oid = self.uid("taken")
        self.create(oid)
        self.assertRpcError(C.ALREADY_EXISTS, self.create, oid)

    def test_create_invalid_id(self):
        for bad in ("A-bad", "ab"):
            with self.subTest(organization_id=bad):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.create, bad)
                self.assertIn("organization_id", e.details() or "")

    def test_create_invalid_country(self):
        for bad in ("XX", "de", "DEU"):
            with self.subTest(country_code=bad):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.create, self.uid("cc"),
                                        country_code=bad)
                self.assertIn("country_code", e.details() or "")

    def test_create_missing_legal_name(self):
        oid = self.uid("noname")
        self.assertRpcError(C.INVALID_ARGUMENT, self.create, oid, legal_name="")
        self.assertRpcError(C.NOT_FOUND, self.get, "organizations/" + oid)

    def test_create_legal_name_limit_in_characters(self):
        # "at most 200 characters": 200 two-byte characters are fine, 201 are not
        o = self.create(self.uid("utf"), legal_name="\u00e9" * 200)
        self.assertEqual(o.legal_name, "\u00e9" * 200)
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.create, self.uid("long"),
                                legal_name="a" * 201)
        self.assertIn("legal_name", e.details() or "")

    def test_create_missing_kind(self):
        pb = protos()
        self.assertRpcError(C.INVALID_ARGUMENT, self.create, self.uid("nokind"),
                            kind=pb.orgs.ORGANIZATION_KIND_UNSPECIFIED)

    def test_create_missing_country(self):
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.create, self.uid("nocc"), country_code="")
        self.assertIn("country_code", e.details() or "")

    def test_create_times_are_now(self):
        o = self.create(self.uid("now"))
        self.assertLess(abs(o.create_time.seconds - time.time()), 120)
        self.assertEqual(ts_ns(o.create_time), ts_ns(o.update_time))

    def test_update_without_mask_replaces_populated_fields(self):
        # AIP-134: no update_mask means the fields populated in the request.
        pb = protos()
        o = self.create(self.uid("nomask"), legal_name="Keep", country_code="NL")
        patch = pb.orgs.Organization(name=o.name, legal_name="Changed")
        r = self.admin.call("Organizations.UpdateOrganization", organization=patch)
        self.assertEqual(r.legal_name, "Changed")
        self.assertEqual(r.country_code, "NL")  # not populated: untouched
        self.assertEqual(r.kind, o.kind)
        got = self.get(o.name)
        self.assertEqual((got.legal_name, got.country_code), ("Changed", "NL"))
        # nothing populated: nothing to update
        self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                            "Organizations.UpdateOrganization",
                            organization=pb.orgs.Organization(name=o.name))

    def test_update_invalid_value(self):
        o = self.create(self.uid("badval"), country_code="DE")
        o.country_code = "XX"
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.update, o, ["country_code"])
        self.assertIn("country_code", e.details() or "")
        self.assertEqual(self.get(o.name).country_code, "DE")

    def test_update_missing_org(self):
        o = self.org(name="organizations/never-was")
        self.assertRpcError(C.NOT_FOUND, self.update, o, ["legal_name"])

    def test_concurrent_creates_same_id(self):
        import threading
        oid = self.uid("race")
        codes = []
        lock = threading.Lock()

        def one():
            try:
                self.create(oid)
                c = C.OK
            except grpc.RpcError as e:
                c = e.code()
            with lock:
                codes.append(c)

        ts = [threading.Thread(target=one) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(codes.count(C.OK), 1, codes)
        self.assertEqual(codes.count(C.ALREADY_EXISTS), 7, codes)

    def test_concurrent_updates_same_etag(self):
        import threading
        o = self.create(self.uid("etagrace"), legal_name="Base")
        results = []
        lock = threading.Lock()

        def one(i):
            mine = protos().orgs.Organization()
            mine.CopyFrom(o)
            mine.legal_name = "Writer %d" % i
            try:
                u = self.update(mine, ["legal_name"])
                r = (C.OK, u.legal_name)
            except grpc.RpcError as e:
                r = (e.code(), None)
            with lock:
                results.append(r)

        ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ok = [name for code, name in results if code == C.OK]
        self.assertEqual(len(ok), 1, "same etag, %d writers succeeded: %s" % (len(ok), results))
        self.assertTrue(all(code in (C.OK, C.ABORTED) for code, _ in results), results)
        self.assertEqual(self.get(o.name).legal_name, ok[0])

    # -- etags --

    def test_update_stale_etag(self):
        o = self.create(self.uid("stale"), legal_name="V1")
        old_etag = o.etag
        o.legal_name = "V2"
        v2 = self.update(o, ["legal_name"])
        self.assertNotEqual(v2.etag, old_etag)
        o.legal_name = "V3"
        o.etag = old_etag
        self.assertRpcError(C.ABORTED, self.update, o, ["legal_name"])
        now = self.get(o.name)
        self.assertEqual(now.legal_name, "V2")
        self.assertEqual(now, v2)

    def test_delete_stale_etag(self):
        o = self.create(self.uid("dstale"), legal_name="V1")
        o2 = protos().orgs.Organization()
        o2.CopyFrom(o)
        o2.legal_name = "V2"
        self.update(o2, ["legal_name"])
        self.assertRpcError(C.ABORTED, self.admin.call, "Organizations.DeleteOrganization",
                            name=o.name, etag=o.etag)
        self.assertEqual(self.get(o.name).legal_name, "V2")

    def test_etag_and_times_on_every_update(self):
        o = self.create(self.uid("etag"), legal_name="N0")
        etags = [o.etag]
        prev_update = ts_ns(o.update_time)
        create_time = ts_ns(o.create_time)
        for i in range(1, 4):
            time.sleep(0.01)
            o.legal_name = "N%d" % i
            o.etag = ""
            o = self.update(o, ["legal_name"])
            self.assertNotIn(o.etag, etags, "etag did not change on update %d" % i)
            etags.append(o.etag)
            self.assertGreater(ts_ns(o.update_time), prev_update, "update_time did not advance")
            prev_update = ts_ns(o.update_time)
            self.assertEqual(ts_ns(o.create_time), create_time, "create_time changed")
        got = self.get(o.name)
        self.assertEqual(got.etag, etags[-1])
        self.assertEqual(ts_ns(got.create_time), create_time)

    # -- update masks --

    def test_update_mask_honoured(self):
        o = self.create(self.uid("mask"), legal_name="Old", country_code="DE")
        o.legal_name = "New"
        o.country_code = "FR"
        u = self.update(o, ["legal_name"])
        self.assertEqual(u.legal_name, "New")
        self.assertEqual(u.country_code, "DE")
        g = self.get(o.name)
        self.assertEqual(g.legal_name, "New")
        self.assertEqual(g.country_code, "DE")

    def test_update_mask_star(self):
        pb = protos()
        o = self.create(self.uid("star"), legal_name="Old", country_code="DE",
                        identifiers=pb.orgs.Identifiers(eori="DE1234"),
                        supply_chain_roles=[pb.orgs.SUPPLY_CHAIN_ROLE_CARRIER])
        new = pb.orgs.Organization(
            name=o.name, legal_name="Replaced", country_code="NL",
            kind=pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY,
            supply_chain_roles=[pb.orgs.SUPPLY_CHAIN_ROLE_IMPORTER,
                                pb.orgs.SUPPLY_CHAIN_ROLE_WAREHOUSE],
            certificates=[pb.orgs.Certificate(type=pb.orgs.CERTIFICATE_TYPE_TAPA,
                                              issuer="TAPA", number="T-1")])
        u = self.update(new, ["*"])
        for got in (u, self.get(o.name)):
            self.assertEqual(got.legal_name, "Replaced")
            self.assertEqual(got.country_code, "NL")
            self.assertEqual(got.kind, pb.orgs.ORGANIZATION_KIND_CUSTOMS_AUTHORITY)
            self.assertEqual(list(got.supply_chain_roles),
                             [pb.orgs.SUPPLY_CHAIN_ROLE_IMPORTER, pb.orgs.SUPPLY_CHAIN_ROLE_WAREHOUSE])
            self.assertEqual(len(got.certificates), 1)
            self.assertEqual(got.certificates[0].number, "T-1")
            # replaced, not merged: identifiers were not sent
            self.assertEqual(got.identifiers.eori, "")
            self.assertEqual(ts_ns(got.create_time), ts_ns(o.create_time))

    def test_update_unknown_mask_path(self):
        o = self.create(self.uid("badmask"), legal_name="Keep")
        o.legal_name = "Changed"
        self.assertRpcError(C.INVALID_ARGUMENT, self.update, o, ["no_such_field"])
        self.assertEqual(self.get(o.name).legal_name, "Keep")


class PaginationTest(ServerTestCase):
    """Its own server: 23 paged orgs plus 35 fillers (58 in all)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paged = ["pg-%02d" % i for i in range(23)]
        cls.fillers = ["fill-%02d" % i for i in range(35)]
        # created in non-sorted order
        for oid in reversed(cls.paged + cls.fillers):
            cls.make_org(oid)
        cls.total = len(cls.paged) + len(cls.fillers)

    def list(self, **kw):
        return self.admin.call("Organizations.ListOrganizations", **kw)

    def test_paginate_page_size_5(self):
        names, token, pages = [], "", 0
        while True:
            r = self.list(page_size=5, page_token=token)
            pages += 1
            self.assertLessEqual(len(r.organizations), 5)
            names += [o.name for o in r.organizations]
            token = r.next_page_token
            if not token:
                break
            self.assertLess(pages, 100, "pagination does not end")
        for oid in self.paged:
            self.assertEqual(names.count("organizations/" + oid), 1, oid)
        self.assertEqual(len(names), len(set(names)), "an organization was seen twice")
        self.assertEqual(len(names), self.total)
        self.assertEqual(names, sorted(names), "not sorted by name")
        self.assertEqual(pages, (self.total + 4) // 5)

    def test_page_size_0_defaults_to_50(self):
        r = self.list(page_size=0)
        self.assertEqual(len(r.organizations), 50)
        self.assertTrue(r.next_page_token)
        r2 = self.list(page_size=0, page_token=r.next_page_token)
        self.assertEqual(len(r2.organizations), self.total - 50)
        self.assertEqual(r2.next_page_token, "")

    def test_page_size_over_1000_capped(self):
        for size in (1001, 5000, 2**31 - 1):
            with self.subTest(page_size=size):
                r = self.list(page_size=size)
                self.assertEqual(len(r.organizations), self.total)
                self.assertEqual(r.next_page_token, "")

    def test_garbage_page_token(self):
        for tok in ("garbage", "!!!not-a-token!!!"):
            with self.subTest(page_token=tok):
                self.assertRpcError(C.INVALID_ARGUMENT, self.list, page_size=5, page_token=tok)



class PageSizeCapTest(ServerTestCase):
    """Its own server with 1003 organizations."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(1003):
            cls.make_org("cap-%04d" % i)

    def test_page_size_capped_at_1000(self):
        r = self.admin.call("Organizations.ListOrganizations", page_size=5000)
        self.assertEqual(len(r.organizations), 1000)
        self.assertTrue(r.next_page_token)
        r2 = self.admin.call("Organizations.ListOrganizations", page_size=5000,
                             page_token=r.next_page_token)
        self.assertEqual([o.name for o in r2.organizations],
                         ["organizations/cap-%04d" % i for i in (1000, 1001, 1002)])
        self.assertEqual(r2.next_page_token, "")


if __name__ == "__main__":
    unittest.main()
