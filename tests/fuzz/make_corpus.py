#!/usr/bin/python3
"""make_corpus.py — writes the seed corpus (tests/fuzz/corpus/<target>/seed-*)
and the dictionaries (tests/fuzz/dict/<target>.dict) of the fuzz targets.

Seeds are small, meaningful inputs: real requests for every method, stored
documents and their JSON, masks, names, page tokens, bearer headers, text.
The selector byte a target reads first (which method, which message type)
comes from the target's own table (FUZZ_LIST=1, support/descriptors.c), so
run this again when a service, method or message is added:

    bash scripts/fuzz.sh --build-only && /usr/bin/python3 tests/fuzz/make_corpus.py

Messages are written from protobuf text format through Debian's protoc and
python3-protobuf (proto3 JSON), documents through python3-bson. Every
message type gets a seed with all of its fields set, built from its
descriptor, so a new field is seeded without editing this file. Regression
seeds (regression-*: inputs that once failed, kept after the fix) are written
here too when they hold a selector byte; others added by hand are left alone.
"""
import base64
import datetime
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import bson
from bson import json_util
from bson.binary import Binary
from bson.int64 import Int64
from google.protobuf import descriptor_pb2, json_format, message_factory, text_format
from google.protobuf.descriptor import FieldDescriptor as FD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")
# every file of the API (a service added later is seeded without editing this list)
PROTOS = sorted("supplysec/v1/" + f
                for f in os.listdir(os.path.join(os.path.dirname(os.path.dirname(
                    os.path.dirname(os.path.abspath(__file__)))), "proto", "supplysec", "v1"))
                if f.endswith(".proto")) + [
    "supplysec/internal/v1/stored.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
]

# ---- the targets' tables ----


def tables(build):
    out = subprocess.run([os.path.join(build, "fuzz_request")], env=dict(os.environ, FUZZ_LIST="1"),
                         capture_output=True, text=True, check=True).stdout
    methods, types = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "method":
            methods[parts[2]] = (int(parts[1]), parts[3])
        else:
            types[parts[2]] = int(parts[1])
    return methods, types


# ---- messages ----


def type_sel(idx):
    """The selector of a message type: two bytes, little-endian (support/descriptors.c's
    table holds more than 256 types)."""
    return idx.to_bytes(2, "little")


def load_classes(tmp):
    """Message classes for every type of PROTOS, from protoc's descriptor set (not imported
    modules: grpc/health/v1/health_pb2 would collide with python3-grpcio's grpc package)."""
    out = os.path.join(tmp, "set.pb")
    subprocess.run(["protoc", "-I" + os.path.join(ROOT, "proto"), "-I/usr/include",
                    "--include_imports", "--descriptor_set_out=" + out] + PROTOS, check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as fh:
        fds.ParseFromString(fh.read())
    return message_factory.GetMessages(list(fds.file))


def message(classes, full_name, text=""):
    m = classes[full_name]()
    text_format.Parse(text, m)
    return m


def fill(m, depth=0):
    """Sets every field of m (two elements of each repeated one), from its descriptor."""
    if m.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
        m.seconds, m.nanos = 1767323045, 123000000
        return m
    if m.DESCRIPTOR.full_name == "google.protobuf.FieldMask":
        m.paths.extend(["legal_name", "identifiers.eori"])
        return m
    seen_oneofs = set()
    for f in m.DESCRIPTOR.fields:
        if f.containing_oneof is not None:
            if f.containing_oneof.name in seen_oneofs:
                continue
            seen_oneofs.add(f.containing_oneof.name)
        count = 2 if f.label == FD.LABEL_REPEATED else 1
        for i in range(count):
            if f.type == FD.TYPE_MESSAGE:
                if depth > 4:
                    break
                sub = getattr(m, f.name).add() if count == 2 else getattr(m, f.name)
                sub.SetInParent()
                fill(sub, depth + 1)
                continue
            if f.type == FD.TYPE_STRING:
                v = "%s-%d ä€" % (f.name, i)
            elif f.type == FD.TYPE_BYTES:
                v = bytes(range(i, i + 32))
            elif f.type == FD.TYPE_BOOL:
                v = True
            elif f.type == FD.TYPE_ENUM:
                vals = f.enum_type.values
                v = vals[min(len(vals) - 1, 1 + i)].number
            elif f.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
                v = 1.5
            else:
                v = 7 + i
            if count == 2:
                getattr(m, f.name).append(v)
            else:
                setattr(m, f.name, v)
    return m


def to_bson_value(f, v):
    if f.type == FD.TYPE_MESSAGE:
        name = f.message_type.full_name
        if name == "google.protobuf.Timestamp":
            return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=v.seconds,
                                                                      microseconds=v.nanos // 1000)
        if name == "google.protobuf.FieldMask":
            return json_format.MessageToDict(v)
        return to_bson_doc(v)
    if f.type == FD.TYPE_ENUM:
        ev = f.enum_type.values_by_number.get(v)
        return ev.name if ev else v
    if f.type == FD.TYPE_BYTES:
        return Binary(v)
    if f.type in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64,
                  FD.TYPE_FIXED64):
        return Int64(v)
    return v


