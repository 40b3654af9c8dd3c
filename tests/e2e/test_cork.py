"""Answers are gathered per worker and sent before it waits (api/cork.h),
never left held: one call at a time on a connection completes in well under
the 50 ms a worker may wait for work, and many calls at once on many
connections all complete, each answered (its own answer: a byte sent to the
wrong connection or out of order breaks the HTTP/2 framing)."""

import statistics
import threading
import time
import unittest

import grpc

import harness
from harness import Server, protos


class CorkTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.server.start()
        cls.pb = protos()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def check_callable(self, channel):
        pb = self.pb
        return channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)

    def test_one_call_at_a_time_is_not_held(self):
        ch = harness.channel(self.server.addr)
        try:
            check = self.check_callable(ch)
            check(self.pb.health.HealthCheckRequest(), timeout=5)
            took = []
            for _ in range(60):
                t = time.monotonic()
                check(self.pb.health.HealthCheckRequest(), timeout=5)
                took.append(time.monotonic() - t)
        finally:
            ch.close()
        # an answer left for the kernel to send takes about 200 ms
        self.assertLess(statistics.median(took), 0.05,
                        "median %.1f ms per call" % (statistics.median(took) * 1e3))

    def test_bursts_on_many_connections_all_answered(self):
        results, lock = [], threading.Lock()

        def client():
            ch = harness.channel(self.server.addr)
            try:
                check = self.check_callable(ch)
                for _ in range(5):
                    futs = [check.future(self.pb.health.HealthCheckRequest(), timeout=10)
                            for _ in range(40)]
                    for f in futs:
                        try:
                            r = f.result()
                            out = r.status
                        except grpc.RpcError as e:
                            out = e.code().name
                        with lock:
                            results.append(out)
            finally:
                ch.close()

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        serving = self.pb.health.HealthCheckResponse.SERVING
        self.assertEqual(len(results), 8 * 5 * 40)
        self.assertEqual([r for r in results if r != serving], [])
