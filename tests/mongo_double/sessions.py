"""sessions.py -- logical sessions and transactions of the MongoDB test double.

Owns: which session and transaction a command runs in (lsid, txnNumber,
startTransaction, autocommit) and the rules mongod applies to them; the
memory of retryable writes; the journal that undoes a write statement that
failed, or a whole transaction at abort; the document locks that give a
second writer WriteConflict; and the committed view that other sessions read
while a transaction holds uncommitted writes.

The model (see README.md, "Transactions"): a transaction writes the
documents in place and keeps their pre-images. A document it wrote is locked
until it commits or aborts: another transaction writing it gets WriteConflict
at once (and is aborted, as mongod does), a write outside a transaction
waits for it. A transaction also gets WriteConflict for a document another
writer committed after the transaction's first command (its snapshot), as
snapshot isolation has it. Readers other than the transaction see the
pre-images of what it locked. Reads inside a transaction see its own writes
and the latest committed state of the rest (read committed, not a snapshot).
"""

import copy
import time
from collections import OrderedDict
from collections.abc import Mapping

import bson
from mongomock import filtering, helpers

ABSENT = object()  # the pre-image of a document that did not exist

TXN_COMMANDS = frozenset([
    'find', 'getMore', 'killCursors', 'insert', 'update', 'delete', 'findAndModify',
    'findandmodify', 'aggregate', 'distinct', 'commitTransaction', 'abortTransaction'])
RETRYABLE_WRITES = frozenset(['insert', 'update', 'delete', 'findAndModify', 'findandmodify'])
# Codes mongod labels TransientTransactionError inside a transaction.
TRANSIENT_CODES = frozenset([112, 24, 251, 244, 6, 7, 89, 91, 189, 9001, 10107, 11600,
                             11602, 13435, 13436])
# Codes mongod labels RetryableWriteError on a retryable write.
RETRYABLE_CODES = frozenset([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435,
                             13436, 64])


class CommandError(Exception):
    """A command's failure: becomes {ok: 0, code, codeName, errmsg, **extra}."""

    def __init__(self, code, errmsg, **extra):
        super().__init__(errmsg)
        self.code, self.errmsg, self.extra = code, errmsg, extra


def write_conflict():
    return CommandError(112, 'Write conflict during plan execution and yielding is disabled. '
                             ':: Please retry your operation or multi-document transaction.',
                        errorLabels=['TransientTransactionError'])


def no_such_transaction(number, why):
    return CommandError(251, 'Transaction with { txnNumber: %d } %s' % (number, why),
                        errorLabels=['TransientTransactionError'])


def doc_key(doc_id):
    """The key mongomock stores a document under."""
    return helpers.hashdict(doc_id) if isinstance(doc_id, dict) else doc_id


def _plain(v):
    if isinstance(v, (bool, Mapping, list)) or v is None:
        return False
    try:
        hash(v)
    except TypeError:
        return False
    return True


def split_id(query):
    """(keys, rest) when query names the documents it can match by _id (an
    equality or $in of plain values): their stored keys, and the rest of the
    query; else (None, query). mongomock scans a whole collection for every
    query, and evaluates $in by going through the list: looking the keys up
    instead is the double's _id index."""
    if not isinstance(query, Mapping) or '_id' not in query:
        return None, query
    value = query['_id']
    if isinstance(value, Mapping):
        if list(value) != ['$in'] or not isinstance(value['$in'], list):
            return None, query
        values = value['$in']
    else:
        values = [value]
    if not all(_plain(v) for v in values):
        return None, query
    rest = OrderedDict((k, v) for k, v in query.items() if k != '_id')
    return list(OrderedDict.fromkeys(values)), rest


def one_document(query, doc_id):
    """query, narrowed to the document doc_id (which matches it)."""
    keys, rest = split_id(query)
    narrowed = OrderedDict(_id=doc_id)
    narrowed['$and'] = [rest if keys is not None else query]
    return narrowed


class Txn(object):
    def __init__(self, session, number):
        self.session, self.number = session, number
        self.state = 'in_progress'            # committed | aborted
        self.pre = OrderedDict()              # (ns, key) -> (store, pre-image | ABSENT)
        self.ran = False                      # a command ran in it (readConcern allowed first)
        self.snapshot = 0                     # the commit count at its first command
        self.born = time.monotonic()


class Session(object):
    def __init__(self):
        self.txn = None                       # the latest transaction
        self.retry_number = None              # the latest retryable write's txnNumber
        self.retry_reply = None


class Ctx(object):
    """What one command runs in."""

    def __init__(self, request, name):
        self.request, self.name = request, name
        self.session = None
        self.txn = None
        self.retry_number = None              # a retryable write's txnNumber
        self.deadline = None                  # monotonic time from maxTimeMS


class Journal(object):
    """Pre-images of the documents one statement may write, to undo it."""

    def __init__(self, store, ns):
        self.store, self.ns = store, ns
        self.pre = OrderedDict()

    def touch(self, key):
        if key not in self.pre:
            doc = self.store._documents.get(key, ABSENT)
            self.pre[key] = doc if doc is ABSENT else copy.deepcopy(doc)

    def changed(self):
        docs = self.store._documents
        return [k for k, pre in self.pre.items() if docs.get(k, ABSENT) != pre]

    def restore(self):
        restore(self.store, self.pre.items())


