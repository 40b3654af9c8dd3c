#!/usr/bin/python3
"""A MongoDB wire-protocol TEST DOUBLE (not MongoDB).

mockupdb speaks the wire protocol (OP_MSG / OP_QUERY handshake); every request
goes to Double.handle, which translates the command onto mongomock's
in-memory collections and always replies (errors become {ok: 0, ...}).
It presents itself as the primary of a one-member replica set running mongod
7.0, with sessions and transactions (sessions.py); with --standalone, as a
standalone mongod, which refuses transactions. It refuses what mongod refuses
(strict.py), reads query filters as mongod does (query.py) and has mongod's
test failpoints (failpoints.py).

    /usr/bin/python3 mongo_double.py --port 0 [--host 127.0.0.1] [--standalone] [--log-commands]

prints "ready <port>" once listening and serves until SIGTERM/SIGINT.
"""

import argparse
import contextlib
import datetime
import itertools
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Mapping

import bson
import mockupdb
import mongomock
import mongomock.collection as mm_collection
from bson import json_util
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.errors import BSONError
from bson.int64 import Int64
from mongomock import filtering, helpers
from pymongo.errors import CollectionInvalid, DuplicateKeyError, PyMongoError, WriteError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import query as queries  # noqa: E402  (this directory's modules)
import strict  # noqa: E402
from failpoints import FailPoints  # noqa: E402
from sessions import (ABSENT, RETRYABLE_CODES, TRANSIENT_CODES, CommandError, Ctx,  # noqa: E402
                      Journal, Sessions, doc_key, one_document, split_id, write_conflict)

MAX_BSON = strict.MAX_BSON
MAX_BATCH_BYTES = MAX_BSON - 64 * 1024   # room for the reply envelope
MORE_TO_COME = mockupdb.OP_MSG_FLAGS['moreToCome']
MAX_OPEN_CURSORS = 10000
SET_NAME = 'rs0'
ELECTION_ID = bson.ObjectId('7fffffff0000000000000001')
CODE_NAMES = {
    2: 'BadValue', 6: 'HostUnreachable', 7: 'HostNotFound', 8: 'UnknownError',
    9: 'FailedToParse', 13: 'Unauthorized', 14: 'TypeMismatch', 15: 'Overflow',
    20: 'IllegalOperation',
    24: 'LockTimeout', 26: 'NamespaceNotFound', 27: 'IndexNotFound', 43: 'CursorNotFound',
    48: 'NamespaceExists', 50: 'MaxTimeMSExpired', 59: 'CommandNotFound',
    64: 'WriteConcernFailed', 66: 'ImmutableField', 67: 'CannotCreateIndex',
    72: 'InvalidOptions', 73: 'InvalidNamespace', 85: 'IndexOptionsConflict',
    86: 'IndexKeySpecsConflict', 89: 'NetworkTimeout', 91: 'ShutdownInProgress',
    112: 'WriteConflict', 189: 'PrimarySteppedDown', 197: 'InvalidIndexSpecificationOption',
    225: 'TransactionTooOld', 238: 'NotImplemented', 244: 'TransactionAborted',
    251: 'NoSuchTransaction', 256: 'TransactionCommitted', 262: 'ExceededTimeLimit',
    263: 'OperationNotSupportedInTransaction', 9001: 'SocketException',
    10107: 'NotWritablePrimary', 10334: 'BSONObjectTooLarge', 11000: 'DuplicateKey',
    11600: 'InterruptedAtShutdown', 11602: 'InterruptedDueToReplStateChange',
    13435: 'NotPrimaryNoSecondaryOk', 13436: 'NotPrimaryOrSecondary'}
# Errors that fail a whole write command rather than one of its statements.
COMMAND_LEVEL = frozenset([50, 112])

# Decode every binary subtype (3/4 included) as Binary, so it is re-encoded
# byte for byte; subtype 0 decodes to bytes and is re-encoded as subtype 0.
mockupdb.CODEC_OPTIONS = CodecOptions(
    document_class=OrderedDict,
    uuid_representation=UuidRepresentation.UNSPECIFIED)


class HangUp(Exception):
    """Close the connection without a reply (failCommand closeConnection)."""


def now_ms():
    now = datetime.datetime.utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def id_first(doc, generate=True):
    """mongod stores _id as the first field (generating one if missing)."""
    if '_id' not in doc:
        if not generate:
            return doc
        return OrderedDict([('_id', bson.ObjectId())] + list(doc.items()))
    if next(iter(doc)) == '_id':
        return doc
    out = OrderedDict(_id=doc['_id'])
    out.update((k, v) for k, v in doc.items() if k != '_id')
    return out


def required(cmd, field):
    if field not in cmd:
        name = next(iter(cmd))
        raise CommandError(40414, "BSON field '%s.%s' is missing but a required "
                                  'field' % (name, field))
    return cmd[field]


def is_update_doc(u):
    if isinstance(u, list):
        raise CommandError(238, 'pipeline-style updates are not supported by '
                                'the mongo test double')
    return bool(u) and next(iter(u)).startswith('$')


# ---------------------------------------------------------------- mongomock fixes

def _fmt(value):
    return json_util.dumps(value)


