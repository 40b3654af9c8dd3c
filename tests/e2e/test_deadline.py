"""A write never happens after its call's deadline, even while it waits for the store.

Another process holds the SQLite write lock; a CreateOrganization with a
0.5 s deadline waits for it inside the store. The store gives up at the
deadline (not after its 5 s lock timeout) and writes nothing, and the server
logs the call DEADLINE_EXCEEDED itself (so this is not only the client's
timer). Reads go on meanwhile (WAL).
"""

import json
import os
import sqlite3
import time
import unittest

import grpc

from harness import STORE_KIND, ServerTestCase, protos

C = grpc.StatusCode


@unittest.skipUnless(STORE_KIND == "sqlite",
                     "holds the SQLite write lock from outside; the MongoDB store's deadline "
                     "check runs in the storage contract suite")
class StoreLockDeadlineTest(ServerTestCase):

    def test_write_blocked_past_deadline_is_not_made(self):
        pb = protos()
        admin = self.server.admin()
        db = sqlite3.connect(os.path.join(self.server.dir, "db.sqlite"), isolation_level=None,
                             timeout=5)
        db.execute("BEGIN IMMEDIATE")
        try:
            t0 = time.monotonic()
            self.assertRpcError(
                C.DEADLINE_EXCEEDED, admin.call, "Organizations.CreateOrganization",
                organization_id="blocked-late",
                organization=pb.orgs.Organization(legal_name="Blocked", country_code="DE",
                                                  kind=pb.orgs.ORGANIZATION_KIND_OPERATOR),
                timeout=0.5)
            # reads are not blocked by a writer
            r = admin.call("Organizations.ListOrganizations", page_size=1)
            self.assertIsNotNone(r)
            time.sleep(0.8)  # well past the deadline, far short of the 5 s lock timeout
        finally:
            db.execute("ROLLBACK")
            db.close()
        self.assertLess(time.monotonic() - t0, 4.0)
        time.sleep(0.3)
        self.assertRpcError(C.NOT_FOUND, admin.call, "Organizations.GetOrganization",
                            name="organizations/blocked-late")
        creates = [json.loads(line) for line in self.server.log_text().splitlines()
                   if '"CreateOrganization"' in line or "/CreateOrganization" in line]
        creates = [c for c in creates if c.get("msg") == "call"]
        self.assertTrue(creates, "no log line for the create")
        self.assertEqual(creates[-1]["status"], "DEADLINE_EXCEEDED", creates[-1])


if __name__ == "__main__":
    unittest.main()
