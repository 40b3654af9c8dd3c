"""strict.py -- what the MongoDB test double refuses because mongod does.

Owns: the fields each implemented command accepts (mongod parses commands
strictly: an unknown field is error 40415), maxTimeMS, index specifications
(unknown options, bad key values, partial filters mongod cannot index, TTL
on compound keys), the 16 MiB document limit and the nesting limit of a
message (maxBSONDepth). Query filters are query.py's.
"""

from collections.abc import Mapping

import bson

from sessions import CommandError

MAX_BSON = 16 * 1024 * 1024
INT32_MAX = 2 ** 31 - 1
MAX_BSON_DEPTH = 200  # mongod's maxBSONDepth
# Command fields a driver may send as OP_MSG document sequences: each element
# is a message document of its own.
SEQUENCE_FIELDS = frozenset(['documents', 'updates', 'deletes'])

# Fields every command may carry (mongod's generic arguments).
GENERIC = frozenset([
    '$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', 'stmtId', 'readConcern',
    'writeConcern', 'maxTimeMS', 'comment', '$readPreference', '$clusterTime', 'apiVersion',
    'apiStrict', 'apiDeprecationErrors', '$audit', '$client', '$configServerState', '$gleStats',
    '$oplogQueryData', '$queryOptions', '$replData', '$topologyTime', '$configTime',
    'mayBypassWriteBlocking', 'txnRetryCounter', 'clientOperationKey', 'databaseVersion',
    'shardVersion', 'maxTimeMSOpOnly', 'allowImplicitCollectionCreation'])

COMMAND_FIELDS = {
    'insert': ['documents', 'ordered', 'bypassDocumentValidation', 'collectionUUID',
               'encryptionInformation', 'isTimeseriesNamespace', 'stmtIds'],
    'update': ['updates', 'ordered', 'bypassDocumentValidation', 'let', 'collectionUUID',
               'encryptionInformation', 'isTimeseriesNamespace', 'stmtIds'],
    'delete': ['deletes', 'ordered', 'let', 'collectionUUID', 'encryptionInformation',
               'isTimeseriesNamespace', 'stmtIds'],
    'find': ['filter', 'projection', 'sort', 'hint', 'collation', 'skip', 'limit', 'batchSize',
             'singleBatch', 'let', 'returnKey', 'showRecordId', 'tailable', 'awaitData',
             'oplogReplay', 'noCursorTimeout', 'allowPartialResults', 'readOnce',
             'allowSpeculativeMajorityRead', 'min', 'max', 'requestResumeToken', 'resumeAfter',
             'term', 'allowDiskUse', 'collectionUUID', 'encryptionInformation'],
    'getMore': ['collection', 'batchSize', 'term', 'lastKnownCommittedOpTime',
                'includeQueryStatsMetrics'],
    'killCursors': ['cursors'],
    'findAndModify': ['query', 'fields', 'sort', 'hint', 'collation', 'arrayFilters', 'remove',
                      'update', 'new', 'upsert', 'bypassDocumentValidation', 'let',
                      'collectionUUID', 'encryptionInformation', 'sampleId'],
    'aggregate': ['pipeline', 'explain', 'allowDiskUse', 'cursor', 'bypassDocumentValidation',
                  'collation', 'hint', 'let', 'needsMerge', 'fromMongos', 'collectionUUID',
                  'exchange', 'runtimeConstants', 'isMapReduceCommand', 'encryptionInformation'],
    'count': ['query', 'limit', 'skip', 'hint', 'collation', 'fields', 'collectionUUID',
              'encryptionInformation', 'mirrored', 'sampleId'],
    'distinct': ['key', 'query', 'collation', 'hint', 'collectionUUID', 'mirrored', 'sampleId'],
    'createIndexes': ['indexes', 'commitQuorum', 'ignoreUnknownIndexOptions',
                      'isTimeseriesNamespace', 'collectionUUID', 'returnOnStartedIndexBuild'],
    'listIndexes': ['cursor', 'includeBuildUUIDs', 'includeIndexBuildInfo', 'collectionUUID',
                    'isTimeseriesNamespace'],
    'dropIndexes': ['index', 'collectionUUID', 'isTimeseriesNamespace'],
    'drop': ['collectionUUID', 'isTimeseriesNamespace'],
    'listCollections': ['filter', 'cursor', 'nameOnly', 'authorizedCollections',
                        'includePendingDrops'],
    'listDatabases': ['filter', 'nameOnly', 'authorizedDatabases'],
    'dropDatabase': [],
    'commitTransaction': ['recoveryToken', 'commitTimestamp'],
    'abortTransaction': ['recoveryToken'],
    'endSessions': [],
    'configureFailPoint': ['mode', 'data'],
}
COMMAND_FIELDS['findandmodify'] = COMMAND_FIELDS['findAndModify']
STATEMENT_FIELDS = {
    'updates': frozenset(['q', 'u', 'c', 'upsert', 'multi', 'arrayFilters', 'hint', 'collation',
                          'upsertSupplied', 'sampleId', 'sort']),
    'deletes': frozenset(['q', 'limit', 'hint', 'collation', 'sampleId']),
}
ALLOWED = {name: frozenset(fields) | GENERIC for name, fields in COMMAND_FIELDS.items()}

