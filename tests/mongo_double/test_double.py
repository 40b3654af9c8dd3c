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
import unittest
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import bson
import pymongo
from bson.binary import Binary
from bson.codec_options import CodecOptions
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from pymongo import monitoring
from pymongo.errors import DuplicateKeyError, OperationFailure
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


class DoubleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, 'mongo_double.py'), '--port', '0'],
            stdout=subprocess.PIPE, universal_newlines=True)
        line = cls.proc.stdout.readline()
        assert line.startswith('ready '), line
        cls.port = int(line.split()[1])

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        rc = cls.proc.wait(timeout=15)
        rest = cls.proc.stdout.read()
        cls.proc.stdout.close()
        assert rc == 0, rc
        assert rest == '', rest  # exactly one line on stdout

    def setUp(self):
        self.listener = Commands()
        self.client = pymongo.MongoClient(
            '127.0.0.1', self.port, document_class=OrderedDict, maxPoolSize=1,
            serverSelectionTimeoutMS=5000, event_listeners=[self.listener])
        self.db = self.client['test_%s' % self._testMethodName]
        self.coll = self.db.c

    def tearDown(self):
        self.client.drop_database(self.db.name)
        self.client.close()

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

    def test_transaction_is_refused_like_standalone(self):
        with self.assertRaises(OperationFailure) as cm:
            self.db.command('insert', 'c', documents=[{'a': 1}], txnNumber=Int64(1),
                            startTransaction=True, autocommit=False)
        self.assertEqual(cm.exception.code, 20)
        self.assertEqual(cm.exception.details['codeName'], 'IllegalOperation')
        self.assertEqual(self.coll.count_documents({}), 0)

    def test_unknown_command_then_connection_still_works(self):
        with self.assertRaises(OperationFailure) as cm:
            self.db.command('frobnicate', 1)
        self.assertEqual(cm.exception.code, 59)
        self.assertEqual(cm.exception.details['errmsg'], "no such command: 'frobnicate'")
        self.assertEqual(self.db.command('ping')['ok'], 1.0)

    def test_hello_standalone(self):
        reply = self.client.admin.command('hello')
        self.assertTrue(reply['isWritablePrimary'])
        self.assertNotIn('setName', reply)
        self.assertEqual((reply['minWireVersion'], reply['maxWireVersion']), (0, 21))
        self.assertEqual(reply['logicalSessionTimeoutMinutes'], 30)
        self.assertTrue(self.client.admin.command('isMaster')['ismaster'])
        self.assertEqual(self.client.server_info()['version'], '7.0.0')

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


if __name__ == '__main__':
    unittest.main()
