"""query.py -- query filters in the MongoDB test double, as mongod reads them.

Owns: what mongod refuses in a filter before it looks at any document
(check), and how the operators the stores use match a document (Filterer):
equality, $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $not, $and, $or
and $nor, over dotted paths through subdocuments and arrays, with BSON's
equality, order and type bracketing. mongomock still evaluates the rest
($regex, $elemMatch, $size, $type, $all, $mod, $expr...).

Why not mongomock alone: its equality is Python's, for which True == 1 (so
{a: 1} matched {a: true}, and {a: {$ne: 1}} missed it), and it checks a
filter only as far as the documents it meets, so a malformed filter on an
empty collection, or behind a clause that is already false, was accepted.

mongod's rules, as implemented here:
- A path a.b.c is followed through subdocuments; through an array, into each
  element that is a document (and into element i for a component that is a
  number). What it reaches is its values; none at all is one missing value.
- A predicate other than a negation holds when it holds for one of the
  values, or, for a value that is an array, for the array itself or one of
  its elements (one level: [[1]] holds [1], not 1).
- Equality of null holds for a missing value too; $gte/$lte null are
  equality of null, $gt/$lt null hold for nothing.
- $ne, $nin, $not and $nor are exactly the negation of $eq, $in, the
  operators under $not, and $or: so `a != 1` holds where a is missing, and
  for an array only when no element is 1.
- Equality and order are BSON's: numbers compare by value across int32,
  int64, double and decimal; a bool is not a number; strings compare by
  code point (UTF-8 byte order, no collation); documents by their fields in
  order; arrays element by element.
- Type bracketing: $gt/$gte/$lt/$lte hold only between values of one
  canonical type (numbers are one type), so "5" < 6 never holds.
"""

import datetime
import re
import uuid
from collections.abc import Mapping

from bson.code import Code
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp
from mongomock import filtering
from pymongo.errors import OperationFailure

from sessions import CommandError

MISSING = object()  # what a path reaches where there is no field

REGEX_TYPES = (Regex, re.Pattern)
LOGICAL = frozenset(['$and', '$or', '$nor'])
# Top-level operators mongod knows besides $and/$or/$nor; mongomock evaluates
# them, or says it cannot (NotImplementedError: 238).
OTHER_TOP_LEVEL = frozenset(['$comment', '$expr', '$where', '$text', '$jsonSchema',
                             '$alwaysTrue', '$alwaysFalse', '$sampleRate'])