def collision_filter(index, doc):
    """Filter for docs that share doc's key in a unique index (None: doc is
    not in the index because of sparse or partialFilterExpression)."""
    values, present = OrderedDict(), False
    for field, _ in index['key']:
        try:
            values[field] = helpers.get_value_by_dot(doc, field)
            present = True
        except KeyError:
            values[field] = None  # missing indexes as null
    pfe = index.get('partialFilterExpression')
    if index.get('sparse') and not present:
        return None
    if pfe is not None and not filtering.filter_applies(pfe, doc):
        return None
    clauses = [values] + ([pfe] if pfe is not None else [])
    if index.get('sparse'):
        clauses.append({'$or': [{f: {'$exists': True}} for f, _ in index['key']]})
    return {'$and': clauses} if len(clauses) > 1 else values


def dup_key_error(ns, name, key, doc):
    kv = OrderedDict()
    for field, _ in key:
        try:
            kv[field] = helpers.get_value_by_dot(doc, field)
        except KeyError:
            kv[field] = None
    msg = 'E11000 duplicate key error collection: %s index: %s dup key: { %s }' % (
        ns, name, ', '.join('%s: %s' % (k, _fmt(v)) for k, v in kv.items()))
    exc = DuplicateKeyError(msg, 11000)  # details would be appended to str(exc)
    exc.key_info = OrderedDict([('keyPattern', OrderedDict(key)), ('keyValue', kv)])
    return exc


def _hashable(value):
    """value as a dict key that equals another value's iff mongod's index
    compares them equal (numbers across types, bools apart); None when it
    has no such key (documents, arrays)."""
    if isinstance(value, bool):
        return ('b', value)
    if isinstance(value, (int, float)):
        return ('n', value)
    if isinstance(value, (Mapping, list)):
        return None
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value).__name__, value)


def unique_values(index, doc):
    """doc's entry in a unique index: a hashable tuple, None when doc is not
    in the index, or ABSENT when its values have no hashable form."""
    if collision_filter(index, doc) is None:
        return None
    out = []
    for field, _ in index['key']:
        try:
            v = _hashable(helpers.get_value_by_dot(doc, field))
        except KeyError:
            v = _hashable(None)
        if v is None:
            return ABSENT
        out.append(v)
    return tuple(out)


def unique_cache(store, name, index):
    """{values: keys} of a unique index, built on first use so that a batch
    of inserts checks each in constant time instead of scanning the
    collection. Entries are only added: a stale one is checked against the
    document before it counts. Dropped whenever documents are put back
    (an undo) or the indexes change. None: some value has no hashable form."""
    caches = store.__dict__.setdefault('_double_unique', {})
    if name not in caches:
        cache = {}
        for key, doc in store._documents.items():
            values = unique_values(index, doc)
            if values is ABSENT:
                cache = None
                break
            if values is not None:
                cache.setdefault(values, set()).add(key)
        caches[name] = cache
    return caches[name]


def drop_unique_caches(store):
    store.__dict__.pop('_double_unique', None)


def _ensure_uniques(self, new_data):
    """Replaces mongomock's check (called after a doc is stored, which it rolls
    back on error) to name the violated index like mongod does."""
    store = self._store
    own = doc_key(new_data['_id'])
    for name, index in store.indexes.items():
        if not index.get('unique'):
            continue
        values = unique_values(index, new_data)
        if values is None:
            continue
        cache = None if values is ABSENT else unique_cache(store, name, index)
        if cache is None:
            query = collision_filter(index, new_data)
            if self.count_documents(query) > 1:
                raise dup_key_error(self.full_name, name, index['key'], new_data)
            continue
        bucket = cache.setdefault(values, set())
        for other in list(bucket):
            doc = store._documents.get(other)
            if other != own and doc is not None and unique_values(index, doc) == values:
                raise dup_key_error(self.full_name, name, index['key'], new_data)
            if doc is None or unique_values(index, doc) != values:
                bucket.discard(other)  # stale
        bucket.add(own)


_mongomock_iter_documents = mm_collection.Collection._iter_documents


def _iter_documents(self, filter):
    """mongomock scans the whole collection for every query; a query on _id
    goes to the documents it names instead (the double's _id index)."""
    keys, rest = split_id(filter)
    if keys is None:
        return _mongomock_iter_documents(self, filter)
    docs = self._store._documents
    found = [docs[k] for k in keys if k in docs]
    return (d for d in found if filtering.filter_applies(rest, d))


_mongomock_insert = mm_collection.Collection._insert


def _insert(self, data, session=None, ordered=True):
    if isinstance(data, Mapping):
        data = id_first(data)  # also covers upserts
    return _mongomock_insert(self, data, session, ordered)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _arith_updater(op_name, fn):
    """$inc/$mul keeping BSON numeric types (mongomock turns Int64 into int)."""
    def updater(doc, field, value):
        key = field
        if isinstance(doc, list):
            key = int(field)
            doc.extend([None] * (key + 1 - len(doc)))
            current = doc[key] if doc[key] is not None else 0
        elif isinstance(doc, dict):
            current = doc.get(field, 0)
        else:
            raise WriteError('Cannot apply %s to a non-document' % op_name, 14)
        if not _is_number(value):
            raise WriteError('Cannot %s with non-numeric argument: {%s: %s}'
                             % (op_name[1:], field, _fmt(value)), 14)
        if not _is_number(current):
            raise WriteError('Cannot apply %s to a value of non-numeric type. '
                             "Field '%s' has non-numeric type" % (op_name, field), 14)
        result = fn(current, value)
        if not isinstance(result, float) and (isinstance(current, Int64) or isinstance(value, Int64)):
            result = Int64(result)
        doc[key] = result
    return updater


