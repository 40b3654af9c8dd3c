"""What only a real MongoDB deployment can show: transactions, majority write
concern, a primary stepping down. Runs when SUPPLYSEC_TEST_MONGODB_URI names a
replica set (e.g. the one of docker/compose.yaml); skipped otherwise, because
the wire-protocol double has none of these."""

import threading
import time
import unittest

import grpc

from harness import (REAL_MONGODB_URI, RpcAssertions, Server, bootstrap, protos,
                     real_mongodb_uri, tmpdir)

C = grpc.StatusCode
WHY = ("needs a real MongoDB replica set: set SUPPLYSEC_TEST_MONGODB_URI "
       "(the wire-protocol double has transactions but no snapshot reads, write concern, "
       "durability or elections)")


@unittest.skipUnless(REAL_MONGODB_URI, WHY)
class RealMongoTest(unittest.TestCase, RpcAssertions):

    def setUp(self):
        self.uri = real_mongodb_uri("real_%d" % int(time.time() * 1000))
        secret = bootstrap(self.uri)
        self.srv = Server(store_dir=tmpdir("real-"), bootstrap=False, store=self.uri)
        self.srv.admin_secret = secret
        self.srv.start()
        self.addCleanup(self.srv.stop)

    def create(self, org_id="", timeout=15):
        pb = protos()
        return self.srv.admin().call(
            "Organizations.CreateOrganization", organization_id=org_id, timeout=timeout,
            organization=pb.orgs.Organization(legal_name="Real", country_code="DE",
                                              kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))

    def test_transactions_in_use(self):
        self.assertIn("one transaction", self.srv.log_text().splitlines()[0])

    def test_majority_acknowledged_write_is_readable(self):
        import pymongo
        o = self.create("real-majority")
        client = pymongo.MongoClient(self.uri)
        coll = client.get_default_database().get_collection(
            "organizations", read_concern=pymongo.read_concern.ReadConcern("majority"))
        doc = coll.find_one({"_id": o.name})
        self.assertIsNotNone(doc)
        self.assertEqual(doc["legalName"], "Real")
        self.assertEqual(doc["etag"], o.etag)
        events = client.get_default_database().auditEvents.count_documents(
            {"resource": o.name})
        self.assertEqual(events, 1)

    def test_primary_steps_down(self):
        import pymongo
        stop = threading.Event()
        acked, codes = [], set()

        def load():
            while not stop.is_set():
                try:
                    acked.append(self.create().name)
                except grpc.RpcError as e:
                    codes.add(e.code())
                    time.sleep(0.1)

        t = threading.Thread(target=load)
        t.start()
        time.sleep(1)
        try:
            pymongo.MongoClient(self.uri).admin.command("replSetStepDown", 5, force=True)
        except pymongo.errors.AutoReconnect:
            pass  # the primary closes its connections as it steps down
        time.sleep(12)
        stop.set()
        t.join()
        self.assertLessEqual(codes, {C.UNAVAILABLE})
        self.create()  # serving again, same process
        for name in acked:  # every acknowledged write survived
            self.srv.admin().call("Organizations.GetOrganization", name=name)


if __name__ == "__main__":
    unittest.main()
