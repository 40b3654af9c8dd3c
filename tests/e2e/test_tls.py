"""TLS through gRPC core's SSL credentials, and the refusal of plaintext off loopback."""

import os
import subprocess
import time
import unittest

import grpc

from harness import SUPPLYSECD, RpcAssertions, free_port, protos, store_uri, tmpdir


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


class TlsTest(unittest.TestCase, RpcAssertions):

    def start(self, *args):
        d = tmpdir("tls-")
        self.log = os.path.join(d, "stderr.log")
        port = free_port()
        with open(self.log, "wb") as err:
            proc = subprocess.Popen(
                [SUPPLYSECD, "--listen", "127.0.0.1:%d" % port, "--store", store_uri(d)] +
                list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        self.addCleanup(lambda: proc.poll() is None and (proc.terminate(), proc.wait()))
        return proc, port, d

    def health(self, ch, timeout=2.0):
        pb = protos()
        check = ch.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)
        return check(pb.health.HealthCheckRequest(), timeout=timeout)

    def test_tls_serves_and_refuses_plaintext_clients(self):
        d = tmpdir("certs-")
        cert, key = make_cert(d)
        proc, port, _ = self.start("--tls-cert", cert, "--tls-key", key)
        with open(cert, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        deadline = time.monotonic() + 15
        while True:
            ch = grpc.secure_channel("localhost:%d" % port, creds)
            try:
                r = self.health(ch)
                break
            except grpc.RpcError:
                ch.close()
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        self.assertEqual(r.status, protos().health.HealthCheckResponse.SERVING)
        ch.close()
        plain = grpc.insecure_channel("127.0.0.1:%d" % port)
        self.assertRpcError(grpc.StatusCode.UNAVAILABLE, self.health, plain, 1.0)
        plain.close()
        proc.terminate()
        self.assertEqual(proc.wait(timeout=20), 0)
        with open(self.log) as f:
            first = f.readline()
        self.assertIn('"tls":true', first)

    def test_tls_needs_both_files(self):
        d = tmpdir("certs-")
        cert, _ = make_cert(d)
        proc, _, _ = self.start("--tls-cert", cert)
        self.assertNotEqual(proc.wait(timeout=20), 0)
        with open(self.log) as f:
            self.assertIn("--tls-key", f.read())

    def test_plaintext_off_loopback_refused(self):
        d = tmpdir("plain-")
        port = free_port()
        r = subprocess.run([SUPPLYSECD, "--listen", "0.0.0.0:%d" % port, "--store", store_uri(d)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"refusing plaintext", r.stderr)


if __name__ == "__main__":
    unittest.main()
