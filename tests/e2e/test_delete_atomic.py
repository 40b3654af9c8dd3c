"""DeleteOrganization is all or nothing: the organization and every one of its
API keys go in one store_apply, or none of them does.

Whatever stops a delete half-way (a short deadline, kill -9 of the server),
afterwards either the organization and all its keys are there, or neither.
Concurrent deletes and updates of the organization lose with ABORTED (or
NOT_FOUND naming the organization, once it is gone), never with an error
about one of its keys. A key created while the organization is being deleted
never outlives it (CreateApiKey guards the organization), so a new
organization with the same id starts with no keys.

Runs on either store (SUPPLYSEC_E2E_STORE). An organization has 2,000 keys,
500 on the MongoDB double (300 and 100 in the sweep): the double, a Python
program, takes milliseconds per transaction, so seeding 2,000 keys there took
most of the suite's time, and 500 still keep a delete running long enough to
be cut at every delay.

On MongoDB a transaction left open by a killed server lives on until the
server reaps it (transactionLifetimeLimitSeconds, 60 s by default), and every
write to the same organization conflicts with it until then. The kill test
on the double runs its own double that reaps them after a second, and waits
that second after each restart, so that each kill cuts a delete that really
runs rather than one still waiting for the last one's leftovers.
"""

import concurrent.futures
import os
import random
import threading
import time
import unittest

import grpc

import harness
from harness import RpcAssertions, Server, ServerTestCase, protos

C = grpc.StatusCode
SEED_THREADS = 16
ON_DOUBLE = harness.STORE_KIND == "mongodb" and not harness.REAL_MONGODB_URI
KEYS = 500 if ON_DOUBLE else 2000
SWEEP_KEYS = 100 if ON_DOUBLE else 300
TXN_LIFETIME = 1.0  # the kill test's double reaps abandoned transactions after this


def debug(line):
    if os.environ.get("SUPPLYSEC_E2E_DEBUG"):
        print(line)


def org_message(legal_name="Atomic GmbH"):
    pb = protos()
    return pb.orgs.Organization(legal_name=legal_name, country_code="DE",
                                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)


