#!/usr/bin/python3
"""A MongoDB wire-protocol TEST DOUBLE (not MongoDB).

mockupdb speaks the wire protocol (OP_MSG / OP_QUERY handshake); every request
goes to Double.handle, which translates the command onto mongomock's
in-memory collections and always replies (errors become {ok: 0, ...}).
It presents itself as a standalone mongod 7.0.

    /usr/bin/python3 mongo_double.py --port 0 [--host 127.0.0.1] [--log-commands]

prints "ready <port>" once listening and serves until SIGTERM/SIGINT.
"""

import argparse
import datetime
import itertools
import random
import signal
import socket
import sys
import threading
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

MAX_BSON = 16 * 1024 * 1024
MAX_BATCH_BYTES = MAX_BSON - 64 * 1024   # room for the reply envelope
MORE_TO_COME = mockupdb.OP_MSG_FLAGS['moreToCome']
MAX_OPEN_CURSORS = 10000
CODE_NAMES = {
    2: 'BadValue', 8: 'UnknownError', 9: 'FailedToParse', 13: 'Unauthorized',
    14: 'TypeMismatch', 20: 'IllegalOperation', 26: 'NamespaceNotFound',
    27: 'IndexNotFound', 43: 'CursorNotFound', 48: 'NamespaceExists',
    59: 'CommandNotFound', 72: 'InvalidOptions', 73: 'InvalidNamespace',
    85: 'IndexOptionsConflict',
    86: 'IndexKeySpecsConflict', 238: 'NotImplemented', 11000: 'DuplicateKey',
    40414: 'Location40414'}
TXN_ERRMSG = 'Transaction numbers are only allowed on a replica set member or mongos'

# Decode every binary subtype (3/4 included) as Binary, so it is re-encoded
# byte for byte; subtype 0 decodes to bytes and is re-encoded as subtype 0.
mockupdb.CODEC_OPTIONS = CodecOptions(
    document_class=OrderedDict,
    uuid_representation=UuidRepresentation.UNSPECIFIED)


class CommandError(Exception):
    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code, self.errmsg, self.extra = code, errmsg, extra


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


def _ensure_uniques(self, new_data):
    """Replaces mongomock's check (called after a doc is stored, which it rolls
    back on error) to name the violated index like mongod does."""
    for name, index in self._store.indexes.items():
        if index.get('unique'):
            query = collision_filter(index, new_data)
            if query is not None and self.count_documents(query) > 1:
                raise dup_key_error(self.full_name, name, index['key'], new_data)


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
mm_collection.Collection._insert = _insert
mm_collection._updaters['$inc'] = _arith_updater('$inc', lambda a, b: a + b)
mm_collection._updaters['$mul'] = _arith_updater('$mul', lambda a, b: a * b)
mongomock.utcnow = now_ms  # $currentDate at BSON (millisecond) precision


# ---------------------------------------------------------------- the double