def to_bson_doc(m):
    """m as doc.c stores it (DOC_BSON): JSON names, enums by name, dates, binary, int64."""
    d = {}
    for f, v in m.ListFields():
        if f.label == FD.LABEL_REPEATED:
            d[f.json_name] = [to_bson_value(f, e) for e in v]
        else:
            d[f.json_name] = to_bson_value(f, v)
    return d


def to_json(m):
    """m in proto3 JSON, except that a well-known type at the top is an object of its fields,
    as doc.c reads it (its special forms are for fields holding one)."""
    if not m.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return json_format.MessageToJson(m, indent=0)
    d = {}
    for f, v in m.ListFields():
        d[f.json_name] = str(v) if f.type == FD.TYPE_INT64 else list(v) if \
            f.label == FD.LABEL_REPEATED else v
    return json.dumps(d)


# ---- writing ----


def write(target, name, data, kind="seed-"):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, kind + name), "wb") as fh:
        fh.write(data)


def clear(target):
    d = os.path.join(FUZZ, "corpus", target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.remove(os.path.join(d, f))


def write_dict(target, words):
    os.makedirs(os.path.join(FUZZ, "dict"), exist_ok=True)
    with open(os.path.join(FUZZ, "dict", target + ".dict"), "w") as fh:
        fh.write("# written by tests/fuzz/make_corpus.py\n")
        for w in sorted(set(words)):
            esc = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\x%02x" % b
                          for b in w.encode())
            fh.write('"%s"\n' % esc)


# The shape of a page token (base64url of a 16-byte MAC and the cursor) with a MAC no server made.
FOREIGN_TOKEN = base64.urlsafe_b64encode(bytes(16) + b"organizations/acme").decode().rstrip("=")


