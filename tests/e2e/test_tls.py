"""TLS through gRPC core's SSL credentials, client certificates
(--tls-client-ca), and the refusal of plaintext off loopback: only
127.0.0.0/8, localhost, [::1] and unix sockets are loopback, never a host name
that merely begins like one."""

import json
import os
import signal
import socket
import subprocess
import time
import unittest

import grpc

import harness
from harness import SUPPLYSECD, RpcAssertions, free_port, protos, store_uri, tmpdir

C = grpc.StatusCode


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 / localhost."""
    key = os.path.join(directory, "key.pem")
    cert = os.path.join(directory, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    return cert, key


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def make_ca(directory, name):
    """A CA: (cert, key) paths."""
    key, cert = (os.path.join(directory, name + s) for s in ("-key.pem", "-cert.pem"))
    openssl("req", "-x509", *EC, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", key, "-out", cert)
    return cert, key


def make_signed(directory, name, ca, extensions):
    """A certificate for `name` signed by `ca` (cert, key): (cert, key) paths."""
    key, csr, cert, ext = (os.path.join(directory, name + s)
                           for s in ("-key.pem", ".csr", "-cert.pem", ".ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n" + extensions + "\n")
    openssl("req", "-new", *EC, "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", cert)
    return cert, key


def make_mtls(directory):
    """A CA and another CA; a server certificate for 127.0.0.1 and localhost, a client
    certificate, a client certificate of the other CA, and a certificate of the CA for
    servers only (no client authentication in its key purposes): {"ca", "other_ca", "server",
    "good", "foreign", "server_only"}, each a (cert, key) pair of paths."""
    ca = make_ca(directory, "supplysec-test-ca")
    other_ca = make_ca(directory, "other-ca")
    return {
        "ca": ca, "other_ca": other_ca,
        "server": make_signed(directory, "localhost", ca,
                              "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                              "extendedKeyUsage=serverAuth"),
        "good": make_signed(directory, "client-good", ca, "extendedKeyUsage=clientAuth"),
        "foreign": make_signed(directory, "client-foreign", other_ca,
                               "extendedKeyUsage=clientAuth"),
        "server_only": make_signed(directory, "server-only", ca, "extendedKeyUsage=serverAuth"),
    }


def read(path):
    with open(path, "rb") as f:
        return f.read()


class TlsTest(unittest.TestCase, RpcAssertions):

    def start(self, *args):
        d = tmpdir("tls-")
        self.log = os.path.join(d, "stderr.log")
        port = free_port()
        with open(self.log, "wb") as err:
            proc = subprocess.Popen(
                [SUPPLYSECD, "--listen", "127.0.0.1:%d" % port, "--store", store_uri(d)] +
                list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        harness._live.add(proc)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc, port, d

    def health(self, ch, timeout=2.0):
        pb = protos()
        check = ch.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)
        return check(pb.health.HealthCheckRequest(), timeout=timeout)

    def wait_serving(self, proc, port, creds):
        """Health.Check over TLS with creds until it answers (15 s at most)."""
        deadline = time.monotonic() + 15
        while True:
            ch = grpc.secure_channel("localhost:%d" % port, creds)
            try:
                r = self.health(ch)
                ch.close()
                return r
            except grpc.RpcError:
                ch.close()
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        self.assertExit(proc.wait(timeout=20), 0, read(self.log))

    def listening_line(self):
        """The start-up log line (`supplysecd listening`)."""
        for line in read(self.log).decode(errors="replace").splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("msg") == "supplysecd listening":
                return obj
        self.fail("no `supplysecd listening` line: %s" % read(self.log)[-2000:])

    def test_tls_serves_and_refuses_plaintext_clients(self):
        d = tmpdir("certs-")
        cert, key = make_cert(d)
        proc, port, _ = self.start("--tls-cert", cert, "--tls-key", key)
        creds = grpc.ssl_channel_credentials(root_certificates=read(cert))
        r = self.wait_serving(proc, port, creds)
        self.assertEqual(r.status, protos().health.HealthCheckResponse.SERVING)
        plain = grpc.insecure_channel("127.0.0.1:%d" % port)
        self.assertRpcError(C.UNAVAILABLE, self.health, plain, 1.0)
        plain.close()
        self.stop(proc)
        first = self.listening_line()
        self.assertIs(first.get("tls"), True, first)
        self.assertIs(first.get("client_certificates"), False, first)

    def test_client_certificates(self):
        """--tls-client-ca: a client without a certificate, or with one signed
        by another CA, is refused; one signed by that CA is served."""
        pb = protos()
        m = make_mtls(tmpdir("mtls-"))
        ca, other_ca, server, good, foreign = (
            m["ca"], m["other_ca"], m["server"], m["good"], m["foreign"])
        proc, port, _ = self.start("--tls-cert", server[0], "--tls-key", server[1],
                                   "--tls-client-ca", ca[0])
        root = read(ca[0])
        with_good = grpc.ssl_channel_credentials(root, read(good[1]), read(good[0]))
        self.assertEqual(self.wait_serving(proc, port, with_good).status,
                         pb.health.HealthCheckResponse.SERVING)
        refused = (
            ("no client certificate", grpc.ssl_channel_credentials(root)),
            ("a certificate signed by another CA",
             grpc.ssl_channel_credentials(root, read(foreign[1]), read(foreign[0]))),
            # the other CA's own certificate, which is no client certificate of ours
            ("another CA's certificate", grpc.ssl_channel_credentials(
                root, read(other_ca[1]), read(other_ca[0]))),
            # the CA's, but for servers only
            ("a server-only certificate", grpc.ssl_channel_credentials(
                root, read(m["server_only"][1]), read(m["server_only"][0]))),
        )
        for what, creds in refused:
            with self.subTest(client=what):
                ch = grpc.secure_channel("localhost:%d" % port, creds)
                try:
                    self.assertRpcError(C.UNAVAILABLE, self.health, ch, 3.0)
                finally:
                    ch.close()
        # still serving: the refusals were the certificates' doing
        self.assertEqual(self.wait_serving(proc, port, with_good).status,
                         pb.health.HealthCheckResponse.SERVING)
        plain = grpc.insecure_channel("127.0.0.1:%d" % port)
        self.assertRpcError(C.UNAVAILABLE, self.health, plain, 1.0)
        plain.close()
        self.stop(proc)
        first = self.listening_line()
        self.assertIs(first.get("tls"), True, first)
        self.assertIs(first.get("client_certificates"), True, first)

    def test_tls_needs_both_files(self):
        d = tmpdir("certs-")
        cert, key = make_cert(d)
        for args in (("--tls-cert", cert), ("--tls-key", key)):
            with self.subTest(given=args[0]):
                proc, _, _ = self.start(*args)
                self.assertExit(proc.wait(timeout=20), 1, read(self.log),
                                "TLS needs both --tls-cert and --tls-key")

    def test_client_ca_without_tls_refused(self):
        """Plaintext cannot check a client certificate: --tls-client-ca alone would
        serve every client while the operator believes only certified ones get in."""
        ca = make_ca(tmpdir("lone-ca-"), "lone-ca")
        proc, _, _ = self.start("--tls-client-ca", ca[0])
        self.assertExit(proc.wait(timeout=20), 1, read(self.log),
                        "--tls-client-ca needs TLS: give --tls-cert and --tls-key")

    def test_tls_client_ca_unreadable(self):
        d = tmpdir("certs-")
        cert, key = make_cert(d)
        missing = os.path.join(d, "no-such-ca.pem")
        proc, _, _ = self.start("--tls-cert", cert, "--tls-key", key, "--tls-client-ca", missing)
        self.assertExit(proc.wait(timeout=20), 1, read(self.log), missing)


class LoopbackTest(unittest.TestCase, RpcAssertions):
    """Plaintext needs a loopback listen address (or --allow-insecure-remote)."""

    def run_refused(self, listen):
        """supplysecd --listen `listen` without TLS: exits 1 saying why."""
        d = tmpdir("plain-")
        log = os.path.join(d, "stderr.log")
        with open(log, "wb") as err:
            proc = subprocess.Popen([SUPPLYSECD, "--listen", listen, "--store", store_uri(d)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err)
        harness._live.add(proc)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.fail("supplysecd --listen %s without TLS started, in plaintext: %s" % (
                listen, read(log)[-2000:]))
        self.assertExit(code, 1, read(log),
                        "refusing plaintext on non-loopback address %s" % listen)

    def test_plaintext_off_loopback_refused(self):
        for listen in ("0.0.0.0:%d" % free_port(), "[::]:0", "0.0.0.0:0"):
            with self.subTest(listen=listen):
                self.run_refused(listen)

    def test_plaintext_on_names_that_begin_like_loopback_refused(self):
        # host names, not loopback addresses, whatever they start with
        for listen in ("127.x.example:0", "127.0.0.1.nip.io:0", "127.example.com:50051",
                       "localhost.example.com:0", "localhostx:0"):
            with self.subTest(listen=listen):
                self.run_refused(listen)

    def test_plaintext_on_loopback_served(self):
        pb = protos()
        forms = ["127.0.0.1:0", "localhost:0", "127.0.0.2:0", "[::1]:0",
                 "unix:" + os.path.join(tmpdir("sock-"), "s.sock")]
        for listen in forms:
            with self.subTest(listen=listen):
                if listen.startswith("[::1]") and not has_ipv6_loopback():
                    self.skipTest("no IPv6 loopback here")
                d = tmpdir("loop-")
                log = os.path.join(d, "stderr.log")
                with open(log, "wb") as err:
                    proc = subprocess.Popen(
                        [SUPPLYSECD, "--listen", listen, "--store", store_uri(d)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
                harness._live.add(proc)
                try:
                    first = wait_listening(proc, log)
                    self.assertIsNotNone(first, "supplysecd --listen %s did not start: %s" % (
                        listen, read(log)[-2000:]))
                    self.assertIs(first.get("tls"), False, first)
                    if listen.startswith("unix:"):
                        target = listen
                    else:
                        target = "%s:%d" % (listen.rsplit(":", 1)[0], first["port"])
                    ch = grpc.insecure_channel(target)
                    try:
                        r = ch.unary_unary(
                            "/grpc.health.v1.Health/Check",
                            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
                            response_deserializer=pb.health.HealthCheckResponse.FromString)(
                                pb.health.HealthCheckRequest(), timeout=10,
                                wait_for_ready=True)
                    finally:
                        ch.close()
                    self.assertEqual(r.status, pb.health.HealthCheckResponse.SERVING)
                    proc.send_signal(signal.SIGTERM)
                    self.assertExit(proc.wait(timeout=20), 0, read(log))
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()


def has_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_listening(proc, log, timeout=15.0):
    """The `supplysecd listening` log line, once written (None if the process
    exits or the time runs out first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in read(log).decode(errors="replace").splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("msg") == "supplysecd listening":
                return obj
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


if __name__ == "__main__":
    unittest.main()
