"""End-to-end test harness for supplysec.

Run with Debian's /usr/bin/python3 (python3-grpcio 1.51, python3-protobuf 3.21).

* Message classes are generated once per run with protoc into a temp dir.
* `Server` starts BUILD/supplysecd on a free loopback port with a fresh store.
* `bootstrap(store_uri)` runs `supplysecd bootstrap` and returns the secret.
* `Client` calls methods by path ("Organizations.GetOrganization").
"""

import atexit
import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("SUPPLYSEC_BUILD_DIR") or os.path.join(REPO, "build"))
SUPPLYSECD = os.path.join(BUILD, "supplysecd")
SUPPLYSEC = os.path.join(BUILD, "supplysec")

ID_RE = re.compile(r"[a-z][a-z0-9-]{2,62}")
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 20.0
CALL_TIMEOUT = 10.0

_TMP_ROOT = tempfile.mkdtemp(prefix="supplysec-e2e-")
if not os.environ.get("SUPPLYSEC_E2E_KEEP"):  # set it to keep the servers' logs and stores
    atexit.register(shutil.rmtree, _TMP_ROOT, True)


def tmpdir(prefix="t-"):
    """A fresh directory removed at the end of the run."""
    return tempfile.mkdtemp(prefix=prefix, dir=_TMP_ROOT)


# --------------------------------------------------------------------------
# Generated message classes
# --------------------------------------------------------------------------

class _Protos:
    pass


_protos = None