SECRET = "ssk_0123456789abcdef_" + "A" * 21 + "-_" + "z" * 20
STORED_ORG = """
name: "organizations/acme" legal_name: "Acme Logistics GmbH" country_code: "DE"
kind: ORGANIZATION_KIND_OPERATOR
identifiers { eori: "DE123456789012345" aeo_authorisation_number: "DEAEOF1234567"
              aeo_type: AEO_TYPE_AEOF ctpat_account: "CTPAT-0001" }
supply_chain_roles: SUPPLY_CHAIN_ROLE_FORWARDER supply_chain_roles: SUPPLY_CHAIN_ROLE_CARRIER
certificates { type: CERTIFICATE_TYPE_ISO_28000 issuer: "TÜV Nord" number: "ISO28000-2025-001"
               valid_from { seconds: 1735689600 } valid_until { seconds: 1830297600 } }
create_time { seconds: 1767323045 nanos: 123000000 }
update_time { seconds: 1767409445 nanos: 456000000 }
etag: "3f2a9c0d1e4b5a67"
"""
STORED_KEY = """
name: "organizations/acme/apiKeys/ops-key" display_name: "ops" role: ROLE_ADMIN
state: STATE_ACTIVE key_prefix: "ssk_0123456789abcdef"
create_time { seconds: 1767323045 } update_time { seconds: 1767323045 }
creator: "platform/apiKeys/bootstrap-admin" etag: "0011223344556677"
"""
REQUESTS = {
    "Organizations/CreateOrganization": [
        "organization { %s } organization_id: \"acme\"" % STORED_ORG.replace("name: \"organizations/acme\"", ""),
        'organization { legal_name: "Zollamt Hamburg" country_code: "DE" '
        'kind: ORGANIZATION_KIND_CUSTOMS_AUTHORITY }',
    ],
    "Organizations/GetOrganization": ['name: "organizations/acme"', 'name: "organizations/ACME"'],
    "Organizations/ListOrganizations": [
        'page_size: 10 page_token: "%s"' % FOREIGN_TOKEN,
        "page_size: -1"],
    "Organizations/UpdateOrganization": [
        'organization { name: "organizations/acme" legal_name: "Acme Logistik AG" '
        'identifiers { eori: "DE999" } etag: "3f2a9c0d1e4b5a67" } '
        'update_mask { paths: "legal_name" paths: "identifiers.eori" }',
        'organization { name: "organizations/acme" country_code: "NL" } '
        'update_mask { paths: "*" }'],
    "Organizations/DeleteOrganization": ['name: "organizations/acme" etag: "3f2a9c0d1e4b5a67"'],
    "ApiKeys/CreateApiKey": [
        'parent: "organizations/acme" api_key { display_name: "ops" role: ROLE_ADMIN } '
        'api_key_id: "ops-key"',
        'parent: "platform" api_key { display_name: "root" role: ROLE_PLATFORM_ADMIN }'],
    "ApiKeys/GetApiKey": ['name: "organizations/acme/apiKeys/ops-key"',
                          'name: "platform/apiKeys/bootstrap-admin"'],
    "ApiKeys/ListApiKeys": [
        'parent: "organizations/acme" page_size: 5 filter: "state = ACTIVE" page_token: "%s"'
        % FOREIGN_TOKEN,
        'parent: "platform" filter: "state = STATE_REVOKED"'],
    "ApiKeys/RevokeApiKey": ['name: "organizations/acme/apiKeys/ops-key" etag: "0011223344556677"'],
    "Health/Check": ['service: "supplysec.v1.Organizations"', 'service: ""'],
    "Health/Watch": ['service: ""'],
    "ServerReflection/ServerReflectionInfo": [
        'host: "localhost" list_services: ""',
        'file_containing_symbol: "supplysec.v1.Organizations"',
        'file_by_filename: "supplysec/v1/organizations.proto"',
        'file_containing_extension { containing_type: "supplysec.v1.Organization" '
        'extension_number: 100 }',
        'all_extension_numbers_of_type: "supplysec.v1.ApiKey"'],
}


def requests(classes, methods):
    clear("fuzz_request")
    for path, (idx, input_type) in sorted(methods.items(), key=lambda kv: kv[1][0]):
        svc, meth = path.strip("/").split("/")
        short = svc.split(".")[-1] + "/" + meth
        label = path.strip("/").replace("/", ".")
        sel = bytes([idx])
        write("fuzz_request", label + "-empty", sel)
        write("fuzz_request", label + "-all-fields",
              sel + fill(classes[input_type]()).SerializeToString())
        for i, text in enumerate(REQUESTS.get(short, [])):
            m = message(classes, input_type, text)
            write("fuzz_request", "%s-%d" % (label, i), sel + m.SerializeToString())
    # Refused on the wire: a NUL, bytes that are not UTF-8, a cut length (GetOrganization).
    idx = methods["/supplysec.v1.Organizations/GetOrganization"][0]
    write("fuzz_request", "refused-nul", bytes([idx]) + b"\x0a\x05acm\x00e")
    write("fuzz_request", "refused-not-utf8", bytes([idx]) + b"\x0a\x04ac\xc3\x28")
    write("fuzz_request", "refused-cut", bytes([idx]) + b"\x0a\x10acme")


