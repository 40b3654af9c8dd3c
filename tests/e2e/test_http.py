"""The HTTP listener (--http-listen, docs/api.md "HTTP: Connect and gRPC-Web"): every unary
method over HTTP/1.1 in the Connect protocol (JSON and binary) and gRPC-Web (binary and base64
text), each answer compared with the same call over gRPC, the framings decoded by hand here and
buf curl as an independent client; deadlines, CORS, /healthz and /readyz, 404/405/415, request
ids and call log lines; the refusals at start, TLS, and the stop with an HTTP call in flight."""

import base64
import concurrent.futures
import glob
import http.client
import json
import os
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

import grpc
from google.protobuf import json_format

import harness
from harness import (SUPPLYSECD, RpcAssertions, Server, ServerTestCase, exit_description,
                     http_listening, http_port, log_objects, protos, store_uri, tmpdir)
from test_tls import make_ca, make_cert, make_mtls

C = grpc.StatusCode

ORIGIN_A, ORIGIN_B, ORIGIN_OTHER = "http://a.example", "http://b.example", "http://c.example"
MAX_MESSAGE = 65536  # the servers' --max-message-bytes; a body may be 1 KiB more
KEYLESS_MAX = 4096  # bytes of a request to a method that needs no key

# The Connect protocol's HTTP status of each code (connectrpc.com/docs/protocol)
CONNECT_STATUS = {
    C.CANCELLED: 499, C.UNKNOWN: 500, C.INVALID_ARGUMENT: 400, C.DEADLINE_EXCEEDED: 504,
    C.NOT_FOUND: 404, C.ALREADY_EXISTS: 409, C.PERMISSION_DENIED: 403,
    C.RESOURCE_EXHAUSTED: 429, C.FAILED_PRECONDITION: 400, C.ABORTED: 409,
    C.OUT_OF_RANGE: 400, C.UNIMPLEMENTED: 501, C.INTERNAL: 500, C.UNAVAILABLE: 503,
    C.DATA_LOSS: 500, C.UNAUTHENTICATED: 401,
}


def connect_code(code):
    """The Connect name of a code: "not_found", "canceled" (one L)."""
    return "canceled" if code == C.CANCELLED else code.name.lower()


CODE_BY_CONNECT_NAME = {connect_code(c): c for c in C if c != C.OK}
CODE_BY_NUMBER = {c.value[0]: c for c in C}

CONNECT_JSON, CONNECT_PROTO, GRPC_WEB, GRPC_WEB_TEXT = (
    "connect+json", "connect+proto", "grpc-web", "grpc-web-text")
# Connect's streaming protocol (a unary method answers it with one message) and gRPC-Web's
# JSON codec
STREAM_JSON, STREAM_PROTO, GRPC_WEB_JSON = ("connect-stream+json", "connect-stream+proto",
                                            "grpc-web+json")
FRAMINGS = (CONNECT_JSON, CONNECT_PROTO, GRPC_WEB, GRPC_WEB_TEXT, STREAM_JSON, STREAM_PROTO,
            GRPC_WEB_JSON)
JSON_FRAMINGS = (CONNECT_JSON, STREAM_JSON, GRPC_WEB_JSON)
UNARY = (CONNECT_JSON, CONNECT_PROTO)
CONNECT_STREAM = (STREAM_JSON, STREAM_PROTO)
GRPC_WEBS = (GRPC_WEB, GRPC_WEB_TEXT, GRPC_WEB_JSON)
CONTENT_TYPE = {CONNECT_JSON: "application/json", CONNECT_PROTO: "application/proto",
                GRPC_WEB: "application/grpc-web+proto",
                GRPC_WEB_TEXT: "application/grpc-web-text+proto",
                STREAM_JSON: "application/connect+json", STREAM_PROTO: "application/connect+proto",
                GRPC_WEB_JSON: "application/grpc-web+json"}
PROTOCOL = {f: "grpc-web" if f in GRPC_WEBS else "connect" for f in FRAMINGS}

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
GET_ORG = "/supplysec.v1.Organizations/GetOrganization"
LIST_ORGS = "/supplysec.v1.Organizations/ListOrganizations"
CREATE_ORG = "/supplysec.v1.Organizations/CreateOrganization"


def http_args(*more):
    return ["--http-listen", "127.0.0.1:0", "--cors-origins", ORIGIN_A + "," + ORIGIN_B,
            "--max-message-bytes", str(MAX_MESSAGE)] + list(more)


class Answer:
    """An HTTP answer: status, headers (by lower-case name; all of them in .header_list),
    body."""

    def __init__(self, status, header_list, body):
        self.status = status
        self.header_list = header_list
        self.headers = {}
        for k, v in header_list:
            self.headers.setdefault(k.lower(), v)
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "HTTP %d %r %r" % (self.status, self.header_list, self.body[:300])