def protos():
    """Generate (once per run) and import the python message classes.

    Returns an object with attributes: orgs, keys, policies, statements,
    partners, declarations, requests, reviews, scoring, assessments, scenarios,
    countermeasures, objectives, incidents, plans, items, trainings,
    monitorings, mgmt_reviews, readiness, audit, validation_grants, shares, recognitions,
    attestations, common, health, empty,
    field_mask, timestamp (modules)."""
    global _protos
    if _protos is not None:
        return _protos
    out = tmpdir("gen-")
    files = sorted(
        os.path.join("proto", "supplysec", "v1", f)
        for f in os.listdir(os.path.join(REPO, "proto", "supplysec", "v1"))
        if f.endswith(".proto"))
    files.append(os.path.join("proto", "grpc", "health", "v1", "health.proto"))
    files.append(os.path.join("proto", "grpc", "reflection", "v1", "reflection.proto"))
    r = subprocess.run(
        ["protoc", "-I", "proto", "-I", "/usr/include", "--python_out=" + out] + files,
        cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("protoc failed (%d): %s" % (r.returncode, r.stderr))
    sys.path.insert(0, out)
    p = _Protos()
    p.out = out
    p.common = importlib.import_module("supplysec.v1.common_pb2")
    p.orgs = importlib.import_module("supplysec.v1.organizations_pb2")
    p.keys = importlib.import_module("supplysec.v1.api_keys_pb2")
    p.policies = importlib.import_module("supplysec.v1.security_policies_pb2")
    p.statements = importlib.import_module("supplysec.v1.statements_of_application_pb2")
    p.partners = importlib.import_module("supplysec.v1.business_partners_pb2")
    p.declarations = importlib.import_module("supplysec.v1.declarations_pb2")
    p.requests = importlib.import_module("supplysec.v1.declaration_requests_pb2")
    p.reviews = importlib.import_module("supplysec.v1.credibility_reviews_pb2")
    p.scoring = importlib.import_module("supplysec.v1.scoring_schemes_pb2")
    p.assessments = importlib.import_module("supplysec.v1.security_assessments_pb2")
    p.scenarios = importlib.import_module("supplysec.v1.threat_scenarios_pb2")
    p.countermeasures = importlib.import_module("supplysec.v1.countermeasures_pb2")
    p.objectives = importlib.import_module("supplysec.v1.security_objectives_pb2")
    p.incidents = importlib.import_module("supplysec.v1.security_incidents_pb2")
    p.plans = importlib.import_module("supplysec.v1.security_plans_pb2")
    p.items = importlib.import_module("supplysec.v1.plan_items_pb2")
    p.trainings = importlib.import_module("supplysec.v1.training_records_pb2")
    p.monitorings = importlib.import_module("supplysec.v1.monitoring_records_pb2")
    p.mgmt_reviews = importlib.import_module("supplysec.v1.management_reviews_pb2")
    p.readiness = importlib.import_module("supplysec.v1.readiness_pb2")
    p.audit = importlib.import_module("supplysec.v1.audit_log_pb2")
    p.validation_grants = importlib.import_module("supplysec.v1.validation_grants_pb2")
    p.shares = importlib.import_module("supplysec.v1.shares_pb2")
    p.recognitions = importlib.import_module("supplysec.v1.recognitions_pb2")
    p.attestations = importlib.import_module("supplysec.v1.attestations_pb2")
    # The generated health and reflection modules would live in package `grpc`,
    # which is the installed grpcio package: load them by path under other names.
    p.health = _load_by_path("supplysec_e2e_health_pb2",
                             os.path.join(out, "grpc", "health", "v1", "health_pb2.py"))
    p.reflection = _load_by_path("supplysec_e2e_reflection_pb2",
                                 os.path.join(out, "grpc", "reflection", "v1", "reflection_pb2.py"))
    from google.protobuf import empty_pb2, field_mask_pb2, timestamp_pb2
    p.empty = empty_pb2
    p.field_mask = field_mask_pb2
    p.timestamp = timestamp_pb2
    # the modules that define services: one line per proto file with a service
    p.services = [p.orgs, p.keys, p.policies, p.statements, p.partners, p.declarations,
                  p.requests, p.reviews, p.scoring, p.assessments, p.scenarios,
                  p.countermeasures, p.objectives, p.incidents, p.plans, p.items, p.trainings,
                  p.monitorings, p.mgmt_reviews, p.readiness, p.audit, p.validation_grants,
                  p.shares, p.recognitions, p.attestations, p.health]
    _protos = p
    return p


def _load_by_path(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _method_types(path):
    """'/pkg.Service/Method' -> (request class, response class)."""
    p = protos()
    svc, method = path.lstrip("/").split("/")
    for mod in p.services:
        for s in mod.DESCRIPTOR.services_by_name.values():
            if s.full_name == svc and method in s.methods_by_name:
                m = s.methods_by_name[method]
                return _message_class(m.input_type), _message_class(m.output_type)
    raise KeyError(path)


def _message_class(desc):
    p = protos()
    for mod in p.services + [p.common, p.empty, p.field_mask, p.timestamp]:
        if desc.file.name == mod.DESCRIPTOR.name:
            obj = mod
            # nested types are not used as method types; top-level is enough
            return getattr(obj, desc.name)
    raise KeyError(desc.full_name)


def method_path(name):
    """'Organizations.GetOrganization' -> '/supplysec.v1.Organizations/GetOrganization'.
    Paths starting with '/' are returned unchanged."""
    if name.startswith("/"):
        return name
    svc, method = name.split(".")
    if svc == "Health":
        return "/grpc.health.v1.Health/" + method
    return "/supplysec.v1.%s/%s" % (svc, method)


# --------------------------------------------------------------------------
# Calls
# --------------------------------------------------------------------------

def auth_md(secret):
    return [("authorization", "Bearer " + secret)]


class Client:
    """Calls supplysec methods by name with an optional bearer secret."""

    def __init__(self, channel, secret=None):
        self.channel = channel
        self.secret = secret

    def with_secret(self, secret):
        return Client(self.channel, secret)

    def callable(self, name, raw_request=False):
        path = method_path(name)
        req_cls, resp_cls = _method_types(path)
        ser = (lambda b: b) if raw_request else req_cls.SerializeToString
        return self.channel.unary_unary(
            path, request_serializer=ser, response_deserializer=resp_cls.FromString)

    def request(self, method, /, **fields):
        req_cls, _ = _method_types(method_path(method))
        return req_cls(**fields)

    def call(self, method, /, request=None, metadata=None, timeout=CALL_TIMEOUT,
             with_call=False, raw_request=False, secret=None, **fields):
        """Call `method` (e.g. "Organizations.GetOrganization") with `request` (or a request built from **fields).

        Sends `authorization: Bearer <secret>` when a secret is set (pass
        secret="" to send none). Returns the response, or (response, call)
        when with_call is true."""
        if request is None:
            request = self.request(method, **fields)
        md = []
        s = self.secret if secret is None else secret
        if s:
            md += auth_md(s)
        if metadata:
            md += list(metadata)
        fn = self.callable(method, raw_request=raw_request)
        if with_call:
            return fn.with_call(request, metadata=md or None, timeout=timeout)
        return fn(request, metadata=md or None, timeout=timeout)


def rpc_code(fn, *args, **kwargs):
    """Run fn; return grpc.StatusCode.OK or the RpcError's code (and the error)."""
    try:
        fn(*args, **kwargs)
    except grpc.RpcError as e:
        return e.code(), e
    return grpc.StatusCode.OK, None


class RpcAssertions:
    """Mixin for unittest.TestCase."""

    def assertRpcError(self, code, fn, *args, **kwargs):
        """Assert fn(*args, **kwargs) raises grpc.RpcError with `code` (or one
        of the codes, when a set/tuple is given). Returns the error."""
        codes = set(code) if isinstance(code, (set, tuple, list, frozenset)) else {code}
        try:
            r = fn(*args, **kwargs)
        except grpc.RpcError as e:
            self.assertIn(e.code(), codes,
                          "expected %s, got %s: %r" % (
                              "/".join(sorted(c.name for c in codes)), e.code().name, e.details()))
            return e
        self.fail("expected %s, got OK: %r" % (
            "/".join(sorted(c.name for c in codes)), r))

    def assertNotOk(self, fn, *args, **kwargs):
        try:
            r = fn(*args, **kwargs)
        except grpc.RpcError as e:
            return e
        self.fail("expected an error, got OK: %r" % (r,))

    def assertExit(self, returncode, code, output="", contains=None):
        """Assert a process ended with exactly exit code `code` and, when
        `contains` is given, that its output (bytes or str) says so. A refusal
        is a specific exit code and message: a crash (killed by a signal, or
        128+signal as a shell reports it) never passes for one."""
        text = output.decode(errors="replace") if isinstance(output, bytes) else (output or "")
        self.assertIsNotNone(returncode, "the process is still running")
        if returncode != code and (returncode < 0 or returncode >= 128):
            self.fail("expected exit code %d, but the process %s: %s" % (
                code, exit_description(returncode), text[-3000:]))
        self.assertEqual(returncode, code, "expected exit code %d, got %d: %s" % (
            code, returncode, text[-3000:]))
        if contains is not None:
            self.assertIn(contains, text, "the output does not say %r" % contains)


def exit_description(returncode):
    """'exited with 1', 'was killed by SIGSEGV', ..."""
    if returncode is None:
        return "is still running"
    sig = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "signal %d" % sig
        return ("was killed by %s" if returncode < 0 else "exited with %d (128+%%s, a signal)"
                % returncode) % name
    return "exited with %d" % returncode


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# Which store the servers of this run use: "sqlite" (default) or "mongodb",
# the MongoDB backend against the wire-protocol double in tests/mongo_double/
# (one double for the run, one database per store directory).
STORE_KIND = os.environ.get("SUPPLYSEC_E2E_STORE", "sqlite")
MONGO_DOUBLE = os.path.join(REPO, "tests", "mongo_double", "mongo_double.py")


class MongoDouble:
    """The MongoDB wire-protocol double as a process on a free loopback port."""

    def __init__(self, args=()):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", MONGO_DOUBLE, "--port", "0", *args], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        _live.add(self.proc)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            self.proc.kill()
            raise ServerError("the MongoDB double did not start: %r" % line)
        self.port = int(line[1])

    def uri(self, database):
        return "mongodb://127.0.0.1:%d/%s" % (self.port, database)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)


_double = None


def log_objects(text):
    """The JSON objects of a server log's lines (other lines skipped)."""
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def http_listening(log_text, proc, timeout=5.0):
    """The server's `http listening` log line (the listener starts after the gRPC port
    serves), read from log_text() while proc runs."""
    deadline = time.monotonic() + timeout
    while True:
        for obj in log_objects(log_text()):
            if obj.get("msg") == "http listening":
                return obj
        if time.monotonic() > deadline or proc.poll() is not None:
            raise ServerError("no `http listening` line: %s" % log_text()[-2000:])
        time.sleep(0.02)


def http_port(server):
    """The HTTP port of a started Server given `--http-listen 127.0.0.1:0`."""
    return http_listening(server.log_text, server.proc)["port"]


def mongo_double():
    """The run's shared double, started on first use."""
    global _double
    if _double is None:
        _double = MongoDouble()
    return _double


# A real MongoDB deployment, when one is at hand: its URI (any database path is
# replaced per store). Tests that need one skip without it, saying so.
REAL_MONGODB_URI = os.environ.get("SUPPLYSEC_TEST_MONGODB_URI", "")


def real_mongodb_uri(database):
    """REAL_MONGODB_URI with its database replaced by `database`."""
    base, _, query = REAL_MONGODB_URI.partition("?")
    scheme, _, rest = base.partition("://")
    hosts = rest.split("/", 1)[0]
    return "%s://%s/%s%s" % (scheme, hosts, database, "?" + query if query else "")


def store_uri(directory):
    """The store of a store directory: a SQLite file in it, or a database
    named after it on MongoDB (the real one when given, else the run's double)."""
    if STORE_KIND == "mongodb":
        name = re.sub(r"[^A-Za-z0-9_-]", "_", os.path.basename(directory))
        return real_mongodb_uri(name) if REAL_MONGODB_URI else mongo_double().uri(name)
    return "sqlite:" + os.path.join(directory, "db.sqlite")


class BootstrapError(AssertionError):
    pass


def bootstrap_run(uri, timeout=30):
    """Run `supplysecd bootstrap --store URI`; return the CompletedProcess (bytes)."""
    return subprocess.run([SUPPLYSECD, "bootstrap", "--store", uri],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def bootstrap(uri):
    """Bootstrap a store; return the platform-admin secret (stdout minus its newline)."""
    r = bootstrap_run(uri)
    if r.returncode != 0:
        raise BootstrapError("supplysecd bootstrap exited %d: %s" % (
            r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    out = r.stdout.decode()
    if not out.endswith("\n") or out.count("\n") != 1 or not out.strip():
        raise BootstrapError("bootstrap stdout is not exactly one secret and a newline: %r" % out)
    return out[:-1]


CHANNEL_OPTIONS = [
    # Reconnect quickly while the server starts (the default backoff is 1 s,
    # growing). Not grpc.min_reconnect_backoff_ms: it is also the connect
    # timeout, and a small one aborts slow handshakes.
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 250),
]


def channel(addr):
    return grpc.insecure_channel(addr, options=CHANNEL_OPTIONS)


class ServerError(AssertionError):
    pass


_live = set()


@atexit.register
def _kill_leftovers():
    for p in list(_live):
        if p.poll() is None:
            p.kill()
            p.wait()


class Server:
    """A supplysecd process on a free loopback port.

    Server(store_dir=None, bootstrap=True): store_dir defaults to a fresh temp
    dir; with bootstrap, `supplysecd bootstrap` runs first and the secret is in
    .admin_secret. Use start()/stop(), or as a context manager."""

    _starts = 0

    def __init__(self, store_dir=None, bootstrap=True, workers=None, extra_args=(), store=None):
        self.dir = store_dir or tmpdir("store-")
        self.store = store or store_uri(self.dir)
        self.do_bootstrap = bootstrap
        self.workers = workers
        self.extra_args = list(extra_args)
        self.admin_secret = None
        self.proc = None
        self.port = None
        self.channel = None
        self.log_path = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        if self.do_bootstrap and self.admin_secret is None:
            self.admin_secret = bootstrap(self.store)
        Server._starts += 1
        n = Server._starts
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "stderr-%d.log" % n)
        self.out_path = os.path.join(self.dir, "stdout-%d.log" % n)
        # workers None: the server's default, as deployed
        cmd = [SUPPLYSECD, "--listen", self.addr, "--store", self.store] + (
            ["--workers", str(self.workers)] if self.workers else []) + self.extra_args
        # as deployed (docs/operations.md, Logs): libmongoc's shared-memory
        # counters off, so its one plain-text warning never reaches stderr
        env = dict(os.environ, MONGOC_DISABLE_SHM="1")
        with open(self.log_path, "wb") as err, open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=env)
        _live.add(self.proc)
        self.channel = self._wait_serving()
        return self

    def _wait_serving(self):
        """Poll Health.Check with a fresh channel per attempt (a channel that
        failed to connect waits seconds before trying again); return the
        channel that got SERVING."""
        p = protos()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("supplysecd exited with %d during startup: %s" % (
                    self.proc.returncode, self.log_tail()))
            ch = channel(self.addr)
            check = ch.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=p.health.HealthCheckRequest.SerializeToString,
                response_deserializer=p.health.HealthCheckResponse.FromString)
            try:
                r = check(p.health.HealthCheckRequest(service=""), timeout=1.0)
                if r.status == p.health.HealthCheckResponse.SERVING:
                    return ch
                last = "status %s" % r.status
            except grpc.RpcError as e:
                last = "%s %s" % (e.code(), e.details())
            ch.close()
            time.sleep(0.05)
        self.kill()
        raise ServerError("supplysecd not SERVING after %.0fs (last: %s): %s" % (
            STARTUP_TIMEOUT, last, self.log_tail()))

    def client(self, secret=None):
        return Client(self.channel, secret)

    def admin(self):
        return Client(self.channel, self.admin_secret)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, n=2000):
        return self.log_text()[-n:]

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError("supplysecd did not exit within %.0fs of SIGTERM: %s" % (
                timeout, self.log_tail()))

    def stop(self, expect_code=0):
        """SIGTERM and wait; assert the exit code (unless expect_code is None)."""
        if self.proc is None:
            return None
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.wait()
        self.proc = None
        if expect_code is not None and code != expect_code:
            raise ServerError("supplysecd exited with %d, expected %d: %s" % (
                code, expect_code, self.log_tail()))
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.kill()
        return False


