"""A store written before a kind declared its facets: the records are given
them at the next start-up, so filters find records older than the
declaration. Here ApiKeys' `state` and `role` facets (and the marks that say
which facet tables a collection's facets follow) are taken out of a stopped
server's store, as a release before them left it; after a restart the
filters on them find every key again, the server logs how many records it
gave facets, and the following start-up finds nothing to do."""

import json
import sqlite3
import subprocess
import unittest

from harness import SUPPLYSECD, ServerTestCase, protos


class FacetsUpgradeTest(ServerTestCase):

    def strip_facets(self, mark=True):
        """The store as a release without ApiKeys' facets left it (mark:
        also the mark; without it, as a server of that release writing after
        a newer one started leaves it)."""
        uri = self.server.store
        if uri.startswith("sqlite:"):
            db = sqlite3.connect(uri[len("sqlite:"):])
            with db:
                db.execute("DELETE FROM facets WHERE collection = 'apiKeys'")
                if mark:
                    db.execute("DELETE FROM store_meta WHERE key = 'facets:apiKeys'")
            db.close()
            return
        import pymongo
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        try:
            db = client.get_default_database()
            db.apiKeys.update_many({}, {"$unset": {"_facets": ""}})
            if mark:
                db.counters.delete_one({"_id": "facets/apiKeys"})
        finally:
            client.close()

    def given_facets(self):
        """The `records` of the start-up log line about facets given, or 0."""
        for line in self.server.log_text().splitlines():
            if line.startswith("{") and "facets their kinds declare" in line:
                return json.loads(line)["records"]
        return 0

    def names(self, flt):
        r = self.admin.call("ApiKeys.ListApiKeys", parent="organizations/fu-a", filter=flt)
        return sorted(k.name for k in r.api_keys)

    def test_old_records_get_their_facets(self):
        pb = protos()
        self.make_org("fu-a")
        viewer = self.make_key("organizations/fu-a", pb.common.ROLE_VIEWER).api_key.name
        admin = self.make_key("organizations/fu-a", pb.common.ROLE_ADMIN).api_key.name
        gone = self.make_key("organizations/fu-a", pb.common.ROLE_ADMIN).api_key.name
        self.admin.call("ApiKeys.RevokeApiKey", name=gone)
        self.assertEqual(self.names("state = REVOKED"), [gone])

        self.server.stop()
        self.strip_facets()
        self.server.start()
        type(self).admin = self.server.admin()
        # the platform's bootstrap key and these three
        self.assertEqual(self.given_facets(), 4, self.server.log_tail())
        self.assertEqual(self.names("state = REVOKED"), [gone])
        self.assertEqual(self.names("state = ACTIVE AND role = ADMIN"), [admin])
        self.assertEqual(self.names("role = VIEWER"), [viewer])

        self.server.stop()
        self.server.start()
        type(self).admin = self.server.admin()
        self.assertEqual(self.given_facets(), 0, self.server.log_tail())
        self.assertEqual(self.names("state = REVOKED"), [gone])

        # records written without facets under an up-to-date mark (a rolling
        # upgrade): start-up trusts the mark; `supplysecd refacet` does not
        self.server.stop()
        self.strip_facets(mark=False)
        r = subprocess.run([SUPPLYSECD, "refacet", "--store", self.server.store],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.assertIn('"records":5', r.stderr.decode())  # the four keys and the organization
        self.server.start()
        type(self).admin = self.server.admin()
        self.assertEqual(self.names("state = ACTIVE AND role = ADMIN"), [admin])

    def test_mongodb_indexes_every_declared_facet(self):
        """On MongoDB each declared facet has its index (store_mongo.c,
        "Facet indexes"), made at start-up; one of a facet no kind declares
        is dropped by `supplysecd refacet`, never by a start-up."""
        uri = self.server.store
        if uri.startswith("sqlite:"):
            self.skipTest("SQLite keeps one index of every facet's values")
        import pymongo
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        try:
            db = client.get_default_database()

            def facet_indexes(coll):
                return {i["name"]: list(i["key"].keys()) for i in db[coll].list_indexes()
                        if i["name"].startswith("facet_")}

            orgs = facet_indexes("organizations")
            self.assertEqual(sorted(orgs), sorted(
                "facet_" + f for f in ("kind", "country_code", "legal_name",
                                       "supply_chain_roles", "create_time", "update_time")))
            self.assertEqual(orgs["facet_country_code"],
                             ["_parent", "_facets.country_code", "_id"])
            self.assertEqual(sorted(facet_indexes("apiKeys")), ["facet_role", "facet_state"])
            self.assertIn("facet_state", facet_indexes("securityPolicyRevisions"))

            # a facet no kind declares any more (an older or a newer release's):
            # a start-up leaves it, `supplysecd refacet` drops it
            self.server.stop()
            db.organizations.create_index([("_parent", 1), ("_facets.eori", 1), ("_id", 1)],
                                          name="facet_eori")
            self.server.start()
            self.assertIn("facet_eori", facet_indexes("organizations"))
            self.server.stop()
            r = subprocess.run([SUPPLYSECD, "refacet", "--store", uri], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
            self.server.start()
            type(self).admin = self.server.admin()  # the class's client, for the other tests
            self.assertNotIn("facet_eori", facet_indexes("organizations"))
            self.assertIn("facet_kind", facet_indexes("organizations"))
        finally:
            client.close()


if __name__ == "__main__":
    unittest.main()
