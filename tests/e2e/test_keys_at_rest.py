"""API key secrets at rest: the store keeps the SHA-256 of a secret, never the
secret, in any form, anywhere a secret could end up: the SQLite file and its
-wal and -shm companions (their bytes, while the server runs and after it
stopped, and every column of every row), the MongoDB documents, the server's
log and `supplysecd export`.

The checks look for the whole secret, its secret part (after the visible
prefix), the 32 random bytes that part encodes, and those in hex and base64.
Each place is also checked to hold the secret's SHA-256, so a check that reads
the wrong file or nothing at all fails instead of passing."""

import base64
import glob
import hashlib
import os
import re
import sqlite3
import subprocess
import unittest

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

import harness
from harness import SUPPLYSECD, RpcAssertions, Server, protos

SECRET_RE = re.compile(r"^(ssk_[0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


def secret_forms(secret):
    """{what: bytes} for every form of `secret` that must not be stored."""
    m = SECRET_RE.match(secret)
    assert m, "not a supplysec secret: %r" % secret
    tail = m.group(2)
    raw = base64.urlsafe_b64decode(tail + "=")
    return {
        "the whole secret": secret.encode(),
        "its secret part": tail.encode(),
        "the 32 bytes of its secret part": raw,
        "those bytes in hex": raw.hex().encode(),
        "those bytes in upper-case hex": raw.hex().upper().encode(),
        "those bytes in base64": base64.b64encode(raw).rstrip(b"="),
        "the whole secret in base64": base64.b64encode(secret.encode()).rstrip(b"="),
        "the whole secret in hex": secret.encode().hex().encode(),
    }


def digest(secret):
    return hashlib.sha256(secret.encode()).digest()


class KeysAtRest(RpcAssertions):
    """Keys of every kind are made and used in setUpClass; the server is
    stopped; then each place is searched. Subclasses name the store; each
    store is checked whichever store the rest of the run uses."""

    @classmethod
    def store(cls, directory):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        pb = protos()
        d = harness.tmpdir("at-rest-")
        srv = cls.server = Server(store_dir=d, store=cls.store(d))
        srv.start()
        cls.secrets = {"bootstrap": srv.admin_secret}
        try:
            admin = srv.admin()
            admin.call("Organizations.CreateOrganization", organization_id="rest-co",
                       organization=pb.orgs.Organization(
                           legal_name="Rest Co", country_code="DE",
                           kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            org_admin = admin.call("ApiKeys.CreateApiKey", parent="organizations/rest-co",
                                   api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
            cls.secrets["org admin (by the platform)"] = org_admin.secret
            editor = srv.client(org_admin.secret).call(
                "ApiKeys.CreateApiKey", parent="organizations/rest-co", api_key_id="rest-editor",
                api_key=pb.keys.ApiKey(role=pb.common.ROLE_EDITOR, display_name="editor"))
            cls.secrets["editor (by the org admin)"] = editor.secret
            platform = admin.call("ApiKeys.CreateApiKey", parent="platform",
                                  api_key=pb.keys.ApiKey(role=pb.common.ROLE_PLATFORM_ADMIN))
            cls.secrets["platform admin (by the platform)"] = platform.secret
            revoked = srv.client(org_admin.secret).call(
                "ApiKeys.CreateApiKey", parent="organizations/rest-co",
                api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
            cls.secrets["viewer, revoked"] = revoked.secret
            # every key authenticates once (a store that remembers use must not
            # remember the secret either), then one is revoked
            for secret in cls.secrets.values():
                srv.client(secret).call("Organizations.ListOrganizations")
            srv.client(platform.secret).call("ApiKeys.RevokeApiKey", name=revoked.api_key.name)
            cls.running = cls.snapshot_files()
            cls.running_docs = cls.mongo_docs()
        except BaseException:
            srv.kill()
            raise
        cls.exit_code = srv.stop(expect_code=None)
        cls.stopped = cls.snapshot_files()
        cls.stopped_docs = cls.mongo_docs()
        cls.export = subprocess.run([SUPPLYSECD, "export", "--store", srv.store],
                                    stdin=subprocess.DEVNULL, capture_output=True, timeout=120)

    # -- where to look --

    @classmethod
    def sqlite_path(cls):
        uri = cls.server.store
        return uri[len("sqlite:"):] if uri.startswith("sqlite:") else None

    @classmethod
    def snapshot_files(cls):
        """{file name: bytes} of the SQLite file and its companions."""
        path = cls.sqlite_path()
        if not path:
            return {}
        out = {}
        for f in sorted(glob.glob(glob.escape(path) + "*")):
            with open(f, "rb") as fh:
                out[os.path.basename(f)] = fh.read()
        return out

    @classmethod
    def mongo_docs(cls):
        """[(collection, raw BSON)] of every document of the store's database."""
        uri = cls.server.store
        if not uri.startswith("mongodb"):
            return []
        import pymongo
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        try:
            db = client.get_default_database()
            raw = CodecOptions(document_class=RawBSONDocument)
            return [(name, doc.raw) for name in sorted(db.list_collection_names())
                    for doc in db.get_collection(name, codec_options=raw).find({})]
        finally:
            client.close()

    def assertNoSecret(self, where, blob):
        found = []
        for who, secret in self.secrets.items():
            for what, b in secret_forms(secret).items():
                if b in blob:
                    found.append("%s of the %s key" % (what, who))
        self.assertEqual(found, [], "%s holds %s" % (where, ", ".join(found)))

    def assertHoldsDigests(self, where, blob, which=None):
        missing = [who for who, secret in self.secrets.items()
                   if (which is None or who in which) and digest(secret) not in blob]
        self.assertEqual(missing, [], "%s lacks the SHA-256 of the secret of the %s key(s): "
                         "is this the right place?" % (where, ", ".join(missing)))

    # -- the checks --
    def test_server_stopped_cleanly(self):
        self.assertEqual(self.exit_code, 0, self.server.log_tail())

    def test_export(self):
        r = self.export
        self.assertExit(r.returncode, 0, r.stderr, "supplysecd exported")
        self.assertNoSecret("the export's text", r.stdout)
        self.assertNoSecret("the export's stderr", r.stderr)
        # binary fields are base64 in the text: look at them decoded too
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        self.assertGreater(len(lines), 1)
        decoded = b"".join(bson.encode(json_util.loads(l)) for l in lines)
        self.assertNoSecret("the export's records, decoded", decoded)
        self.assertHoldsDigests("the export's records, decoded", decoded)

    def test_log(self):
        log = self.server.log_text().encode()
        self.assertIn(b'"msg":"call"', log)
        self.assertNoSecret("the server's log", log)


class SqliteKeysAtRestTest(KeysAtRest, unittest.TestCase):

    @classmethod
    def store(cls, directory):
        return "sqlite:" + os.path.join(directory, "db.sqlite")

    def test_sqlite_files(self):
        db = os.path.basename(self.sqlite_path())
        self.assertIn(db, self.running)
        self.assertIn(db, self.stopped)
        for when, files in (("while the server ran", self.running),
                            ("after it stopped", self.stopped)):
            for name, data in files.items():
                with self.subTest(file=name, when=when):
                    self.assertNoSecret("%s (%d bytes, %s)" % (name, len(data), when), data)
        # the stored hashes are on disk by now, wherever SQLite put them
        self.assertHoldsDigests("the SQLite files", b"".join(self.stopped.values()))

    def test_sqlite_rows(self):
        path = self.sqlite_path()
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            self.assertIn("resources", tables)
            everything = []
            for t in tables:
                rows = con.execute('SELECT * FROM "%s"' % t.replace('"', '""')).fetchall()
                for row in rows:
                    cells = [c if isinstance(c, bytes) else str(c).encode() for c in row]
                    with self.subTest(table=t):
                        self.assertNoSecret("a row of %s: %r" % (t, row[:3]), b"\0".join(cells))
                    everything += cells
        finally:
            con.close()
        self.assertHoldsDigests("the SQLite rows", b"\0".join(everything))


class MongoKeysAtRestTest(KeysAtRest, unittest.TestCase):
    """On the run's MongoDB double (or the real MongoDB, when given)."""

    @classmethod
    def store(cls, directory):
        name = re.sub(r"[^A-Za-z0-9_-]", "_", os.path.basename(directory))
        return (harness.real_mongodb_uri(name) if harness.REAL_MONGODB_URI
                else harness.mongo_double().uri(name))

    def test_mongodb_documents(self):
        for when, docs in (("while the server ran", self.running_docs),
                           ("after it stopped", self.stopped_docs)):
            self.assertTrue(docs, "no documents read %s" % when)
            for coll, raw in docs:
                with self.subTest(collection=coll, when=when):
                    self.assertNoSecret("a document of %s %s: %r" % (
                        coll, when, bson.decode(raw).get("_id")), raw)
        keys = b"".join(raw for coll, raw in self.stopped_docs if coll == "apiKeys")
        self.assertHoldsDigests("the apiKeys documents", keys)


if __name__ == "__main__":
    unittest.main()