INDEX_OPTIONS = frozenset([
    'key', 'name', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds',
    'background', 'v', 'hidden', 'collation', 'weights', 'default_language', 'language_override',
    'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'bucketSize',
    'wildcardProjection', 'storageEngine', 'ns', 'clustered', 'prepareUnique'])
INDEX_PLUGINS = frozenset(['text', '2d', '2dsphere', 'geoHaystack', 'hashed', 'columnstore'])
PARTIAL_COMPARISONS = frozenset(['$eq', '$gt', '$gte', '$lt', '$lte', '$type'])


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_fields(name, cmd):
    """Refuses a field mongod does not know for this command (error 40415)."""
    allowed = ALLOWED.get(name)
    if allowed is None:
        return
    for field in list(cmd)[1:]:
        if field not in allowed:
            raise CommandError(40415, "BSON field '%s.%s' is an unknown field." % (name, field))
    array = {'update': 'updates', 'delete': 'deletes'}.get(name)
    fields = STATEMENT_FIELDS.get(array)
    if fields is not None and isinstance(cmd.get(array), list):
        for stmt in cmd[array]:
            if not isinstance(stmt, Mapping):
                raise CommandError(14, "BSON field '%s.%s' is the wrong type, expected an "
                                       'object' % (name, array))
            for field in stmt:
                if field not in fields:
                    raise CommandError(40415, "BSON field '%s.%s.%s' is an unknown field."
                                       % (name, array, field))


def _check_depth(doc, depth):
    stack = [(doc, depth)]
    while stack:
        value, depth = stack.pop()
        # mongod opens a document (or array) only inside at most maxBSONDepth others
        if depth > MAX_BSON_DEPTH + 1:
            raise CommandError(15, 'BSONObj exceeded maximum nested object depth: %d'
                               % MAX_BSON_DEPTH)
        for child in (value.values() if isinstance(value, Mapping) else value):
            if isinstance(child, (Mapping, list)):
                stack.append((child, depth + 1))


def check_depth(cmd):
    """Refuses a command nested deeper than mongod validates incoming messages
    to (error 15, Overflow): a query's $and/$or/$nor take two levels each."""
    for field, value in cmd.items():
        if field in SEQUENCE_FIELDS and isinstance(value, list):
            for doc in value:  # maybe a document sequence: counted on its own
                if isinstance(doc, (Mapping, list)):
                    _check_depth(doc, 1)
        elif isinstance(value, (Mapping, list)):
            _check_depth(value, 2)


def max_time_ms(name, cmd):
    """The command's maxTimeMS in milliseconds (0: none), refused as mongod does."""
    if 'maxTimeMS' not in cmd:
        return 0
    value = cmd['maxTimeMS']
    if not is_number(value) or not 0 <= value <= INT32_MAX or value != int(value):
        raise CommandError(2, '%s is not a valid maxTimeMS: it must be a non-negative integer '
                              'of at most %d' % (value, INT32_MAX))
    if name == 'getMore':
        raise CommandError(2, 'cannot set maxTimeMS on getMore command for a non-awaitData '
                              'cursor')
    return int(value)