def handler_calls(classes, methods):
    """fuzz_handlers: sequences of calls, each a caller byte (callers[] in fuzz_handlers.c:
    0 platform admin, 1 acme admin, 2 acme editor, 3 acme viewer, 4 other's admin), a method
    byte, two bytes of length and the request."""
    clear("fuzz_handlers")

    def one(caller, short, i=0, text=None):
        path = next(p for p in methods if p.endswith("." + short) or p.endswith("/" + short))
        idx, input_type = methods[path]
        body = message(classes, input_type, text if text is not None else
                       REQUESTS[short][i]).SerializeToString()
        return bytes([caller, idx]) + len(body).to_bytes(2, "little") + body

    for short, texts in sorted(REQUESTS.items()):
        for i in range(len(texts)):
            for caller in (0, 1, 3, 4):
                write("fuzz_handlers", "%s-%d-as%d" % (short.replace("/", "."), i, caller),
                      one(caller, short, i))
    # A key's life, an organization updated then listed, someone else's resources asked for.
    write("fuzz_handlers", "key-life",
          one(1, "ApiKeys/CreateApiKey") + one(1, "ApiKeys/GetApiKey") +
          one(1, "ApiKeys/ListApiKeys", 0, 'parent: "organizations/acme"') +
          one(1, "ApiKeys/RevokeApiKey", 0, 'name: "organizations/acme/apiKeys/ops-key"') +
          one(4, "ApiKeys/GetApiKey"))
    write("fuzz_handlers", "org-life",
          one(1, "Organizations/UpdateOrganization", 0, 'organization { name: "organizations/acme" '
              'legal_name: "Acme AG" } update_mask { paths: "legal_name" }') +
          one(3, "Organizations/ListOrganizations", 0, "page_size: 1") +
          one(4, "Organizations/GetOrganization") +
          one(0, "Organizations/DeleteOrganization", 0, 'name: "organizations/other"') +
          one(4, "Organizations/ListOrganizations", 0, ""))


def documents(classes, types):
    clear("fuzz_doc_bson")
    clear("fuzz_doc_json")
    real = {
        "supplysec.v1.Organization": [STORED_ORG],
        "supplysec.v1.ApiKey": [STORED_KEY],
        "supplysec.internal.v1.StoredApiKey": [
            "api_key { %s } secret_sha256: \"%s\"" % (
                STORED_KEY, "".join("\\x%02x" % b for b in hashlib.sha256(SECRET.encode()).digest()))],
        "supplysec.v1.UpdateOrganizationRequest": [REQUESTS["Organizations/UpdateOrganization"][0]],
    }
    for full_name, idx in sorted(types.items(), key=lambda kv: kv[1]):
        sel = type_sel(idx)
        short = full_name.split(".", 2)[-1] if full_name.startswith("supplysec.") else full_name
        samples = [("empty", classes[full_name]()), ("all-fields", fill(classes[full_name]()))]
        samples += [("real-%d" % i, message(classes, full_name, t))
                    for i, t in enumerate(real.get(full_name, []))]
        well_known = full_name.startswith("google.protobuf.")
        for label, m in samples:
            name = short + "-" + label
            write("fuzz_doc_bson", name, sel + bson.encode(to_bson_doc(m)))
            write("fuzz_doc_json", name, sel + to_json(m).encode())
            if label != "empty" and not well_known:
                write("fuzz_doc_json", name + "-snake",
                      sel + json_format.MessageToJson(m, preserving_proto_field_name=True).encode())
    org = type_sel(types["supplysec.v1.Organization"])
    # Forms only doc.c's reader takes: extended JSON dates and numbers, offsets, nulls.
    write("fuzz_doc_json", "Organization-extended-json", org +
          b'{"createTime": {"$date": {"$numberLong": "1767323045123"}}, "kind": 1, '
          b'"supplyChainRoles": ["SUPPLY_CHAIN_ROLE_CARRIER", 4], "etag": null, '
          b'"certificates": [{"validFrom": "2026-01-02T03:04:05.123456789+01:00"}]}')
    write("fuzz_doc_json", "ListOrganizationsRequest-numbers",
          type_sel(types["supplysec.v1.ListOrganizationsRequest"]) + b'{"pageSize": "25"}')


def field_masks(classes, types):
    clear("fuzz_fieldmask")
    cur = message(classes, "supplysec.v1.Organization", STORED_ORG).SerializeToString()
    patch = message(classes, "supplysec.v1.Organization",
                    'name: "organizations/evil" legal_name: "Acme Logistik AG" country_code: "AT" '
                    'identifiers { eori: "AT1" } etag: "x" create_time { seconds: 1 } '
                    'certificates { type: CERTIFICATE_TYPE_TAPA issuer: "TAPA" }').SerializeToString()
    org = type_sel(types["supplysec.v1.Organization"])
    masks = ["legal_name", "legalName,countryCode", "identifiers.eori", "identifiers",
             "identifiers.eori,identifiers.ctpat_account", "*", "certificates",
             "name,etag,create_time,update_time", "supply_chain_roles", "bogus",
             "identifiers.eori.x", "legal_name,,etag", "*,legal_name", ""]
    for i, mask in enumerate(masks):
        write("fuzz_fieldmask", "Organization-%d" % i,
              org + mask.encode() + b"\x00" + len(cur).to_bytes(2, "little") + cur + patch)
    key = type_sel(types["supplysec.v1.ApiKey"])
    cur = message(classes, "supplysec.v1.ApiKey", STORED_KEY).SerializeToString()
    patch = message(classes, "supplysec.v1.ApiKey",
                    'display_name: "renamed" state: STATE_REVOKED').SerializeToString()
    for i, mask in enumerate(["display_name", "state,display_name", "*"]):
        write("fuzz_fieldmask", "ApiKey-%d" % i,
              key + mask.encode() + b"\x00" + len(cur).to_bytes(2, "little") + cur + patch)