def http_request(port, method, path, body=b"", headers=None, timeout=10.0, conn=None):
    """One request on a fresh connection (or on conn, kept open)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        return Answer(r.status, r.getheaders(), r.read())
    finally:
        if conn is None:
            c.close()


def frame(message, flag=0):
    """A gRPC frame: flag byte, 4-byte big-endian length, the message."""
    return bytes([flag]) + struct.pack(">I", len(message)) + message


def split_frames(data):
    """[(flag, payload)] of a gRPC-Web body; AssertionError unless the frames tile it exactly."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 5:
            raise AssertionError("a truncated frame header at byte %d of %r" % (i, data))
        n = struct.unpack(">I", data[i + 1:i + 5])[0]
        if i + 5 + n > len(data):
            raise AssertionError("a frame of %d bytes at byte %d overruns %r" % (n, i, data))
        out.append((data[i], data[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def b64decode_chunks(text):
    """base64 text that may be several padded chunks one after the other (a stream's frames
    each encoded on its own), decoded four characters at a time."""
    if len(text) % 4:
        raise AssertionError("base64 text of %d characters: %r" % (len(text), text))
    return b"".join(base64.b64decode(text[i:i + 4], validate=True)
                    for i in range(0, len(text), 4))


def parse_trailers(block):
    """A gRPC-Web trailer frame's text ("name:value\\r\\n" lines) as a dict."""
    text = block.decode("ascii")
    if not text.endswith("\r\n"):
        raise AssertionError("the trailer block does not end with CRLF: %r" % text)
    out = {}
    for line in text[:-2].split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            raise AssertionError("a trailer line without a colon: %r" % text)
        out[name.strip().lower()] = value.strip()
    return out


class Outcome:
    """A call's result, whatever the transport: code, message, and for OK the answer's
    protobuf bytes (Connect proto, gRPC-Web, gRPC) or JSON (Connect JSON)."""

    def __init__(self, code, message="", body=None, json_body=None, answer=None):
        self.code, self.message, self.body, self.json = code, message, body, json_body
        self.answer = answer  # the HTTP answer, when there was one

    def __repr__(self):
        return "%s %r" % (self.code.name, self.message)


def grpc_call(channel, path, raw, secret=None, metadata=(), timeout=10.0):
    """path called over gRPC with raw request bytes; the Outcome (body: the answer's bytes)."""
    fn = channel.unary_unary(path)  # no serializers: bytes in, bytes out
    md = list(metadata)
    if secret:
        md += harness.auth_md(secret)
    try:
        return Outcome(C.OK, "", fn(raw, metadata=md or None, timeout=timeout))
    except grpc.RpcError as e:
        return Outcome(e.code(), e.details() or "")


def types_of(path):
    """(request class, response class) of a method, or (None, None) for an unknown one."""
    try:
        return harness._method_types(path)
    except KeyError:
        return None, None


def as_dict(message):
    """The proto3 JSON mapping of a message, as json.loads gives it."""
    return json.loads(json_format.MessageToJson(message))


# --------------------------------------------------------------------------
# buf curl
# --------------------------------------------------------------------------

def buf_binary():
    """$SUPPLYSEC_BUF, or None when unset or missing. The npm package's bin/buf is a node
    script that runs the native binary of a sibling package (@bufbuild/buf-linux-x64, ...):
    that binary is called directly when it is there, a node start (0.1 s) less per call."""
    b = os.environ.get("SUPPLYSEC_BUF")
    if not b or not os.path.isfile(b):
        return None
    real = os.path.realpath(b)
    package = os.path.dirname(os.path.dirname(real))
    scope = os.path.dirname(package)
    if os.path.basename(package) == "buf" and os.path.basename(scope) == "@bufbuild":
        for native in sorted(glob.glob(os.path.join(scope, "buf-*", "bin", "buf"))):
            if os.access(native, os.X_OK):
                return native
    return b


def buf_skip_reason():
    b = os.environ.get("SUPPLYSEC_BUF")
    if not b:
        return "SUPPLYSEC_BUF is not set (the buf binary, e.g. .tools/node_modules/.bin/buf)"
    if not os.path.isfile(b):
        return "SUPPLYSEC_BUF=%s does not exist (scripts/deps.sh installs buf)" % b
    return None


# --------------------------------------------------------------------------
# The server with its HTTP listener, and the calls on it
# --------------------------------------------------------------------------

class HttpTestCase(ServerTestCase):
    """One server per class with --http-listen 127.0.0.1:0 (the port read from its log),
    CORS for ORIGIN_A and ORIGIN_B, and --max-message-bytes MAX_MESSAGE. A test after which
    the server is found dead fails saying so, and the next test gets a restarted server (on
    the same store)."""

    @classmethod
    def setUpClass(cls):
        cls.pb = protos()
        cls.server = Server(extra_args=http_args())
        try:
            cls.server.start()
            cls.http_port = http_port(cls.server)
            cls.admin = cls.server.admin()
            cls.fixtures()
        except BaseException:
            cls.server.kill()
            raise

    @classmethod
    def fixtures(cls):
        pass

    @classmethod
    def restart(cls):
        srv = cls.server
        if srv.channel is not None:
            srv.channel.close()
            srv.channel = None
        srv.proc = None
        srv.start()
        cls.http_port = http_port(srv)
        cls.admin = srv.admin()

    def tearDown(self):
        srv = self.server
        if srv is None or srv.proc is None:
            return
        try:
            http_request(self.http_port, "GET", "/healthz", timeout=3)
        except OSError:
            pass
        try:
            code = srv.proc.wait(timeout=0.01 if srv.proc.poll() is None else 0)
        except subprocess.TimeoutExpired:
            return
        log = srv.log_tail(3000)
        type(self).restart()
        self.fail("supplysecd %s during this test; its log ends:\n%s" % (
            exit_description(code), log))

    # -- requests --

    def post(self, path, body, content_type, secret=None, headers=None, conn=None):
        h = {"Content-Type": content_type}
        if secret:
            h["Authorization"] = "Bearer " + secret
        h.update(headers or {})
        return http_request(self.http_port, "POST", path, body, h, conn=conn)

    def send(self, framing, path, raw=None, json_text=None, secret=None, headers=None,
             content_type=None):
        """The request (raw protobuf bytes, or JSON text for the JSON framings) in a
        framing."""
        ct = content_type or {GRPC_WEB: "application/grpc-web",
                              GRPC_WEB_TEXT: "application/grpc-web-text"}.get(
                                  framing, CONTENT_TYPE[framing])
        message = raw
        if framing in JSON_FRAMINGS:
            message = json_text.encode() if isinstance(json_text, str) else json_text
        if framing in UNARY:
            body = message
        elif framing == GRPC_WEB_TEXT:
            body = base64.b64encode(frame(message))
        else:
            body = frame(message)
        return self.post(path, body, ct, secret, headers)

    def outcome(self, framing, ans):
        """The Outcome of an HTTP answer in a framing, its framing checked on the way."""
        if framing in UNARY:
            return self.connect_outcome(ans, framing == CONNECT_PROTO)
        if framing in CONNECT_STREAM:
            return self.connect_stream_outcome(ans, framing)
        return self.grpc_web_outcome(ans, framing)

    def connect_stream_outcome(self, ans, framing):
        """Connect streaming: HTTP 200 whatever the code; a message envelope (for OK) and an
        end-stream envelope (flag 0x02) holding {} or {"error": {"code", "message"}}."""
        self.assertEqual(ans.status, 200, ans)
        self.assertEqual(ans.header("content-type"), CONTENT_TYPE[framing], ans)
        frames = split_frames(ans.body)
        self.assertIn([f for f, _ in frames], ([0x00, 0x02], [0x02]),
                      "not a message and an end-stream message: %r" % (ans,))
        end = json.loads(frames[-1][1])
        self.assertIsInstance(end, dict, ans)
        self.assertLessEqual(set(end), {"error", "metadata"}, ans)
        if "error" not in end:
            self.assertEqual(len(frames), 2, "OK without a message: %r" % (ans,))
            if framing == STREAM_JSON:
                return Outcome(C.OK, "", json_body=json.loads(frames[0][1]), answer=ans)
            return Outcome(C.OK, "", frames[0][1], answer=ans)
        self.assertEqual(len(frames), 1, "an error after a message: %r" % (ans,))
        err = end["error"]
        self.assertLessEqual(set(err), {"code", "message", "details"}, ans)
        code = CODE_BY_CONNECT_NAME.get(err.get("code"))
        self.assertIsNotNone(code, "not a Connect code: %r" % (ans,))
        return Outcome(code, err.get("message", ""), answer=ans)

    def connect_outcome(self, ans, proto):
        if ans.status == 200:
            self.assertEqual(ans.header("content-type"),
                             "application/proto" if proto else "application/json", ans)
            if proto:
                return Outcome(C.OK, "", ans.body, answer=ans)
            return Outcome(C.OK, "", json_body=json.loads(ans.body), answer=ans)
        # an error: always JSON {"code", "message"}, the HTTP status that of its code
        self.assertEqual(ans.header("content-type"), "application/json", ans)
        err = json.loads(ans.body)
        self.assertIsInstance(err, dict, ans)
        self.assertLessEqual(set(err), {"code", "message", "details"}, ans)
        code = CODE_BY_CONNECT_NAME.get(err.get("code"))
        self.assertIsNotNone(code, "not a Connect code: %r" % (ans,))
        self.assertEqual(ans.status, CONNECT_STATUS[code],
                         "HTTP status of Connect code %s: %r" % (err["code"], ans))
        return Outcome(code, err.get("message", ""), answer=ans)

    def grpc_web_outcome(self, ans, framing):
        self.assertEqual(ans.status, 200, ans)
        self.assertEqual(ans.header("content-type"), CONTENT_TYPE[framing], ans)
        if ans.header("grpc-status") is not None:
            # trailers-only: the status in the headers, no body
            self.assertEqual(ans.body, b"", "a trailers-only answer with a body: %r" % (ans,))
            msg = ans.header("grpc-message") or ""
            self.assertTrue(all(0x20 <= ord(ch) <= 0x7e for ch in msg),
                            "grpc-message is not percent-encoded ASCII: %r" % msg)
            code = CODE_BY_NUMBER[int(ans.header("grpc-status"))]
            return Outcome(code, urllib.parse.unquote(msg), answer=ans)
        data = b64decode_chunks(ans.body) if framing == GRPC_WEB_TEXT else ans.body
        frames = split_frames(data)
        self.assertEqual([f for f, _ in frames], [0x00, 0x80],
                         "not a message frame and a trailer frame: %r" % (ans,))
        trailers = parse_trailers(frames[1][1])
        code = CODE_BY_NUMBER[int(trailers["grpc-status"])]
        msg = urllib.parse.unquote(trailers.get("grpc-message", ""))
        if code == C.OK and framing == GRPC_WEB_JSON:
            return Outcome(code, msg, json_body=json.loads(frames[0][1]), answer=ans)
        return Outcome(code, msg, frames[0][1] if code == C.OK else None, answer=ans)

    def over_http(self, framing, path, raw=None, json_text=None, secret=None, headers=None):
        return self.outcome(framing, self.send(framing, path, raw, json_text, secret, headers))

    def grpc(self, path, raw, secret=None, metadata=()):
        return grpc_call(self.server.channel, path, raw, secret, metadata)

    def assertSameAsGrpc(self, path, raw=None, json_text=None, secret=None, headers=None,
                         framings=FRAMINGS, code=None, same_message=True,
                         json_same_message=True):
        """The request over gRPC and over HTTP in each framing: the same code (and `code`
        when given), the same message (unless told otherwise), and for OK the same answer.
        json_text defaults to the proto3 JSON of raw. Returns {framing: Outcome}."""
        req_cls, resp_cls = types_of(path)
        headers = dict(headers or {})
        expected = self.grpc(path, raw, secret, [(k.lower(), v) for k, v in headers.items()])
        if code is not None:
            self.assertEqual(expected.code, code, "over gRPC: %r" % expected)
        if json_text is None and set(JSON_FRAMINGS) & set(framings):
            json_text = json_format.MessageToJson(req_cls.FromString(raw))
        got = {}
        for f in framings:
            with self.subTest(framing=f, path=path):
                o = self.over_http(f, path, raw, json_text, secret, headers)
                got[f] = o
                self.assertEqual(o.code, expected.code, "%s: %r, over gRPC %r (%r)" % (
                    f, o, expected, o.answer))
                if same_message and (json_same_message or f not in JSON_FRAMINGS):
                    self.assertEqual(o.message, expected.message, f)
                if expected.code != C.OK:
                    continue
                want = resp_cls.FromString(expected.body)
                if f in JSON_FRAMINGS:
                    self.assertEqual(o.json, as_dict(want))
                else:
                    self.assertEqual(resp_cls.FromString(o.body), want)
        return got


class HttpTest(HttpTestCase):

    @classmethod
    def fixtures(cls):
        pb = cls.pb
        cls.make_org("http-acme", legal_name="Acme over HTTP")
        cls.make_org("http-rival", legal_name="Rival GmbH")
        cls.acme_key = cls.make_key("organizations/http-acme", pb.common.ROLE_ADMIN)
        cls.acme_secret = cls.acme_key.secret
        cls.rival_secret = cls.make_key("organizations/http-rival", pb.common.ROLE_ADMIN).secret

    def get_org_raw(self, name):
        return self.pb.orgs.GetOrganizationRequest(name=name).SerializeToString()

    # -- answers equal to gRPC's --

    def test_answers_equal_grpc_in_every_framing(self):
        pb = self.pb
        for path, raw, secret in (
                (GET_ORG, self.get_org_raw("organizations/http-acme"), self.acme_secret),
                (GET_ORG, self.get_org_raw("organizations/http-acme"), self.server.admin_secret),
                (LIST_ORGS, b"", self.server.admin_secret),
                (LIST_ORGS, b"", self.acme_secret),
                ("/supplysec.v1.ApiKeys/ListApiKeys", pb.keys.ListApiKeysRequest(
                    parent="organizations/http-acme").SerializeToString(), self.acme_secret),
                (HEALTH_CHECK, b"", None)):
            self.assertSameAsGrpc(path, raw, secret=secret, code=C.OK)
        # and a few errors, their messages included
        self.assertSameAsGrpc(GET_ORG, self.get_org_raw("organizations/no-such-org"),
                              secret=self.acme_secret, code=C.NOT_FOUND)
        self.assertSameAsGrpc(HEALTH_CHECK, pb.health.HealthCheckRequest(
            service="no.such.Service").SerializeToString(), code=C.NOT_FOUND)
        self.assertSameAsGrpc(CREATE_ORG, pb.orgs.CreateOrganizationRequest(
            organization_id="http-nope", organization=pb.orgs.Organization(
                legal_name="Nope", country_code="DE",
                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).SerializeToString(),
            secret=self.acme_secret, code=C.PERMISSION_DENIED)

    def test_json_answer_is_the_proto3_json_mapping(self):
        """lowerCamelCase names, enum names, timestamps in RFC 3339; snake_case accepted."""
        o = self.over_http(CONNECT_JSON, GET_ORG, json_text='{"name":"organizations/http-acme"}',
                           secret=self.acme_secret)
        self.assertEqual(o.code, C.OK, o)
        self.assertEqual(o.json["name"], "organizations/http-acme")
        self.assertEqual(o.json["legalName"], "Acme over HTTP")
        self.assertEqual(o.json["kind"], "ORGANIZATION_KIND_OPERATOR")
        self.assertRegex(o.json["createTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        snake = self.over_http(CONNECT_JSON, LIST_ORGS, json_text='{"page_size": 1}',
                               secret=self.server.admin_secret)
        camel = self.over_http(CONNECT_JSON, LIST_ORGS, json_text='{"pageSize": 1}',
                               secret=self.server.admin_secret)
        self.assertEqual((snake.code, camel.code), (C.OK, C.OK), (snake, camel))
        self.assertEqual(len(camel.json["organizations"]), 1, camel.json)
        self.assertEqual(snake.json, camel.json)
        self.assertIn("nextPageToken", camel.json)

    def test_create_over_each_protocol_is_what_grpc_reads_back(self):
        pb = self.pb
        for i, framing in enumerate(FRAMINGS):
            with self.subTest(framing=framing):
                oid = "http-made-%d" % i
                raw = pb.orgs.CreateOrganizationRequest(
                    organization_id=oid, organization=pb.orgs.Organization(
                        legal_name="Made over " + framing, country_code="NL",
                        kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).SerializeToString()
                made = self.over_http(framing, CREATE_ORG, raw,
                                      json_format.MessageToJson(
                                          pb.orgs.CreateOrganizationRequest.FromString(raw)),
                                      secret=self.server.admin_secret)
                self.assertEqual(made.code, C.OK, made)
                back = self.admin.call("Organizations.GetOrganization",
                                       name="organizations/" + oid)
                if framing in JSON_FRAMINGS:
                    self.assertEqual(made.json, as_dict(back))
                else:
                    self.assertEqual(pb.orgs.Organization.FromString(made.body), back)
                self.assertEqual(back.legal_name, "Made over " + framing)
                # made once: the same create again is ALREADY_EXISTS, as over gRPC
                again = self.over_http(framing, CREATE_ORG, raw, json_format.MessageToJson(
                    pb.orgs.CreateOrganizationRequest.FromString(raw)),
                    secret=self.server.admin_secret)
                self.assertEqual(again.code, C.ALREADY_EXISTS, again)
                self.assertEqual(again.message, self.grpc(
                    CREATE_ORG, raw, self.server.admin_secret).message)

    # -- hostile requests: the codes (and messages) gRPC gives --

    def test_bad_protobuf_bytes(self):
        for garbage in (b"\xff\xff\xff", b"\x0a\x10abc", b"\x08"):
            self.assertSameAsGrpc(GET_ORG, garbage, secret=self.acme_secret,
                                  framings=[f for f in FRAMINGS if f not in JSON_FRAMINGS],
                                  code=C.INVALID_ARGUMENT)

    def test_bad_json(self):
        for text in ('{"name":', "[]", '{"name":"organizations/http-acme"} x', "\xff",
                     '{"name":"organizations/http-acme",}'):
            for f in JSON_FRAMINGS:
                with self.subTest(json=text, framing=f):
                    o = self.over_http(f, GET_ORG, json_text=text.encode("latin-1"),
                                       secret=self.acme_secret)
                    self.assertEqual(o.code, C.INVALID_ARGUMENT, o)
                    self.assertIn("not a valid supplysec.v1.GetOrganizationRequest", o.message)

    def test_json_field_of_the_wrong_type_is_named(self):
        for path, text, field in (
                (GET_ORG, '{"name": 5}', "name"),
                (GET_ORG, '{"name": {"a": 1}}', "name"),
                (LIST_ORGS, '{"pageSize": "many"}', "pageSize"),
                (CREATE_ORG, '{"organization": {"kind": "NO_SUCH_KIND"}}', "organization.kind"),
                (CREATE_ORG, '{"organization": "acme"}', "organization")):
            with self.subTest(json=text):
                o = self.over_http(CONNECT_JSON, path, json_text=text,
                                   secret=self.server.admin_secret)
                self.assertEqual(o.code, C.INVALID_ARGUMENT, o)
                self.assertIn(field + ":", o.message)

    def test_embedded_nul(self):
        pb = self.pb
        self.assertSameAsGrpc(GET_ORG, self.get_org_raw("organizations/ab\x00c"),
                              json_text='{"name": "organizations/ab\\u0000c"}',
                              secret=self.acme_secret, code=C.INVALID_ARGUMENT,
                              json_same_message=False)
        raw = pb.orgs.CreateOrganizationRequest(
            organization_id="http-nul", organization=pb.orgs.Organization(
                legal_name="Nul\x00Ltd", country_code="DE",
                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).SerializeToString()
        got = self.assertSameAsGrpc(CREATE_ORG, raw, secret=self.server.admin_secret,
                                    code=C.INVALID_ARGUMENT, json_same_message=False)
        # the JSON converter's message names the field, in its JSON spelling
        for f in JSON_FRAMINGS:
            self.assertIn("organization.legalName", got[f].message)
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/http-nul")

    def test_oversized_body(self):
        raw = self.get_org_raw("organizations/" + "x" * (MAX_MESSAGE + 1100))
        self.assertSameAsGrpc(GET_ORG, raw, secret=self.acme_secret,
                              code=C.RESOURCE_EXHAUSTED, same_message=False)

    def test_body_kept_without_a_valid_key(self):
        """Of a caller whose key does not authenticate when its headers arrive, at most
        16 KiB of body is kept (RESOURCE_EXHAUSTED past it), so a client without a key cannot
        make the server hold megabytes; a valid key's same request is read and answered."""
        name = "organizations/" + "y" * 20000
        raw = self.get_org_raw(name)
        js = json.dumps({"name": name})
        for f in FRAMINGS:
            for secret in (None, "ssk_0000000000000000_" + "A" * 43):
                with self.subTest(framing=f, key=bool(secret)):
                    o = self.outcome(f, self.send(f, GET_ORG, raw, js, secret=secret))
                    self.assertEqual(o.code, C.RESOURCE_EXHAUSTED, o)
            with self.subTest(framing=f, key="valid"):
                o = self.outcome(f, self.send(f, GET_ORG, raw, js, secret=self.acme_secret))
                self.assertNotEqual(o.code, C.RESOURCE_EXHAUSTED, o)
                self.assertNotEqual(o.code, C.OK, o)

    def test_oversized_metadata(self):
        """The 16 KiB bound on a call's request headers (docs/operations.md, "Limits": "the
        metadata of a call: 16 KiB, as over gRPC")."""
        self.assertSameAsGrpc(HEALTH_CHECK, b"", headers={"x-filler": "f" * 20000},
                              code=C.RESOURCE_EXHAUSTED, same_message=False)

    def test_keyless_request_size(self):
        """A keyless method's request is at most 4096 bytes: the message, in every framing
        (a 4096-byte message is served over gRPC, whatever its framing adds over HTTP)."""
        pb = self.pb
        at = pb.health.HealthCheckRequest(service="s" * (KEYLESS_MAX - 3)).SerializeToString()
        over = pb.health.HealthCheckRequest(service="s" * (KEYLESS_MAX - 2)).SerializeToString()
        self.assertEqual((len(at), len(over)), (KEYLESS_MAX, KEYLESS_MAX + 1))
        self.assertSameAsGrpc(HEALTH_CHECK, at, code=C.NOT_FOUND)
        self.assertSameAsGrpc(HEALTH_CHECK, over, code=C.RESOURCE_EXHAUSTED, same_message=False)

    def test_unknown_method(self):
        for path in ("/supplysec.v1.Organizations/NoSuchMethod", "/supplysec.v1.NoSuch/Get",
                     "/grpc.health.v1.Health/check"):
            self.assertSameAsGrpc(path, b"", json_text="{}", secret=self.acme_secret,
                                  code=C.UNIMPLEMENTED)

    def test_streams_over_http(self):
        """Server reflection (a bidirectional stream) is UNIMPLEMENTED in every framing, a
        server stream (Health.Watch) over Connect unary (served over Connect streaming and
        gRPC-Web: test_health_watch_over_http)."""
        pb = self.pb
        reflect = pb.reflection.ServerReflectionRequest(list_services="*").SerializeToString()
        for path, raw, framings in (
                ("/grpc.health.v1.Health/Watch", b"", UNARY),
                ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", reflect, FRAMINGS),
                ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", reflect,
                 FRAMINGS)):
            for f in framings:
                with self.subTest(path=path, framing=f):
                    o = self.over_http(f, path, raw, json_text="{}")
                    self.assertEqual(o.code, C.UNIMPLEMENTED, o)

    def test_health_watch_over_http(self):
        """A server stream over gRPC-Web (binary, text, JSON) and Connect streaming (JSON,
        binary): the status now, in a message frame, and at the deadline the end: a trailer
        frame with DEADLINE_EXCEEDED, or Connect's end-stream message with deadline_exceeded
        (the text framing's frames may each be base64 on its own)."""
        pb = self.pb
        serving_msg = pb.health.HealthCheckResponse(status=pb.health.HealthCheckResponse.SERVING)
        serving = serving_msg.SerializeToString()
        serving_json = json_format.MessageToDict(serving_msg)
        framings = GRPC_WEBS + CONNECT_STREAM
        answers = {}

        def watch(f):
            timeout = {"grpc-timeout": "500m"} if f in GRPC_WEBS else {"Connect-Timeout-Ms": "500"}
            answers[f] = self.send(f, "/grpc.health.v1.Health/Watch", b"", "{}", None, timeout)
        threads = [threading.Thread(target=watch, args=(f,)) for f in framings]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        for f in framings:
            with self.subTest(framing=f):
                ans = answers.get(f)
                self.assertIsNotNone(ans, "the watch did not end at its deadline")
                self.assertEqual(ans.status, 200, ans)
                self.assertEqual(ans.header("content-type"), CONTENT_TYPE[f], ans)
                self.assertIsNone(ans.header("grpc-status"), ans)
                data = b64decode_chunks(ans.body) if f == GRPC_WEB_TEXT else ans.body
                frames = split_frames(data)
                self.assertGreaterEqual(len(frames), 2, ans)
                for flag, message in frames[:-1]:
                    self.assertEqual(flag, 0, ans)
                    if f in JSON_FRAMINGS:
                        self.assertEqual(json.loads(message), serving_json, ans)
                    else:
                        self.assertEqual(message, serving, ans)
                if f in GRPC_WEBS:
                    self.assertEqual(frames[-1][0], 0x80, ans)
                    self.assertEqual(parse_trailers(frames[-1][1]).get("grpc-status"),
                                     str(C.DEADLINE_EXCEEDED.value[0]), ans)
                else:
                    self.assertEqual(frames[-1][0], 0x02, ans)
                    end = json.loads(frames[-1][1])
                    self.assertEqual(end["error"]["code"], "deadline_exceeded", ans)
                    self.assertTrue(end["error"]["message"], ans)

    def connect_get(self, path, message, encoding, secret=None):
        """A Connect GET: the message (JSON text, or protobuf bytes) in the query."""
        if encoding == "json":
            query = "encoding=json&message=" + urllib.parse.quote(message, safe="")
        else:
            query = "encoding=proto&base64=1&message=" + base64.urlsafe_b64encode(
                message).decode().rstrip("=")
        headers = {"Authorization": "Bearer " + secret} if secret else {}
        return http_request(self.http_port, "GET", path + "?connect=v1&" + query, b"", headers)

    def test_connect_get(self):
        """The methods marked NO_SIDE_EFFECTS answer a Connect GET as they answer a POST."""
        for path, raw, secret in (
                (GET_ORG, self.get_org_raw("organizations/http-acme"), self.acme_secret),
                (GET_ORG, self.get_org_raw("organizations/http-rival"), self.acme_secret),
                (GET_ORG, self.get_org_raw("organizations/http-acme"), None),
                (GET_ORG, b"\xff\xff", self.acme_secret),
                (LIST_ORGS, b"", self.server.admin_secret)):
            expected = self.grpc(path, raw, secret)
            _, resp_cls = types_of(path)
            for encoding in ("json", "proto"):
                with self.subTest(path=path, request=raw, encoding=encoding):
                    if encoding == "json":
                        try:
                            message = json_format.MessageToJson(
                                types_of(path)[0].FromString(raw))
                        except Exception:  # not a message: only its bytes can be sent
                            continue
                    else:
                        message = raw
                    o = self.connect_outcome(self.connect_get(path, message, encoding, secret),
                                             encoding == "proto")
                    self.assertEqual((o.code, o.message), (expected.code, expected.message))
                    if expected.code != C.OK:
                        continue
                    want = resp_cls.FromString(expected.body)
                    if encoding == "json":
                        self.assertEqual(o.json, as_dict(want))
                    else:
                        self.assertEqual(resp_cls.FromString(o.body), want)
        ans = http_request(self.http_port, "GET", GET_ORG + "?connect=v1&message=%7B%7D", b"",
                           {"Authorization": "Bearer " + self.acme_secret})
        self.assertEqual(self.connect_outcome(ans, False).code, C.INVALID_ARGUMENT, ans)

    def test_missing_and_malformed_keys(self):
        raw = self.get_org_raw("organizations/http-acme")
        self.assertSameAsGrpc(GET_ORG, raw, code=C.UNAUTHENTICATED)
        for value in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer ssk_nope",
                      "Bearer " + self.acme_secret[:-4] + "AAAA", self.acme_secret):
            with self.subTest(authorization=value[:16]):
                self.assertSameAsGrpc(GET_ORG, raw, headers={"Authorization": value},
                                      code=C.UNAUTHENTICATED)

    def test_another_tenants_organization_is_not_found(self):
        """NOT_FOUND, and the same message (but for the name) as an id never used."""
        outcomes = {}
        for name in ("organizations/http-rival", "organizations/http-never"):
            outcomes[name] = self.assertSameAsGrpc(GET_ORG, self.get_org_raw(name),
                                                   secret=self.acme_secret, code=C.NOT_FOUND)
        for f in FRAMINGS:
            with self.subTest(framing=f):
                real = outcomes["organizations/http-rival"][f].message
                never = outcomes["organizations/http-never"][f].message
                self.assertEqual(real.replace("http-rival", "ID"),
                                 never.replace("http-never", "ID"))
        # and the rival reads its own
        self.assertSameAsGrpc(GET_ORG, self.get_org_raw("organizations/http-rival"),
                              secret=self.rival_secret, code=C.OK)

    def test_compressed_requests_are_unimplemented(self):
        raw = self.get_org_raw("organizations/http-acme")
        for f, header in ((CONNECT_JSON, "Content-Encoding"), (CONNECT_PROTO, "Content-Encoding"),
                          (GRPC_WEB, "grpc-encoding"), (GRPC_WEB_TEXT, "grpc-encoding"),
                          (GRPC_WEB_JSON, "grpc-encoding"),
                          (STREAM_JSON, "Connect-Content-Encoding"),
                          (STREAM_PROTO, "Connect-Content-Encoding")):
            with self.subTest(framing=f):
                o = self.over_http(f, GET_ORG, raw, '{"name": "organizations/http-acme"}',
                                   self.acme_secret, {header: "gzip"})
                self.assertEqual(o.code, C.UNIMPLEMENTED, o)
                ok = self.over_http(f, GET_ORG, raw, '{"name": "organizations/http-acme"}',
                                    self.acme_secret, {header: "identity"})
                self.assertEqual(ok.code, C.OK, ok)

    def test_connect_protocol_version(self):
        raw = self.get_org_raw("organizations/http-acme")
        for f in UNARY + CONNECT_STREAM:
            with self.subTest(framing=f):
                ok = self.over_http(f, GET_ORG, raw, '{"name": "organizations/http-acme"}',
                                    self.acme_secret, {"Connect-Protocol-Version": "1"})
                self.assertEqual(ok.code, C.OK, ok)
                o = self.over_http(f, GET_ORG, raw, '{"name": "organizations/http-acme"}',
                                   self.acme_secret, {"Connect-Protocol-Version": "2"})
                self.assertEqual(o.code, C.INVALID_ARGUMENT, o)
                self.assertIn("connect-protocol-version", o.message)
                # a header's bytes that are not UTF-8, quoted in the message: still an error
                # the client can read (Connect's JSON, or its end-stream message)
                o = self.over_http(f, GET_ORG, raw, '{"name": "organizations/http-acme"}',
                                   self.acme_secret, {"Connect-Protocol-Version": "\xff\xfe1"})
                self.assertEqual(o.code, C.INVALID_ARGUMENT, o)
                self.assertIn('connect-protocol-version must be 1, got "??1"', o.message)

    # -- gRPC-Web framing, by hand --

    def test_grpc_web_answer_frames(self):
        pb = self.pb
        want = pb.health.HealthCheckResponse(
            status=pb.health.HealthCheckResponse.SERVING).SerializeToString()
        body = frame(want) + frame(b"grpc-status:0\r\n", 0x80)
        for ct in ("application/grpc-web", "application/grpc-web+proto"):
            ans = self.post(HEALTH_CHECK, frame(b""), ct)
            self.assertEqual((ans.status, ans.header("content-type"), ans.body),
                             (200, "application/grpc-web+proto", body), ans)
            self.assertIsNone(ans.header("grpc-status"), ans)
        for ct in ("application/grpc-web-text", "application/grpc-web-text+proto"):
            ans = self.post(HEALTH_CHECK, base64.b64encode(frame(b"")), ct)
            self.assertEqual((ans.status, ans.header("content-type")),
                             (200, "application/grpc-web-text+proto"), ans)
            self.assertEqual(b64decode_chunks(ans.body), body, ans)
        # a message of some size, read back frame by frame
        ans = self.post(GET_ORG, base64.b64encode(frame(self.get_org_raw(
            "organizations/http-acme"))), "application/grpc-web-text", self.acme_secret)
        frames = split_frames(b64decode_chunks(ans.body))
        self.assertEqual([f for f, _ in frames], [0, 0x80])
        self.assertEqual(pb.orgs.Organization.FromString(frames[0][1]), self.admin.call(
            "Organizations.GetOrganization", name="organizations/http-acme"))
        self.assertEqual(parse_trailers(frames[1][1]), {"grpc-status": "0"})

    def test_grpc_web_trailers_only_error(self):
        """An error is HTTP 200 with grpc-status and grpc-message (percent-encoded: the
        message quotes the non-ASCII and '%' the client sent) in the headers and no body."""
        pb = self.pb
        raw = pb.orgs.CreateOrganizationRequest(
            organization_id="http-bad-country", organization=pb.orgs.Organization(
                legal_name="X", country_code="\u00dc%",
                kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)).SerializeToString()
        expected = self.grpc(CREATE_ORG, raw, self.server.admin_secret)
        self.assertEqual(expected.code, C.INVALID_ARGUMENT)
        self.assertIn("\u00dc%", expected.message)
        for text in (False, True):
            with self.subTest(text=text):
                body = base64.b64encode(frame(raw)) if text else frame(raw)
                ans = self.post(CREATE_ORG, body, "application/grpc-web" + (
                    "-text" if text else ""), self.server.admin_secret)
                self.assertEqual((ans.status, ans.body, ans.header("grpc-status")),
                                 (200, b"", "3"), ans)
                raw_msg = ans.header("grpc-message")
                self.assertIn("%C3%9C%25", raw_msg)
                self.assertEqual(urllib.parse.unquote(raw_msg), expected.message)

    def test_frame_errors(self):
        """An enveloped body (gRPC-Web, Connect streaming) must be exactly one uncompressed
        message frame."""
        raw = self.get_org_raw("organizations/http-acme")
        js = b'{"name": "organizations/http-acme"}'
        for f in GRPC_WEBS + CONNECT_STREAM:
            msg = js if f in JSON_FRAMINGS else raw
            bad = (
                ("length says more", b"\x00" + struct.pack(">I", len(msg) + 4) + msg,
                 C.INVALID_ARGUMENT),
                ("length says less", b"\x00" + struct.pack(">I", len(msg) - 1) + msg,
                 C.INVALID_ARGUMENT),
                ("two frames", frame(msg) + frame(msg), C.INVALID_ARGUMENT),
                ("a trailer frame", frame(msg, 0x80), C.INVALID_ARGUMENT),
                ("an end-stream frame", frame(msg, 0x02), C.INVALID_ARGUMENT),
                ("a short header", b"\x00\x00\x00", C.INVALID_ARGUMENT),
                ("no body", b"", C.INVALID_ARGUMENT),
                ("compressed (flag 1)", frame(msg, 0x01), C.UNIMPLEMENTED),
            )
            for what, body, code in bad:
                with self.subTest(what=what, framing=f):
                    ans = self.post(GET_ORG, base64.b64encode(body) if f == GRPC_WEB_TEXT
                                    else body, CONTENT_TYPE[f], self.acme_secret)
                    o = self.outcome(f, ans)
                    self.assertEqual(o.code, code, o)
        for text in ("not base64!", "AAAAA", "AA=A"):
            with self.subTest(base64=text):
                o = self.outcome(GRPC_WEB_TEXT, self.post(
                    GET_ORG, text.encode(), "application/grpc-web-text", self.acme_secret))
                self.assertEqual(o.code, C.INVALID_ARGUMENT, o)

    # -- deadlines --

    def test_deadlines(self):
        raw = self.get_org_raw("organizations/http-acme")
        js = '{"name": "organizations/http-acme"}'
        cases = []
        for f in UNARY + CONNECT_STREAM:
            cases += [(f, {"Connect-Timeout-Ms": v}, C.INVALID_ARGUMENT)
                      for v in ("abc", "-1", "1.5", "12345678901", "")]
            cases += [(f, {"Connect-Timeout-Ms": "10000"}, C.OK),
                      (f, {"Connect-Timeout-Ms": "0"}, C.DEADLINE_EXCEEDED),
                      # the gRPC-Web header means nothing to Connect
                      (f, {"grpc-timeout": "abc"}, C.OK)]
        for f in GRPC_WEBS:
            cases += [(f, {"grpc-timeout": v}, C.INVALID_ARGUMENT)
                      for v in ("abc", "10", "1x", "123456789S", "-1S", "S")]
            cases += [(f, {"grpc-timeout": v}, C.OK) for v in ("10S", "10000m", "1M")]
            cases += [(f, {"grpc-timeout": "0m"}, C.DEADLINE_EXCEEDED),
                      (f, {"Connect-Timeout-Ms": "abc"}, C.OK)]
        for f, headers, code in cases:
            with self.subTest(framing=f, headers=headers):
                o = self.over_http(f, GET_ORG, raw, js, self.acme_secret, headers)
                self.assertEqual(o.code, code, o)
                if code == C.INVALID_ARGUMENT:
                    self.assertIn("timeout", o.message)

    # -- CORS --

    def test_cors_preflight(self):
        wanted = ("content-type", "authorization", "connect-protocol-version",
                  "connect-timeout-ms", "connect-content-encoding", "connect-accept-encoding",
                  "grpc-timeout", "x-grpc-web", "x-user-agent", "x-request-id")
        for origin in (ORIGIN_A, ORIGIN_B):
            with self.subTest(origin=origin):
                ans = http_request(self.http_port, "OPTIONS", GET_ORG, headers={
                    "Origin": origin, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type,authorization"})
                self.assertEqual(ans.status, 204, ans)
                self.assertEqual(ans.header("access-control-allow-origin"), origin, ans)
                methods = [m.strip() for m in
                           (ans.header("access-control-allow-methods") or "").split(",")]
                self.assertIn("POST", methods, ans)
                allowed = [h.strip().lower() for h in
                           (ans.header("access-control-allow-headers") or "").split(",")]
                for h in wanted:
                    self.assertIn(h, allowed, ans)
                self.assertIn("origin", (ans.header("vary") or "").lower(), ans)
        for origin in (ORIGIN_OTHER, None, "http://a.example.evil", "null"):
            with self.subTest(origin=origin):
                headers = {"Access-Control-Request-Method": "POST"}
                if origin:
                    headers["Origin"] = origin
                ans = http_request(self.http_port, "OPTIONS", GET_ORG, headers=headers)
                self.assertEqual(ans.status, 403, ans)
                for h in ("access-control-allow-origin", "access-control-allow-methods",
                          "access-control-allow-headers"):
                    self.assertIsNone(ans.header(h), ans)

    def test_cors_on_answers(self):
        raw = self.get_org_raw("organizations/http-acme")
        missing = self.get_org_raw("organizations/http-never")
        exposed = ("grpc-status", "grpc-message", "x-request-id", "content-type")
        for f in FRAMINGS:
            for what, body, js in (("ok", raw, '{"name": "organizations/http-acme"}'),
                                   ("error", missing, '{"name": "organizations/http-never"}')):
                with self.subTest(framing=f, answer=what):
                    ans = self.send(f, GET_ORG, body, js, self.acme_secret, {"Origin": ORIGIN_B})
                    self.assertEqual(self.outcome(f, ans).code,
                                     C.OK if what == "ok" else C.NOT_FOUND)
                    self.assertEqual(ans.header("access-control-allow-origin"), ORIGIN_B, ans)
                    expose = [h.strip().lower() for h in
                              (ans.header("access-control-expose-headers") or "").split(",")]
                    for h in exposed:
                        self.assertIn(h, expose, ans)
                    self.assertIn("origin", (ans.header("vary") or "").lower(), ans)
                    other = self.send(f, GET_ORG, body, js, self.acme_secret,
                                      {"Origin": ORIGIN_OTHER})
                    self.assertEqual(self.outcome(f, other).code, self.outcome(f, ans).code)
                    self.assertIsNone(other.header("access-control-allow-origin"), other)
                    self.assertIsNone(other.header("access-control-expose-headers"), other)
                    self.assertNotIn("*", [v for k, v in ans.header_list
                                           if k.lower().startswith("access-control")])

    # -- the other paths --

    def test_health_endpoints_and_other_paths(self):
        port = self.http_port
        ans = http_request(port, "GET", "/healthz")
        self.assertEqual((ans.status, ans.body.strip()), (200, b"ok"), ans)
        ans = http_request(port, "GET", "/readyz")
        self.assertEqual((ans.status, ans.body.strip()), (200, b"ready"), ans)
        for path in ("/healthz", "/readyz"):  # load balancers may ask with HEAD
            ans = http_request(port, "HEAD", path)
            self.assertEqual((ans.status, ans.body), (200, b""), ans)
        ans = http_request(port, "GET", "/")  # the console
        self.assertEqual((ans.status, ans.header("Location")), (302, "/console/"), ans)
        for method, path in (("GET", "/nope"), ("POST", "/nope"), ("POST", "/"),
                             ("GET", "/supplysec.v1.Organizations"),
                             ("POST", "/supplysec.v1.Organizations/GetOrganization/x"),
                             ("GET", "/healthz/"), ("GET", "/a/b/c")):
            with self.subTest(method=method, path=path):
                self.assertEqual(http_request(port, method, path).status, 404)
        # GET only of the methods marked NO_SIDE_EFFECTS; no other HTTP method on a method
        for method, path in (("GET", CREATE_ORG), ("GET", HEALTH_CHECK), ("PUT", GET_ORG),
                             ("DELETE", GET_ORG), ("PATCH", CREATE_ORG)):
            with self.subTest(method=method, path=path):
                ans = http_request(port, method, path + "?connect=v1&encoding=json&message=%7B%7D",
                                   b"{}", {"Content-Type": "application/json",
                                           "Authorization": "Bearer " + self.acme_secret})
                self.assertEqual(ans.status, 405, ans)
        for ct in ("text/plain", "application/xml", "application/grpc", "application/json5",
                   "application/grpc-webx", "application/connect+jsonx",
                   "application/grpc-web-text+json", "application/connect", None):
            with self.subTest(content_type=ct):
                headers = {"Authorization": "Bearer " + self.acme_secret}
                if ct:
                    headers["Content-Type"] = ct
                ans = http_request(port, "POST", GET_ORG, b'{"name":"organizations/http-acme"}',
                                   headers)
                self.assertEqual(ans.status, 415, ans)
                self.assertTrue((ans.header("content-type") or "").startswith("text/plain"), ans)
        # media types compare without case and with parameters
        for ct in ("Application/JSON", "application/json; charset=utf-8"):
            with self.subTest(content_type=ct):
                ans = self.post(GET_ORG, b'{"name":"organizations/http-acme"}', ct,
                                self.acme_secret)
                self.assertEqual(ans.status, 200, ans)

    # -- request ids and the call log --

    def test_request_ids_and_log_lines(self):
        raw = self.get_org_raw("organizations/http-acme")
        missing = self.get_org_raw("organizations/http-never")
        sent = {}
        for f in FRAMINGS:
            for what, body, js, code in (
                    ("ok", raw, '{"name": "organizations/http-acme"}', C.OK),
                    ("nf", missing, '{"name": "organizations/http-never"}', C.NOT_FOUND)):
                rid = "rid-%s-%s-%d" % (f, what, os.getpid())
                with self.subTest(framing=f, answer=what):
                    ans = self.send(f, GET_ORG, body, js, self.acme_secret, {"x-request-id": rid})
                    self.assertEqual(self.outcome(f, ans).code, code)
                    self.assertEqual(ans.header("x-request-id"), rid, ans)
                    sent[rid] = (PROTOCOL[f], code)
                    gen = self.send(f, GET_ORG, body, js, self.acme_secret)
                    self.assertRegex(gen.header("x-request-id") or "", r"^[0-9a-f]{32}$", gen)
                    # an id that is not sane is replaced by a generated one
                    for insane in ("has space", "x" * 65, "caf\u00e9".encode().decode("latin-1")):
                        odd = self.send(f, GET_ORG, body, js, self.acme_secret,
                                        {"x-request-id": insane})
                        self.assertRegex(odd.header("x-request-id") or "", r"^[0-9a-f]{32}$", odd)
        # a keyless call without a key, and an unknown method, are logged too
        ans = self.post(HEALTH_CHECK, b"", "application/proto", headers={"x-request-id": "rid-hc"})
        self.assertEqual((ans.status, ans.header("x-request-id")), (200, "rid-hc"), ans)
        sent["rid-hc"] = ("connect", C.OK)
        unknown = "/supplysec.v1.NoSuch/Get"
        ans = self.post(unknown, frame(b""), "application/grpc-web",
                        headers={"x-request-id": "rid-unknown"})
        self.assertEqual((ans.header("grpc-status"), ans.header("x-request-id")),
                         (str(C.UNIMPLEMENTED.value[0]), "rid-unknown"), ans)
        sent["rid-unknown"] = ("grpc-web", C.UNIMPLEMENTED)
        lines = {}
        for obj in log_objects(self.server.log_text()):
            if obj.get("msg") == "call" and obj.get("request_id") in sent:
                lines.setdefault(obj["request_id"], []).append(obj)
        # the principal and organization as a gRPC call of the same key logs them
        self.server.client(self.acme_secret).call(
            "Organizations.GetOrganization", name="organizations/http-acme",
            metadata=[("x-request-id", "rid-grpc")])
        # a worker writes its gathered log lines when it next waits, which may be just
        # after the client has its answer
        deadline = time.monotonic() + 5
        while True:
            grpc_lines = [o for o in log_objects(self.server.log_text())
                          if o.get("request_id") == "rid-grpc"]
            if grpc_lines or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(grpc_lines), 1, grpc_lines)
        self.assertNotIn("protocol", grpc_lines[0])
        self.assertEqual(grpc_lines[0].get("principal"), self.acme_key.api_key.name)
        for rid, (protocol, code) in sorted(sent.items()):
            with self.subTest(request_id=rid):
                self.assertEqual(len(lines.get(rid, [])), 1, "call lines for %s: %r" % (
                    rid, lines.get(rid)))
                line = lines[rid][0]
                self.assertEqual(line.get("protocol"), protocol, line)
                self.assertEqual(line.get("status"), code.name, line)
                if rid in ("rid-hc", "rid-unknown"):
                    self.assertEqual(line.get("method"),
                                     HEALTH_CHECK if rid == "rid-hc" else unknown, line)
                    self.assertEqual(line.get("principal"), "", line)
                    continue
                self.assertEqual(line.get("method"), GET_ORG, line)
                for k in ("principal", "organization"):
                    self.assertEqual(line.get(k), grpc_lines[0].get(k), line)
                self.assertIsInstance(line.get("duration_us"), int, line)
                if code != C.OK:
                    self.assertIn("http-never", line.get("error", ""), line)

    def test_every_answer_to_a_method_path_carries_a_request_id(self):
        """docs/api.md: "Every answer carries x-request-id (yours, when you send a sane one)",
        those the HTTP layer gives a request to a method's path included."""
        for status, method, path, body, headers in (
                (415, "POST", GET_ORG, b"{}", {"Content-Type": "text/plain"}),
                (405, "PUT", GET_ORG, b"{}", {"Content-Type": "application/json"}),
                (405, "GET", CREATE_ORG, b"", {})):
            rid = "rid-%d-%s" % (status, method)
            with self.subTest(status=status, method=method):
                ans = http_request(self.http_port, method, path, body,
                                   dict(headers, **{"x-request-id": rid}))
                self.assertEqual(ans.status, status, ans)
                self.assertEqual(ans.header("x-request-id"), rid, ans)


class BufCurlTest(HttpTestCase):
    """buf curl, an independent client, over Connect and gRPC-Web: a call of every service
    the server's reflection lists, each answer (code and message, or the JSON answer) equal
    to the same call over gRPC."""

    @classmethod
    def fixtures(cls):
        cls.buf = buf_binary()
        if cls.buf is None:
            return
        pb = cls.pb
        cls.make_org("buf-acme", legal_name="Acme by buf")
        cls.acme_secret = cls.make_key("organizations/buf-acme", pb.common.ROLE_ADMIN).secret
        # something in two of the lists: nested messages, enums and timestamps in the JSON
        acme = cls.server.client(cls.acme_secret)
        acme.call("SecurityPolicies.CreateSecurityPolicy", parent="organizations/buf-acme",
                  security_policy=pb.policies.SecurityPolicy(
                      title="Gate rota", text="Two guards from 22:00",
                      sign_off=pb.policies.SignOff(
                          signatory_name="A. Signer", signatory_role="CEO",
                          sign_time=pb.timestamp.Timestamp(seconds=1767225600, nanos=5000))))
        acme.call("BusinessPartners.CreateBusinessPartner", parent="organizations/buf-acme",
                  business_partner=pb.partners.BusinessPartner(
                      legal_name="Carrier Sp. z o.o.", country_code="PL",
                      risk_tier=pb.partners.RISK_TIER_HIGH))
        d = tmpdir("buf-")
        cls.buf_env = dict(os.environ, BUF_CACHE_DIR=os.path.join(d, "cache"))
        # the repository's proto directory, compiled once for every call
        cls.schema = os.path.join(d, "schema.binpb")
        r = subprocess.run([cls.buf, "build", "proto", "-o", cls.schema], cwd=harness.REPO,
                           env=cls.buf_env, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise AssertionError("buf build proto failed (%d): %s" % (r.returncode, r.stderr))

    def setUp(self):
        reason = buf_skip_reason()
        if reason:
            self.skipTest(reason)

    def buf_curl(self, protocol, path, request_json, secret):
        args = [self.buf, "curl", "--schema", self.schema, "--protocol", protocol,
                "-d", request_json]
        if secret:
            args += ["-H", "authorization: Bearer " + secret]
        r = subprocess.run(args + ["http://127.0.0.1:%d%s" % (self.http_port, path)],
                           cwd=harness.REPO, env=self.buf_env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        if r.returncode == 0:
            return Outcome(C.OK, "", json_body=json.loads(r.stdout or "{}"))
        try:
            err = json.loads(r.stderr)
        except ValueError:
            raise AssertionError("buf curl %s %s exited %d: %s" % (
                protocol, path, r.returncode, r.stderr))
        code = CODE_BY_CONNECT_NAME.get(err.get("code"))
        if code is None:
            raise AssertionError("buf curl %s %s: %r" % (protocol, path, r.stderr))
        return Outcome(code, err.get("message", ""))

    def reflected_services(self):
        pb = self.pb
        fn = self.server.channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=pb.reflection.ServerReflectionRequest.SerializeToString,
            response_deserializer=pb.reflection.ServerReflectionResponse.FromString)
        out = list(fn(iter([pb.reflection.ServerReflectionRequest(list_services="*")]),
                      timeout=10))
        return sorted(s.name for s in out[0].list_services_response.service)

    def service_calls(self, service):
        """[(path, request JSON, secret)] for a service: its first List method with the
        organization as parent (when it takes one), by the organization's admin."""
        pb = self.pb
        desc = None
        for mod in pb.services:
            desc = mod.DESCRIPTOR.services_by_name.get(service.rsplit(".", 1)[-1])
            if desc is not None and desc.full_name == service:
                break
            desc = None
        self.assertIsNotNone(desc, "reflection lists %s, which no proto here defines" % service)
        lists = [m for m in desc.methods if m.name.startswith("List")
                 and not m.client_streaming and not m.server_streaming]
        self.assertTrue(lists, "%s has no List method to call" % service)
        m = lists[0]
        req = {"parent": "organizations/buf-acme"} if "parent" in m.input_type.fields_by_name \
            else {}
        return [("/%s/%s" % (service, m.name), json.dumps(req), self.acme_secret)]

    def test_health_watch_stream(self):
        """Health.Watch, a server stream, through buf curl over Connect's streaming protocol
        and gRPC-Web: the status, then the end at buf's deadline."""
        for protocol in ("connect", "grpcweb"):
            with self.subTest(protocol=protocol):
                r = subprocess.run(
                    [self.buf, "curl", "--schema", self.schema, "--protocol", protocol,
                     "--timeout", "1.5s", "-d", "{}",
                     "http://127.0.0.1:%d/grpc.health.v1.Health/Watch" % self.http_port],
                    cwd=harness.REPO, env=self.buf_env, capture_output=True, text=True,
                    timeout=60, stdin=subprocess.DEVNULL)
                self.assertNotEqual(r.returncode, 0, r)
                self.assertEqual(json.loads(r.stdout), {"status": "SERVING"}, r)
                self.assertEqual(json.loads(r.stderr).get("code"), "deadline_exceeded", r)

    def test_every_service_over_connect_and_grpc_web(self):
        admin = self.server.admin_secret
        services = self.reflected_services()
        calls = [
            (HEALTH_CHECK, "{}", None),
            (HEALTH_CHECK, '{"service": "no.such.Service"}', None),
            (GET_ORG, '{"name": "organizations/buf-acme"}', self.acme_secret),
            (GET_ORG, '{"name": "organizations/buf-never"}', self.acme_secret),
            (GET_ORG, '{"name": "organizations/buf-acme"}', None),
            (LIST_ORGS, "{}", admin),
            (LIST_ORGS, "{}", self.acme_secret),
            ("/supplysec.v1.ApiKeys/ListApiKeys", '{"parent": "organizations/buf-acme"}',
             self.acme_secret),
            ("/supplysec.v1.ApiKeys/ListApiKeys", '{"parent": "platform"}', admin),
        ]
        covered = {"grpc.health.v1.Health", "supplysec.v1.Organizations", "supplysec.v1.ApiKeys"}
        for s in services:
            if s.startswith("grpc.reflection."):
                continue  # a stream: UNIMPLEMENTED over HTTP (test_streams_are_unimplemented...)
            if s not in covered:
                calls += self.service_calls(s)
                covered.add(s)
        self.assertGreaterEqual(len(covered), 25, services)
        for s in ("grpc.health.v1.Health", "supplysec.v1.Organizations", "supplysec.v1.ApiKeys"):
            self.assertIn(s, services)

        expected = []
        for path, req_json, secret in calls:
            req_cls, resp_cls = types_of(path)
            raw = json_format.Parse(req_json, req_cls()).SerializeToString()
            expected.append(self.grpc(path, raw, secret))
        jobs = [(protocol, i) for i in range(len(calls)) for protocol in ("connect", "grpcweb")]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = {job: pool.submit(self.buf_curl, job[0], *calls[job[1]]) for job in jobs}
            got = {job: f.result() for job, f in futures.items()}
        oks = 0
        for protocol, i in jobs:
            path, req_json, secret = calls[i]
            want, o = expected[i], got[(protocol, i)]
            with self.subTest(protocol=protocol, path=path, request=req_json,
                              key="none" if not secret else "admin" if secret == admin else "org"):
                self.assertEqual(o.code, want.code, "buf: %r, gRPC: %r" % (o, want))
                if want.code != C.OK:
                    self.assertEqual(o.message, want.message)
                    continue
                oks += 1
                _, resp_cls = types_of(path)
                answer = resp_cls.FromString(want.body)
                self.assertEqual(o.json, as_dict(answer))
                for method, field in (("ListSecurityPolicies", "securityPolicies"),
                                      ("ListBusinessPartners", "businessPartners")):
                    if path.endswith("/" + method):
                        self.assertEqual(len(o.json.get(field, [])), 1, o.json)
        # the organization's lists are readable to its admin: most calls answered OK
        self.assertGreaterEqual(oks, 2 * 20, "only %d calls over buf curl were OK" % oks)

    def test_create_over_buf(self):
        """CreateOrganization over each protocol: the answer is what gRPC reads back."""
        for protocol in ("connect", "grpcweb"):
            with self.subTest(protocol=protocol):
                oid = "buf-made-" + protocol
                o = self.buf_curl(protocol, CREATE_ORG, json.dumps({
                    "organizationId": oid, "organization": {
                        "legalName": "Made by buf", "countryCode": "PL",
                        "kind": "ORGANIZATION_KIND_OPERATOR"}}), self.server.admin_secret)
                self.assertEqual(o.code, C.OK, o)
                back = self.admin.call("Organizations.GetOrganization",
                                       name="organizations/" + oid)
                self.assertEqual(o.json, as_dict(back))
                again = self.buf_curl(protocol, CREATE_ORG, json.dumps({
                    "organizationId": oid, "organization": {
                        "legalName": "Made by buf", "countryCode": "PL",
                        "kind": "ORGANIZATION_KIND_OPERATOR"}}), self.server.admin_secret)
                self.assertEqual(again.code, C.ALREADY_EXISTS, again)


# --------------------------------------------------------------------------
# Start-up, TLS and the stop
# --------------------------------------------------------------------------

class HttpStartTest(unittest.TestCase, RpcAssertions):
    """What supplysecd refuses to start with."""

    def run_server(self, *args):
        """supplysecd with args on a fresh store; (exit code, stderr) once it exits (20 s at
        most: it is killed then, and the test fails)."""
        d = tmpdir("http-start-")
        proc = subprocess.Popen(
            [SUPPLYSECD, "--listen", "127.0.0.1:%d" % harness.free_port(), "--store",
             store_uri(d)] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=dict(os.environ, MONGOC_DISABLE_SHM="1"))
        harness._live.add(proc)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            self.fail("supplysecd %s did not exit: %s" % (args, err.decode(errors="replace")))
        return proc.returncode, err.decode(errors="replace")

    def assertRefused(self, code, err, *phrases):
        """A normal non-zero exit (never a signal) and stderr saying why."""
        self.assertIsNotNone(code)
        self.assertTrue(0 < code < 128, "supplysecd %s: %s" % (exit_description(code), err))
        for p in phrases:
            self.assertIn(p, err)
        self.assertNotIn('"msg":"http listening"', err)

    def test_plaintext_off_loopback_is_refused(self):
        for listen in ("0.0.0.0:0", "[::]:0"):
            with self.subTest(listen=listen):
                code, err = self.run_server("--http-listen", listen)
                self.assertRefused(code, err, "refusing plaintext HTTP", listen)
                self.assertExit(code, 1, err)

    def test_client_certificates_need_tls(self):
        """--tls-client-ca without --tls-cert and --tls-key would check nothing: refused."""
        ca = make_ca(tmpdir("http-ca-"), "lone-ca")
        code, err = self.run_server("--tls-client-ca", ca[0], "--http-listen", "127.0.0.1:0")
        self.assertRefused(code, err, "--tls-client-ca needs TLS")
        self.assertExit(code, 1, err)

    def test_bad_and_busy_addresses_are_refused(self):
        code, err = self.run_server("--http-listen", "127.0.0.1")
        self.assertRefused(code, err, "--http-listen 127.0.0.1")
        busy = socket.socket()
        try:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            listen = "127.0.0.1:%d" % busy.getsockname()[1]
            code, err = self.run_server("--http-listen", listen)
            self.assertRefused(code, err, listen)
        finally:
            busy.close()


class HttpTlsTest(unittest.TestCase):
    """--tls-cert and --tls-key serve the HTTP port with TLS too, which lets it listen off
    loopback; a plaintext request there gets no answer. With --tls-client-ca the HTTP port,
    like the gRPC port, completes no handshake without a certificate that CA signed."""

    def start(self, http_listen, *args):
        """supplysecd with TLS args and an HTTP listener: (proc, its `http listening` line,
        a function returning its stderr so far)."""
        d = tmpdir("http-tls-")
        log = os.path.join(d, "stderr.log")
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [SUPPLYSECD, "--listen", "127.0.0.1:%d" % harness.free_port(), "--store",
                 store_uri(d), "--http-listen", http_listen] + list(args),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env=dict(os.environ, MONGOC_DISABLE_SHM="1"))
        harness._live.add(proc)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))

        def log_text():
            with open(log, "rb") as f:
                return f.read().decode(errors="replace")
        return proc, http_listening(log_text, proc, timeout=15), log_text

    def stop(self, proc, log_text):
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        self.assertEqual(code, 0, "supplysecd %s: %s" % (exit_description(code), log_text()))

    def https(self, port, ctx, method, path, body=b"", headers=None):
        """One request over TLS with ctx: an Answer."""
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            return Answer(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def test_https_off_loopback(self):
        cert, key = make_cert(tmpdir("http-tls-"))
        proc, line, log_text = self.start("0.0.0.0:0", "--tls-cert", cert, "--tls-key", key)
        self.assertEqual((line.get("tls"), line.get("listen")), (True, "0.0.0.0:0"), line)
        self.assertIs(line.get("client_certificates"), False, line)
        port = line["port"]
        ctx = ssl.create_default_context(cafile=cert)
        r = self.https(port, ctx, "POST", HEALTH_CHECK, b"{}",
                       {"Content-Type": "application/json"})
        self.assertEqual((r.status, json.loads(r.body)), (200, {"status": "SERVING"}))
        try:
            ans = http_request(port, "GET", "/healthz", timeout=3)
        except (http.client.HTTPException, OSError):
            ans = None
        self.assertIsNone(ans, "plaintext answered on the TLS port")
        self.stop(proc, log_text)

    def test_client_certificates(self):
        """A client without a certificate, or with one another CA signed, gets no answer, not
        even /healthz; one with a certificate the CA signed is served, over Connect and
        gRPC-Web alike."""
        m = make_mtls(tmpdir("http-mtls-"))
        ca, other_ca, server, good, foreign = (
            m["ca"], m["other_ca"], m["server"], m["good"], m["foreign"])
        proc, line, log_text = self.start("127.0.0.1:0", "--tls-cert", server[0], "--tls-key",
                                          server[1], "--tls-client-ca", ca[0])
        self.assertEqual((line.get("tls"), line.get("client_certificates")), (True, True), line)
        port = line["port"]

        def context(client=None):
            ctx = ssl.create_default_context(cafile=ca[0])
            if client:
                ctx.load_cert_chain(client[0], client[1])
            return ctx

        served = context(good)
        r = self.https(port, served, "POST", HEALTH_CHECK, b"{}",
                       {"Content-Type": "application/json"})
        self.assertEqual((r.status, json.loads(r.body)), (200, {"status": "SERVING"}))
        msg = protos().health.HealthCheckRequest().SerializeToString()
        r = self.https(port, served, "POST", HEALTH_CHECK, frame(msg),
                       {"Content-Type": "application/grpc-web+proto"})
        self.assertEqual(r.status, 200, r)
        frames = split_frames(r.body)
        self.assertEqual([f for f, _ in frames], [0, 0x80], r)
        self.assertEqual(parse_trailers(frames[1][1]).get("grpc-status"), "0", r)

        for what, ctx in (("no client certificate", context()),
                          ("a certificate signed by another CA", context(foreign)),
                          ("the other CA's own certificate", context(other_ca)),
                          ("the CA's server-only certificate", context(m["server_only"]))):
            for path in ("/healthz", HEALTH_CHECK):
                with self.subTest(client=what, path=path):
                    try:
                        ans = self.https(port, ctx, "GET" if path == "/healthz" else "POST",
                                         path, b"" if path == "/healthz" else b"{}",
                                         {"Content-Type": "application/json"})
                    except (ssl.SSLError, http.client.HTTPException, OSError):
                        ans = None
                    self.assertIsNone(ans, "answered a client with %s" % what)
        # still serving: the refusals were the certificates' doing
        self.assertEqual(self.https(port, served, "GET", "/healthz").status, 200)
        self.stop(proc, log_text)


CACHED = ("--auth-cache-ms", "60000")


class HttpStopTest(unittest.TestCase):
    """SIGTERM with an HTTP call in flight: the listener takes no new connection, a call on
    a connection already open is answered UNAVAILABLE and /readyz 503, the call in flight
    finishes, and the process exits 0."""

    def test_stop_with_a_call_in_flight(self):
        double = None
        if harness.STORE_KIND == "mongodb":
            # its own double, stopped with SIGSTOP to hold the store
            double = harness.MongoDouble()
            self.addCleanup(lambda: double.proc.poll() is None and (
                double.proc.send_signal(signal.SIGCONT), double.proc.kill(), double.proc.wait()))
            srv = Server(store=double.uri("httpstop"), extra_args=http_args(*CACHED))
        else:
            srv = Server(extra_args=http_args(*CACHED))
        srv.start()
        self.addCleanup(srv.kill)
        port = http_port(srv)
        secret = srv.admin_secret
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(kept.close)
        first = http_request(port, "POST", HEALTH_CHECK, b"{}",
                             {"Content-Type": "application/json"}, conn=kept)
        self.assertEqual(first.status, 200, first)

        # The key is judged when a request's headers arrive (how much body to keep), and a
        # call counts as in flight from its whole request on; a request whose body is still
        # arriving at the stop is answered UNAVAILABLE. Verify the key now, so that the
        # create below is judged from the authentication cache (kept a minute here: CACHED),
        # not from the held store.
        warm = http_request(port, "POST", GET_ORG, b'{"name": "organizations/warm"}',
                            {"Content-Type": "application/json",
                             "Authorization": "Bearer " + secret}, conn=kept)
        self.assertEqual(warm.status, 404, warm)

        # hold the store, and start a create that waits for it
        hold = None
        if double is None:
            hold = sqlite3.connect(srv.store[len("sqlite:"):], isolation_level=None, timeout=0)
            hold.execute("BEGIN IMMEDIATE")
            self.addCleanup(hold.close)
        else:
            double.proc.send_signal(signal.SIGSTOP)

        def release():
            if hold is not None:
                if hold.in_transaction:
                    hold.execute("ROLLBACK")
            elif double.proc.poll() is None:
                double.proc.send_signal(signal.SIGCONT)
        self.addCleanup(release)

        result = {}

        def create():
            try:
                result["answer"] = http_request(port, "POST", CREATE_ORG, json.dumps({
                    "organizationId": "http-drain", "organization": {
                        "legalName": "Drained", "countryCode": "DE",
                        "kind": "ORGANIZATION_KIND_OPERATOR"}}).encode(), {
                    "Content-Type": "application/json", "Authorization": "Bearer " + secret,
                    "x-request-id": "http-drain"}, timeout=30)
            except Exception as e:  # reported below
                result["error"] = e
        t = threading.Thread(target=create, daemon=True)
        t.start()
        time.sleep(0.5)
        self.assertTrue(t.is_alive(), "the create did not wait for the held store: %r" % result)

        srv.signal()
        deadline = time.monotonic() + 3
        while True:  # no new connection is taken
            try:
                http_request(port, "GET", "/healthz", timeout=1)
            except OSError:
                break
            self.assertLess(time.monotonic(), deadline, "a new HTTP connection was served "
                            "3 s after SIGTERM")
            time.sleep(0.05)
        self.assertIsNone(srv.proc.poll(), "supplysecd exited with an HTTP call in flight")
        # the connection opened before: a call is UNAVAILABLE, /readyz 503
        refused = http_request(port, "POST", HEALTH_CHECK, b"{}",
                               {"Content-Type": "application/json"}, conn=kept)
        self.assertEqual(refused.status, 503, refused)
        self.assertEqual(json.loads(refused.body).get("code"), "unavailable", refused)
        self.assertRegex(refused.header("x-request-id") or "", r"^[0-9a-f]{32}$", refused)
        refused = http_request(port, "POST", HEALTH_CHECK, frame(b""),
                               {"Content-Type": "application/grpc-web"}, conn=kept)
        self.assertEqual((refused.status, refused.header("grpc-status"), refused.body),
                         (200, str(C.UNAVAILABLE.value[0]), b""), refused)
        ready = http_request(port, "GET", "/readyz", conn=kept)
        self.assertEqual(ready.status, 503, ready)
        self.assertTrue(t.is_alive(), "the call in flight ended before the store let it")

        release()
        t.join(15)
        self.assertFalse(t.is_alive(), "the call in flight did not end after the release")
        self.assertNotIn("error", result)
        ans = result["answer"]
        self.assertEqual(ans.status, 200, ans)
        self.assertEqual(json.loads(ans.body).get("name"), "organizations/http-drain", ans)
        kept.close()
        code = srv.wait()
        self.assertEqual(code, 0, "supplysecd %s: %s" % (exit_description(code), srv.log_tail()))
        with self.assertRaises(OSError):
            http_request(port, "GET", "/healthz", timeout=1)
        lines = [o for o in log_objects(srv.log_text()) if o.get("request_id") == "http-drain"]
        self.assertEqual([(o.get("protocol"), o.get("status")) for o in lines],
                         [("connect", "OK")], lines)
        # the write made during the drain is in the store
        srv2 = Server(store_dir=srv.dir, store=srv.store, bootstrap=False)
        srv2.admin_secret = srv.admin_secret
        with srv2:
            got = srv2.admin().call("Organizations.GetOrganization",
                                    name="organizations/http-drain")
            self.assertEqual(as_dict(got), json.loads(ans.body))

    def test_stop_ends_a_grpc_web_stream(self):
        """A Health.Watch open over gRPC-Web when SIGTERM comes ends with UNAVAILABLE
        (the client reconnects elsewhere), and the server exits 0 soon after."""
        srv = Server(extra_args=http_args())
        srv.start()
        self.addCleanup(srv.kill)
        port = http_port(srv)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        self.addCleanup(conn.close)
        conn.request("POST", "/grpc.health.v1.Health/Watch", body=frame(b""),
                     headers={"Content-Type": "application/grpc-web"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        first = resp.read1(64)
        self.assertEqual(first[:1], b"\x00", first)  # a message frame: SERVING
        started = time.monotonic()
        srv.signal()
        rest = resp.read()
        frames = split_frames(first + rest)
        self.assertEqual(frames[-1][0], 0x80, frames)
        trailers = parse_trailers(frames[-1][1])
        self.assertEqual(trailers.get("grpc-status"), str(C.UNAVAILABLE.value[0]), trailers)
        self.assertLess(time.monotonic() - started, 5, "the stream outlived the stop")
        code = srv.wait()
        self.assertEqual(code, 0, "supplysecd %s: %s" % (exit_description(code), srv.log_tail()))


if __name__ == "__main__":
    unittest.main()