def seed_org(admin, org_id, revoked_keys):
    """An organization with `revoked_keys` revoked API keys."""
    pb = protos()
    admin.call("Organizations.CreateOrganization", organization_id=org_id,
               organization=org_message())

    def one(i):
        k = admin.call("ApiKeys.CreateApiKey", parent="organizations/" + org_id,
                       api_key_id="k-%05d" % i, api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
        admin.call("ApiKeys.RevokeApiKey", name=k.api_key.name)

    with concurrent.futures.ThreadPoolExecutor(SEED_THREADS) as ex:
        list(ex.map(one, range(revoked_keys)))


def key_names(admin, org_id):
    """Every key listed under the organization (it need not exist)."""
    names, token = [], ""
    while True:
        r = admin.call("ApiKeys.ListApiKeys", parent="organizations/" + org_id, page_size=1000,
                       page_token=token)
        names += [k.name for k in r.api_keys]
        token = r.next_page_token
        if not token:
            return names


def org_exists(admin, org_id):
    try:
        admin.call("Organizations.GetOrganization", name="organizations/" + org_id)
        return True
    except grpc.RpcError as e:
        if e.code() != C.NOT_FOUND:
            raise
        return False


class AtomicAssertions(RpcAssertions):

    def assertAllOrNothing(self, admin, org_id, keys):
        """The organization with all its `keys` keys, or neither; True when it is there."""
        exists = org_exists(admin, org_id)
        n = len(key_names(admin, org_id))
        if exists:
            self.assertEqual(n, keys, "organizations/%s is there with %d of its %d keys" % (
                org_id, n, keys))
        else:
            self.assertEqual(n, 0, "organizations/%s is gone but %d of its %d keys are left" % (
                org_id, n, keys))
        return exists

    def assertNotAboutAKey(self, err, org_id):
        """A losing delete or update: ABORTED, or NOT_FOUND naming the organization."""
        self.assertIn(err.code(), (C.ABORTED, C.NOT_FOUND), err.details())
        self.assertNotIn("apiKeys", err.details())
        if err.code() == C.NOT_FOUND:
            self.assertEqual(err.details(), "organizations/%s not found" % org_id)


class DeleteOrganizationAtomicTest(ServerTestCase, AtomicAssertions):

    def test_short_deadline_deletes_all_or_nothing(self):
        """Deadlines from 2 ms up: each attempt leaves all or nothing."""
        oid = self.uid("deadline")
        seed_org(self.admin, oid, KEYS)
        outcomes = []
        for timeout in (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5, 30):
            try:
                self.admin.call("Organizations.DeleteOrganization", name="organizations/" + oid,
                                timeout=timeout)
                outcomes.append("OK")
            except grpc.RpcError as e:
                # the call may have been over on the server before the client's timer
                if e.code() == C.NOT_FOUND:
                    self.assertEqual(e.details(), "organizations/%s not found" % oid)
                else:
                    self.assertEqual(e.code(), C.DEADLINE_EXCEEDED, e.details())
                outcomes.append(e.code().name)
            time.sleep(0.1)  # the server stops at the deadline too; let it get there
            if not self.assertAllOrNothing(self.admin, oid, KEYS):
                break
        self.assertFalse(org_exists(self.admin, oid), outcomes)
        debug("deadline outcomes: %s" % outcomes)

    def test_concurrent_deletes_and_updates_abort(self):
        """Two deletes and an update at once, in rounds: one wins, the others get
        ABORTED or NOT_FOUND for the organization; the store holds all or nothing."""
        pb = protos()
        rounds, keys = 8, 40
        for r in range(rounds):
            oid = self.uid("race")
            seed_org(self.admin, oid, keys)
            name = "organizations/" + oid
            barrier = threading.Barrier(3)
            results = [None] * 3

            def delete(i):
                barrier.wait()
                try:
                    self.admin.call("Organizations.DeleteOrganization", name=name)
                    results[i] = "OK"
                except grpc.RpcError as e:
                    results[i] = e

            def update(i):
                barrier.wait()
                try:
                    self.admin.call("Organizations.UpdateOrganization",
                                    organization=pb.orgs.Organization(
                                        name=name, legal_name="Renamed %d" % r),
                                    update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
                    results[i] = "OK"
                except grpc.RpcError as e:
                    results[i] = e

            threads = [threading.Thread(target=delete, args=(0,)),
                       threading.Thread(target=delete, args=(1,)),
                       threading.Thread(target=update, args=(2,))]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            for res in results:
                self.assertIsNotNone(res)
                if res != "OK":
                    self.assertNotAboutAKey(res, oid)
            self.assertLessEqual(results[:2].count("OK"), 1, results)
            exists = self.assertAllOrNothing(self.admin, oid, keys)
            self.assertEqual(exists, "OK" not in results[:2], results)

    def test_keys_created_during_delete_never_survive(self):
        """Platform administrators create keys (and revoke them at once) in a loop
        while the organization is deleted, retrying while it meets one of them
        active: none of the keys is left, and a new organization with the same id
        has none."""
        pb = protos()
        creators = 4
        for r in range(6):
            oid = self.uid("sweep")
            seed_org(self.admin, oid, SWEEP_KEYS)
            parent = "organizations/" + oid
            stop = threading.Event()
            created, unexpected = [], []
            lock = threading.Lock()

            def create(n):
                rnd = random.Random(n)
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        k = self.admin.call("ApiKeys.CreateApiKey", parent=parent,
                                            api_key_id="new-%d-%d" % (n, i),
                                            api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
                    except grpc.RpcError as e:
                        if e.code() != C.NOT_FOUND or e.details() != parent + " not found":
                            with lock:
                                unexpected.append(("create", e.code().name, e.details()))
                        return  # the organization is gone
                    with lock:
                        created.append(k.api_key.name)
                    try:
                        self.admin.call("ApiKeys.RevokeApiKey", name=k.api_key.name)
                    except grpc.RpcError as e:
                        if e.code() != C.NOT_FOUND:  # deleted with the organization
                            with lock:
                                unexpected.append(("revoke", e.code().name, e.details()))
                            return
                    time.sleep(rnd.uniform(0, 0.01))

            threads = [threading.Thread(target=create, args=(n,)) for n in range(creators)]
            for t in threads:
                t.start()
            time.sleep(0.01)
            attempts = []
            try:
                for _ in range(1000):
                    try:
                        self.admin.call("Organizations.DeleteOrganization", name=parent,
                                        timeout=30)
                        attempts.append("OK")
                        break
                    except grpc.RpcError as e:
                        attempts.append(e.code().name)
                        # one of the keys was active when the delete looked
                        self.assertEqual(e.code(), C.FAILED_PRECONDITION,
                                         "round %d, attempt %d: %s" % (r, len(attempts),
                                                                       e.details()))
            finally:
                stop.set()
                for t in threads:
                    t.join(60)
            self.assertEqual(unexpected, [])
            self.assertEqual(attempts[-1], "OK", attempts)
            debug("round %d: %d keys created, %d delete attempts" % (r, len(created),
                                                                     len(attempts)))
            for name in created:
                self.assertRpcError(C.NOT_FOUND, self.admin.call, "ApiKeys.GetApiKey", name=name)
            # the id is never used again, and nothing of the old one is left
            self.assertRpcError(C.ALREADY_EXISTS, self.admin.call,
                                "Organizations.CreateOrganization", organization_id=oid,
                                organization=org_message("Reborn"))
            self.assertEqual(key_names(self.admin, oid), [],
                             "round %d: keys of the deleted %s survived" % (r, parent))


class DeleteOrganizationKillTest(unittest.TestCase, AtomicAssertions):
    """kill -9 while an organization with its keys (KEYS) is being deleted, sooner or
    later after the call was sent: after each restart on the same store, all or
    nothing."""

    def test_kill_mid_delete(self):
        keys = KEYS
        oid = "killed-mid-delete"
        double = harness.MongoDouble(["--transaction-lifetime-seconds", str(TXN_LIFETIME)]) \
            if ON_DOUBLE else None
        srv = Server(store=double.uri("killed_mid_delete") if double else None)
        secret = None
        kills = []
        try:
            srv.start()
            secret = srv.admin_secret
            seed_org(srv.admin(), oid, keys)
            for delay in (0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.5, 2):
                admin = srv.admin()
                future = admin.callable("Organizations.DeleteOrganization").future(
                    admin.request("Organizations.DeleteOrganization", name="organizations/" + oid),
                    metadata=harness.auth_md(secret), timeout=60)
                time.sleep(delay)
                srv.kill()
                try:
                    future.result()
                    kills.append("%g s: answered OK" % delay)
                except grpc.RpcError as e:
                    kills.append("%g s: %s" % (delay, e.code().name))
                srv = Server(store_dir=srv.dir, bootstrap=False, store=srv.store)
                srv.admin_secret = secret
                srv.start()
                if not self.assertAllOrNothing(srv.admin(), oid, keys):
                    break
                if double:
                    time.sleep(TXN_LIFETIME + 0.2)  # the killed delete's transaction is reaped
            debug("kill -9 after: %s" % kills)
            if org_exists(srv.admin(), oid):  # every kill came before the commit
                srv.admin().call("Organizations.DeleteOrganization",
                                 name="organizations/" + oid, timeout=60)
                self.assertFalse(self.assertAllOrNothing(srv.admin(), oid, keys))
        finally:
            srv.kill()
            if double:
                double.stop()


if __name__ == "__main__":
    unittest.main()
