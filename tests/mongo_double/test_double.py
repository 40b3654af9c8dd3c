#!/usr/bin/python3
"""Tests of the MongoDB test double through an independent client (pymongo).

    /usr/bin/python3 -m unittest -v tests/mongo_double/test_double.py
"""

import datetime
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import bson
import pymongo
from bson.binary import Binary, UUID_SUBTYPE
from bson.codec_options import CodecOptions
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from pymongo import monitoring
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure
from pymongo.write_concern import WriteConcern

HERE = os.path.dirname(os.path.abspath(__file__))


class Commands(monitoring.CommandListener):
    def __init__(self):
        self.names = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def start_double(*args):
    """A double on a free port: (process, port)."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, 'mongo_double.py'), '--port', '0'] + list(args),
        stdout=subprocess.PIPE, universal_newlines=True)
    line = proc.stdout.readline()
    assert line.startswith('ready '), line
    return proc, int(line.split()[1])


def stop_double(proc):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=15)
    rest = proc.stdout.read()
    proc.stdout.close()
    assert rc == 0, rc
    assert rest == '', rest  # exactly one line on stdout


class Wire(object):
    """One connection speaking OP_MSG by hand: commands exactly as given
    (pymongo would add or replace lsid, txnNumber, writeConcern...)."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.next_id = 1

    def command(self, db, doc):
        body = bson.BSON.encode(OrderedDict(list(doc.items()) + [('$db', db)]))
        msg = struct.pack('<I', 0) + b'\x00' + body
        self.next_id += 1
        self.sock.sendall(struct.pack('<iiii', 16 + len(msg), self.next_id, 0, 2013) + msg)
        header = self.recv(16)
        length = struct.unpack('<i', header[:4])[0]
        rest = self.recv(length - 16)
        return bson.BSON(rest[5:]).decode(CodecOptions(document_class=OrderedDict))

    def recv(self, n):
        out = b''
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError('the double hung up')
            out += chunk
        return out

    def close(self):
        self.sock.close()


def lsid():
    return {'id': Binary(uuid.uuid4().bytes, UUID_SUBTYPE)}


class DoubleCase(unittest.TestCase):
    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_double(*cls.ARGS)

    @classmethod
    def tearDownClass(cls):
        stop_double(cls.proc)

    def setUp(self):
        self.listener = Commands()
        self.client = pymongo.MongoClient(
            '127.0.0.1', self.port, document_class=OrderedDict, maxPoolSize=1,
            serverSelectionTimeoutMS=5000, event_listeners=[self.listener])
        self.db = self.client['test_%s' % self._testMethodName]
        self.coll = self.db.c
        self.others = []

    def other(self, **kwargs):
        """A second client: its own connections and sessions."""
        client = pymongo.MongoClient('127.0.0.1', self.port, document_class=OrderedDict,
                                     serverSelectionTimeoutMS=5000, **kwargs)
        self.others.append(client)
        return client[self.db.name].c

    def wire(self):
        w = Wire(self.port)
        self.addCleanup(w.close)
        return w

    def tearDown(self):
        for client in self.others:
            client.close()
        self.client.drop_database(self.db.name)
        self.client.close()

    def assertCode(self, code, fn, *args, **kwargs):
        with self.assertRaises(OperationFailure) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.code, code, cm.exception.details)
        return cm.exception.details


