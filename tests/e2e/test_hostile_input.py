"""Requests a client controls in full: output-only fields, unknown fields inside
nested messages, oversized masks, out-of-range values, trailing filter text.
None may crash the server, leak into what is stored, or surface as INTERNAL."""

import time
import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


def field(number, payload):
    """A length-delimited protobuf field (payload < 128 bytes)."""
    assert len(payload) < 128
    return bytes([(number << 3) | 2, len(payload)]) + payload


class HostileInputTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.make_org("hostile-a")
        cls.a_admin = cls.server.client(
            cls.make_key("organizations/hostile-a", pb.common.ROLE_ADMIN).secret)

    def test_unknown_fields_inside_create_time_are_dropped(self):
        pb = protos()
        org = pb.orgs.Organization(legal_name="Unknowns", country_code="DE",
                                   kind=pb.orgs.ORGANIZATION_KIND_OPERATOR).SerializeToString()
        # create_time (field 8) = {seconds: 1, field 99: 1}; update_time (9) likewise
        ts = b"\x08\x01" + b"\x98\x06\x01"
        org += field(8, ts) + field(9, ts)
        body = field(1, org) + field(2, b"hostile-unknown")
        for _ in range(3):  # a double free would not survive repetition
            try:
                o = self.admin.call("Organizations.CreateOrganization", request=body,
                                    raw_request=True)
            except grpc.RpcError as e:
                self.assertEqual(e.code(), C.ALREADY_EXISTS, e.details())
                continue
            self.assertGreater(o.create_time.seconds, 1)  # the server's clock, not ours
            self.assertEqual(o.create_time, o.update_time)
            self.assertNotIn(b"\x98\x06", o.SerializeToString())
        got = self.admin.call("Organizations.GetOrganization",
                              name="organizations/hostile-unknown")
        self.assertNotIn(b"\x98\x06", got.SerializeToString())

    def test_output_only_key_fields_ignored(self):
        pb = protos()
        key = pb.keys.ApiKey(role=pb.common.ROLE_VIEWER, display_name="x",
                             state=pb.keys.ApiKey.STATE_REVOKED, key_prefix="ssk_forged",
                             creator="platform/apiKeys/forged", etag="forged",
                             name="organizations/hostile-a/apiKeys/forged")
        key.revoke_time.seconds = 1
        r = self.a_admin.call("ApiKeys.CreateApiKey", parent="organizations/hostile-a",
                              api_key=key)
        k = r.api_key
        self.assertEqual(k.state, pb.keys.ApiKey.STATE_ACTIVE)
        self.assertFalse(k.HasField("revoke_time"))
        self.assertNotEqual(k.key_prefix, "ssk_forged")
        self.assertTrue(r.secret.startswith(k.key_prefix))
        self.assertNotEqual(k.creator, "platform/apiKeys/forged")
        self.assertNotEqual(k.etag, "forged")
        self.assertNotEqual(k.name, "organizations/hostile-a/apiKeys/forged")
        got = self.a_admin.call("ApiKeys.GetApiKey", name=k.name)
        self.assertFalse(got.HasField("revoke_time"))

    def test_too_many_mask_paths(self):
        pb = protos()
        o = self.admin.call("Organizations.GetOrganization", name="organizations/hostile-a")
        mask = pb.field_mask.FieldMask(paths=["legal_name"] * 5000)
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                "Organizations.UpdateOrganization", organization=o,
                                update_mask=mask)
        self.assertIn("update_mask", e.details())

    def test_certificate_time_out_of_range(self):
        pb = protos()
        o = self.admin.call("Organizations.GetOrganization", name="organizations/hostile-a")
        cert = o.certificates.add(type=pb.orgs.CERTIFICATE_TYPE_AEO, number="DEAEOF1")
        cert.valid_from.seconds = 300000000000  # beyond year 9999
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                "Organizations.UpdateOrganization", organization=o,
                                update_mask=pb.field_mask.FieldMask(paths=["certificates"]))
        self.assertIn("certificates[0].valid_from", e.details())
        # out of range outside the mask: still the client's error, not INTERNAL
        o.legal_name = "Renamed"
        self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                            "Organizations.UpdateOrganization", organization=o,
                            update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        e = self.assertRpcError(
            C.INVALID_ARGUMENT, self.admin.call, "Organizations.CreateOrganization",
            organization=o, organization_id="hostile-cert")
        self.assertIn("valid_from", e.details())

    def test_filter_with_trailing_text(self):
        for f in ("state = ACTIVE) OR true", "state = ACTIVE extra", "state = "):
            e = self.assertRpcError(C.INVALID_ARGUMENT, self.a_admin.call, "ApiKeys.ListApiKeys",
                                    parent="organizations/hostile-a", filter=f)
            self.assertIn("filter", e.details())
        r = self.a_admin.call("ApiKeys.ListApiKeys", parent="organizations/hostile-a",
                              filter="  state = ACTIVE  ")
        self.assertTrue(r.api_keys)

    def test_server_still_serves(self):
        time.sleep(0.1)
        self.admin.call("Organizations.GetOrganization", name="organizations/hostile-a")


if __name__ == "__main__":
    unittest.main()
