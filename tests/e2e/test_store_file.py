"""The SQLite store file (issue 7): what start-up refuses, `supplysecd init`,
and what a running server does when its file is deleted or replaced, the disk
fills up, the filesystem turns read-only or the database is corrupt.

Refusals exit 3 with a message saying what was found and what to do; the
tests check both. The disk-full and read-only tests need root (they mount a
small tmpfs, and an ext4 image through a loop device) and skip without it.
"""

import glob
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

import grpc

from harness import (STORE_KIND, SUPPLYSECD, RpcAssertions, Server, bootstrap,
                     bootstrap_run, free_port, protos, tmpdir)

C = grpc.StatusCode
EXIT_REFUSED = 3


def db_path(d):
    return os.path.join(d, "db.sqlite")


def uri_of(d):
    return "sqlite:" + db_path(d)


def marker_of(d):
    return os.path.join(d, ".db.sqlite.store-id")


def supplysecd(*args, timeout=30):
    return subprocess.run([SUPPLYSECD, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def serve_once(d):
    """Start supplysecd on the store in d and return the CompletedProcess of a
    server that was refused (a server that starts is stopped, and fails the
    caller's assertions through its exit code 0)."""
    proc = subprocess.Popen(
        [SUPPLYSECD, "--listen", "127.0.0.1:%d" % free_port(), "--store", uri_of(d)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def org(pb, legal_name="Org"):
    return pb.orgs.Organization(legal_name=legal_name, country_code="DE",
                                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)


def all_orgs(client):
    names, token = [], ""
    while True:
        r = client.call("Organizations.ListOrganizations", page_size=100, page_token=token)
        names += [o.name for o in r.organizations]
        token = r.next_page_token
        if not token:
            return names


def store_log_lines(srv):
    """The store's own log lines (component "store") of a server."""
    lines = []
    for line in srv.log_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("component") == "store":
            lines.append(rec)
    return lines


def stopped_store(d=None, orgs=3):
    """A store with a platform key and `orgs` organizations, server stopped.
    Returns (dir, admin secret, org names)."""
    pb = protos()
    srv = Server(store_dir=d or tmpdir("store-"))
    srv.start()
    names = [srv.admin().call("Organizations.CreateOrganization", organization_id="o-%03d" % i,
                              organization=org(pb)).name for i in range(orgs)]
    srv.stop()
    return srv.dir, srv.admin_secret, names


class StoreFileCase(unittest.TestCase, RpcAssertions):

    def setUp(self):
        if STORE_KIND != "sqlite":
            self.skipTest("SQLite store files only")
        protos()

    def assertRefused(self, proc, *says):
        text = (proc.stderr or "") + (proc.stdout or "")
        self.assertEqual(proc.returncode, EXIT_REFUSED,
                         "expected exit %d (store refused), got %s: %s" % (
                             EXIT_REFUSED, proc.returncode, text[-3000:]))
        for s in says:
            self.assertIn(s, text)

    def health(self, srv):
        return srv.client().call("Health.Check", service="").status

    def wait_health(self, srv, want, within=5.0):
        deadline = time.monotonic() + within
        while True:
            got = self.health(srv)
            if got == want or time.monotonic() > deadline:
                self.assertEqual(got, want, "health after %.1fs" % within)
                return
            time.sleep(0.1)

    def restart(self, srv):
        again = Server(store_dir=srv.dir, bootstrap=False, store=srv.store)
        again.admin_secret = srv.admin_secret
        return again.start()


class RefusedAtStartTest(StoreFileCase):
    """Start-up never takes an empty or foreign file for a store, nor starts an
    empty store where one was; bootstrap refuses the same."""

    def test_zero_length_file_refused(self):
        d = tmpdir()
        open(db_path(d), "wb").close()
        self.assertRefused(serve_once(d), "is empty (0 bytes)", "supplysecd init")
        r = bootstrap_run(uri_of(d))
        self.assertRefused(subprocess.CompletedProcess(r.args, r.returncode, "",
                                                       r.stderr.decode()), "is empty")
        self.assertEqual(r.stdout, b"")
        self.assertEqual(os.path.getsize(db_path(d)), 0, "the refused file was written to")

    def test_file_that_is_not_sqlite_refused(self):
        d = tmpdir()
        with open(db_path(d), "wb") as f:
            f.write(b"these are not the pages you are looking for\n" * 100)
        before = digest(db_path(d))
        self.assertRefused(serve_once(d), "is not a SQLite database")
        self.assertEqual(digest(db_path(d)), before)

    def test_foreign_sqlite_file_refused(self):
        d = tmpdir()
        db = sqlite3.connect(db_path(d))
        db.execute("CREATE TABLE inventory (sku TEXT, qty INTEGER)")
        db.execute("INSERT INTO inventory VALUES ('a', 1)")
        db.commit()
        db.close()
        before = digest(db_path(d))
        self.assertRefused(serve_once(d), "is a SQLite database but not a supplysec store")
        self.assertRefused(supplysecd("init", "--store", uri_of(d)), "not a supplysec store")
        self.assertEqual(digest(db_path(d)), before, "the foreign file was written to")

    def test_missing_store_refused_until_init(self):
        d, secret, _ = stopped_store()
        self.assertTrue(os.path.exists(marker_of(d)))
        for f in glob.glob(db_path(d) + "*"):  # what the operator ran
            os.remove(f)
        self.assertRefused(serve_once(d), "is missing", marker_of(d),
                           "supplysecd init --store " + uri_of(d))
        r = bootstrap_run(uri_of(d))
        self.assertEqual(r.returncode, EXIT_REFUSED, r.stderr)
        self.assertEqual(r.stdout, b"", "bootstrap printed a key for an empty store")
        self.assertFalse(os.path.exists(db_path(d)), "a refused start created a store file")

        r = supplysecd("init", "--store", uri_of(d))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("created a new, empty store", r.stderr)
        srv = Server(store_dir=d)  # bootstraps the fresh store
        with srv:
            self.assertRpcError(C.UNAUTHENTICATED, srv.client(secret).call,
                                "Organizations.ListOrganizations")
            self.assertEqual(all_orgs(srv.admin()), [])

    def test_first_run_creates_a_store(self):
        d = tmpdir()
        uri = "sqlite:" + os.path.join(d, "new", "dir", "s.db")
        secret = bootstrap(uri)
        self.assertTrue(secret)
        self.assertTrue(os.path.exists(os.path.join(d, "new", "dir", ".s.db.store-id")))
        r = supplysecd("init", "--store", uri)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing to do", r.stderr)

    def test_store_replaced_by_another_store_refused_until_init(self):
        a, _, _ = stopped_store()
        b, secret_b, names_b = stopped_store(orgs=2)
        shutil.copyfile(db_path(b), db_path(a))
        self.assertRefused(serve_once(a), "replaced by another store",
                           "supplysecd init --store " + uri_of(a))
        r = supplysecd("init", "--store", uri_of(a))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("accepted the store", r.stderr)
        srv = Server(store_dir=a, bootstrap=False)
        srv.admin_secret = secret_b
        with srv:
            self.assertEqual(all_orgs(srv.admin()), names_b)

    def test_store_of_an_earlier_release_adopted(self):
        d, secret, names = stopped_store()
        # As the previous release left its stores: no identity, no marker.
        db = sqlite3.connect(db_path(d))
        db.execute("DROP TABLE store_meta")
        db.execute("PRAGMA application_id = 0")
        db.commit()
        db.close()
        os.remove(marker_of(d))
        srv = Server(store_dir=d, bootstrap=False)
        srv.admin_secret = secret
        with srv:
            self.assertEqual(all_orgs(srv.admin()), names)
            self.assertTrue(any("adopted the store" in r["msg"] for r in store_log_lines(srv)),
                            srv.log_tail())
        self.assertTrue(os.path.exists(marker_of(d)))
        db = sqlite3.connect(db_path(d))
        self.assertNotEqual(db.execute("PRAGMA application_id").fetchone()[0], 0)
        db.close()

    def test_unmarked_store_where_another_was_refused(self):
        d, _, _ = stopped_store()
        db = sqlite3.connect(db_path(d))
        db.execute("DROP TABLE store_meta")
        db.execute("PRAGMA application_id = 0")
        db.commit()
        db.close()
        self.assertRefused(serve_once(d), "from before stores had an id", "supplysecd init")


class RunningStoreFileTest(StoreFileCase):
    """A running server keeps to the file it opened."""

    def test_deleted_store_file_put_back_nothing_lost(self):
        pb = protos()
        srv = Server()
        srv.start()
        admin = srv.admin()
        try:
            for i in range(50):
                admin.call("Organizations.CreateOrganization", organization_id="a-%03d" % i,
                           organization=org(pb))
            for f in glob.glob(db_path(srv.dir) + "*"):
                os.remove(f)
            for i in range(50):  # the 50 creates after the deletion
                admin.call("Organizations.CreateOrganization", organization_id="b-%03d" % i,
                           organization=org(pb))
            self.assertEqual(self.health(srv), protos().health.HealthCheckResponse.SERVING)
            self.assertTrue(os.path.exists(db_path(srv.dir)), "the store file was not put back")
            lines = store_log_lines(srv)
            self.assertTrue(any(r["level"] == "error" and "was deleted while open" in r["msg"]
                                for r in lines), srv.log_tail())
            self.assertTrue(any("was put back from the open database" in r["msg"]
                                for r in lines), srv.log_tail())
        finally:
            srv.stop()
        with self.restart(srv) as again:
            self.assertEqual(len(all_orgs(again.admin())), 100)
        r = bootstrap_run(srv.store)  # the store still has its platform key
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"already has a platform key", r.stderr)

    def test_deleted_while_idle_put_back_within_a_second(self):
        pb = protos()
        srv = Server()
        srv.start()
        try:
            srv.admin().call("Organizations.CreateOrganization", organization_id="idle",
                             organization=org(pb))
            for f in glob.glob(db_path(srv.dir) + "*"):
                os.remove(f)
            deadline = time.monotonic() + 3
            while not os.path.exists(db_path(srv.dir)) and time.monotonic() < deadline:
                time.sleep(0.05)  # no call at all: the store's own monitor puts it back
            self.assertTrue(os.path.exists(db_path(srv.dir)), "not put back without traffic")
        finally:
            srv.kill()  # no clean close either: the file must already hold the data
        with self.restart(srv) as again:
            self.assertEqual(all_orgs(again.admin()), ["organizations/idle"])

    def test_deleted_log_folded_back(self):
        pb = protos()
        srv = Server()
        srv.start()
        try:
            for i in range(5):
                srv.admin().call("Organizations.CreateOrganization", organization_id="w-%d" % i,
                                 organization=org(pb))
            os.remove(db_path(srv.dir) + "-wal")  # the last writes live only there
            srv.admin().call("Organizations.CreateOrganization", organization_id="w-5",
                             organization=org(pb))
        finally:
            srv.kill()
        with self.restart(srv) as again:
            self.assertEqual(len(all_orgs(again.admin())), 6)

    def test_replaced_store_file_refuses_writes(self):
        pb = protos()
        srv = Server()
        srv.start()
        admin = srv.admin()
        try:
            admin.call("Organizations.CreateOrganization", organization_id="before",
                       organization=org(pb))
            watch = srv.channel.unary_stream(
                "/grpc.health.v1.Health/Watch",
                request_serializer=pb.health.HealthCheckRequest.SerializeToString,
                response_deserializer=pb.health.HealthCheckResponse.FromString)(
                    pb.health.HealthCheckRequest(), timeout=30)
            self.assertEqual(next(watch).status, pb.health.HealthCheckResponse.SERVING)
            tmp = db_path(srv.dir) + ".copy"
            shutil.copyfile(db_path(srv.dir), tmp)
            os.replace(tmp, db_path(srv.dir))  # another file (inode) at the path
            e = self.assertRpcError(C.UNAVAILABLE, admin.call, "Organizations.CreateOrganization",
                                    organization_id="after", organization=org(pb))
            self.assertIn("unavailable", e.details())
            self.wait_health(srv, pb.health.HealthCheckResponse.NOT_SERVING, within=2.5)
            self.assertEqual(next(watch).status, pb.health.HealthCheckResponse.NOT_SERVING)
            watch.cancel()
            self.assertTrue(any(r["level"] == "error" and "was replaced by another file" in
                                r["msg"] for r in store_log_lines(srv)), srv.log_tail())
        finally:
            srv.stop()

    def test_corrupt_store_not_serving(self):
        pb = protos()
        d, secret, _ = stopped_store(orgs=40)
        db = sqlite3.connect(db_path(d))
        roots = [r for (r,) in db.execute(
            "SELECT rootpage FROM sqlite_master WHERE rootpage > 0 AND tbl_name IN"
            " ('resources', 'audit_events')")]
        page = db.execute("PRAGMA page_size").fetchone()[0]
        db.close()
        with open(db_path(d), "r+b") as f:  # the data's b-tree roots, not the schema
            for r in roots:
                f.seek((r - 1) * page)
                f.write(bytes([0xA5]) * page)
        srv = Server(store_dir=d, bootstrap=False)
        srv.admin_secret = secret
        srv.start()
        try:
            self.assertRpcError(C.INTERNAL, srv.admin().call, "Organizations.ListOrganizations")
            self.wait_health(srv, pb.health.HealthCheckResponse.NOT_SERVING, within=2.5)
            # writes are refused, INTERNAL: retrying cannot help
            self.assertRpcError(C.INTERNAL, srv.admin().call, "Organizations.CreateOrganization",
                                organization_id="more", organization=org(pb))
            self.assertTrue(any(r["level"] == "error" and "is corrupt" in r["msg"]
                                for r in store_log_lines(srv)), srv.log_tail())
        finally:
            srv.stop()


def run_root(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


class FilesystemTest(StoreFileCase):
    """The disk fills up or the filesystem turns read-only under a running
    server: writes UNAVAILABLE, health NOT_SERVING with an error log line."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to mount filesystems")
        self.mounts = []
        self.servers = []

    def tearDown(self):
        for srv in self.servers:
            srv.kill()
        for m in reversed(self.mounts):
            run_root("umount", m)

    def mount(self, *args):
        r = run_root("mount", *args)
        if r.returncode != 0:
            self.skipTest("cannot mount (%s)" % r.stderr.strip())
        self.mounts.append(args[-1])

    def server_on(self, fs_dir):
        d = os.path.dirname(fs_dir)
        srv = Server(store_dir=d, store="sqlite:" + os.path.join(fs_dir, "db.sqlite"))
        self.servers.append(srv)
        return srv.start()

    def test_disk_full(self):
        """A 1 MiB tmpfs filled up by another file: what a full disk does."""
        pb = protos()
        fs = os.path.join(tmpdir(), "fs")
        os.mkdir(fs)
        self.mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", fs)
        srv = self.server_on(fs)
        admin = srv.admin()
        admin.call("Organizations.CreateOrganization", organization_id="roomy",
                   organization=org(pb))
        filler = os.path.join(fs, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        codes = set()
        for i in range(50):  # one may still fit in the log's last page
            try:
                admin.call("Organizations.CreateOrganization", organization_id="full-%d" % i,
                           organization=org(pb))
            except grpc.RpcError as e:
                codes.add(e.code())
                break
        self.assertEqual(codes, {C.UNAVAILABLE})
        self.wait_health(srv, pb.health.HealthCheckResponse.NOT_SERVING, within=2.5)
        self.assertTrue(any(r["level"] == "error" and "full" in r["msg"]
                            for r in store_log_lines(srv)), srv.log_tail())
        os.remove(filler)  # space again: health recovers by itself
        self.wait_health(srv, pb.health.HealthCheckResponse.SERVING, within=4)
        admin.call("Organizations.CreateOrganization", organization_id="again",
                   organization=org(pb))
        srv.stop()
        self.servers.remove(srv)

    def test_read_only_filesystem(self):
        """ext4 with errors=remount-ro after a filesystem error: the way a
        production disk turns read-only under a running server (remounting by
        hand is refused while files are open for writing)."""
        pb = protos()
        if not shutil.which("mkfs.ext4"):
            self.skipTest("no mkfs.ext4")
        d = tmpdir()
        image = os.path.join(d, "ext4.img")
        with open(image, "wb") as f:
            f.truncate(16 << 20)
        r = run_root("mkfs.ext4", "-q", "-F", image)
        if r.returncode != 0:
            self.skipTest("mkfs.ext4 failed: %s" % r.stderr)
        fs = os.path.join(d, "fs")
        os.mkdir(fs)
        self.mount("-o", "loop,errors=remount-ro", image, fs)
        dev = None
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if parts[1] == fs:
                    dev = os.path.basename(os.path.realpath(parts[0]))
        trigger = "/sys/fs/ext4/%s/trigger_fs_error" % dev
        if not dev or not os.path.exists(trigger):
            self.skipTest("no %s" % trigger)
        srv = self.server_on(fs)
        admin = srv.admin()
        admin.call("Organizations.CreateOrganization", organization_id="writable",
                   organization=org(pb))
        with open(trigger, "w") as f:
            f.write("supplysec test\n")
        self.assertRpcError(C.UNAVAILABLE, admin.call, "Organizations.CreateOrganization",
                            organization_id="readonly", organization=org(pb))
        self.wait_health(srv, pb.health.HealthCheckResponse.NOT_SERVING, within=2.5)
        self.assertTrue(any(r["level"] == "error" and "read-only" in r["msg"]
                            for r in store_log_lines(srv)), srv.log_tail())
        # reads go on
        self.assertEqual(all_orgs(admin), ["organizations/writable"])
        srv.stop()
        self.servers.remove(srv)


if __name__ == "__main__":
    unittest.main()