# Operators of a field mongod knows; OWN are evaluated here.
OWN = frozenset(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$not'])
FIELD_OPERATORS = OWN | frozenset([
    '$type', '$all', '$size', '$elemMatch', '$regex', '$options', '$mod', '$bitsAllSet',
    '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear', '$geoWithin', '$within',
    '$geoIntersects', '$near', '$nearSphere', '$minDistance', '$maxDistance'])
ORDER = {'$gt': lambda c: c > 0, '$gte': lambda c: c >= 0,
         '$lt': lambda c: c < 0, '$lte': lambda c: c <= 0}


# ---------------------------------------------------------------- checking

def is_operator_doc(value):
    """Whether a field's value is operators ({$lt: 5}) rather than a value to
    equal: a non-empty document whose first field starts with '$', and not a
    DBRef ({$ref, $id})."""
    if not isinstance(value, Mapping) or not value:
        return False
    return next(iter(value)).startswith('$') and not ('$ref' in value and '$id' in value)


def check(query, what='filter'):
    """Refuses (CommandError) what mongod's parser refuses in a filter, whatever
    the documents: mongod parses a filter whole before it runs."""
    if not isinstance(query, Mapping):
        raise CommandError(14, "BSON field '%s' is the wrong type '%s', expected type 'object'"
                           % (what, type(query).__name__))
    _check_document(query)


def _check_document(query):
    for key, value in query.items():
        if key in LOGICAL:
            if not isinstance(value, list):
                raise CommandError(2, '%s must be an array' % key)
            if not value:
                raise CommandError(2, '$and/$or/$nor must be a nonempty array')
            for sub in value:
                if not isinstance(sub, Mapping):
                    raise CommandError(2, '$or/$and/$nor entries need to be full objects')
                _check_document(sub)
        elif key.startswith('$'):
            if key not in OTHER_TOP_LEVEL:
                raise CommandError(2, 'unknown top level operator: %s' % key)
        elif is_operator_doc(value):
            _check_operators(key, value)


def _check_operators(path, ops):
    for op, arg in ops.items():
        if op not in FIELD_OPERATORS:
            raise CommandError(2, 'unknown operator: %s' % op)
        if op == '$ne' and isinstance(arg, REGEX_TYPES):
            raise CommandError(2, "Can't have regex as arg to $ne.")
        if op in ORDER and isinstance(arg, REGEX_TYPES):
            raise CommandError(2, "Can't have RegEx as arg to predicate over field '%s'." % path)
        if op in ('$in', '$nin', '$all'):
            if not isinstance(arg, list):
                raise CommandError(2, '%s needs an array' % op)
            if op != '$all' and any(is_operator_doc(x) for x in arg):
                raise CommandError(2, 'cannot nest $ under %s' % op)
        elif op == '$not':
            if isinstance(arg, REGEX_TYPES):
                continue
            if not isinstance(arg, Mapping):
                raise CommandError(2, '$not needs a regex or a document')
            if not arg:
                raise CommandError(2, '$not cannot be empty')
            _check_operators(path, arg)
        elif op == '$elemMatch' and not isinstance(arg, Mapping):
            raise CommandError(2, '$elemMatch needs an Object')
        elif op == '$options' and '$regex' not in ops:
            raise CommandError(2, '$options needs a $regex')
        elif op == '$regex' and not isinstance(arg, (str,) + REGEX_TYPES):
            raise CommandError(2, '$regex has to be a string')


# ---------------------------------------------------------------- BSON order

def canonical_type(v):
    """mongod's canonical type: the rank of v's type in BSON's order (numbers
    are one type)."""
    if v is None:
        return 5
    if isinstance(v, bool):
        return 40
    if isinstance(v, (int, float, Decimal128)):
        return 10
    if isinstance(v, Code):  # a str
        return 60
    if isinstance(v, str):
        return 15
    if isinstance(v, (Mapping, DBRef)):
        return 20
    if isinstance(v, (list, tuple)):
        return 25
    if isinstance(v, (bytes, uuid.UUID)):
        return 30
    if isinstance(v, ObjectId):
        return 35
    if isinstance(v, datetime.datetime):
        return 45
    if isinstance(v, Timestamp):
        return 47
    if isinstance(v, REGEX_TYPES):
        return 50
    if isinstance(v, MinKey):
        return -1
    if isinstance(v, MaxKey):
        return 127
    raise NotImplementedError('comparing a %s' % type(v).__name__)


def _sign(a, b):
    return (a > b) - (a < b)


def _number(v):
    return v.to_decimal() if isinstance(v, Decimal128) else v


def _is_nan(v):
    return v != v  # float or Decimal NaN


def _items(v):
    if isinstance(v, DBRef):
        v = v.as_doc()
    return list(v.items())


def _binary(v):
    if isinstance(v, uuid.UUID):
        return (16, 4, v.bytes)
    return (len(v), getattr(v, 'subtype', 0), bytes(v))


def compare(a, b):
    """-1, 0 or 1 as a is before, equal to or after b in BSON's order."""
    ta, tb = canonical_type(a), canonical_type(b)
    if ta != tb:
        return _sign(ta, tb)
    if ta == 10:
        a, b = _number(a), _number(b)
        if _is_nan(a) or _is_nan(b):  # NaN equals NaN and is before every number
            return _sign(not _is_nan(a), not _is_nan(b))
        return _sign(a, b)
    if ta in (15, 60):
        return _sign(str(a), str(b))
    if ta in (20, 25):
        pairs_a = _items(a) if ta == 20 else list(enumerate(a))
        pairs_b = _items(b) if ta == 20 else list(enumerate(b))
        for (ka, va), (kb, vb) in zip(pairs_a, pairs_b):
            c = _sign(canonical_type(va), canonical_type(vb)) or _sign(ka, kb) or compare(va, vb)
            if c:
                return c
        return _sign(len(pairs_a), len(pairs_b))
    if ta == 30:
        return _sign(_binary(a), _binary(b))
    if ta == 35:
        return _sign(a.binary, b.binary)
    if ta == 40:
        return _sign(int(a), int(b))
    if ta == 45:
        return _sign(a, b)
    if ta == 47:
        return _sign((a.time, a.inc), (b.time, b.inc))
    if ta == 50:
        return _sign((a.pattern, str(a.flags)), (b.pattern, str(b.flags)))
    return 0  # null, MinKey, MaxKey


def equal(a, b):
    return canonical_type(a) == canonical_type(b) and compare(a, b) == 0


# ---------------------------------------------------------------- matching

def _is_index(part):
    return part.isdigit() and (part == '0' or not part.startswith('0'))


def _walk(value, parts, out):
    if not parts:
        out.append(value)
    elif isinstance(value, Mapping):
        _walk(value.get(parts[0], MISSING), parts[1:], out)
    elif isinstance(value, list):
        if _is_index(parts[0]) and int(parts[0]) < len(value):
            _walk(value[int(parts[0])], parts[1:], out)
        for element in value:
            if isinstance(element, Mapping):
                _walk(element, parts, out)
    else:
        out.append(MISSING)


def values_at(doc, path):
    """The values path reaches in doc ([MISSING] when none)."""
    out = []
    _walk(doc, path.split('.'), out)
    return out or [MISSING]


def _holds(values, predicate, missing=False):
    """Whether a positive predicate holds for one of the values (an array: for
    itself or one of its elements); missing: whether a missing value counts."""
    for v in values:
        if v is MISSING:
            if missing:
                return True
        elif predicate(v) or (isinstance(v, list) and any(predicate(e) for e in v)):
            return True
    return False


def _true_value(v):
    """mongod's truth of a BSON value ($exists: 0 is $exists: false)."""
    if v is None or isinstance(v, bool):
        return bool(v)
    if isinstance(v, (int, float, Decimal128)):
        return _number(v) != 0
    return True


class Filterer(filtering._Filterer):
    """mongomock's filter evaluator with the operators above done as mongod
    does (every mongomock query goes through filtering._filterer_inst)."""

    def apply(self, search_filter, document):
        if not isinstance(search_filter, Mapping):
            raise OperationFailure('the match filter must be an expression in an object', 2)
        if not isinstance(document, Mapping):  # mongomock's own uses ($elemMatch on scalars)
            return super().apply(search_filter, document)
        for key, value in search_filter.items():
            if not self._clause(key, value, document):
                return False
        return True

    def _clause(self, key, value, doc):
        if key in LOGICAL:
            if not isinstance(value, list) or not value or \
                    not all(isinstance(q, Mapping) for q in value):
                raise OperationFailure('BadValue $and/$or/$nor must be a nonempty array of '
                                       'objects', 2)
            if key == '$and':
                return all(self.apply(q, doc) for q in value)
            found = any(self.apply(q, doc) for q in value)
            return found if key == '$or' else not found
        if key == '$comment':
            return True
        if key.startswith('$'):
            if key not in OTHER_TOP_LEVEL:
                raise OperationFailure('unknown top level operator: %s' % key, 2)
            return super().apply({key: value}, doc)
        return self._field(key, value, doc)

    def _field(self, path, value, doc):
        if isinstance(value, REGEX_TYPES):
            return super().apply({path: value}, doc)
        if not is_operator_doc(value):
            return self._eq(path, value, doc)
        rest = {}
        for op, arg in value.items():
            if op not in OWN or self._theirs(op, arg):
                rest[op] = arg
            elif not self._operator(path, op, arg, doc):
                return False
        return not rest or super().apply({path: rest}, doc)

    @staticmethod
    def _theirs(op, arg):
        """Arguments left to mongomock: regular expressions in $in/$nin (and
        $not), MinKey/MaxKey bounds (which compare across types)."""
        if op in ('$in', '$nin'):
            return isinstance(arg, list) and any(isinstance(x, REGEX_TYPES) for x in arg)
        if op == '$not':
            return isinstance(arg, REGEX_TYPES)
        return isinstance(arg, (MinKey, MaxKey))

    def _eq(self, path, value, doc):
        return _holds(values_at(doc, path), lambda v: equal(v, value), missing=value is None)

    def _operator(self, path, op, arg, doc):
        if op == '$eq':
            return self._eq(path, arg, doc)
        if op == '$ne':
            return not self._eq(path, arg, doc)
        if op in ('$in', '$nin'):
            if not isinstance(arg, list):
                raise OperationFailure('%s needs an array' % op, 2)
            found = _holds(values_at(doc, path), lambda v: any(equal(v, x) for x in arg),
                           missing=any(x is None for x in arg))
            return found if op == '$in' else not found
        if op == '$exists':
            exists = any(v is not MISSING for v in values_at(doc, path))
            return exists == _true_value(arg)
        if op == '$not':
            if not isinstance(arg, Mapping):
                raise OperationFailure('$not needs a regex or a document', 2)
            return not self._field(path, arg, doc)
        # $gt, $gte, $lt, $lte
        if arg is None:
            return op in ('$gte', '$lte') and self._eq(path, None, doc)
        kind, holds = canonical_type(arg), ORDER[op]
        return _holds(values_at(doc, path),
                      lambda v: canonical_type(v) == kind and holds(compare(v, arg)))
