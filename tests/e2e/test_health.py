"""grpc.health.v1.Health/Check."""

import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


class HealthTest(ServerTestCase):

    def test_check_empty_service_serving(self):
        pb = protos()
        r = self.server.client().call("Health.Check", service="")
        self.assertEqual(r.status, pb.health.HealthCheckResponse.SERVING)

    def test_check_unknown_service_not_found(self):
        self.assertRpcError(C.NOT_FOUND, self.server.client().call, "Health.Check",
                            service="no.such.Service")

    def watch(self, service=""):
        pb = protos()
        w = self.server.channel.unary_stream(
            "/grpc.health.v1.Health/Watch",
            request_serializer=pb.health.HealthCheckRequest.SerializeToString,
            response_deserializer=pb.health.HealthCheckResponse.FromString)
        return w(pb.health.HealthCheckRequest(service=service), timeout=30)

    def test_watch_sends_status_and_stays_open(self):
        pb = protos()
        stream = self.watch()
        self.assertEqual(next(stream).status, pb.health.HealthCheckResponse.SERVING)
        # nothing changes, so nothing more comes; the stream is still open
        self.assertTrue(stream.is_active())
        stream.cancel()
        self.assertRpcError(C.CANCELLED, next, stream)
        # the server goes on
        r = self.server.client().call("Health.Check", service="supplysec.v1.Organizations")
        self.assertEqual(r.status, pb.health.HealthCheckResponse.SERVING)

    def test_watch_unknown_service(self):
        pb = protos()
        stream = self.watch("no.such.Service")
        self.assertEqual(next(stream).status, pb.health.HealthCheckResponse.SERVICE_UNKNOWN)
        stream.cancel()


if __name__ == "__main__":
    unittest.main()
