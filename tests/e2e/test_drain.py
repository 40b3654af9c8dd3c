"""SIGTERM with calls that are doing no work: an idle reflection stream
(answered, waiting for its client's next request) and a call whose request
never arrives. Neither may hold the shutdown for the grace period: both are
ended at once with UNAVAILABLE (retryable), and the server exits 0."""

import signal
import socket
import time
import unittest

import grpc

from harness import Server
from test_limits import reflection_stream

C = grpc.StatusCode


class IdleCallsAtShutdownTest(unittest.TestCase):

    def test_idle_calls_do_not_hold_the_shutdown(self):
        import h2.config
        import h2.connection
        server = Server(workers=2, extra_args=["--grace-seconds", "30"])
        server.start()
        try:
            # an idle reflection stream
            stream, release = reflection_stream(server.channel, seconds=60)
            next(stream)
            # a call whose message never comes
            host, port = server.addr.rsplit(":", 1)
            sock = socket.create_connection((host, int(port)))
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            conn.send_headers(1, [(":method", "POST"), (":scheme", "http"),
                                  (":path", "/grpc.health.v1.Health/Check"),
                                  (":authority", server.addr),
                                  ("content-type", "application/grpc"), ("te", "trailers")])
            sock.sendall(conn.data_to_send())
            time.sleep(0.3)
            started = time.monotonic()
            server.signal(signal.SIGTERM)
            code = server.wait(timeout=20)
            took = time.monotonic() - started
            self.assertEqual(code, 0)
            self.assertLess(took, 5, "the shutdown waited %.1f s for idle calls" % took)
            with self.assertRaises(grpc.RpcError) as cm:
                next(stream)
            self.assertEqual(cm.exception.code(), C.UNAVAILABLE, cm.exception.details())
            release.set()
            sock.close()
        finally:
            if server.proc.poll() is None:
                server.kill()


if __name__ == "__main__":
    unittest.main()