mm_collection.Collection._ensure_uniques = _ensure_uniques
mm_collection.Collection._iter_documents = _iter_documents
mm_collection.Collection._insert = _insert
mm_collection._updaters['$inc'] = _arith_updater('$inc', lambda a, b: a + b)
mm_collection._updaters['$mul'] = _arith_updater('$mul', lambda a, b: a * b)
filtering._filterer_inst = queries.Filterer()  # every mongomock query matches through it
mongomock.utcnow = now_ms  # $currentDate at BSON (millisecond) precision


# ---------------------------------------------------------------- the double

class Double(object):
    def __init__(self, standalone=False, lifetime=60.0, log_commands=False):
        self.client = mongomock.MongoClient()
        self.scratch = mongomock.MongoClient()['scratch']['view']  # committed views
        self.cursors = OrderedDict()   # id -> (ns, remaining docs)
        self.lock = threading.Lock()   # one command at a time (mockupdb also serialises)
        self.unlock_server = contextlib.nullcontext  # mockupdb's lock, released in pauses
        self.standalone = standalone
        self.me = 'localhost:27017'    # host:port, once listening
        self.sessions = Sessions(standalone, lifetime, self.pause)
        self.failpoints = FailPoints()
        self.log_commands = log_commands
        self.logged = set()
        self.conn_ids = weakref.WeakKeyDictionary()
        self.conn_apps = weakref.WeakKeyDictionary()
        self.next_conn = itertools.count(1)
        self.commands = {
            'hello': self.hello, 'isMaster': self.hello, 'ismaster': self.hello,
            'ping': self.empty, 'endSessions': self.end_sessions,
            'buildInfo': self.build_info, 'buildinfo': self.build_info,
            'getParameter': self.get_parameter, 'getLastError': self.get_last_error,
            'insert': self.insert, 'update': self.update, 'delete': self.delete,
            'find': self.find, 'getMore': self.get_more, 'killCursors': self.kill_cursors,
            'aggregate': self.aggregate, 'count': self.count, 'distinct': self.distinct,
            'findAndModify': self.find_and_modify, 'findandmodify': self.find_and_modify,
            'createIndexes': self.create_indexes, 'listIndexes': self.list_indexes,
            'dropIndexes': self.drop_indexes, 'drop': self.drop,
            'dropDatabase': self.drop_database, 'create': self.create,
            'listCollections': self.list_collections, 'listDatabases': self.list_databases,
            'commitTransaction': self.commit_transaction,
            'abortTransaction': self.abort_transaction,
            'configureFailPoint': self.configure_fail_point,
        }

    def log_once(self, what):
        if what not in self.logged:
            self.logged.add(what)
            sys.stderr.write('mongo_double: %s\n' % what)
            sys.stderr.flush()

    # -- plumbing ------------------------------------------------------------
    def handle(self, request):
        """mockupdb autoresponder for every request; must always return True,
        otherwise mockupdb queues the request and the client waits forever."""
        try:
            with self.lock:
                if not request.is_command:
                    self.legacy(request)
                    return True
                try:
                    reply = self.run(request)
                except HangUp:
                    self.hang_up(request)
                    return True
                if isinstance(request, mockupdb.OpMsg) and request.flags & MORE_TO_COME:
                    return True  # unacknowledged (w:0) write: no reply allowed
                self.send(request, reply)
        except Exception:
            traceback.print_exc()
        return True

    def pause(self, seconds):
        """Sleeps with every lock released, so that other connections run:
        the double's way to wait as mongod does (for a lock, a failpoint)."""
        self.lock.release()
        try:
            with self.unlock_server():
                time.sleep(seconds)
        finally:
            self.lock.acquire()

    def send(self, request, reply):
        try:
            request.replies(reply)
        except OSError:
            self.hang_up(request)
        except Exception as exc:  # e.g. reply not BSON-encodable
            try:
                request.replies(self.error_reply(exc))
            except Exception:
                self.hang_up(request)

    @staticmethod
    def hang_up(request):
        try:
            request._client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def legacy(self, request):
        self.log_once('ignoring legacy opcode %s' % type(request).__name__)
        if isinstance(request, mockupdb.OpQuery):
            request.fail('legacy OP_QUERY is not supported by the mongo test double')
        elif isinstance(request, mockupdb.OpGetMore):
            request.replies(flags=mockupdb.REPLY_FLAGS['CursorNotFound'])
        # OP_INSERT/UPDATE/DELETE/KILL_CURSORS take no reply.

    def error_reply(self, exc):
        extra = {}
        if isinstance(exc, CommandError):
            code, msg, extra = exc.code, exc.errmsg, exc.extra
        elif isinstance(exc, DuplicateKeyError):
            code, msg, extra = 11000, str(exc), getattr(exc, 'key_info', {})
        elif isinstance(exc, PyMongoError):
            code, msg = getattr(exc, 'code', None) or 2, str(exc)
        elif isinstance(exc, NotImplementedError):
            code, msg = 238, 'not supported by the mongo test double: %s' % exc
        elif isinstance(exc, (BSONError, ValueError, TypeError)):
            code, msg = 2, '%s: %s' % (type(exc).__name__, exc)
        else:
            code, msg = 8, '%s: %s' % (type(exc).__name__, exc)
            traceback.print_exc()
        reply = OrderedDict([('ok', 0.0), ('errmsg', msg), ('code', code),
                             ('codeName', CODE_NAMES.get(code, 'Location%d' % code))])
        reply.update(extra)
        return reply

    def run(self, request):
        """The reply to a command: {ok: 1, ...}, or {ok: 0, ...} for a failure."""
        cmd = request.doc
        if isinstance(request, mockupdb.Command) and '$query' in cmd:
            cmd = cmd['$query']
        name = next(iter(cmd), '')
        db = cmd.get('$db') or request.namespace or 'admin'
        if self.log_commands:
            sys.stderr.write('mongo_double: command %s on %s: %s\n'
                             % (name, db, ', '.join(list(cmd)[1:])))
        ctx, failing = Ctx(request, name), None
        try:
            strict.check_depth(cmd)  # the message, before mongod looks at the command
            handler = self.commands.get(name)
            if handler is None:
                self.log_once('unknown command %r' % name)
                raise CommandError(59, "no such command: '%s'" % name)
            strict.check_fields(name, cmd)
            ms = strict.max_time_ms(name, cmd)
            ctx.deadline = time.monotonic() + ms / 1000.0 if ms else None
            again = self.sessions.resolve(ctx, cmd)
            if again is not None:  # a retried write or commit: its first answer
                reply = OrderedDict(again)
                reply['ok'] = 1.0
                return reply
            if name != 'configureFailPoint':
                failing = self.failpoints.fail_command(name, self.conn_apps.get(request._client))
            if failing is not None:
                self.fail_command(failing)
            if ms and self.failpoints.max_time_always_times_out():
                raise CommandError(50, 'operation exceeded time limit')
            reply = handler(db, cmd, ctx) or OrderedDict()
            if ctx.txn is not None and reply.get('writeErrors'):
                self.sessions.abort(ctx.txn)  # mongod aborts a transaction on any error
            if failing is not None and 'writeConcernError' in failing:
                reply['writeConcernError'] = failing['writeConcernError']
            reply['ok'] = 1.0
            self.sessions.remember(ctx, reply)
            return reply
        except HangUp:
            raise
        except Exception as exc:  # noqa: every failure becomes a reply
            reply = self.error_reply(exc)
            # mongod aborts a transaction on any error; a commit failed by
            # failCommand never ran, and a retry of it may still commit.
            if ctx.txn is not None and not (name == 'commitTransaction' and failing is not None):
                self.sessions.abort(ctx.txn)
            if 'errorLabels' not in reply:
                labels = []
                if ctx.txn is not None and reply['code'] in TRANSIENT_CODES:
                    labels.append('TransientTransactionError')
                if ctx.retry_number is not None and reply['code'] in RETRYABLE_CODES:
                    labels.append('RetryableWriteError')
                if labels:
                    reply['errorLabels'] = labels
            return reply

    def fail_command(self, data):
        if data.get('blockConnection'):
            self.pause(max(0, data.get('blockTimeMS', 0)) / 1000.0)
        if data.get('closeConnection'):
            raise HangUp()
        if 'errorCode' in data:
            extra = {}
            if 'errorLabels' in data:
                extra['errorLabels'] = list(data['errorLabels'])
            raise CommandError(int(data['errorCode']),
                               "Failing command via 'failCommand' failpoint", **extra)

    @staticmethod
    def check_time(ctx):
        """mongod checks for interruption as it goes: past maxTimeMS, the
        command stops with MaxTimeMSExpired."""
        if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
            raise CommandError(50, 'operation exceeded time limit')

    def coll(self, db, cmd, name):
        cname = cmd[name]
        if not isinstance(cname, str) or not cname:
            raise CommandError(73, 'Invalid namespace specified for %s: %r' % (name, cname))
        return self.client[db][cname]

    def view(self, ctx, coll):
        """coll as this command may read it (see sessions.Sessions.readable)."""
        return self.sessions.readable(coll, ctx.txn, self.scratch)

    def cursor_reply(self, ns, docs, batch_size, single, key='firstBatch'):
        batch, rest = self.take(docs, batch_size)
        cursor_id = Int64(0)
        if rest and not single:
            cursor_id = Int64(random.randint(1, 2 ** 62))
            self.cursors[cursor_id] = (ns, rest)
            while len(self.cursors) > MAX_OPEN_CURSORS:
                self.cursors.popitem(last=False)
        return OrderedDict(cursor=OrderedDict([('id', cursor_id), ('ns', ns), (key, batch)]))

    @staticmethod
    def take(docs, batch_size):
        limit = len(docs) if batch_size is None else batch_size
        size, n = 0, 0
        while n < min(limit, len(docs)):
            size += len(bson.BSON.encode(docs[n]))
            if n and size > MAX_BATCH_BYTES:
                break
            n += 1
        return [id_first(d, generate=False) for d in docs[:n]], docs[n:]

    # -- handshake and admin -------------------------------------------------
    def hello(self, db, cmd, request_ctx):
        request = request_ctx.request
        app = ((cmd.get('client') or {}).get('application') or {}).get('name')
        if app is not None:
            self.conn_apps[request._client] = app
        name = next(iter(cmd))
        r = OrderedDict()
        if cmd.get('helloOk'):
            r['helloOk'] = True
        r['isWritablePrimary' if name == 'hello' else 'ismaster'] = True
        if not self.standalone:
            r.update([('secondary', False), ('setName', SET_NAME), ('setVersion', 1),
                      ('hosts', [self.me]), ('primary', self.me), ('me', self.me),
                      ('electionId', ELECTION_ID)])
        r.update([('maxBsonObjectSize', MAX_BSON), ('maxMessageSizeBytes', 48000000),
                  ('maxWriteBatchSize', 100000), ('localTime', now_ms()),
                  ('logicalSessionTimeoutMinutes', 30),
                  ('connectionId', self.conn_id(request)),
                  ('minWireVersion', 0), ('maxWireVersion', 21), ('readOnly', False)])
        return r

    def conn_id(self, request):
        sock = request._client
        if sock not in self.conn_ids:
            self.conn_ids[sock] = next(self.next_conn)
        return self.conn_ids[sock]

    def empty(self, db, cmd, ctx):
        return OrderedDict()

    def end_sessions(self, db, cmd, ctx):
        lsids = cmd['endSessions']
        if not isinstance(lsids, list) or not all(isinstance(x, Mapping) for x in lsids):
            raise CommandError(14, "BSON field 'endSessions' is the wrong type, expected an array "
                                   'of session ids')
        self.sessions.end(lsids)
        return OrderedDict()

    def build_info(self, db, cmd, ctx):
        return OrderedDict([('version', '7.0.0'), ('gitVersion', 'mongo-test-double'),
                            ('versionArray', [7, 0, 0, 0]), ('bits', 64), ('debug', False),
                            ('maxBsonObjectSize', MAX_BSON), ('storageEngines', ['mongomock'])])

    def get_parameter(self, db, cmd, ctx):
        if cmd.get('featureCompatibilityVersion') or cmd['getParameter'] == '*':
            return OrderedDict(featureCompatibilityVersion={'version': '7.0'})
        raise CommandError(72, 'no option found to get')

    def get_last_error(self, db, cmd, ctx):
        return OrderedDict([('n', 0), ('err', None), ('connectionId', self.conn_id(ctx.request))])

    def configure_fail_point(self, db, cmd, ctx):
        return OrderedDict(self.failpoints.configure(db, cmd))

    # -- transactions --------------------------------------------------------
    def commit_transaction(self, db, cmd, ctx):
        if db != 'admin':
            raise CommandError(13, 'commitTransaction may only be run against the admin database.')
        self.sessions.commit(ctx.txn)
        return OrderedDict()

    def abort_transaction(self, db, cmd, ctx):
        if db != 'admin':
            raise CommandError(13, 'abortTransaction may only be run against the admin database.')
        self.sessions.abort(ctx.txn)
        return OrderedDict()

    # -- writes --------------------------------------------------------------
    def write(self, ctx, coll, targets, run):
        """Runs one write statement as mongod does: all of it or none of it
        for each document (mongomock changes documents in place and does not
        undo a failed update; this journal does). targets(): the keys of the
        documents it may write; run(): runs it on mongomock and returns its
        result and the keys of documents it inserted that targets() could not
        name (upserts). A document another writer holds is a WriteConflict in
        a transaction; outside one the statement waits for it, as long as
        maxTimeMS allows."""
        ns, store = coll.full_name, coll._store
        while True:
            self.check_time(ctx)
            keys = targets()
            if not self.sessions.blocked(ns, keys, ctx.txn):
                journal = Journal(store, ns)
                for key in keys:
                    journal.touch(key)
                try:
                    result, inserted = run()
                    for key in inserted:
                        journal.pre.setdefault(key, ABSENT)
                    changed = journal.changed()
                    for key in changed:
                        doc = store._documents.get(key)
                        if doc is not None:
                            strict.check_document_size(doc, journal.pre[key] is ABSENT)
                except DuplicateKeyError as exc:
                    journal.restore()
                    if not self.duplicate_held(ctx, coll, exc):
                        raise
                except Exception:
                    journal.restore()
                    raise
                else:
                    if not self.sessions.blocked(ns, changed, ctx.txn) and \
                            not self.sessions.unique_blocked(coll, changed, ctx.txn,
                                                             collision_filter):
                        self.sessions.keep(ctx.txn, journal, changed)
                        return result
                    journal.restore()
            if ctx.txn is not None:
                raise write_conflict()
            self.pause(0.002)

    def duplicate_held(self, ctx, coll, exc):
        """Whether the document a DuplicateKeyError names is another
        transaction's uncommitted write: mongod reports a write conflict."""
        info = getattr(exc, 'key_info', None)
        if not info:
            return False
        query = OrderedDict(info['keyValue'])
        return any(self.sessions.held_by_other(coll.full_name, doc_key(d['_id']), ctx.txn)
                   for d in coll._iter_documents(query))

    def targets(self, ctx, coll, query):
        return lambda: self.sessions.targets(coll, ctx.txn, query)

    def write_error(self, index, exc, coll, id_value):
        if isinstance(exc, DuplicateKeyError) and ' index: ' not in str(exc):
            exc = dup_key_error(coll.full_name, '_id_', [('_id', 1)], {'_id': id_value})
        err = self.error_reply(exc)
        return OrderedDict([('index', index), ('code', err['code']), ('errmsg', err['errmsg'])]
                           + [(k, v) for k, v in err.items() if k in ('keyPattern', 'keyValue')])

    @staticmethod
    def write_reply(n, errors, **more):
        reply = OrderedDict(n=n)
        reply.update((k, v) for k, v in more.items() if v is not None)
        if errors:
            reply['writeErrors'] = errors
        return reply

    @staticmethod
    def command_level(exc):
        return isinstance(exc, CommandError) and exc.code in COMMAND_LEVEL

    def insert(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'insert')
        n, errors = 0, []
        for i, doc in enumerate(required(cmd, 'documents')):
            doc = id_first(doc)
            try:
                key = doc_key(doc['_id'])
                self.write(ctx, coll, lambda key=key: [key],
                           lambda doc=doc: (coll.insert_one(doc), ()))
                n += 1
            except Exception as exc:  # noqa
                if self.command_level(exc):
                    raise
                errors.append(self.write_error(i, exc, coll, doc['_id']))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors)

    def update(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'update')
        n = modified = 0
        errors, upserted = [], []
        for i, stmt in enumerate(required(cmd, 'updates')):
            q, u = stmt.get('q') or {}, required(stmt, 'u')
            try:
                queries.check(q, 'update.updates.q')
                if stmt.get('arrayFilters') or stmt.get('collation'):
                    raise CommandError(238, 'arrayFilters/collation are not supported '
                                            'by the mongo test double')
                multi, upsert = bool(stmt.get('multi')), bool(stmt.get('upsert'))
                if is_update_doc(u):
                    fn = coll.update_one
                elif multi:
                    raise CommandError(9, 'multi update is not supported for '
                                          'replacement-style update')
                else:
                    fn = coll.replace_one
                results = []
                if multi:  # one document at a time, each all or nothing, as mongod does
                    for key in self.sessions.targets(coll, ctx.txn, q):
                        doc = coll._store._documents.get(key)
                        if doc is not None:
                            one = one_document(q, doc['_id'])
                            results.append(self.write(ctx, coll, lambda key=key: [key],
                                                      lambda one=one: (fn(one, u).raw_result, ())))
                if not multi or (upsert and not any(r["n"] for r in results)):
                    def run():
                        res = fn(q, u, upsert=upsert).raw_result
                        up = res['upserted']
                        return res, () if up is None else (doc_key(up),)
                    results.append(self.write(ctx, coll, self.targets(ctx, coll, q), run))
                for res in results:
                    n += res['n']
                    modified += res['nModified']
                    if res['upserted'] is not None:
                        upserted.append(OrderedDict([('index', i), ('_id', res['upserted'])]))
            except Exception as exc:  # noqa
                if self.command_level(exc):
                    raise
                errors.append(self.write_error(i, exc, coll, q.get('_id')))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors, nModified=modified, upserted=upserted or None)

    def delete(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'delete')
        n, errors = 0, []
        for i, stmt in enumerate(required(cmd, 'deletes')):
            try:
                q = required(stmt, 'q')
                queries.check(q, 'delete.deletes.q')
                limit = stmt.get('limit', 0)
                if limit not in (0, 1):
                    raise CommandError(9, 'The limit field in delete objects must be 0 or 1. '
                                          'Got %s' % limit)
                if stmt.get('collation'):
                    raise CommandError(238, 'collation is not supported by the mongo test double')
                if limit == 1:
                    n += self.write(ctx, coll, self.targets(ctx, coll, q),
                                    lambda q=q: (coll.delete_one(q).deleted_count, ()))
                    continue
                for key in self.sessions.targets(coll, ctx.txn, q):
                    doc = coll._store._documents.get(key)
                    if doc is not None:
                        one = one_document(q, doc['_id'])
                        n += self.write(ctx, coll, lambda key=key: [key],
                                        lambda one=one: (coll.delete_one(one).deleted_count, ()))
            except Exception as exc:  # noqa
                if self.command_level(exc):
                    raise
                errors.append(self.write_error(i, exc, coll, None))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors)

    def find_and_modify(self, db, cmd, ctx):
        coll = self.coll(db, cmd, next(iter(cmd)))
        query = cmd.get('query') or {}
        queries.check(query, 'findAndModify.query')
        sort = list((cmd.get('sort') or {}).items()) or None
        update, remove = cmd.get('update'), bool(cmd.get('remove'))
        if remove == (update is not None):
            raise CommandError(9, 'Either an update or remove=true must be specified'
                               if not remove else 'Cannot specify both an update and remove=true')
        if cmd.get('arrayFilters') or cmd.get('collation'):
            raise CommandError(238, 'arrayFilters/collation are not supported by the mongo test double')

        def run():
            found = list(coll.find(query, sort=sort, limit=1))
            old = found[0] if found else None
            inserted = ()
            if remove:
                if old is not None:
                    coll.delete_one({'_id': old['_id']})
                leo, value = OrderedDict(n=int(old is not None)), old
                return (leo, value), inserted
            fn = coll.update_one if is_update_doc(update) else coll.replace_one
            try:
                if old is not None:
                    fn(one_document(query, old['_id']), update)
                    leo = OrderedDict([('n', 1), ('updatedExisting', True)])
                    value = coll.find_one({'_id': old['_id']}) if cmd.get('new') else old
                elif cmd.get('upsert'):
                    new_id = fn(query, update, upsert=True).upserted_id
                    inserted = (doc_key(new_id),)
                    leo = OrderedDict([('n', 1), ('updatedExisting', False), ('upserted', new_id)])
                    value = coll.find_one({'_id': new_id}) if cmd.get('new') else None
                else:
                    leo, value = OrderedDict([('n', 0), ('updatedExisting', False)]), None
            except DuplicateKeyError as exc:
                if ' index: ' in str(exc):
                    raise
                raise dup_key_error(coll.full_name, '_id_', [('_id', 1)], {'_id': query.get('_id')})
            return (leo, value), inserted

        leo, value = self.write(ctx, coll, self.targets(ctx, coll, query), run)
        if value is not None:
            if cmd.get('fields'):
                value = coll._copy_only_fields(value, dict(cmd['fields']), OrderedDict)
            value = id_first(value, generate=False)
        return OrderedDict([('lastErrorObject', leo), ('value', value)])

    # -- reads ---------------------------------------------------------------
    def find(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'find')
        if cmd.get('tailable') or cmd.get('collation'):
            raise CommandError(238, 'tailable cursors/collation are not supported by the mongo test double')
        limit, single = cmd.get('limit', 0), bool(cmd.get('singleBatch'))
        if limit < 0:
            limit, single = -limit, True
        query = cmd.get('filter') or {}
        queries.check(query, 'find.filter')
        docs = list(self.view(ctx, coll).find(
            query, cmd.get('projection') or None, skip=cmd.get('skip', 0),
            limit=limit, sort=list((cmd.get('sort') or {}).items()) or None))
        self.check_time(ctx)
        return self.cursor_reply(coll.full_name, docs, cmd.get('batchSize', 101), single)

    def get_more(self, db, cmd, ctx):
        cursor_id = cmd['getMore']
        ns = '%s.%s' % (db, required(cmd, 'collection'))
        if cursor_id not in self.cursors:
            raise CommandError(43, 'cursor id %d not found' % cursor_id)
        cursor_ns, docs = self.cursors[cursor_id]
        if cursor_ns != ns:
            raise CommandError(13, "Requested getMore on namespace '%s', but cursor belongs "
                                   "to a different namespace %s" % (ns, cursor_ns))
        batch, rest = self.take(docs, cmd.get('batchSize') or None)
        if rest:
            self.cursors[cursor_id] = (ns, rest)
        else:
            del self.cursors[cursor_id]
            cursor_id = Int64(0)
        return OrderedDict(cursor=OrderedDict([('id', Int64(cursor_id)), ('ns', ns),
                                               ('nextBatch', batch)]))

    def kill_cursors(self, db, cmd, ctx):
        killed, missing = [], []
        for cid in required(cmd, 'cursors'):
            (killed if self.cursors.pop(cid, None) else missing).append(cid)
        return OrderedDict([('cursorsKilled', killed), ('cursorsNotFound', missing),
                            ('cursorsAlive', []), ('cursorsUnknown', [])])

    def aggregate(self, db, cmd, ctx):
        if not isinstance(cmd['aggregate'], str):
            raise CommandError(238, 'database-level aggregate is not supported by the mongo test double')
        if cmd.get('explain') or cmd.get('collation'):
            raise CommandError(238, 'explain/collation are not supported by the mongo test double')
        if 'cursor' not in cmd:
            raise CommandError(9, "The 'cursor' option is required, except for aggregate with the "
                                  'explain argument')
        coll = self.coll(db, cmd, 'aggregate')
        pipeline = list(required(cmd, 'pipeline'))
        for stage in pipeline:
            if isinstance(stage, Mapping) and '$match' in stage:
                queries.check(stage['$match'], '$match')
        docs = list(self.view(ctx, coll).aggregate(pipeline))
        self.check_time(ctx)
        batch_size = (cmd.get('cursor') or {}).get('batchSize', 101)
        return self.cursor_reply(coll.full_name, docs, batch_size, False)

    def count(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'count')
        query = cmd.get('query') or {}
        queries.check(query, 'count.query')
        docs = self.view(ctx, coll).find(query, {'_id': 1},
                                         skip=cmd.get('skip', 0), limit=abs(cmd.get('limit', 0)))
        return OrderedDict(n=len(list(docs)))

    def distinct(self, db, cmd, ctx):
        coll = self.coll(db, cmd, 'distinct')
        query = cmd.get('query') or {}
        queries.check(query, 'distinct.query')
        return OrderedDict(values=self.view(ctx, coll).distinct(required(cmd, 'key'), query))

    # -- indexes and namespaces ----------------------------------------------
    def create_indexes(self, db, cmd, request):
        coll = self.coll(db, cmd, 'createIndexes')
        specs = required(cmd, 'indexes')
        if not isinstance(specs, list) or not specs:
            raise CommandError(2, 'Must specify at least one index to create')
        keys = [strict.check_index_spec(spec) for spec in specs]
        store = coll._store
        existed = bool(store.is_created)
        before = 1 + len(store.indexes)
        store.create()
        drop_unique_caches(store)
        for spec, key in zip(specs, keys):
            index = {'key': key}
            name = spec['name']
            for opt in ('unique', 'sparse'):
                if spec.get(opt):
                    index[opt] = True
            for opt in ('partialFilterExpression', 'expireAfterSeconds'):
                if opt in spec:
                    index[opt] = spec[opt]
            if name == '_id_' or [k for k, _ in index['key']] == ['_id']:
                continue
            if name in store.indexes:
                if store.indexes[name] == index:
                    continue
                raise CommandError(86, 'An existing index has the same name as the requested '
                                       'index: %s, with different options' % name)
            for other, info in store.indexes.items():
                if (info['key'], info.get('partialFilterExpression')) == \
                        (index['key'], index.get('partialFilterExpression')):
                    raise CommandError(85, 'Index already exists with a different name: %s' % other)
            if index.get('unique'):
                for doc in list(store.documents):
                    query = collision_filter(index, doc)
                    if query is not None and coll.count_documents(query) > 1:
                        raise dup_key_error(coll.full_name, name, index['key'], doc)
            store.create_index(name, index)
        after = 1 + len(store.indexes)
        reply = OrderedDict([('numIndexesBefore', before), ('numIndexesAfter', after),
                             ('createdCollectionAutomatically', not existed)])
        if before == after:
            reply['note'] = 'all indexes already exist'
        return reply
    def list_indexes(self, db, cmd, request):
        coll = self.coll(db, cmd, 'listIndexes')
        if not coll._store.is_created:
            raise CommandError(26, 'ns does not exist: %s' % coll.full_name)
        docs = [OrderedDict([('v', 2), ('key', OrderedDict([('_id', 1)])), ('name', '_id_')])]
        for name, info in coll._store.indexes.items():
            doc = OrderedDict([('v', 2), ('key', OrderedDict(info['key'])), ('name', name)])
            doc.update((k, v) for k, v in info.items() if k != 'key')
            docs.append(doc)
        return self.cursor_reply(coll.full_name, docs, (cmd.get('cursor') or {}).get('batchSize'), False)

    def drop_indexes(self, db, cmd, request):
        coll = self.coll(db, cmd, 'dropIndexes')
        names = required(cmd, 'index')
        drop_unique_caches(coll._store)
        was = 1 + len(coll._store.indexes)
        if names == '*':
            coll.drop_indexes()
        else:
            if isinstance(names, Mapping):
                names = [n for n, i in coll._store.indexes.items() if i['key'] == list(names.items())]
            for name in [names] if isinstance(names, str) else names:
                if name not in coll._store.indexes:
                    raise CommandError(27, 'index not found with name [%s]' % name)
                coll.drop_index(name)
        return OrderedDict(nIndexesWas=was)

    def drop(self, db, cmd, request):
        coll = self.coll(db, cmd, 'drop')
        was = 1 + len(coll._store.indexes)
        drop_unique_caches(coll._store)
        coll.drop()
        return OrderedDict([('nIndexesWas', was), ('ns', coll.full_name)])

    def drop_database(self, db, cmd, request):
        self.client.drop_database(db)
        return OrderedDict(dropped=db)

    def create(self, db, cmd, request):
        name = cmd['create']
        try:
            self.client[db].create_collection(name)
        except CollectionInvalid:
            raise CommandError(48, 'Collection %s.%s already exists.' % (db, name))
        return OrderedDict()

    def list_collections(self, db, cmd, request):
        queries.check(cmd.get('filter') or {}, 'listCollections.filter')
        docs = []
        for name in sorted(self.client[db].list_collection_names()):
            doc = OrderedDict([('name', name), ('type', 'collection'), ('options', {}),
                               ('info', {'readOnly': False}),
                               ('idIndex', OrderedDict([('v', 2), ('key', {'_id': 1}),
                                                        ('name', '_id_')]))])
            if filtering.filter_applies(cmd.get('filter') or {}, doc):
                docs.append(OrderedDict(name=name, type='collection') if cmd.get('nameOnly') else doc)
        return self.cursor_reply('%s.$cmd.listCollections' % db, docs,
                                 (cmd.get('cursor') or {}).get('batchSize'), False)

    def list_databases(self, db, cmd, request):
        names = self.client.list_database_names()
        return OrderedDict([('databases', [OrderedDict([('name', n), ('sizeOnDisk', 0), ('empty', False)])
                                           for n in names]), ('totalSize', 0)])