class ServerTestCase(unittest.TestCase, RpcAssertions):
    """One server per test class, started in setUpClass and stopped (exit code
    0 asserted) in tearDownClass. `cls.admin` is a platform-admin Client."""

    server = None
    server_args = ()  # more supplysecd flags for the class's server

    @classmethod
    def setUpClass(cls):
        protos()
        cls.pb = protos()
        cls.server = Server(extra_args=cls.server_args)
        try:
            cls.server.start()
        except BaseException:
            cls.server.kill()
            raise
        cls.admin = cls.server.admin()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            srv, cls.server = cls.server, None
            srv.stop()

    # -- helpers used by several test files --

    _seq = 0

    @classmethod
    def uid(cls, prefix="o"):
        """A fresh valid resource id."""
        ServerTestCase._seq += 1
        return "%s-%d-%d" % (prefix, os.getpid() % 10000, ServerTestCase._seq)

    @classmethod
    def make_org(cls, org_id=None, client=None, legal_name=None, country="DE", kind=None):
        pb = protos()
        if kind is None:
            kind = pb.orgs.ORGANIZATION_KIND_OPERATOR
        org = pb.orgs.Organization(legal_name=legal_name or ("Org " + (org_id or "x")),
                                   country_code=country, kind=kind)
        return (client or cls.admin).call("Organizations.CreateOrganization",
                                          organization=org, organization_id=org_id or "")

    @classmethod
    def make_key(cls, parent, role, client=None, display_name="key"):
        """Create an API key; returns the CreateApiKeyResponse."""
        pb = protos()
        return (client or cls.admin).call(
            "ApiKeys.CreateApiKey", parent=parent,
            api_key=pb.keys.ApiKey(role=role, display_name=display_name))