def small_targets():
    # fuzz_names: rule byte (RULE_ID .. RULE_PAGE in fuzz_names.c), then the text or numbers.
    clear("fuzz_names")
    texts = {0: ["acme", "acme-logistics-2", "Acme", "ab", "a-", "x" * 64],
             1: ["organizations/acme", "organizations/", "organizations/acme/x",
                 "organizationsX/acme", "organizations/äcme"],
             2: ["organizations/acme/apiKeys/ops-key", "organizations/acme/apiKeys/",
                 "organizations//apiKeys/ops", "organizations/acme/apikeys/ops"],
             3: ["", "ops-key", "Ops"],
             4: ["DE", "NL", "XX", "de", "DEU"]}
    for rule, items in texts.items():
        for i, t in enumerate(items):
            write("fuzz_names", "rule%d-%d" % (rule, i), bytes([rule]) + t.encode())
    # RULE_TEXT: a byte of max characters (x2) and required (bit 0), then the text.
    for i, (mx, t) in enumerate([(2 * 40 + 1, b"Acme Logistics GmbH"),
                                 (2 * 3, "äöü€".encode()), (1, b""), (2 * 5, b"bad \xff")]):
        write("fuzz_names", "rule5-%d" % i, bytes([5, mx]) + t)
    for i, (s, n) in enumerate([(1767323045, 123), (253402300799, 999999999), (-62135596801, 0)]):
        write("fuzz_names", "rule6-%d" % i, bytes([6]) + (s & (2**64 - 1)).to_bytes(8, "big")
              + n.to_bytes(4, "big"))
    for i, n in enumerate([0, 50, 1001, 2**32 - 1]):
        write("fuzz_names", "rule7-%d" % i, bytes([7]) + n.to_bytes(4, "big"))

    # fuzz_page_token: mode byte (DECODE, ENCODE, TAMPER, BASE64_DECODE, BASE64_ENCODE in
    # fuzz_page_token.c), query NUL, then a token / a cursor (NUL, bytes) / base64 / bytes.
    # Tokens carry an HMAC under a key made per run, so no seed holds a valid one.
    clear("fuzz_page_token")
    queries = ["ListOrganizations|acme|", "ListApiKeys|acme|organizations/acme|STATE_ACTIVE",
               "ListApiKeys||platform|"]
    for i, q in enumerate(queries):
        fake = base64.urlsafe_b64encode(bytes(16) + b"organizations/acme").rstrip(b"=")
        write("fuzz_page_token", "decode-%d" % i, b"\x00" + q.encode() + b"\x00" + fake)
        write("fuzz_page_token", "encode-%d" % i,
              b"\x01" + q.encode() + b"\x00organizations/acme/apiKeys/ops-key")
        write("fuzz_page_token", "tamper-%d" % i,
              b"\x02" + q.encode() + b"\x00organizations/acme\x00" + bytes(20) + b"\x01")
    write("fuzz_page_token", "decode-empty", b"\x00ListOrganizations|acme|\x00")
    write("fuzz_page_token", "tamper-none", b"\x02q\x00organizations/acme\x00")
    for i, t in enumerate([b"QUJD", b"QUJDRA==", b"QUJDRA", b"-_8", b"+/8=", b"A", b"QU=="]):
        write("fuzz_page_token", "base64-%d" % i, b"\x03\x00" + t)
    write("fuzz_page_token", "bytes", b"\x04\x00" + bytes(range(0, 256, 7)))

    # fuzz_bearer: a byte b: b % 3 the mode (0 raw, 1 real prefix + bytes, 2 real secret XOR
    # bytes), b / 3 % 3 the key (0 platform, 1 acme admin, 2 acme viewer, revoked).
    clear("fuzz_bearer")
    for i, v in enumerate(["Bearer " + SECRET, "bearer    " + SECRET, "BEARER " + SECRET[:-1],
                           "Bearer " + SECRET + " ", "Basic dXNlcjpwYXNz", "Bearer ",
                           "Bearer " + SECRET.upper()]):
        write("fuzz_bearer", "raw-%d" % i, b"\x00" + v.encode())
    for k, who in enumerate(["platform", "acme-admin", "acme-revoked"]):
        write("fuzz_bearer", "prefix-wrong-secret-" + who, bytes([3 * k + 1]) + SECRET[20:].encode())
        write("fuzz_bearer", "secret-genuine-" + who, bytes([3 * k + 2]) + bytes(64))
        write("fuzz_bearer", "secret-one-bit-" + who, bytes([3 * k + 2]) + bytes(63) + b"\x01")
    write("fuzz_bearer", "prefix-short", b"\x01_abc")

    # fuzz_utf8: clip byte (x3), then the bytes.
    clear("fuzz_utf8")
    for i, t in enumerate([b"plain ascii", "äöü € 𝄞 中文".encode(), b"\xc0\x80", b"\xed\xa0\x80",
                           b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xf0\x9f\x98", b"a\x00\xff",
                           b"\x80\xbf\xfe\xff"]):
        write("fuzz_utf8", "text-%d" % i, bytes([3 + i % 5]) + t)

    # fuzz_log: message NUL, then fields: kind byte, key NUL, value.
    clear("fuzz_log")
    write("fuzz_log", "call", b"call\x00"
          b"\x00request_id\x00c0ffee\x00"
          b"\x01method\x00\x10\x00/x.Y/Z\xff\x00\x01\"\\\n\xe2\x82"
          b"\x02duration_us\x00\x00\x00\x00\x00\x00\x00\x01\x00"
          b"\x03cancelled\x00\x01")
    write("fuzz_log", "long", b"msg\x00\x00error\x00" + "é".encode() * 1200 + b"\x00\x02n\x00" +
          b"\x7f" * 8)