class Double(object):
    def __init__(self, log_commands=False):
        self.client = mongomock.MongoClient()
        self.cursors = OrderedDict()   # id -> (ns, remaining docs)
        self.lock = threading.Lock()   # one command at a time (mockupdb also serialises)
        self.log_commands = log_commands
        self.logged = set()
        self.conn_ids = weakref.WeakKeyDictionary()
        self.next_conn = itertools.count(1)
        self.commands = {
            'hello': self.hello, 'isMaster': self.hello, 'ismaster': self.hello,
            'ping': self.empty, 'endSessions': self.empty,
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
                    reply['ok'] = 1.0
                except Exception as exc:  # noqa: every failure becomes a reply
                    reply = self.error_reply(exc)
                if isinstance(request, mockupdb.OpMsg) and request.flags & MORE_TO_COME:
                    return True  # unacknowledged (w:0) write: no reply allowed
                self.send(request, reply)
        except Exception:
            traceback.print_exc()
        return True

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
        cmd = request.doc
        if isinstance(request, mockupdb.Command) and '$query' in cmd:
            cmd = cmd['$query']
        name = next(iter(cmd), '')
        db = cmd.get('$db') or request.namespace or 'admin'
        if self.log_commands:
            sys.stderr.write('mongo_double: command %s on %s\n' % (name, db))
        if ('txnNumber' in cmd or 'startTransaction' in cmd or cmd.get('autocommit') is False
                or name in ('commitTransaction', 'abortTransaction')):
            raise CommandError(20, TXN_ERRMSG)
        handler = self.commands.get(name)
        if handler is None:
            self.log_once('unknown command %r' % name)
            raise CommandError(59, "no such command: '%s'" % name)
        return handler(db, cmd, request) or OrderedDict()

    def coll(self, db, cmd, name):
        cname = cmd[name]
        if not isinstance(cname, str) or not cname:
            raise CommandError(73, 'Invalid namespace specified for %s: %r' % (name, cname))
        return self.client[db][cname]

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
    def hello(self, db, cmd, request):
        name = next(iter(cmd))
        r = OrderedDict()
        if cmd.get('helloOk'):
            r['helloOk'] = True
        r['isWritablePrimary' if name == 'hello' else 'ismaster'] = True
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

    def empty(self, db, cmd, request):
        return OrderedDict()

    def build_info(self, db, cmd, request):
        return OrderedDict([('version', '7.0.0'), ('gitVersion', 'mongo-test-double'),
                            ('versionArray', [7, 0, 0, 0]), ('bits', 64), ('debug', False),
                            ('maxBsonObjectSize', MAX_BSON), ('storageEngines', ['mongomock'])])

    def get_parameter(self, db, cmd, request):
        if cmd.get('featureCompatibilityVersion') or cmd['getParameter'] == '*':
            return OrderedDict(featureCompatibilityVersion={'version': '7.0'})
        raise CommandError(72, 'no option found to get')

    def get_last_error(self, db, cmd, request):
        return OrderedDict([('n', 0), ('err', None), ('connectionId', self.conn_id(request))])

    # -- writes --------------------------------------------------------------
    def write_error(self, index, exc, coll, id_value):
        if isinstance(exc, DuplicateKeyError) and ' index: ' not in str(exc):
            exc = dup_key_error(coll.full_name, '_id_', [('_id', 1)], {'_id': id_value})
        err = self.error_reply(exc)
        return OrderedDict([('index', index), ('code', err['code']), ('errmsg', err['errmsg'])]
                           + [(k, v) for k, v in err.items() if k in ('keyPattern', 'keyValue')])

    def write_reply(self, n, errors, **more):
        reply = OrderedDict(n=n)
        reply.update((k, v) for k, v in more.items() if v is not None)
        if errors:
            reply['writeErrors'] = errors
        return reply

    def insert(self, db, cmd, request):
        coll = self.coll(db, cmd, 'insert')
        n, errors = 0, []
        for i, doc in enumerate(required(cmd, 'documents')):
            doc = id_first(doc)
            try:
                coll.insert_one(doc)
                n += 1
            except Exception as exc:  # noqa
                errors.append(self.write_error(i, exc, coll, doc['_id']))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors)

    def update(self, db, cmd, request):
        coll = self.coll(db, cmd, 'update')
        n = modified = 0
        errors, upserted = [], []
        for i, stmt in enumerate(required(cmd, 'updates')):
            q, u = stmt.get('q') or {}, required(stmt, 'u')
            try:
                if stmt.get('arrayFilters') or stmt.get('collation'):
                    raise CommandError(238, 'arrayFilters/collation are not supported '
                                            'by the mongo test double')
                if is_update_doc(u):
                    fn = coll.update_many if stmt.get('multi') else coll.update_one
                elif stmt.get('multi'):
                    raise CommandError(9, 'multi update is not supported for '
                                          'replacement-style update')
                else:
                    fn = coll.replace_one
                res = fn(q, u, upsert=bool(stmt.get('upsert'))).raw_result
                n += res['n']
                modified += res['nModified']
                if res['upserted'] is not None:
                    upserted.append(OrderedDict([('index', i), ('_id', res['upserted'])]))
            except Exception as exc:  # noqa
                errors.append(self.write_error(i, exc, coll, q.get('_id')))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors, nModified=modified, upserted=upserted or None)

    def delete(self, db, cmd, request):
        coll = self.coll(db, cmd, 'delete')
        n, errors = 0, []
        for i, stmt in enumerate(required(cmd, 'deletes')):
            try:
                q = required(stmt, 'q')
                if stmt.get('collation'):
                    raise CommandError(238, 'collation is not supported by the mongo test double')
                fn = coll.delete_one if stmt.get('limit', 0) == 1 else coll.delete_many
                n += fn(q).deleted_count
            except Exception as exc:  # noqa
                errors.append(self.write_error(i, exc, coll, None))
                if cmd.get('ordered', True):
                    break
        return self.write_reply(n, errors)

    def find_and_modify(self, db, cmd, request):
        coll = self.coll(db, cmd, next(iter(cmd)))
        query = cmd.get('query') or {}
        sort = list((cmd.get('sort') or {}).items()) or None
        update, remove = cmd.get('update'), bool(cmd.get('remove'))
        if remove == (update is not None):
            raise CommandError(9, 'Either an update or remove=true must be specified'
                               if not remove else 'Cannot specify both an update and remove=true')
        if cmd.get('arrayFilters') or cmd.get('collation'):
            raise CommandError(238, 'arrayFilters/collation are not supported by the mongo test double')
        found = list(coll.find(query, sort=sort, limit=1))
        old = found[0] if found else None
        if remove:
            if old is not None:
                coll.delete_one({'_id': old['_id']})
            leo, value = OrderedDict(n=int(old is not None)), old
        else:
            fn = coll.update_one if is_update_doc(update) else coll.replace_one
            try:
                if old is not None:
                    spec = dict(query, _id=old['_id']) if '_id' not in query else \
                        {'$and': [query, {'_id': old['_id']}]}
                    fn(spec, update)
                    leo = OrderedDict([('n', 1), ('updatedExisting', True)])
                    value = coll.find_one({'_id': old['_id']}) if cmd.get('new') else old
                elif cmd.get('upsert'):
                    new_id = fn(query, update, upsert=True).upserted_id
                    leo = OrderedDict([('n', 1), ('updatedExisting', False), ('upserted', new_id)])
                    value = coll.find_one({'_id': new_id}) if cmd.get('new') else None
                else:
                    leo, value = OrderedDict([('n', 0), ('updatedExisting', False)]), None
            except DuplicateKeyError as exc:
                if ' index: ' in str(exc):
                    raise
                raise dup_key_error(coll.full_name, '_id_', [('_id', 1)], {'_id': query.get('_id')})
        if value is not None:
            if cmd.get('fields'):
                value = coll._copy_only_fields(value, dict(cmd['fields']), OrderedDict)
            value = id_first(value, generate=False)
        return OrderedDict([('lastErrorObject', leo), ('value', value)])

    # -- reads ---------------------------------------------------------------
    def find(self, db, cmd, request):
        coll = self.coll(db, cmd, 'find')
        if cmd.get('tailable') or cmd.get('collation'):
            raise CommandError(238, 'tailable cursors/collation are not supported by the mongo test double')
        limit, single = cmd.get('limit', 0), bool(cmd.get('singleBatch'))
        if limit < 0:
            limit, single = -limit, True
        docs = list(coll.find(cmd.get('filter') or {}, cmd.get('projection') or None,
                              skip=cmd.get('skip', 0), limit=limit,
                              sort=list((cmd.get('sort') or {}).items()) or None))
        return self.cursor_reply(coll.full_name, docs, cmd.get('batchSize', 101), single)

    def get_more(self, db, cmd, request):
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

    def kill_cursors(self, db, cmd, request):
        killed, missing = [], []
        for cid in required(cmd, 'cursors'):
            (killed if self.cursors.pop(cid, None) else missing).append(cid)
        return OrderedDict([('cursorsKilled', killed), ('cursorsNotFound', missing),
                            ('cursorsAlive', []), ('cursorsUnknown', [])])

    def aggregate(self, db, cmd, request):
        if not isinstance(cmd['aggregate'], str):
            raise CommandError(238, 'database-level aggregate is not supported by the mongo test double')
        if cmd.get('explain') or cmd.get('collation'):
            raise CommandError(238, 'explain/collation are not supported by the mongo test double')
        coll = self.coll(db, cmd, 'aggregate')
        docs = list(coll.aggregate(list(required(cmd, 'pipeline'))))
        batch_size = (cmd.get('cursor') or {}).get('batchSize', 101)
        return self.cursor_reply(coll.full_name, docs, batch_size, False)

    def count(self, db, cmd, request):
        coll = self.coll(db, cmd, 'count')
        docs = coll.find(cmd.get('query') or {}, {'_id': 1}, skip=cmd.get('skip', 0),
                         limit=abs(cmd.get('limit', 0)))
        return OrderedDict(n=len(list(docs)))

    def distinct(self, db, cmd, request):
        coll = self.coll(db, cmd, 'distinct')
        return OrderedDict(values=coll.distinct(required(cmd, 'key'), cmd.get('query') or {}))

    # -- indexes and namespaces ----------------------------------------------
    def create_indexes(self, db, cmd, request):
        coll = self.coll(db, cmd, 'createIndexes')
        store = coll._store
        existed = bool(store.is_created)
        before = 1 + len(store.indexes)
        store.create()
        for spec in required(cmd, 'indexes'):
            key = spec.get('key')
            if not isinstance(key, Mapping) or not key:
                raise CommandError(9, "Index spec is missing a non-empty 'key'")
            index = {'key': list(key.items())}
            name = spec.get('name') or helpers.gen_index_name(index['key'])
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
    parser.add_argument('--log-commands', action='store_true',
                        help='log every command name to stderr')
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    double = Double(log_commands=args.log_commands)
    server = mockupdb.MockupDB(port=args.port, request_timeout=int(1e6))
    server._address = (args.host, args.port)  # MockupDB always binds 'localhost'
    server.autoresponds(double.handle)
    port = server.run()
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