def restore(store, items):
    store.__dict__.pop('_double_unique', None)  # mongo_double.py's unique-index cache
    for key, pre in reversed(list(items)):
        if pre is ABSENT:
            store._documents.pop(key, None)
        else:
            store._documents[key] = pre


class Sessions(object):
    def __init__(self, standalone, lifetime, pause):
        self.standalone = standalone
        self.lifetime = lifetime              # transactionLifetimeLimitSeconds
        self.pause = pause                    # sleeps with the server's locks released
        self.sessions = {}                    # lsid bytes -> Session
        self.locks = {}                       # ns -> {key: Txn}
        self.open = set()                     # transactions in progress
        self.commits = 0                      # writes committed so far
        self.committed = {}                   # (ns, key) -> commit count that last wrote it

    # -- which session and transaction --------------------------------------
    def resolve(self, ctx, cmd):
        """Sets ctx.session / ctx.txn / ctx.retry_number from the command's
        session fields, refusing what mongod refuses. Returns a reply to
        send without running the command (a retried write or commit), or None."""
        self.expire()
        name = ctx.name
        lsid, number = cmd.get('lsid'), cmd.get('txnNumber')
        autocommit, start = cmd.get('autocommit'), cmd.get('startTransaction')
        if lsid is not None:
            if not isinstance(lsid, dict) or 'id' not in lsid:
                raise CommandError(40414, "BSON field 'OperationSessionInfo.lsid.id' is missing "
                                          'but a required field')
            key = bson.BSON.encode(lsid)
            ctx.session = self.sessions.get(key)
            if ctx.session is None:
                ctx.session = self.sessions[key] = Session()
        if number is None:
            if autocommit is not None or start is not None:
                raise CommandError(50768, 'txnNumber must be provided for autocommit and '
                                          'startTransaction')
            if name in ('commitTransaction', 'abortTransaction'):
                raise CommandError(50768, "'%s' must be run within a transaction" % name)
            return None
        if self.standalone:
            raise CommandError(20, 'Transaction numbers are only allowed on a replica set '
                                   'member or mongos')
        if ctx.session is None:
            raise CommandError(72, 'Transaction number requires a sessionId to be specified')
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise CommandError(14, 'txnNumber must be a non-negative 64-bit integer')
        session, txn = ctx.session, ctx.session.txn
        if txn is not None and txn.number > number or \
                session.retry_number is not None and session.retry_number > number:
            raise CommandError(225, 'Cannot start transaction %d on session because a newer '
                                    'transaction has already started' % number)
        if autocommit is None:  # a retryable write
            if start is not None:
                raise CommandError(50768, 'autocommit must be false with startTransaction')
            if name not in RETRYABLE_WRITES:
                raise CommandError(50768, 'txnNumber may only be provided for multi-document '
                                          'transactions and retryable write commands. '
                                          'autocommit:false was not provided, and %s is not a '
                                          'retryable write command.' % name)
            if txn is not None and txn.number == number:
                raise CommandError(50911, 'Cannot run a retryable write at transaction number %d '
                                          'of a multi-document transaction' % number)
            if txn is not None and txn.state == 'in_progress':
                self.abort(txn)
            if session.retry_number == number and session.retry_reply is not None:
                return session.retry_reply
            session.retry_number, session.retry_reply = number, None
            ctx.retry_number = number
            return None
        if autocommit is not False:
            raise CommandError(72, 'autocommit must be false')
        if start is not None:
            if start is not True:
                raise CommandError(72, 'startTransaction must be true')
            if name in ('commitTransaction', 'abortTransaction'):
                raise CommandError(263, "Cannot start a transaction with '%s'" % name)
            if txn is not None and txn.number == number:
                raise CommandError(50911, 'Cannot start a transaction at given transaction number '
                                          '%d a transaction with the same number is in state %s'
                                   % (number, txn.state))
            if txn is not None and txn.state == 'in_progress':
                self.abort(txn)
            txn = session.txn = Txn(session, number)
            self.open.add(txn)
        elif txn is None or txn.number != number:
            raise no_such_transaction(number, 'does not match any in-progress transactions')
        elif txn.state == 'committed':
            if name == 'commitTransaction':
                return OrderedDict()  # committing again answers as the first time
            raise CommandError(256, 'Transaction %d has been committed.' % number)
        elif txn.state == 'aborted':
            raise no_such_transaction(number, 'has been aborted.')
        if name not in TXN_COMMANDS:
            self.abort(txn)
            raise CommandError(263, "Cannot run '%s' in a multi-document transaction." % name)
        if 'writeConcern' in cmd and name not in ('commitTransaction', 'abortTransaction'):
            self.abort(txn)
            raise CommandError(72, 'Cannot set write concern after starting a transaction.')
        if 'readConcern' in cmd and txn.ran:
            self.abort(txn)
            raise CommandError(72, 'Only the first command in a transaction may specify a '
                                   'readConcern')
        if not txn.ran:
            txn.ran, txn.snapshot = True, self.commits
        ctx.txn = txn
        return None

    def remember(self, ctx, reply):
        """A retryable write's reply, for its retry."""
        if ctx.retry_number is not None and ctx.session.retry_number == ctx.retry_number:
            ctx.session.retry_reply = reply

    def end(self, lsids):
        for lsid in lsids:
            session = self.sessions.pop(bson.BSON.encode(lsid), None)
            if session and session.txn and session.txn.state == 'in_progress':
                self.abort(session.txn)

    def expire(self):
        """mongod aborts a transaction that runs past transactionLifetimeLimitSeconds,
        so a client that went away does not hold its locks for ever."""
        now = time.monotonic()
        for txn in [t for t in self.open if now - t.born > self.lifetime]:
            self.abort(txn)

    # -- commit and abort -----------------------------------------------------
    def commit(self, txn):
        self.commits += 1
        for (ns, key) in txn.pre:
            self.committed[(ns, key)] = self.commits
        self.release(txn, 'committed')

    def abort(self, txn):
        if txn.state != 'in_progress':
            return
        by_store = OrderedDict()
        for (ns, key), (store, pre) in txn.pre.items():
            by_store.setdefault(id(store), (store, []))[1].append((key, pre))
        for store, items in by_store.values():
            restore(store, items)
        self.release(txn, 'aborted')

    def release(self, txn, state):
        txn.state = state
        for (ns, key) in txn.pre:
            held = self.locks.get(ns)
            if held is not None and held.get(key) is txn:
                del held[key]
                if not held:
                    del self.locks[ns]
        txn.pre = OrderedDict()
        self.open.discard(txn)
        if not self.open:
            self.committed.clear()  # no snapshot is older than the present

    # -- isolation -------------------------------------------------------------
    def foreign(self, ns, txn):
        """{key: pre-image} of the documents of ns that transactions other than
        txn hold uncommitted."""
        held = self.locks.get(ns)
        if not held:
            return {}
        return {key: owner.pre[(ns, key)][1] for key, owner in held.items() if owner is not txn}

    def readable(self, coll, txn, scratch):
        """coll as a reader in txn (or in none) sees it: the pre-images of what
        other transactions hold. A scratch collection when they hold anything."""
        foreign = self.foreign(coll.full_name, txn)
        if not foreign:
            return coll
        docs = OrderedDict()
        for key, doc in coll._store._documents.items():
            pre = foreign.get(key, doc)
            if pre is not ABSENT:
                docs[key] = pre
        for key, pre in foreign.items():
            if key not in docs and pre is not ABSENT:
                docs[key] = pre
        scratch._store._documents = docs
        return scratch

    def targets(self, coll, txn, query):
        """The keys of the documents a write with this query may write: those
        that match it now, and those that match it as another transaction's
        pre-images (mongod's snapshot would show them)."""
        keys = OrderedDict((doc_key(d['_id']), None) for d in coll._iter_documents(query))
        foreign = self.foreign(coll.full_name, txn)
        named, rest = split_id(query)
        if named is not None:  # only the documents it names can match
            foreign = {k: foreign[k] for k in named if k in foreign}
        for key, pre in foreign.items():
            if pre is not ABSENT and key not in keys and filtering.filter_applies(rest, pre):
                keys[key] = None
        return list(keys)

    def blocked(self, ns, keys, txn):
        """Whether writing keys meets another writer: a transaction holding one
        of them, or (for txn) a commit after txn's snapshot."""
        held = self.locks.get(ns, {})
        for key in keys:
            owner = held.get(key)
            if owner is not None and owner is not txn:
                return True
            if txn is not None and self.committed.get((ns, key), 0) > txn.snapshot:
                return True
        return False

    def unique_blocked(self, coll, keys, txn, collision_filter):
        """Whether a document written takes a unique index value that another
        transaction's uncommitted write freed (its pre-image still has it)."""
        foreign = [(k, p) for k, p in self.foreign(coll.full_name, txn).items() if p is not ABSENT]
        uniques = [ix for ix in coll._store.indexes.values() if ix.get('unique')]
        if not foreign or not uniques:
            return False
        docs = coll._store._documents
        for key in keys:
            doc = docs.get(key, ABSENT)
            if doc is ABSENT:
                continue
            for index in uniques:
                query = collision_filter(index, doc)
                if query is not None and any(k != key and filtering.filter_applies(query, p)
                                             for k, p in foreign):
                    return True
        return False

    def held_by_other(self, ns, key, txn):
        owner = self.locks.get(ns, {}).get(key)
        return owner is not None and owner is not txn

    def keep(self, txn, journal, changed):
        """A statement succeeded: its writes join txn (locked until it ends),
        or are committed at once outside a transaction."""
        ns = journal.ns
        if txn is None:
            if self.open:
                self.commits += 1
                for key in changed:
                    self.committed[(ns, key)] = self.commits
            return
        held = self.locks.setdefault(ns, {})
        for key in changed:
            if (ns, key) not in txn.pre:
                txn.pre[(ns, key)] = (journal.store, journal.pre[key])
            held[key] = txn
        if not held:
            del self.locks[ns]