def exports(classes):
    """fuzz_import: `supplysecd export` text (JSON Lines, canonical extended JSON)."""
    clear("fuzz_import")
    opts = json_util.CANONICAL_JSON_OPTIONS

    def line(**fields):
        return json.dumps(json.loads(json_util.dumps(fields, json_options=opts)),
                          separators=(",", ":")).encode() + b"\n"

    org = to_bson_doc(message(classes, "supplysec.v1.Organization", STORED_ORG))
    key = to_bson_doc(message(classes, "supplysec.internal.v1.StoredApiKey", "api_key { %s } "
                              'secret_sha256: "0123456789abcdef0123456789abcdef"' % STORED_KEY))
    header = line(kind="supplysec-export", format=1)
    records = [
        line(kind="record", collection="organizations", org="acme", parent="",
             name="organizations/acme", version=Int64(3), doc=org),
        line(kind="record", collection="apiKeys", org="acme", parent="organizations/acme",
             name="organizations/acme/apiKeys/ops-key", state="STATE_ACTIVE",
             lookup="ssk_0123456789abcdef", version=Int64(1), doc=key),
        line(kind="record", collection="serverSecrets", org="", parent="",
             name="serverSecrets/pageTokens", version=Int64(1), doc={"key": Binary(bytes(32))}),
    ]
    events = [
        line(kind="audit", org="acme", principal="platform/apiKeys/bootstrap-admin",
             principalOrg="", role="ROLE_PLATFORM_ADMIN",
             method="/supplysec.v1.Organizations/CreateOrganization",
             resource="organizations/acme", requestId="c0ffee", versionBefore=Int64(0),
             versionAfter=Int64(1), timeUs=Int64(1767323045123456)),
        line(kind="audit", org="acme", principal="organizations/acme/apiKeys/admin",
             principalOrg="acme", role="ROLE_ADMIN",
             method="/supplysec.v1.ApiKeys/RevokeApiKey",
             resource="organizations/acme/apiKeys/ops-key", requestId="r2",
             versionBefore=Int64(1), versionAfter=Int64(2), timeUs=Int64(1767323046000000)),
    ]
    write("fuzz_import", "full", header + b"".join(records) + b"".join(events))
    write("fuzz_import", "header-only", header)
    write("fuzz_import", "one-record-crlf", header.replace(b"\n", b"\r\n") + records[0])
    write("fuzz_import", "duplicate-record", header + records[0] + records[0])
    write("fuzz_import", "no-header", records[0])
    write("fuzz_import", "unknown-kind", header + b'{"kind":"other"}\n')