def check_document_size(doc, inserted):
    size = len(bson.BSON.encode(doc))
    if size <= MAX_BSON:
        return
    if inserted:
        raise CommandError(2, 'object to insert too large. size in bytes: %d, max size: %d'
                           % (size, MAX_BSON))
    raise CommandError(17419, 'Resulting document after update is larger than %d' % MAX_BSON)


def _partial_ok(expr, top):
    """Whether mongod can build a partial index with this filter."""
    if not isinstance(expr, Mapping):
        return False
    for field, value in expr.items():
        if field == '$and':
            if not top or not isinstance(value, list) or not value or \
                    not all(_partial_ok(e, False) for e in value):
                return False
        elif field.startswith('$'):
            return False
        elif isinstance(value, Mapping) and value and next(iter(value)).startswith('$'):
            for op, arg in value.items():
                if op == '$exists':
                    if arg is not True and not (is_number(arg) and arg):
                        return False
                elif op not in PARTIAL_COMPARISONS:
                    return False
    return True


def check_index_spec(spec):
    """Refuses an index specification mongod refuses; returns its key as a list."""
    if not isinstance(spec, Mapping):
        raise CommandError(14, "BSON field 'createIndexes.indexes' is the wrong type, expected "
                               'an object')
    for field in spec:
        if field not in INDEX_OPTIONS:
            raise CommandError(197, "The field '%s' is not valid for an index specification. "
                                    'Specification: %s' % (field, dict(spec)))
    key = spec.get('key')
    if not isinstance(key, Mapping) or not key:
        raise CommandError(67, 'Index keys cannot be empty.' if isinstance(key, Mapping) else
                           "The 'key' field is a required property of an index specification")
    name = spec.get('name')
    if not isinstance(name, str) or not name:
        raise CommandError(9, "The 'name' field is a required property of an index "
                              'specification' if name is None else
                              "The field 'name' must be a non-empty string")
    for field, value in key.items():
        if not field:
            raise CommandError(67, 'Index keys cannot be an empty field.')
        if field.startswith('$') and field != '$**':
            raise CommandError(67, "Index key contains an illegal field name: field name starts "
                                   "with '$'.")
        if is_number(value):
            if value == 0:
                raise CommandError(67, "Values in the index key pattern can't be 0.")
        elif isinstance(value, str):
            if value not in INDEX_PLUGINS:
                raise CommandError(67, "Unknown index plugin '%s'" % value)
            raise CommandError(238, "index type '%s' is not supported by the mongo test double"
                               % value)
        else:
            raise CommandError(67, 'Values in v:2 index key pattern cannot be of type %s. Only '
                                   'numbers > 0, numbers < 0, and strings are allowed.'
                               % type(value).__name__)
    if spec.get('v', 2) not in (1, 2):
        raise CommandError(67, 'Invalid index specification %s; cannot create an index with v=%s'
                           % (dict(spec), spec['v']))
    pfe = spec.get('partialFilterExpression')
    if 'partialFilterExpression' in spec:
        if spec.get('sparse'):
            raise CommandError(67, 'cannot mix "partialFilterExpression" and "sparse" options')
        if not _partial_ok(pfe, True):
            raise CommandError(67, 'Error in specification %s :: caused by :: Expression not '
                                   'supported in partial index: %s' % (dict(spec), pfe))
    if 'expireAfterSeconds' in spec:
        ttl = spec['expireAfterSeconds']
        if not is_number(ttl) or ttl < 0 or ttl > INT32_MAX:
            raise CommandError(67, 'TTL index \'expireAfterSeconds\' option must be within an '
                                   'acceptable range, try a lower number')
        if len(key) != 1:
            raise CommandError(67, 'TTL indexes are single-field indexes, compound indexes do '
                                   'not support TTL')
    for flag in ('unique', 'sparse', 'hidden', 'background'):
        if flag in spec and not isinstance(spec[flag], bool) and not is_number(spec[flag]):
            raise CommandError(14, "The field '%s' must be a bool" % flag)
    return list(key.items())
