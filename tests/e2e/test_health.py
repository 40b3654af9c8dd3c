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


if __name__ == "__main__":
    unittest.main()