class DoubleTest(DoubleCase):
    def test_round_trip_keeps_types_and_order(self):
        doc = OrderedDict([
            ('_id', 'o1'), ('zeta', Int64(7)), ('small', 42), ('big', Int64(2 ** 40)),
            ('f', 1.5), ('when', datetime.datetime(2023, 5, 6, 7, 8, 9, 123000)),
            ('blob', b'\x00\x01\xff'), ('uuid', Binary(b'0123456789abcdef', 4)),
            ('nested', OrderedDict([('y', Int64(1)), ('a', OrderedDict([('k', [1, Int64(2), 'x'])]))])),
            ('none', None), ('flag', True)])
        self.coll.insert_one(doc)
        raw = self.coll.with_options(CodecOptions(document_class=RawBSONDocument))
        self.assertEqual(raw.find_one({'_id': 'o1'}).raw, bson.BSON.encode(doc))
        got = self.coll.find_one({'when': doc['when']})
        self.assertEqual(list(got), list(doc))
        self.assertIs(type(got['zeta']), Int64)
        self.assertIs(type(got['small']), int)
        self.assertIs(type(got['blob']), bytes)

    def test_update_operators_keep_int64(self):
        self.coll.insert_one({'_id': 1, 'v': Int64(1), 'i': 1})
        self.coll.update_one({'_id': 1}, {'$inc': {'v': 1, 'i': 1, 'new': Int64(5)},
                                          '$currentDate': {'at': True}})
        got = self.coll.find_one()
        self.assertEqual((got['v'], type(got['v'])), (2, Int64))
        self.assertEqual((got['i'], type(got['i'])), (2, int))
        self.assertIs(type(got['new']), Int64)
        self.assertEqual(got['at'].microsecond % 1000, 0)
        raw = self.coll.with_options(CodecOptions(document_class=RawBSONDocument))
        stored = raw.find_one()
        self.assertEqual(bson.BSON(stored.raw).decode(CodecOptions(document_class=OrderedDict)), got)

    def test_generated_id_is_first(self):
        self.db.command('insert', 'c', documents=[OrderedDict([('a', 1), ('b', 2)])])
        self.assertEqual(list(self.coll.find_one()), ['_id', 'a', 'b'])

    def test_duplicate_id(self):
        self.coll.insert_one({'_id': 'x'})
        with self.assertRaises(DuplicateKeyError) as cm:
            self.coll.insert_one({'_id': 'x', 'a': 1})
        self.assertEqual(cm.exception.code, 11000)
        self.assertIn('E11000 duplicate key error collection: %s.c index: _id_ dup key: '
                      % self.db.name, str(cm.exception))

    def test_ordered_insert_stops_at_first_error(self):
        reply = self.db.command('insert', 'c', documents=[{'_id': 1}, {'_id': 1}, {'_id': 2}],
                                check=False)
        self.assertEqual(reply['n'], 1)
        self.assertEqual([(e['index'], e['code']) for e in reply['writeErrors']], [(1, 11000)])
        reply = self.db.command('insert', 'c', documents=[{'_id': 1}, {'_id': 3}], ordered=False)
        self.assertEqual(reply['n'], 1)

    def test_unique_partial_index(self):
        self.coll.insert_many([{'n': i} for i in range(3)])  # no email: outside the index
        name = self.coll.create_index([('email', 1)], unique=True,
                                      partialFilterExpression={'email': {'$exists': True}})
        self.coll.insert_many([{'n': 3}, {'n': 4}, {'email': 'a@x'}])
        with self.assertRaises(DuplicateKeyError) as cm:
            self.coll.insert_one({'email': 'a@x'})
        self.assertIn('index: %s dup key: { email: "a@x" }' % name, str(cm.exception))
        self.coll.insert_one({'_id': 'b', 'email': 'b@x'})
        with self.assertRaises(DuplicateKeyError):
            self.coll.update_one({'_id': 'b'}, {'$set': {'email': 'a@x'}})
        self.assertEqual(self.coll.find_one({'_id': 'b'})['email'], 'b@x')  # rolled back

    def test_unique_index_on_existing_duplicates_fails(self):
        self.coll.insert_many([{'k': 1}, {'k': 1}])
        with self.assertRaises(OperationFailure) as cm:
            self.coll.create_index('k', unique=True)
        self.assertEqual(cm.exception.code, 11000)

    def test_create_indexes_twice_is_ok(self):
        for _ in range(2):
            self.assertEqual(self.coll.create_index([('org', 1), ('name', 1)], unique=True), 'org_1_name_1')
        names = [ix['name'] for ix in self.coll.list_indexes()]
        self.assertEqual(names, ['_id_', 'org_1_name_1'])
        with self.assertRaises(OperationFailure) as cm:
            self.coll.create_index([('org', 1), ('name', 1)], name='org_1_name_1')  # not unique
        self.assertEqual(cm.exception.code, 86)

    def test_versioned_update(self):
        self.coll.insert_one({'_id': 'r', 'version': Int64(1), 'name': 'a'})
        res = self.coll.update_one({'_id': 'r', 'version': Int64(1)},
                                   {'$set': {'name': 'b'}, '$inc': {'version': Int64(1)}})
        self.assertEqual((res.matched_count, res.modified_count), (1, 1))
        res = self.coll.update_one({'_id': 'r', 'version': Int64(1)}, {'$set': {'name': 'c'}})
        self.assertEqual((res.matched_count, res.modified_count), (0, 0))
        self.assertEqual(self.coll.find_one()['name'], 'b')

    def test_replacement_and_upsert(self):
        self.coll.insert_one({'_id': 'r', 'a': 1, 'b': 2})
        res = self.coll.replace_one({'_id': 'r'}, OrderedDict([('z', 1), ('a', 5)]))
        self.assertEqual(res.modified_count, 1)
        self.assertEqual(list(self.coll.find_one().items()), [('_id', 'r'), ('z', 1), ('a', 5)])
        res = self.coll.update_one({'name': 'new'}, {'$set': {'v': 1}}, upsert=True)
        self.assertIsNotNone(res.upserted_id)
        self.assertEqual(list(self.coll.find_one({'name': 'new'})), ['_id', 'name', 'v'])
        reply = self.db.command('update', 'c', updates=[{'q': {}, 'u': [{'$set': {'p': 1}}]}])
        self.assertEqual(reply['writeErrors'][0]['code'], 238)  # pipeline updates unsupported

    def test_find_and_modify(self):
        self.coll.insert_many([{'_id': i, 'q': 'x', 'n': i} for i in range(3)])
        after = self.coll.find_one_and_update(
            {'q': 'x'}, {'$inc': {'n': 10}}, sort=[('n', -1)], projection={'n': 1},
            return_document=pymongo.ReturnDocument.AFTER)
        self.assertEqual(after, {'_id': 2, 'n': 12})
        before = self.coll.find_one_and_update({'_id': 0}, {'$set': {'n': 5}})
        self.assertEqual(before['n'], 0)
        self.assertIsNone(self.coll.find_one_and_update({'_id': 99}, {'$set': {'n': 1}}))
        up = self.coll.find_one_and_update({'_id': 99}, {'$set': {'n': 1}}, upsert=True,
                                           return_document=pymongo.ReturnDocument.AFTER)
        self.assertEqual(up, {'_id': 99, 'n': 1})
        reply = self.db.command('findAndModify', 'c', query={'_id': 1}, remove=True)
        self.assertEqual(reply['lastErrorObject']['n'], 1)
        self.assertEqual(reply['value']['_id'], 1)
        self.assertIsNone(self.coll.find_one({'_id': 1}))

    def test_delete(self):
        self.coll.insert_many([{'k': i % 2} for i in range(6)])
        self.assertEqual(self.coll.delete_one({'k': 0}).deleted_count, 1)
        self.assertEqual(self.coll.delete_many({'k': 1}).deleted_count, 3)
        self.assertEqual(self.coll.count_documents({}), 2)

    def test_find_batches_with_get_more(self):
        self.coll.insert_many([{'i': i} for i in range(7)])
        docs = list(self.coll.find({}, {'_id': 0}).sort('i', -1).limit(5).batch_size(2))
        self.assertEqual([d['i'] for d in docs], [6, 5, 4, 3, 2])
        self.assertEqual(self.listener.names.count('getMore'), 2)
        docs = list(self.coll.find().sort('i', 1).skip(5).batch_size(1))
        self.assertEqual([d['i'] for d in docs], [5, 6])
        cursor = self.coll.find().batch_size(2)
        next(cursor)
        cursor.close()
        self.assertIn('killCursors', self.listener.names)
        with self.assertRaises(OperationFailure) as cm:
            self.db.command('getMore', Int64(12345), collection='c')
        self.assertEqual(cm.exception.code, 43)

    def test_aggregate(self):
        self.coll.insert_many([{'g': i % 3, 'v': i} for i in range(9)])
        self.assertEqual(list(self.coll.aggregate([{'$match': {'v': {'$gte': 2}}}, {'$count': 'n'}])),
                         [{'n': 7}])
        groups = list(self.coll.aggregate([{'$group': {'_id': '$g', 't': {'$sum': '$v'}}},
                                           {'$sort': {'_id': 1}}]))
        self.assertEqual(groups, [{'_id': 0, 't': 9}, {'_id': 1, 't': 12}, {'_id': 2, 't': 15}])
        self.assertEqual(list(groups[0]), ['_id', 't'])
        self.assertEqual(self.coll.count_documents({'g': 1}), 3)
        self.assertEqual(self.coll.estimated_document_count(), 9)

    def test_unknown_command_then_connection_still_works(self):
        with self.assertRaises(OperationFailure) as cm:
            self.db.command('frobnicate', 1)
        self.assertEqual(cm.exception.code, 59)
        self.assertEqual(cm.exception.details['errmsg'], "no such command: 'frobnicate'")
        self.assertEqual(self.db.command('ping')['ok'], 1.0)

    def test_unacknowledged_write(self):
        self.coll.with_options(write_concern=WriteConcern(w=0)).insert_one({'_id': 'w0'})
        self.assertEqual(self.coll.find_one({'_id': 'w0'}), {'_id': 'w0'})

    def test_majority_write_concern_accepted(self):
        majority = self.coll.with_options(write_concern=WriteConcern(w='majority', j=True))
        majority.insert_one({'_id': 1})
        self.assertEqual(majority.update_one({'_id': 1}, {'$set': {'a': 1}}).modified_count, 1)

    def test_collections(self):
        self.db.create_collection('made')
        with self.assertRaises(OperationFailure) as cm:
            self.db.command('create', 'made')
        self.assertEqual(cm.exception.code, 48)
        self.coll.insert_one({})
        self.assertEqual(sorted(self.db.list_collection_names()), ['c', 'made'])
        self.db.drop_collection('made')
        self.assertEqual(self.db.list_collection_names(), ['c'])

    def test_concurrent_clients(self):
        def work(n):
            client = pymongo.MongoClient('127.0.0.1', self.port, maxPoolSize=2)
            coll = client[self.db.name].c
            seqs = [coll.find_one_and_update({'_id': 'seq'}, {'$inc': {'v': Int64(1)}}, upsert=True,
                                             return_document=pymongo.ReturnDocument.AFTER)['v']
                    for _ in range(n)]
            client.close()
            return seqs
        with ThreadPoolExecutor(8) as pool:
            seqs = [v for part in pool.map(work, [25] * 8) for v in part]
        self.assertEqual(sorted(seqs), list(range(1, 201)))
        self.assertIs(type(self.coll.find_one({'_id': 'seq'})['v']), Int64)

    def test_survives_client_disconnects(self):
        header = struct.pack('<iiii', 1000, 1, 0, 2013)
        for payload in (b'', header[:7], header + b'\x00\x00', struct.pack('<iiii', 20, 1, 0, 9999) + b'abcd'):
            sock = socket.create_connection(('127.0.0.1', self.port))
            sock.sendall(payload)
            sock.close()
        self.coll.insert_many([{'i': i} for i in range(5)])
        # A find that opens a server-side cursor, then hang up before reading the reply.
        body = bson.BSON.encode(OrderedDict([('find', 'c'), ('batchSize', 1), ('$db', self.db.name)]))
        msg = struct.pack('<I', 0) + b'\x00' + body
        sock = socket.create_connection(('127.0.0.1', self.port))
        sock.sendall(struct.pack('<iiii', 16 + len(msg), 7, 0, 2013) + msg)
        sock.close()
        self.assertEqual(self.db.command('ping')['ok'], 1.0)
        self.assertEqual(self.coll.count_documents({}), 5)


    def test_hello_replica_set_primary(self):
        reply = self.client.admin.command('hello')
        me = '127.0.0.1:%d' % self.port
        self.assertTrue(reply['isWritablePrimary'])
        self.assertFalse(reply['secondary'])
        self.assertEqual((reply['setName'], reply['hosts'], reply['primary'], reply['me']),
                         ('rs0', [me], me, me))
        self.assertEqual((reply['minWireVersion'], reply['maxWireVersion']), (0, 21))
        self.assertEqual(reply['logicalSessionTimeoutMinutes'], 30)
        self.assertTrue(self.client.admin.command('isMaster')['ismaster'])
        self.assertEqual(self.client.server_info()['version'], '7.0.0')
        # a client that names the set finds its primary there
        named = pymongo.MongoClient('mongodb://%s/?replicaSet=rs0' % me,
                                    serverSelectionTimeoutMS=5000)
        self.addCleanup(named.close)
        named[self.db.name].c.insert_one({'_id': 'via-set'})
        self.assertEqual(self.coll.find_one()['_id'], 'via-set')

    # -- what mongod refuses --------------------------------------------------
    def test_refuses_unknown_fields(self):
        details = self.assertCode(40415, self.db.command, 'insert', 'c', documents=[{}],
                                  frobnicate=1)
        self.assertEqual(details['errmsg'], "BSON field 'insert.frobnicate' is an unknown field.")
        details = self.assertCode(40415, self.db.command, 'update', 'c',
                                  updates=[{'q': {}, 'u': {'$set': {'a': 1}}, 'maxTimeMS': 5}])
        self.assertEqual(details['errmsg'],
                         "BSON field 'update.updates.maxTimeMS' is an unknown field.")
        self.assertCode(40415, self.db.command, 'delete', 'c', deletes=[{'q': {}, 'limit': 0,
                                                                         'x': 1}])
        self.assertCode(40415, self.db.command, 'find', 'c', filter={}, nonsense=True)
        self.assertCode(40415, self.db.command, 'findAndModify', 'c', query={}, remove=True,
                        bogus=1)
        self.assertEqual(self.coll.count_documents({}), 0)  # nothing was written

    def test_max_time_ms_checked(self):
        for bad in (-1, 1.5, 'x', 2 ** 31):
            self.assertCode(2, self.db.command, 'find', 'c', maxTimeMS=bad)
        self.assertEqual(self.db.command('find', 'c', maxTimeMS=1000)['ok'], 1.0)

    def test_refuses_documents_over_16_mib(self):
        big = 'x' * (9 * 1024 * 1024)
        self.coll.insert_one({'_id': 1, 'a': big})
        details = self.assertCode(17419, self.coll.update_one, {'_id': 1}, {'$set': {'b': big}})
        self.assertIn('larger than 16777216', details['errmsg'])
        self.assertEqual(list(self.coll.find_one({'_id': 1})), ['_id', 'a'])  # unchanged
        # pymongo refuses a document that large itself: send it by hand, as a
        # document sequence, where the wire allows 16 MiB + 16 KiB
        doc = bson.BSON.encode({'_id': 2, 'a': 'y' * (16 * 1024 * 1024)})
        body = bson.BSON.encode(OrderedDict([('insert', 'c'), ('$db', self.db.name)]))
        seq = b'documents\x00' + doc
        msg = struct.pack('<I', 0) + b'\x00' + body + b'\x01' + struct.pack('<i', 4 + len(seq)) + seq
        w = self.wire()
        w.sock.sendall(struct.pack('<iiii', 16 + len(msg), 99, 0, 2013) + msg)
        header = w.recv(16)
        reply = bson.BSON(w.recv(struct.unpack('<i', header[:4])[0] - 16)[5:]).decode()
        self.assertEqual(reply['writeErrors'][0]['code'], 2)
        self.assertIn('object to insert too large', reply['writeErrors'][0]['errmsg'])
        self.assertIsNone(self.coll.find_one({'_id': 2}))

    def test_refuses_invalid_index_specs(self):
        def create(*specs):
            return self.db.command('createIndexes', 'c', indexes=list(specs))
        self.assertCode(197, create, {'key': {'a': 1}, 'name': 'a', 'uniqe': True})
        self.assertCode(67, create, {'key': {'a': 'ascending'}, 'name': 'a'})
        self.assertCode(67, create, {'key': {'a': 0}, 'name': 'a'})
        self.assertCode(67, create, {'key': {'a': True}, 'name': 'a'})
        self.assertCode(67, create, {'key': {}, 'name': 'a'})
        self.assertCode(9, create, {'key': {'a': 1}})
        self.assertCode(67, create, {'key': {'a': 1}, 'name': 'a',
                                     'partialFilterExpression': {'a': {'$exists': False}}})
        self.assertCode(67, create, {'key': {'a': 1}, 'name': 'a',
                                     'partialFilterExpression': {'a': {'$ne': 1}}})
        self.assertCode(67, create, {'key': {'a': 1}, 'name': 'a', 'sparse': True,
                                     'partialFilterExpression': {'a': {'$exists': True}}})
        self.assertCode(67, create, {'key': {'a': 1, 'b': 1}, 'name': 'ab',
                                     'expireAfterSeconds': 60})
        self.assertCode(2, self.db.command, 'createIndexes', 'c', indexes=[])
        # a good spec after a bad one: the command fails whole
        self.assertCode(197, create, {'key': {'ok': 1}, 'name': 'ok'}, {'key': {'a': 1},
                                                                         'name': 'a', 'x': 1})
        self.assertEqual([ix['name'] for ix in self.coll.list_indexes()], [])
        create({'key': {'a': 1}, 'name': 'a', 'partialFilterExpression': {
            '$and': [{'a': {'$exists': True}}, {'b': {'$gt': 5}}]}})

    def test_refused_update_is_not_applied(self):
        self.coll.insert_one({'_id': 1, 'a': 0, 's': 'text'})
        # mongomock sets a, then fails on s: the double puts the document back
        self.assertCode(14, self.coll.update_one, {'_id': 1}, {'$set': {'a': 1}, '$inc': {'s': 1}})
        self.assertEqual(self.coll.find_one(), {'_id': 1, 'a': 0, 's': 'text'})
        self.assertCode(14, self.coll.find_one_and_update, {'_id': 1},
                        {'$set': {'a': 2}, '$inc': {'s': 1}})
        self.assertEqual(self.coll.find_one()['a'], 0)

    def test_multi_update_is_atomic_per_document(self):
        self.coll.insert_many([{'_id': 1, 'n': 1}, {'_id': 2, 'n': 'two'}, {'_id': 3, 'n': 3}])
        reply = self.db.command('update', 'c', updates=[{'q': {}, 'u': {'$set': {'seen': True},
                                                                        '$inc': {'n': 1}},
                                                          'multi': True}])
        self.assertEqual(reply['writeErrors'][0]['code'], 14)
        # as mongod: the documents before the failing one stay updated, it
        # and those after it are untouched
        self.assertEqual(list(self.coll.find().sort('_id', 1)),
                         [{'_id': 1, 'n': 2, 'seen': True}, {'_id': 2, 'n': 'two'},
                          {'_id': 3, 'n': 3}])

    # -- transactions ---------------------------------------------------------
    def test_transaction_commits_all_at_once(self):
        self.coll.insert_many([{'_id': 'u', 'v': 1}, {'_id': 'd'}])
        others = self.other()
        with self.client.start_session() as s:
            s.start_transaction()
            self.coll.insert_one({'_id': 'i'}, session=s)
            self.coll.update_one({'_id': 'u'}, {'$inc': {'v': 1}}, session=s)
            self.coll.delete_one({'_id': 'd'}, session=s)
            self.coll.update_one({'_id': 'up'}, {'$set': {'x': 1}}, upsert=True, session=s)
            # the transaction sees its own writes; nobody else does yet
            self.assertEqual(sorted(d['_id'] for d in self.coll.find({}, session=s)),
                             ['i', 'u', 'up'])
            self.assertEqual(sorted(d['_id'] for d in others.find()), ['d', 'u'])
            self.assertEqual(others.find_one({'_id': 'u'})['v'], 1)
            self.assertEqual(others.count_documents({}), 2)
            s.commit_transaction()
        self.assertEqual(sorted(d['_id'] for d in others.find()), ['i', 'u', 'up'])
        self.assertEqual(others.find_one({'_id': 'u'})['v'], 2)

    def test_transaction_abort_undoes_everything(self):
        self.coll.create_index('k', unique=True)
        self.coll.insert_many([{'_id': 'u', 'v': 1, 'k': 1}, {'_id': 'd', 'k': 2}])
        before = list(self.coll.find().sort('_id', 1))
        with self.client.start_session() as s:
            s.start_transaction()
            self.coll.insert_one({'_id': 'i', 'k': 3}, session=s)
            self.coll.replace_one({'_id': 'u'}, {'k': 4}, session=s)
            self.coll.delete_one({'_id': 'd'}, session=s)
            self.coll.insert_one({'_id': 'd2', 'k': 2}, session=s)  # d's key, freed
            s.abort_transaction()
        self.assertEqual(list(self.coll.find().sort('_id', 1)), before)
        self.coll.insert_one({'_id': 'again', 'k': 3})  # the aborted insert left no key
        self.assertCode(11000, self.coll.insert_one, {'_id': 'dup', 'k': 2})

    def test_error_aborts_the_transaction(self):
        self.coll.insert_one({'_id': 1})
        w = self.wire()
        sid = lsid()
        txn = OrderedDict([('lsid', sid), ('txnNumber', Int64(1)), ('autocommit', False)])
        reply = w.command(self.db.name, OrderedDict(
            [('insert', 'c'), ('documents', [{'_id': 2}])] + list(txn.items()) +
            [('startTransaction', True)]))
        self.assertEqual(reply['ok'], 1.0)
        reply = w.command(self.db.name, OrderedDict(
            [('insert', 'c'), ('documents', [{'_id': 1}])] + list(txn.items())))
        self.assertEqual(reply['writeErrors'][0]['code'], 11000)
        reply = w.command('admin', OrderedDict([('commitTransaction', 1)] + list(txn.items())))
        self.assertEqual((reply['ok'], reply['code']), (0.0, 251))
        self.assertIn('TransientTransactionError', reply['errorLabels'])
        self.assertIsNone(self.coll.find_one({'_id': 2}))

    def test_second_writer_gets_write_conflict(self):
        self.coll.insert_one({'_id': 1, 'n': 0})
        other = self.other()
        with self.client.start_session() as s1, other.database.client.start_session() as s2:
            s1.start_transaction()
            self.coll.update_one({'_id': 1}, {'$inc': {'n': 1}}, session=s1)
            s2.start_transaction()
            with self.assertRaises(OperationFailure) as cm:
                other.update_one({'_id': 1}, {'$inc': {'n': 10}}, session=s2)
            self.assertEqual(cm.exception.code, 112)
            self.assertEqual(cm.exception.details['codeName'], 'WriteConflict')
            self.assertTrue(cm.exception.has_error_label('TransientTransactionError'))
            # mongod aborted the second transaction
            with self.assertRaises(OperationFailure) as cm:
                other.insert_one({'_id': 'x'}, session=s2)
            self.assertEqual(cm.exception.code, 251)
            s2.abort_transaction()
            s1.commit_transaction()
            # the retry, as a driver runs it, now goes through
            s2.start_transaction()
            other.update_one({'_id': 1}, {'$inc': {'n': 10}}, session=s2)
            s2.commit_transaction()
        self.assertEqual(self.coll.find_one()['n'], 11)  # no update lost

    def test_write_after_snapshot_conflicts(self):
        """A transaction's snapshot starts at its first command: a document
        another writer committed after that is a WriteConflict to write."""
        self.coll.insert_many([{'_id': 1, 'n': 0}, {'_id': 2}])
        other = self.other()
        with self.client.start_session() as s:
            s.start_transaction()
            self.coll.find_one({'_id': 2}, session=s)
            other.update_one({'_id': 1}, {'$inc': {'n': 1}})  # committed after the snapshot
            self.assertCode(112, self.coll.update_one, {'_id': 1}, {'$inc': {'n': 1}}, session=s)
        self.assertEqual(self.coll.find_one({'_id': 1})['n'], 1)

    def test_unique_key_of_an_open_transaction_conflicts(self):
        self.coll.create_index('k', unique=True)
        self.coll.insert_one({'_id': 'held', 'k': 'freed'})
        other = self.other()
        with self.client.start_session() as s1, other.database.client.start_session() as s2:
            s1.start_transaction()
            self.coll.insert_one({'_id': 'a', 'k': 'taken'}, session=s1)
            self.coll.delete_one({'_id': 'held'}, session=s1)
            s2.start_transaction()
            # not DuplicateKey: the first transaction may still abort
            self.assertCode(112, other.insert_one, {'_id': 'b', 'k': 'taken'}, session=s2)
            s2.abort_transaction()
            s2.start_transaction()
            self.assertCode(112, other.insert_one, {'_id': 'c', 'k': 'freed'}, session=s2)
            s2.abort_transaction()
            s1.abort_transaction()
        other.insert_one({'_id': 'b', 'k': 'taken'})
        self.assertCode(11000, other.insert_one, {'_id': 'c', 'k': 'freed'})

    def test_write_outside_a_transaction_waits_for_it(self):
        self.coll.insert_one({'_id': 1, 'n': 0})
        other = self.other()
        with self.client.start_session() as s:
            s.start_transaction()
            self.coll.update_one({'_id': 1}, {'$inc': {'n': 1}}, session=s)
            t0 = time.monotonic()
            self.assertCode(50, other.database.command, 'update', 'c',
                            updates=[{'q': {'_id': 1}, 'u': {'$inc': {'n': 10}}}], maxTimeMS=300)
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
            done = []
            waiter = threading.Thread(target=lambda: done.append(
                other.update_one({'_id': 1}, {'$inc': {'n': 10}}).modified_count))
            waiter.start()
            time.sleep(0.3)
            self.assertEqual(done, [])  # still waiting
            s.commit_transaction()
            waiter.join(10)
        self.assertEqual(done, [1])
        self.assertEqual(self.coll.find_one()['n'], 11)

    def test_transaction_rules(self):
        w = self.wire()
        sid = lsid()

        def txn(number, *fields, **more):
            return OrderedDict(list(fields) + [('lsid', sid), ('txnNumber', Int64(number)),
                                               ('autocommit', False)] + list(more.items()))
        ok = w.command(self.db.name, txn(1, ('insert', 'c'), ('documents', [{'_id': 1}]),
                                         startTransaction=True, readConcern={'level': 'snapshot'}))
        self.assertEqual(ok['ok'], 1.0, ok)
        bad = w.command(self.db.name, txn(1, ('find', 'c'), readConcern={'level': 'snapshot'}))
        self.assertEqual(bad['code'], 72)  # only the first command names a read concern
        self.assertEqual(w.command('admin', txn(1, ('commitTransaction', 1)))['code'], 251)

        w.command(self.db.name, txn(2, ('insert', 'c'), ('documents', [{'_id': 2}]),
                                    startTransaction=True))
        bad = w.command(self.db.name, txn(2, ('insert', 'c'), ('documents', [{'_id': 3}]),
                                          writeConcern={'w': 1}))
        self.assertEqual(bad['code'], 72)
        w.command(self.db.name, txn(3, ('insert', 'c'), ('documents', [{'_id': 3}]),
                                    startTransaction=True))
        self.assertEqual(w.command(self.db.name, txn(3, ('count', 'c')))['code'], 263)

        w.command(self.db.name, txn(4, ('insert', 'c'), ('documents', [{'_id': 4}]),
                                    startTransaction=True))
        self.assertEqual(w.command('admin', txn(4, ('commitTransaction', 1)))['ok'], 1.0)
        self.assertEqual(w.command('admin', txn(4, ('commitTransaction', 1)))['ok'], 1.0)
        self.assertEqual(w.command('admin', txn(4, ('abortTransaction', 1)))['code'], 256)
        self.assertEqual(w.command(self.db.name, txn(3, ('find', 'c')))['code'], 225)
        self.assertEqual(w.command(self.db.name, txn(9, ('find', 'c')))['code'], 251)
        self.assertEqual(w.command(self.db.name, txn(4, ('insert', 'c'), ('documents', [{}]),
                                                     startTransaction=True))['code'], 50911)
        self.assertEqual([d['_id'] for d in self.coll.find()], [4])

    def test_retryable_write_runs_once(self):
        w = self.wire()
        sid = lsid()
        cmd = OrderedDict([('update', 'c'), ('updates', [{'q': {'_id': 1}, 'u': {'$inc': {'n': 1}},
                                                          'upsert': True}]),
                           ('lsid', sid), ('txnNumber', Int64(7))])
        first = w.command(self.db.name, cmd)
        again = w.command(self.db.name, cmd)  # the driver's retry after a lost reply
        self.assertEqual(first, again)
        self.assertEqual(self.coll.find_one()['n'], 1)
        cmd['txnNumber'] = Int64(8)
        w.command(self.db.name, cmd)
        self.assertEqual(self.coll.find_one()['n'], 2)
        bad = w.command(self.db.name, OrderedDict([('find', 'c'), ('lsid', sid),
                                                    ('txnNumber', Int64(9))]))
        self.assertEqual(bad['code'], 50768)  # find is not a retryable write

    def test_ending_a_session_aborts_its_transaction(self):
        w = self.wire()
        sid = lsid()
        w.command(self.db.name, OrderedDict([
            ('insert', 'c'), ('documents', [{'_id': 1}]), ('lsid', sid), ('txnNumber', Int64(1)),
            ('autocommit', False), ('startTransaction', True)]))
        w.command('admin', OrderedDict([('endSessions', [sid])]))
        self.coll.insert_one({'_id': 1})  # neither waiting nor a duplicate

    # -- failpoints ---------------------------------------------------------------
    def fail_point(self, name, mode, **data):
        reply = self.client.admin.command(OrderedDict([('configureFailPoint', name),
                                                       ('mode', mode), ('data', data)]))
        self.addCleanup(self.client.admin.command,
                        OrderedDict([('configureFailPoint', name), ('mode', 'off')]))
        return reply

    def test_fail_command(self):
        self.fail_point('failCommand', {'times': 2}, failCommands=['insert'], errorCode=112,
                        errorLabels=['TransientTransactionError'])
        for _ in range(2):
            with self.assertRaises(OperationFailure) as cm:
                self.coll.insert_one({'x': 1})
            self.assertEqual(cm.exception.code, 112)
            self.assertTrue(cm.exception.has_error_label('TransientTransactionError'))
        self.coll.insert_one({'x': 1})
        self.assertEqual(self.coll.count_documents({}), 1)  # the failed ones wrote nothing
        reply = self.fail_point('failCommand', 'off')
        self.assertEqual(reply['count'], 2)

        self.fail_point('failCommand', 'alwaysOn', failCommands=['find'], errorCode=91,
                        appName='someone-else')
        self.assertEqual(self.coll.count_documents({}), 1)  # another client's failpoint
        self.fail_point('failCommand', {'times': 1}, failCommands=['find'], blockConnection=True,
                        blockTimeMS=300)
        t0 = time.monotonic()
        self.assertEqual(len(list(self.coll.find())), 1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        # twice: pymongo retries a read once
        self.fail_point('failCommand', {'times': 2}, failCommands=['find'], closeConnection=True)
        with self.assertRaises(AutoReconnect):
            list(self.coll.find())
        self.assertEqual(len(list(self.coll.find())), 1)

    def test_max_time_always_times_out(self):
        self.fail_point('maxTimeAlwaysTimeOut', 'alwaysOn')
        self.assertCode(50, self.db.command, 'find', 'c', maxTimeMS=60000)
        self.assertEqual(self.db.command('find', 'c')['ok'], 1.0)  # no maxTimeMS, no failure
        self.assertCode(2, self.client.admin.command, 'configureFailPoint', 'noSuchPoint',
                        mode='alwaysOn')


class QueryTest(DoubleCase):
    """Filters as mongod evaluates them (query.py): the operators a store's
    list filters become, on dotted paths, arrays, missing fields and values
    of different types."""

    DOCS = [
        {'_id': 1, 'f': OrderedDict([('n', Int64(3)), ('s', 'b'), ('t', ['red', 'blue'])])},
        {'_id': 2, 'f': OrderedDict([('n', 5), ('s', 'B'), ('t', 'red')])},
        {'_id': 3, 'f': {'n': 2.5}},
        {'_id': 4},
        {'_id': 5, 'f': OrderedDict([('n', True), ('s', '\u00e9')])},
        {'_id': 6, 'f': OrderedDict([('n', '3'), ('t', [])])},
        {'_id': 7, 'f': {'n': [1, Int64(7)]}},
        {'_id': 8, 'f': {'s': 'x'}},
    ]

    def setUp(self):
        super().setUp()
        self.coll.insert_many(self.DOCS)

    def ids(self, query):
        return sorted(d['_id'] for d in self.coll.find(query, {'_id': 1}))

    def test_equality(self):
        self.assertEqual(self.ids({'f.n': 3}), [1])             # int32 = int64; not '3', not true
        self.assertEqual(self.ids({'f.n': Int64(1)}), [7])      # an element; true is not 1
        self.assertEqual(self.ids({'f.n': 2.5}), [3])
        self.assertEqual(self.ids({'f.n': True}), [5])
        self.assertEqual(self.ids({'f.n': {'$eq': 1}}), [7])
        self.assertEqual(self.ids({'f.t': 'red'}), [1, 2])      # a scalar or an element
        self.assertEqual(self.ids({'f.n': [1, 7]}), [7])        # the whole array
        self.assertEqual(self.ids({'f.n': [7, 1]}), [])
        self.assertEqual(self.ids({'f.n': None}), [4, 8])       # missing (f itself, or n)
        self.assertEqual(self.ids({'f.t': []}), [6])
        self.assertEqual(self.ids({'f.n': {'$in': [1, 5]}}), [2, 7])
        self.assertEqual(self.ids({'f.n': {'$in': [None, 2.5]}}), [3, 4, 8])
        self.assertEqual(self.ids({'f': OrderedDict([('n', 2.5)])}), [3])
        self.assertEqual(self.ids({'f': OrderedDict([('s', 'b'), ('n', 3)])}), [])  # field order

    def test_negations(self):
        self.assertEqual(self.ids({'f.n': {'$ne': 1}}), [1, 2, 3, 4, 5, 6, 8])  # true != 1
        self.assertEqual(self.ids({'f.n': {'$ne': 7}}), [1, 2, 3, 4, 5, 6, 8])  # no element is
        self.assertEqual(self.ids({'f.t': {'$ne': 'red'}}), [3, 4, 5, 6, 7, 8])
        self.assertEqual(self.ids({'f.n': {'$ne': None}}), [1, 2, 3, 5, 6, 7])
        self.assertEqual(self.ids({'f.n': {'$nin': [1, 5]}}), [1, 3, 4, 5, 6, 8])
        self.assertEqual(self.ids({'$nor': [{'f.t': 'red'}]}), [3, 4, 5, 6, 7, 8])
        self.assertEqual(self.ids({'$nor': [{'f.t': 'red'}, {'f.n': {'$gt': 2}}]}), [4, 5, 6, 8])
        self.assertEqual(self.ids({'f.n': {'$not': {'$gt': 2}}}), [4, 5, 6, 8])
        self.assertEqual(self.ids({'$nor': [{'$nor': [{'f.s': 'b'}]}]}), [1])
        self.assertEqual(self.ids({'f.n': {'$exists': False}}), [4, 8])
        self.assertEqual(self.ids({'f.n': {'$exists': 1}}), [1, 2, 3, 5, 6, 7])

    def test_order_and_type_bracketing(self):
        self.assertEqual(self.ids({'f.n': {'$gt': 2}}), [1, 2, 3, 7])  # not '3', not true
        self.assertEqual(self.ids({'f.n': {'$gte': Int64(5)}}), [2, 7])
        self.assertEqual(self.ids({'f.n': {'$lt': 2}}), [7])          # an element
        self.assertEqual(self.ids({'f.n': {'$lte': 2.5}}), [3, 7])
        self.assertEqual(self.ids({'f.n': {'$gt': '2'}}), [6])        # strings with strings
        self.assertEqual(self.ids({'f.n': {'$gte': False}}), [5])     # bools with bools
        self.assertEqual(self.ids({'f.s': {'$gt': 'B'}}), [1, 5, 8])  # by code point
        self.assertEqual(self.ids({'f.s': {'$lt': 'c'}}), [1, 2])     # 'B' < 'b' < 'c' < '\u00e9'
        self.assertEqual(self.ids({'f.s': {'$gte': 0}}), [])
        self.assertEqual(self.ids({'f.t': {'$gt': 'blue'}}), [1, 2])
        self.assertEqual(self.ids({'f.t': {'$lt': []}}), [])
        self.assertEqual(self.ids({'f.n': {'$lte': None}}), [4, 8])
        self.assertEqual(self.ids({'f.n': {'$lt': None}}), [])
        self.assertEqual(self.ids({'f.n': {'$gte': 3, '$lt': 6}}), [1, 2, 7])  # each any element

    def test_logical_operators(self):
        self.assertEqual(self.ids({'$or': [{'f.n': {'$lt': 3}}, {'f.s': 'B'}]}), [2, 3, 7])
        # each holds for some element: [1, 7] is >= 3 and <= 5
        self.assertEqual(self.ids({'$and': [{'f.n': {'$gte': 3}}, {'f.n': {'$lte': 5}}]}),
                         [1, 2, 7])
        self.assertEqual(self.ids({'_id': {'$gt': 2}, '$or': [{'f.t': 'red'}, {'f.s': 'x'}]}),
                         [8])
        self.assertEqual(self.ids({'$and': [{'$or': [{'f.s': 'b'}, {'f.s': 'B'}]},
                                            {'$nor': [{'f.t': 'blue'}]}]}), [2])

    def test_paths_through_arrays(self):
        self.coll.insert_many([{'_id': 10, 'a': [{'b': 1}, {'c': 2}]},
                               {'_id': 11, 'a': [{'b': [2, 3]}, 5]},
                               {'_id': 12, 'a': [[{'b': 1}]]}])
        self.assertEqual(self.ids({'a.b': 1}), [10])            # not through an array in an array
        self.assertEqual(self.ids({'a.b': 3}), [11])
        self.assertEqual(self.ids({'a.b': {'$ne': 1}, 'a': {'$exists': True}}), [11, 12])
        self.assertEqual(self.ids({'a.b': None, 'a': {'$exists': True}}), [10, 12])
        self.assertEqual(self.ids({'a.c': {'$exists': True}}), [10])
        self.assertEqual(self.ids({'a.1.c': 2}), [10])
        self.assertEqual(self.ids({'a.1': 5}), [11])
        self.assertEqual(self.ids({'a.b': {'$gt': 2}}), [11])

    def test_every_command_matches_alike(self):
        query = {'f.n': {'$ne': 1}, '$nor': [{'f.t': 'red'}]}
        self.assertEqual(self.coll.count_documents(query), 5)
        self.assertEqual(sorted(self.coll.distinct('_id', query)), [3, 4, 5, 6, 8])
        self.assertEqual(self.coll.update_many(query, {'$set': {'hit': 1}}).modified_count, 5)
        self.assertEqual(self.ids({'hit': 1}), [3, 4, 5, 6, 8])
        self.assertEqual(self.coll.delete_many({'f.n': True}).deleted_count, 1)
        self.assertEqual(self.ids({'hit': 1}), [3, 4, 6, 8])
        self.assertEqual(list(self.coll.aggregate([{'$match': query}, {'$count': 'n'}])),
                         [{'n': 4}])


class QueryRefusalTest(DoubleCase):
    """What mongod refuses in a filter, refused whatever the documents."""

    def test_refuses_malformed_filters(self):
        bad = [{'$nor': {}}, {'$and': []}, {'$or': [1]}, {'$or': {'a': 1}}, {'$foo': 1},
               {'$not': {'a': 1}}, {'a': {'$foo': 1}}, {'a': {'$lt': 1, 'b': 1}},
               {'a': {'$in': 5}}, {'a': {'$nin': [{'$gt': 1}]}}, {'a': {'$not': 5}},
               {'a': {'$not': {}}}, {'a': {'$not': {'b': 1}}},
               {'a': {'$ne': bson.regex.Regex('x')}}, {'a': {'$lt': bson.regex.Regex('x')}},
               {'a': {'$options': 'i'}}, {'$and': [{'a': 1}, {'$or': []}]}]
        for query in bad:
            self.assertCode(2, lambda: list(self.coll.find(query)))  # an empty collection
        self.coll.insert_one({'_id': 1, 'a': 1})
        # a clause that is false first does not hide the rest
        self.assertCode(2, lambda: list(self.coll.find({'a': 2, 'b': {'$foo': 1}})))
        self.assertCode(2, self.coll.count_documents, {'$or': []})
        reply = self.db.command('update', 'c', check=False,
                                updates=[{'q': {'$or': []}, 'u': {'$set': {'x': 1}}}])
        self.assertEqual(reply['writeErrors'][0]['code'], 2)
        reply = self.db.command('delete', 'c', deletes=[{'q': {'a': {'$bad': 1}}, 'limit': 0}],
                                check=False)
        self.assertEqual(reply['writeErrors'][0]['code'], 2)
        self.assertEqual(
            self.coll.count_documents({'$comment': 'fine', 'a': {'$not': {'$gt': 1}}}), 1)

    def test_refuses_messages_nested_too_deep(self):
        def nested(levels):  # a filter of `levels` $and inside each other
            query = {'a': 1}
            for _ in range(levels):
                query = {'$and': [query]}
            return query
        self.coll.insert_one({'a': 1})
        # find (1) > filter (2) > $and > {} > ... : 99 levels reach 200 documents and arrays
        self.assertEqual(len(list(self.coll.find(nested(99)))), 1)
        details = self.assertCode(15, lambda: list(self.coll.find(nested(100))))
        self.assertEqual(details['errmsg'], 'BSONObj exceeded maximum nested object depth: 200')
        self.assertEqual(details['codeName'], 'Overflow')


class StandaloneTest(DoubleCase):
    ARGS = ('--standalone',)

    def test_hello_standalone(self):
        reply = self.client.admin.command('hello')
        self.assertTrue(reply['isWritablePrimary'])
        self.assertNotIn('setName', reply)
        self.assertEqual(reply['logicalSessionTimeoutMinutes'], 30)

    def test_transactions_refused(self):
        details = self.assertCode(20, self.db.command, 'insert', 'c', documents=[{'a': 1}],
                                  txnNumber=Int64(1), startTransaction=True, autocommit=False)
        self.assertEqual(details['codeName'], 'IllegalOperation')
        self.assertEqual(self.coll.count_documents({}), 0)


class TransactionLifetimeTest(DoubleCase):
    ARGS = ('--transaction-lifetime-seconds', '0.3')

    def test_abandoned_transaction_is_aborted(self):
        self.coll.insert_one({'_id': 1, 'n': 0})
        w = self.wire()
        sid = lsid()
        txn = [('lsid', sid), ('txnNumber', Int64(1)), ('autocommit', False)]
        w.command(self.db.name, OrderedDict([('update', 'c'), ('updates', [
            {'q': {'_id': 1}, 'u': {'$inc': {'n': 1}}}])] + txn + [('startTransaction', True)]))
        time.sleep(0.5)  # the client went away without ending it
        self.coll.update_one({'_id': 1}, {'$inc': {'n': 10}})
        self.assertEqual(self.coll.find_one()['n'], 10)
        reply = w.command('admin', OrderedDict([('commitTransaction', 1)] + txn))
        self.assertEqual(reply['code'], 251)


if __name__ == '__main__':
    unittest.main()