# ---------------------------------------------------------------- main

_mockupdb_receive = mockupdb.mock_server_receive_request


def _receive(client, server):
    """A malformed message (bad BSON, OP_COMPRESSED...) closes that connection
    instead of killing mockupdb's connection thread with the socket open."""
    try:
        return _mockupdb_receive(client, server)
    except OSError:
        raise
    except Exception as exc:  # noqa
        sys.stderr.write('mongo_double: dropping connection: %s: %s\n' % (type(exc).__name__, exc))
        raise ConnectionResetError(104, str(exc))


mockupdb.mock_server_receive_request = _receive


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, required=True, help='0 picks a free port')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--standalone', action='store_true',
                        help='pose as a standalone mongod (no replica set, no transactions)')
    parser.add_argument('--transaction-lifetime-seconds', type=float, default=60.0,
                        help="abort transactions older than this (mongod's "
                             'transactionLifetimeLimitSeconds)')
    parser.add_argument('--log-commands', action='store_true',
                        help='log every command name and its fields to stderr')
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    double = Double(standalone=args.standalone, lifetime=args.transaction_lifetime_seconds,
                    log_commands=args.log_commands)
    server = mockupdb.MockupDB(port=args.port, request_timeout=int(1e6))
    server._address = (args.host, args.port)  # MockupDB always binds 'localhost'
    server.autoresponds(double.handle)
    double.unlock_server = server._unlock
    port = server.run()
    double.me = '%s:%d' % (args.host, port)
    print('ready %d' % port, flush=True)
    while not stop.wait(0.5):
        pass
    try:
        server.stop()
    except Exception:  # noqa: shutting down anyway
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