def bson_doc(*elements):
    """A BSON document of raw elements (type byte, key, value bytes), for values python3-bson
    will not write (dates near INT64_MIN)."""
    body = b"".join(bytes([t]) + k.encode() + b"\x00" + v for t, k, v in elements) + b"\x00"
    return (len(body) + 4).to_bytes(4, "little") + body


def regressions(types):
    """Inputs that once failed, written here with the selector byte of today's table."""
    key = type_sel(types["supplysec.v1.ApiKey"])
    update = type_sel(types["supplysec.v1.UpdateOrganizationRequest"])
    near_min = (-2**63 + 5).to_bytes(8, "little", signed=True)
    # doc.c timestamp_from_millis: seconds * 1000 overflowed (UBSan) for a date near INT64_MIN.
    write("fuzz_doc_bson", "date-near-int64-min", key + bson_doc((0x09, "revokeTime", near_min)),
          "regression-")
    write("fuzz_doc_json", "date-near-int64-min",
          key + b'{"revokeTime": {"$date": {"$numberLong": "-9223372036854775803"}}}', "regression-")
    # A FieldMask path with no lowerCamelCase form ("_") reads but does not write back.
    write("fuzz_doc_bson", "mask-path-without-json-form",
          update + bson.encode({"updateMask": "legalName,_,identifiers.eori"}), "regression-")
    write("fuzz_doc_json", "mask-path-without-json-form", update + b'{"updateMask": "a__b,_"}',
          "regression-")
    # An empty FieldMask path (protobuf allows one) is written as nothing: fuzz_fieldmask's
    # oracle took a request holding one for a storable message (support/masks.c).
    patch = b"\x12\x04\x0a\x00\x0a\x00"  # UpdateOrganizationRequest{update_mask: "", ""}
    write("fuzz_fieldmask", "empty-mask-path", update + b"*\x00" + (0).to_bytes(2, "little") + patch,
          "regression-")
    # status.c: a message cut inside a character kept the character's first bytes.
    write("fuzz_utf8", "status-cut-in-character", b"\x03" + b"a" * 509 + "€€".encode(),
          "regression-")
    # number.c: a stored NaN with its sign bit set read back as that NaN, while its JSON ("NaN")
    # reads as the positive one, so BSON and JSON disagreed (a scheme's level costs).
    negative_nan = struct.unpack("<d", b"\x00\x00\x00\x00\x00\x00\xf8\xff")[0]
    write("fuzz_doc_bson", "negative-nan",
          type_sel(types["supplysec.v1.ScoringScheme"]) +
          bson.encode({"consequence": {"levels": [{"level": 1, "maxCost": negative_nan}]}}),
          "regression-")


def dictionaries(classes):
    names, enums = set(), set()
    for cls in classes.values():
        for f in cls.DESCRIPTOR.fields:
            names.update([f.name, f.json_name])
            if f.enum_type:
                enums.update(v.name for v in f.enum_type.values)
    json_words = ['"%s"' % n for n in names | enums] + [
        '{', '}', '[', ']', ':', ',', 'null', 'true', 'false', '"$date"', '"$numberLong"',
        '"$numberInt"', '"$oid"', '"$binary"', '"2026-01-02T03:04:05.123Z"', '+01:00',
        '"NaN"', '"-0"', '9223372036854775808', '-9223372036854775809', '1e400', '\\u0000',
        '\\ud800']
    write_dict("fuzz_doc_json", json_words)
    write_dict("fuzz_doc_bson", [n + "\x00" for n in names] + ["_id\x00"])
    write_dict("fuzz_fieldmask", [n for n in names] + [",", ".", "*"])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-fuzz")
    methods, types = tables(build)
    with tempfile.TemporaryDirectory() as tmp:
        classes = load_classes(tmp)
        requests(classes, methods)
        handler_calls(classes, methods)
        documents(classes, types)
        field_masks(classes, types)
        small_targets()
        exports(classes)
        regressions(types)
        dictionaries(classes)


if __name__ == "__main__":
    main()
