"""Text in requests, checked on the wire before any handler runs: a string
field holding a NUL byte or bytes that are not UTF-8 is INVALID_ARGUMENT
naming the field, in every method, keyed or not. protobuf-c hands strings
over NUL-terminated, so without the check "\\0" + a stale etag read as no
etag at all and "Acme\\0Evil Corp" was stored as "Acme"."""

import time
import unittest

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode


def ld(number, payload):
    """A length-delimited protobuf field."""
    n, head = len(payload), b""
    while True:
        b = n & 0x7F
        n >>= 7
        head += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return bytes([(number << 3) | 2]) + head + payload


class RequestTextTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.make_org("text-a")
        cls.key = cls.make_key("organizations/text-a", pb.common.ROLE_ADMIN)
        cls.a_admin = cls.server.client(cls.key.secret)

    def refused(self, client, method, field, **kw):
        e = self.assertRpcError(C.INVALID_ARGUMENT, client.call, method, **kw)
        self.assertTrue(e.details().startswith(field + ": "), e.details())
        return e

    def test_nul_before_stale_etag_does_not_bypass_the_check(self):
        pb = protos()
        o = self.admin.call("Organizations.GetOrganization", name="organizations/text-a")
        stale = o.etag
        o.legal_name = "Changed once"
        self.admin.call("Organizations.UpdateOrganization", organization=o,
                        update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        o.legal_name = "Changed with a stale etag"
        o.etag = "\0" + stale
        self.refused(self.admin, "Organizations.UpdateOrganization", "organization.etag",
                     organization=o, update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        got = self.admin.call("Organizations.GetOrganization", name="organizations/text-a")
        self.assertEqual(got.legal_name, "Changed once")
        self.refused(self.admin, "Organizations.DeleteOrganization", "etag",
                     name="organizations/text-a", etag="\0" + stale)
        self.refused(self.a_admin, "ApiKeys.RevokeApiKey", "etag", name=self.key.api_key.name,
                     etag="\0stale")
        self.a_admin.call("ApiKeys.GetApiKey", name=self.key.api_key.name)  # still active

    def test_nul_in_text_and_ids(self):
        pb = protos()
        org = pb.orgs.Organization(legal_name="Acme\0Evil Corp", country_code="DE",
                                   kind=pb.orgs.ORGANIZATION_KIND_OPERATOR)
        self.refused(self.admin, "Organizations.CreateOrganization", "organization.legal_name",
                     organization=org, organization_id="text-nul")
        org.legal_name = "Acme"
        self.refused(self.admin, "Organizations.CreateOrganization", "organization_id",
                     organization=org, organization_id="repnul\0../../x")
        self.assertRpcError(C.NOT_FOUND, self.admin.call, "Organizations.GetOrganization",
                            name="organizations/repnul")
        self.refused(self.admin, "Organizations.GetOrganization", "name",
                     name="organizations/text-a\0x")
        org.identifiers.eori = "DE1\0"
        self.refused(self.admin, "Organizations.CreateOrganization",
                     "organization.identifiers.eori", organization=org,
                     organization_id="text-nul2")

    def test_invalid_utf8_in_a_masked_field_is_invalid_argument(self):
        pb = protos()
        o = self.admin.call("Organizations.GetOrganization", name="organizations/text-a")
        o.legal_name = "QQQQ"
        body = pb.orgs.UpdateOrganizationRequest(
            organization=o, update_mask=pb.field_mask.FieldMask(paths=["legal_name"])
        ).SerializeToString()
        for bad in (b"\xff\xfe\xfd\xfc", b"\xc0\xaf\xc0\xaf", b"\xed\xa0\x80Q"):
            e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                    "Organizations.UpdateOrganization",
                                    request=body.replace(b"QQQQ", bad), raw_request=True)
            self.assertIn("organization.legal_name: is not valid UTF-8", e.details())
        self.assertNotIn('"status":"INTERNAL"', self.server.log_text())

    def test_keyless_methods_are_checked_too(self):
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.server.client().call, "Health.Check",
                                request=ld(1, b"x\xff"), raw_request=True)
        self.assertIn("service: is not valid UTF-8", e.details())
        self.refused(self.server.client(), "Health.Check", "service", service="\0")

    def test_masks_with_empty_segments_are_refused(self):
        pb = protos()
        o = self.admin.call("Organizations.GetOrganization", name="organizations/text-a")
        for path in (".legal_name", "legal_name.", "identifiers..eori", "."):
            e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                    "Organizations.UpdateOrganization", organization=o,
                                    update_mask=pb.field_mask.FieldMask(paths=[path]))
            self.assertIn("update_mask", e.details())

    def test_log_lines_stay_utf8_json(self):
        import json
        long_name = "/supplysec.v1.Nope/" + "\u00e4" * 1500  # 3000 bytes, two per character
        fn = self.server.channel.unary_unary(long_name, request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            fn(b"", timeout=10)
        self.assertEqual(cm.exception.code(), C.UNIMPLEMENTED)
        cm.exception.details().encode("utf-8")  # the status message is text too
        # the call's line is written once its last batch completes, which
        # may be just after the client has its answer
        deadline = time.monotonic() + 10
        while True:
            with open(self.server.log_path, "rb") as f:
                # only whole lines: the server may be writing the last one
                lines = f.read().split(b"\n")[:-1]
            if any(b"Nope" in raw for raw in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(any(b"Nope" in raw for raw in lines))
        for raw in lines:
            raw.decode("utf-8")  # strict: a cut character fails here
            json.loads(raw)


if __name__ == "__main__":
    unittest.main()
