"""Security objectives (ISO 28000 4.3; AEO criterion I) through the API: the
forwarder sets "at most 2 seal discrepancies per 1,000 containers", records
its quarterly measurements (one arriving late goes in its place), and reads
whether it is on target; a filter finds the ones off target; a client's
status is ignored; another organization sees nothing."""

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
SO = "SecurityObjectives."


class ObjectivesTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("fwd")).name
        cls.editor = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_EDITOR).secret)
        cls.viewer = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_VIEWER).secret)
        other = cls.make_org(cls.uid("oth")).name
        cls.stranger = cls.server.client(cls.make_key(other, pb.common.ROLE_ADMIN).secret)

    def measure(self, name, when, value):
        pb = protos()
        return self.editor.call(SO + "AddObjectiveMeasurement", name=name,
                                measurement=pb.objectives.ObjectiveMeasurement(
                                    measure_time=pb.timestamp.Timestamp(seconds=when),
                                    value=value))

    def test_on_and_off_target(self):
        pb = protos()
        O = pb.objectives
        o = self.editor.call(SO + "CreateSecurityObjective", parent=self.org,
                             security_objective=O.SecurityObjective(
                                 title="No undetected seal tampering",
                                 indicator="Seal discrepancies at unloading",
                                 unit="per 1,000 containers", target=2,
                                 direction=O.TARGET_DIRECTION_AT_MOST,
                                 owner="Terminal security", status=O.OBJECTIVE_STATUS_ON_TARGET))
        self.assertEqual(o.status, O.OBJECTIVE_STATUS_NOT_MEASURED)
        q1, q2, q3 = 1774915200, 1782777600, 1790726400  # 2026-03-31, 06-30, 09-30
        self.assertEqual(self.measure(o.name, q1, 4).status, O.OBJECTIVE_STATUS_OFF_TARGET)
        off = self.viewer.call(SO + "ListSecurityObjectives", parent=self.org,
                               filter="status = OFF_TARGET").security_objectives
        self.assertEqual([x.name for x in off], [o.name])
        self.measure(o.name, q3, 1)
        got = self.measure(o.name, q2, 3)  # late: the latest stays Q3's
        self.assertEqual([m.measure_time.seconds for m in got.measurements], [q1, q2, q3])
        self.assertEqual((got.status, got.latest_value), (O.OBJECTIVE_STATUS_ON_TARGET, 1))
        self.assertEqual(got.latest_measure_time.seconds, q3)
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.measure, o.name, 4102444800, 1)
        self.assertIn("measurement.measure_time", e.details())  # 2100: the future
        self.assertRpcError(C.PERMISSION_DENIED, self.viewer.call, SO + "AddObjectiveMeasurement",
                            name=o.name, measurement=O.ObjectiveMeasurement(
                                measure_time=pb.timestamp.Timestamp(seconds=q1), value=1))
        for method, kw in ((SO + "GetSecurityObjective", {}),
                           (SO + "AddObjectiveMeasurement", dict(measurement=O.ObjectiveMeasurement(
                               measure_time=pb.timestamp.Timestamp(seconds=q1), value=1)))):
            with self.subTest(method):
                e1 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=o.name,
                                         **kw)
                missing = self.org + "/securityObjectives/no-such-thing"
                e2 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=missing,
                                         **kw)
                self.assertEqual(e1.details().replace(o.name, "{}"),
                                 e2.details().replace(missing, "{}"))


if __name__ == "__main__":
    import unittest
    unittest.main()
