"""Security incidents (ISO 28001 5.7, ISO 28000 4.5.3) through the API: the
forwarder records a break-in at its Hamburg warehouse that customs must be
told of; the list of incidents with missing notifications finds it; closing
is refused, naming the notification and the open action; once customs is
told and the fence repaired, an ADMIN closes it; a closed incident is a
record (neither changed nor deleted) until reopened with a reason; another
organization sees none of it."""

import time

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
SI = "SecurityIncidents."


class IncidentsTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("fwd")).name
        cls.editor = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_EDITOR).secret)
        cls.org_admin = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_ADMIN).secret)
        other = cls.make_org(cls.uid("oth")).name
        cls.stranger = cls.server.client(cls.make_key(other, pb.common.ROLE_ADMIN).secret)

    def test_notified_then_closed(self):
        pb = protos()
        I = pb.incidents
        ts = pb.timestamp.Timestamp
        now = int(time.time())
        st = self.editor.call(
            "StatementsOfApplication.CreateStatementOfApplication", parent=self.org,
            statement_of_application=pb.statements.StatementOfApplication(
                title="Scope", facilities=[pb.statements.Facility(
                    id="hamburg", name="Hamburg warehouse", country_code="DE")])).name
        fence = I.IncidentAction(description="Repair the fence", kind=I.ACTION_KIND_CORRECTIVE,
                                 owner="Site manager", status=I.ACTION_STATUS_OPEN)
        inc = self.editor.call(SI + "CreateSecurityIncident", parent=self.org,
                               security_incident=I.SecurityIncident(
                                   title="Break-in at the yard", occur_time=ts(seconds=now - 7200),
                                   severity=I.INCIDENT_SEVERITY_HIGH,
                                   facility=st + "/facilities/hamburg",
                                   assets_hit=["MSCU1234567"],
                                   required_notifications=[I.RequiredNotification(
                                       kind=I.AUTHORITY_KIND_CUSTOMS, authority="Zoll Hamburg")],
                                   actions=[fence], state=I.INCIDENT_STATE_CLOSED))
        self.assertEqual(inc.state, I.INCIDENT_STATE_OPEN)  # not the client's
        self.assertEqual([m.authority for m in inc.missing_notifications], ["Zoll Hamburg"])
        missing = self.editor.call(SI + "ListSecurityIncidents", parent=self.org,
                                   filter="notifications_missing = true AND state = OPEN")
        self.assertEqual([x.name for x in missing.security_incidents], [inc.name])

        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                SI + "CloseSecurityIncident", name=inc.name)
        self.assertIn("the notification to CUSTOMS Zoll Hamburg", e.details())
        self.assertIn("1 action still open", e.details())

        fence.status = I.ACTION_STATUS_DONE
        upd = I.SecurityIncident(name=inc.name, actions=[fence], notifications=[
            I.NotificationMade(kind=I.AUTHORITY_KIND_CUSTOMS, authority="Zoll Hamburg",
                               reference="ZH-2026-0077", notify_time=ts(seconds=now - 3600))])
        got = self.editor.call(SI + "UpdateSecurityIncident", security_incident=upd,
                               update_mask=pb.field_mask.FieldMask(
                                   paths=["actions", "notifications"]))
        self.assertFalse(got.notifications_missing)
        self.assertRpcError(C.PERMISSION_DENIED, self.editor.call, SI + "CloseSecurityIncident",
                            name=inc.name)
        closed = self.org_admin.call(SI + "CloseSecurityIncident", name=inc.name)
        self.assertEqual(closed.state, I.INCIDENT_STATE_CLOSED)
        self.assertTrue(closed.HasField("close_time"))

        # a record: neither changed nor deleted until reopened with a reason
        self.assertRpcError(C.FAILED_PRECONDITION, self.editor.call,
                            SI + "UpdateSecurityIncident",
                            security_incident=I.SecurityIncident(name=inc.name, title="x"),
                            update_mask=pb.field_mask.FieldMask(paths=["title"]))
        self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                            SI + "DeleteSecurityIncident", name=inc.name)
        self.assertRpcError(C.INVALID_ARGUMENT, self.org_admin.call,
                            SI + "ReopenSecurityIncident", name=inc.name)
        reopened = self.org_admin.call(SI + "ReopenSecurityIncident", name=inc.name,
                                       reason="A second entry point found on the CCTV")
        self.assertEqual(reopened.state, I.INCIDENT_STATE_OPEN)

        for method, kw in ((SI + "GetSecurityIncident", {}),
                           (SI + "CloseSecurityIncident", {}),
                           (SI + "ReopenSecurityIncident", dict(reason="r"))):
            with self.subTest(method):
                missing_name = self.org + "/securityIncidents/no-such-thing"
                e1 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method, name=inc.name,
                                         **kw)
                e2 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, method,
                                         name=missing_name, **kw)
                self.assertEqual(e1.details().replace(inc.name, "{}"),
                                 e2.details().replace(missing_name, "{}"))


if __name__ == "__main__":
    import unittest
    unittest.main()
