"""Graceful shutdown: every acknowledged create survives a restart; calls in
flight at SIGTERM finish, those still running after the grace period are
cancelled, Health.Watch ends with UNAVAILABLE, the store is closed cleanly
(SQLite: no -wal left to recover, integrity_check ok), the process logs
`stopped` and exits 0.

A call is kept in flight without any hook in the server: a write waits in the
store while the test holds the store (SQLite: another connection holds the
write lock, which the server waits for up to 5 s; MongoDB: the test's own
double is stopped with SIGSTOP). Idle calls (a stream waiting for its client)
are another matter: tests/e2e/test_drain.py."""

import os
import signal
import sqlite3
import threading
import time
import unittest

import grpc

import harness
from harness import RpcAssertions, Server, protos

C = grpc.StatusCode


class ShutdownDurabilityTest(unittest.TestCase, RpcAssertions):

    def test_sigterm_under_load_keeps_acknowledged_writes(self):
        pb = protos()
        srv = Server()
        srv.start()
        secret = srv.admin_secret
        acked = []
        errors = []
        lock = threading.Lock()
        stop = threading.Event()
        channel = harness.channel(srv.addr)
        create = channel.unary_unary(
            "/supplysec.v1.Organizations/CreateOrganization",
            request_serializer=pb.orgs.CreateOrganizationRequest.SerializeToString,
            response_deserializer=pb.orgs.Organization.FromString)

        def worker(n):
            i = 0
            while not stop.is_set():
                i += 1
                oid = "sd-%d-%d" % (n, i)
                req = pb.orgs.CreateOrganizationRequest(
                    organization_id=oid,
                    organization=pb.orgs.Organization(
                        legal_name="Load %s" % oid, country_code="DE",
                        kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
                try:
                    o = create(req, metadata=[("authorization", "Bearer " + secret)], timeout=10)
                except grpc.RpcError as e:
                    with lock:
                        errors.append(e.code())
                    time.sleep(0.01)
                    continue
                with lock:
                    acked.append((oid, o.name))

        threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
        try:
            for t in threads:
                t.start()
            time.sleep(1.0)
            srv.signal()
            code = srv.wait()
        finally:
            stop.set()
            for t in threads:
                t.join(15)
            channel.close()
            srv.kill()
        self.assertEqual(code, 0, "exit code after SIGTERM: %s" % srv.log_tail())
        assert_stopped_cleanly(self, srv)
        self.assertGreater(len(acked), 0, "no create succeeded before shutdown: %s" % errors[:5])
        if os.environ.get("SUPPLYSEC_E2E_DEBUG"):
            print("acked %d, errors %s" % (len(acked), sorted(set(c.name for c in errors))))
        for oid, name in acked:
            self.assertEqual(name, "organizations/" + oid)

        srv2 = Server(store_dir=srv.dir, bootstrap=False)
        srv2.admin_secret = secret
        srv2.start()
        try:
            admin = srv2.admin()
            missing = []
            for oid, _ in acked:
                try:
                    admin.call("Organizations.GetOrganization", name="organizations/" + oid)
                except grpc.RpcError as e:
                    missing.append((oid, e.code().name))
            self.assertEqual(missing, [], "%d of %d acknowledged creates lost" % (
                len(missing), len(acked)))
        finally:
            srv2.stop()

    def test_restart_keeps_documents_keys_and_revocations(self):
        pb = protos()
        srv = Server()
        srv.start()
        try:
            admin = srv.admin()
            org = admin.call("Organizations.CreateOrganization", organization_id="keep-me",
                             organization=pb.orgs.Organization(
                                 legal_name="Keep", country_code="AT",
                                 kind=pb.orgs.ORGANIZATION_KIND_OPERATOR))
            live = admin.call("ApiKeys.CreateApiKey", parent="organizations/keep-me",
                              api_key=pb.keys.ApiKey(role=pb.common.ROLE_VIEWER))
            dead = admin.call("ApiKeys.CreateApiKey", parent="organizations/keep-me",
                              api_key=pb.keys.ApiKey(role=pb.common.ROLE_ADMIN))
            admin.call("ApiKeys.RevokeApiKey", name=dead.api_key.name)
        finally:
            srv.stop()
        srv2 = Server(store_dir=srv.dir, bootstrap=False)
        srv2.admin_secret = srv.admin_secret
        srv2.start()
        try:
            self.assertEqual(srv2.admin().call("Organizations.GetOrganization",
                                               name="organizations/keep-me"), org)
            got = srv2.client(live.secret).call("Organizations.GetOrganization",
                                                name="organizations/keep-me")
            self.assertEqual(got.name, "organizations/keep-me")
            self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, srv2.client(dead.secret).call,
                                "Organizations.GetOrganization", name="organizations/keep-me")
            # bootstrap refuses a store that is in use / already bootstrapped
            r = harness.bootstrap_run(srv.store)
            self.assertExit(r.returncode, 1, r.stderr, "already has a platform key")
            self.assertEqual(r.stdout, b"")
        finally:
            srv2.stop()



class CallsRacingShutdownTest(unittest.TestCase):
    """Calls that reach the server while it begins to stop are either served
    or refused as retryable (UNAVAILABLE: the client's GOAWAY handling or the
    server's own answer), never CANCELLED: the client did not cancel them,
    and a client cannot tell a CANCELLED call that never ran from one that
    ran. gRPC core 1.51 cancels a call whose headers it reads after its
    shutdown began (api/zombie.h): the runtime parks its workers around the
    shutdown so that none is read during it (api_server_stop) and ends those
    read after it UNAVAILABLE. They are more on a loaded machine (the client
    answers the GOAWAY's PING later): run it with both cores busy to see
    them."""

    ROUNDS = 3

    def test_no_call_racing_sigterm_is_cancelled(self):
        import collections
        pb = protos()
        codes = collections.Counter()
        for _ in range(self.ROUNDS):
            srv = Server()
            srv.start()
            lock, stop = threading.Lock(), threading.Event()

            def worker():
                ch = harness.channel(srv.addr)
                check = ch.unary_unary(
                    "/grpc.health.v1.Health/Check",
                    request_serializer=pb.health.HealthCheckRequest.SerializeToString,
                    response_deserializer=pb.health.HealthCheckResponse.FromString)
                try:
                    while not stop.is_set():
                        futs = [check.future(pb.health.HealthCheckRequest(), timeout=5)
                                for _ in range(16)]
                        for f in futs:
                            try:
                                f.result()
                                c = "OK"
                            except grpc.RpcError as e:
                                c = e.code().name
                            with lock:
                                codes[c] += 1
                finally:
                    ch.close()

            threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
            try:
                for t in threads:
                    t.start()
                time.sleep(1.0)  # calls flowing on 6 connections, 96 at a time
                srv.signal(signal.SIGTERM)
                self.assertEqual(srv.wait(timeout=30), 0, srv.log_tail())
            finally:
                stop.set()
                for t in threads:
                    t.join(15)
                srv.kill()
        self.assertGreater(codes["OK"], 1000, dict(codes))
        self.assertGreater(codes["UNAVAILABLE"], 0, "no call met the shutdown: %s" % dict(codes))
        self.assertEqual(set(codes) - {"OK", "UNAVAILABLE", "CANCELLED"}, set(),
                         "calls racing SIGTERM ended otherwise: %s" % dict(codes))
        self.assertEqual(codes["CANCELLED"], 0,
                         "calls racing SIGTERM ended CANCELLED: %s" % dict(codes))


def raw_grpc_status(sock, decoder, stream_id, raw):
    """Reads HTTP/2 frames from sock (raw: bytes read already) until stream_id
    ends: its grpc-status, "RST_STREAM <code>" or "connection closed". The
    frames are parsed here: h2 refuses every frame after a GOAWAY. decoder is
    the connection's HPACK decoder (its table follows every header block)."""
    block = b""
    while True:
        while len(raw) >= 9 and len(raw) >= 9 + int.from_bytes(raw[:3], "big"):
            length = int.from_bytes(raw[:3], "big")
            ftype, flags = raw[3], raw[4]
            sid = int.from_bytes(raw[5:9], "big") & 0x7FFFFFFF
            payload, raw = raw[9:9 + length], raw[9 + length:]
            if ftype in (0x1, 0x9):  # HEADERS, CONTINUATION
                if ftype == 0x1:
                    pad = payload[0] if flags & 0x8 else 0
                    payload = payload[(1 if flags & 0x8 else 0) + (5 if flags & 0x20 else 0):]
                    payload = payload[:len(payload) - pad]
                    end_stream = bool(flags & 0x1)
                block += payload
                if flags & 0x4:  # END_HEADERS: decode in order, every stream's
                    headers = dict(decoder.decode(block))
                    block = b""
                    if sid == stream_id and end_stream:
                        return headers.get("grpc-status")
            elif ftype == 0x3 and sid == stream_id:
                return "RST_STREAM %d" % int.from_bytes(payload[:4], "big")
        chunk = sock.recv(65536)
        if not chunk:
            return "connection closed"
        raw += chunk


class CallReadDuringTheGoawayTest(unittest.TestCase):
    """The deterministic case of the race above: a client that sends a new
    call after the server's first GOAWAY went out and before it answers the
    GOAWAY's PING. gRPC core takes the call (the final GOAWAY is not sent
    yet) and, its server shutting down, lets go of it; the client must see
    UNAVAILABLE, not CANCELLED (api/zombie.h)."""

    def test_call_sent_before_the_ping_ack_is_unavailable(self):
        import socket
        import h2.config
        import h2.connection
        import h2.events
        srv = Server(extra_args=["--grace-seconds", "10"])
        srv.start()
        sock = None
        try:
            host, port = srv.addr.rsplit(":", 1)
            sock = socket.create_connection((host, int(port)))
            sock.settimeout(10)
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()

            def send_check(stream_id):
                conn.send_headers(stream_id, [
                    (":method", "POST"), (":scheme", "http"),
                    (":path", "/grpc.health.v1.Health/Check"), (":authority", srv.addr),
                    ("content-type", "application/grpc"), ("te", "trailers")])
                conn.send_data(stream_id, b"\0\0\0\0\0", end_stream=True)

            def grpc_status(stream_id, raw):
                """Feeds raw to conn, reads until stream_id ends: its grpc-status
                (or "RST_STREAM <code>")."""
                while True:
                    for ev in conn.receive_data(raw):
                        if isinstance(ev, h2.events.TrailersReceived) and ev.stream_id == stream_id:
                            return dict((k.decode() if isinstance(k, bytes) else k,
                                         v.decode() if isinstance(v, bytes) else v)
                                        for k, v in ev.headers).get("grpc-status")
                        if isinstance(ev, h2.events.StreamReset) and ev.stream_id == stream_id:
                            return "RST_STREAM %d" % ev.error_code
                    sock.sendall(conn.data_to_send())
                    raw = sock.recv(65536)
                    if not raw:
                        return "connection closed"

            # one call served: the connection is up and the server knows it
            send_check(1)
            sock.sendall(conn.data_to_send())
            self.assertEqual(grpc_status(1, b""), "0")

            # SIGTERM; read raw frames (without answering them) up to the GOAWAY
            srv.signal(signal.SIGTERM)
            raw, seen_goaway = b"", False
            while not seen_goaway:
                chunk = sock.recv(65536)
                self.assertTrue(chunk, "the connection closed without a GOAWAY")
                raw += chunk
                at = 0
                while at + 9 <= len(raw):
                    length = int.from_bytes(raw[at:at + 3], "big")
                    if raw[at + 3] == 0x7:
                        seen_goaway = True
                    at += 9 + length
            # a new call now: before the PING's ack, so core takes it
            send_check(3)
            sock.sendall(conn.data_to_send())
            status = raw_grpc_status(sock, conn.decoder, 3, raw)
            self.assertEqual(status, "14", "a call taken during the graceful GOAWAY "
                             "ended %s, not UNAVAILABLE (14)" % status)
            sock.close()
            sock = None
            self.assertEqual(srv.wait(timeout=20), 0, srv.log_tail())
            refused = [o for o in log_objects(srv) if o.get("msg") ==
                       "calls that reached the shutdown refused with UNAVAILABLE"]
            self.assertEqual([o.get("refused") for o in refused], [1], srv.log_tail())
        finally:
            if sock:
                sock.close()
            if srv.proc.poll() is None:
                srv.kill()


def log_objects(srv):
    return harness.log_objects(srv.log_text())


def assert_stopped_cleanly(test, srv):
    """After the process exited: its log ends with `stopped` after `shutting
    down`, and a SQLite store was closed (checkpointed, -wal and -shm gone or
    empty) and passes integrity_check."""
    msgs = [o.get("msg") for o in log_objects(srv)]
    test.assertIn("shutting down", msgs, srv.log_tail())
    test.assertEqual(msgs[-1], "stopped", "the log does not end with `stopped`: %s" %
                     srv.log_tail())
    test.assertLess(msgs.index("shutting down"), len(msgs) - 1)
    if not srv.store.startswith("sqlite:"):
        return
    path = srv.store[len("sqlite:"):]
    for companion in ("-wal", "-shm"):
        f = path + companion
        size = os.path.getsize(f) if os.path.exists(f) else 0
        test.assertEqual(size, 0, "%s holds %d bytes after the server stopped: the store was not "
                         "closed (SQLite would have to recover it)" % (f, size))
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        test.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
    finally:
        con.close()


class StoreHold:
    """Makes the store wait: writes (SQLite) or every store call (MongoDB
    double, stopped with SIGSTOP) block until release()."""

    def __init__(self, srv, double=None):
        self.srv, self.double, self.con = srv, double, None

    def hold(self):
        if self.double is None:
            # (opened only now: an open connection would keep the server from
            # removing the -wal file when it closes the store)
            self.con = sqlite3.connect(self.srv.store[len("sqlite:"):], isolation_level=None,
                                       timeout=0)
            self.con.execute("BEGIN IMMEDIATE")
        else:
            self.double.proc.send_signal(signal.SIGSTOP)

    def release(self):
        if self.con is not None:
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
            self.con.close()
            self.con = None
        elif self.double is not None and self.double.proc.poll() is None:
            self.double.proc.send_signal(signal.SIGCONT)


class GracefulShutdownTest(unittest.TestCase, RpcAssertions):

    def server(self, grace):
        """A server with the given grace period, and a StoreHold for its store."""
        double = None
        if harness.STORE_KIND == "mongodb":
            # its own double: SIGSTOP must not stop the run's shared one
            double = harness.MongoDouble()
            self.addCleanup(lambda: double.proc.poll() is None and (double.proc.kill(),
                                                                    double.proc.wait()))
            srv = Server(store=double.uri("shutdown"),
                         extra_args=["--grace-seconds", str(grace)])
        else:
            srv = Server(extra_args=["--grace-seconds", str(grace)])
        srv.start()
        self.addCleanup(srv.kill)
        hold = StoreHold(srv, double)
        self.addCleanup(hold.release)
        return srv, hold

    def slow_create(self, srv, hold, org_id, request_id):
        """Holds the store and starts a create, which waits in the server."""
        pb = protos()
        hold.hold()
        create = srv.admin().callable("Organizations.CreateOrganization").future(
            pb.orgs.CreateOrganizationRequest(
                organization_id=org_id, organization=pb.orgs.Organization(
                    legal_name="Slow", country_code="DE",
                    kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)),
            metadata=harness.auth_md(srv.admin_secret) + [("x-request-id", request_id)],
            timeout=30)
        time.sleep(0.5)  # in the server, waiting for the store, by now
        self.assertFalse(create.done(), "the create did not wait for the held store")
        return create

    def watch_ends(self, srv):
        """Health.Watch (SERVING first); returns an Event set when the watch
        ends and a dict with its code and whether supplysecd was still running."""
        pb = protos()
        w = srv.channel.unary_stream(
            "/grpc.health.v1.Health/Watch",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)(
                pb.health.HealthCheckRequest(), timeout=60)
        self.assertEqual(next(w).status, pb.health.HealthCheckResponse.SERVING)
        ended, seen = threading.Event(), {}

        def consume():
            try:
                for r in w:
                    seen.setdefault("later", []).append(r.status)
                seen["code"] = C.OK
            except grpc.RpcError as e:
                seen["code"], seen["details"] = e.code(), e.details()
            seen["running"] = srv.proc.poll() is None
            ended.set()

        threading.Thread(target=consume, daemon=True).start()
        return ended, seen

    def refuses_new_connections(self, srv, within):
        deadline = time.monotonic() + within
        while True:
            fresh = harness.channel(srv.addr)
            try:
                code, _ = harness.rpc_code(harness.Client(fresh).call, "Health.Check",
                                           service="", timeout=1)
            finally:
                fresh.close()
            if code == C.UNAVAILABLE:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def test_in_flight_call_finishes_and_the_store_is_closed(self):
        srv, hold = self.server(grace=10)
        watch_ended, watch = self.watch_ends(srv)
        create = self.slow_create(srv, hold, "drain-me", "drain-create")
        srv.signal(signal.SIGTERM)
        t0 = time.monotonic()

        # Health.Watch is ended by the server while the create still runs (on
        # MongoDB the health watcher may itself be waiting for the held store:
        # then the watch ends after the release, checked below)
        ended_early = watch_ended.wait(2.0)
        if harness.STORE_KIND != "mongodb":
            self.assertTrue(ended_early, "Health.Watch still open 2 s after SIGTERM")
        if ended_early:
            self.assertTrue(watch["running"], "supplysecd exited with a call in flight")
            # and no new connection is taken during the drain
            self.assertTrue(self.refuses_new_connections(srv, 3.0),
                            "a new connection was served during the drain")
        self.assertIsNone(srv.proc.poll(), "supplysecd exited with a call in flight")
        self.assertFalse(create.done(), "the call in flight ended before the store let it")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        hold.release()
        try:
            o = create.result(timeout=15)  # the write waited in flight, then was made
        except grpc.RpcError as e:
            # seen once in a few full runs on MongoDB ("Socket closed"), never
            # alone: the server's side of it, for the next time
            try:
                srv.wait(timeout=15)
            except Exception:  # the log so far is what there is
                pass
            self.fail("the create in flight ended %s %r; server log:\n%s" % (
                e.code().name, e.details(), srv.log_tail(8000)))
        self.assertEqual(o.name, "organizations/drain-me")
        self.assertTrue(watch_ended.wait(5.0), "Health.Watch still open after the drain")
        self.assertEqual(watch.get("code"), C.UNAVAILABLE, watch)
        self.assertNotIn("later", watch, "Health.Watch sent more after SIGTERM")

        code = srv.wait(timeout=15)
        self.assertEqual(code, 0, srv.log_tail())
        self.assertLess(time.monotonic() - t0, 9, "the drain took the whole grace period")
        assert_stopped_cleanly(self, srv)
        logs = log_objects(srv)
        msgs = [o.get("msg") for o in logs]
        self.assertNotIn("grace period over; cancelling the calls still running", msgs)
        down = msgs.index("shutting down")
        self.assertEqual(logs[down].get("signal"), "SIGTERM")
        mine = [o for o in logs[down:] if o.get("request_id") == "drain-create"]
        self.assertEqual(len(mine), 1, "no call line for the create after `shutting down`")
        self.assertEqual(mine[0].get("method"), "/supplysec.v1.Organizations/CreateOrganization")
        self.assertEqual(mine[0].get("status"), "OK", mine[0])
        self.assertNotIn("cancelled", mine[0])
        watch_lines = [o for o in logs[down:] if o.get("method") == "/grpc.health.v1.Health/Watch"]
        self.assertEqual([o.get("status") for o in watch_lines], ["UNAVAILABLE"],
                         "the server did not end Health.Watch itself")

        # the write that finished during the drain is in the store
        srv2 = Server(store_dir=srv.dir, store=srv.store, bootstrap=False)
        srv2.admin_secret = srv.admin_secret
        with srv2:
            got = srv2.admin().call("Organizations.GetOrganization",
                                    name="organizations/drain-me")
            self.assertEqual(got, o)

    def test_calls_past_the_grace_period_are_cancelled(self):
        srv, hold = self.server(grace=1)
        create = self.slow_create(srv, hold, "too-slow", "grace-create")
        srv.signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            r = create.result(timeout=10)
            self.fail("the call past the grace period was answered: %r" % r)
        except grpc.FutureTimeoutError:
            self.fail("the call past the grace period was not cancelled")
        except grpc.RpcError as e:
            ended = e
        t_end = time.monotonic() - t0
        self.assertIn(ended.code(), (C.CANCELLED, C.UNAVAILABLE), ended.details())
        self.assertGreaterEqual(t_end, 0.9, "ended before the grace period was over: %s %s" % (
            ended.code().name, ended.details()))
        self.assertLess(t_end, 4.0, "not cancelled within seconds of the grace period's end")
        # the store is let go only after the client was told of the failure:
        # a write that went on and committed now would be one it was told
        # was not made
        hold.release()
        code = srv.wait(timeout=15)
        self.assertEqual(code, 0, srv.log_tail())
        assert_stopped_cleanly(self, srv)
        logs = log_objects(srv)
        msgs = [o.get("msg") for o in logs]
        self.assertIn("grace period over; cancelling the calls still running", msgs)
        line = [o for o in logs if o.get("request_id") == "grace-create"]
        self.assertEqual(len(line), 1, srv.log_tail())
        self.assertTrue(line[0].get("cancelled") is True or line[0].get("status") == "UNAVAILABLE",
                        line[0])
        self.assertNotEqual(line[0].get("status"), "OK", line[0])

        srv2 = Server(store_dir=srv.dir, store=srv.store, bootstrap=False)
        srv2.admin_secret = srv.admin_secret
        with srv2:
            code, details = harness.rpc_code(srv2.admin().call, "Organizations.GetOrganization",
                                             name="organizations/too-slow")
            self.assertEqual(code, C.NOT_FOUND,
                             "the create its client saw fail (%s) was written: %s" % (
                                 ended.code().name, details))

    def test_sigint_stops_like_sigterm(self):
        srv, _ = self.server(grace=10)
        srv.admin().call("Organizations.ListOrganizations")
        srv.channel.close()  # (an idle connection left open delays the exit by seconds)
        srv.signal(signal.SIGINT)
        self.assertEqual(srv.wait(timeout=15), 0, srv.log_tail())
        assert_stopped_cleanly(self, srv)
        down = [o for o in log_objects(srv) if o.get("msg") == "shutting down"]
        self.assertEqual(down[0].get("signal"), "SIGINT")


if __name__ == "__main__":
    unittest.main()
