"""Page tokens are authenticated (an HMAC with a key kept in the store):
a token anyone could compute from the query and a resource name is
INVALID_ARGUMENT, an altered one too, and a genuine one still works after a
restart because the key is the store's, not the process's."""

import base64
import hashlib
import unittest

import grpc

from harness import ServerTestCase

C = grpc.StatusCode


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PageTokenTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for i in range(5):
            cls.make_org("pt-%d" % i)

    def test_forged_tokens_are_refused(self):
        # The format tokens had before they were authenticated: a fingerprint
        # of the query anyone can compute, then the cursor.
        fp = hashlib.sha256(b"ListOrganizations").hexdigest()[:16]
        forged = b64url((fp + ":organizations/pt-1").encode())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                                "Organizations.ListOrganizations", page_size=2,
                                page_token=forged)
        self.assertIn("page_token", e.details())
        genuine = self.admin.call("Organizations.ListOrganizations",
                                  page_size=2).next_page_token
        raw = bytearray(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))
        raw[-1] ^= 1  # another cursor under the same MAC
        self.assertRpcError(C.INVALID_ARGUMENT, self.admin.call,
                            "Organizations.ListOrganizations", page_size=2,
                            page_token=b64url(bytes(raw)))

    def test_token_survives_a_restart(self):
        first = self.admin.call("Organizations.ListOrganizations", page_size=2)
        self.assertTrue(first.next_page_token)
        self.server.stop()
        self.server.start()
        admin = type(self).admin = self.server.admin()
        second = admin.call("Organizations.ListOrganizations", page_size=2,
                            page_token=first.next_page_token)
        names = [o.name for o in list(first.organizations) + list(second.organizations)]
        self.assertEqual(len(set(names)), 4)
        self.assertEqual(names, sorted(names))


if __name__ == "__main__":
    unittest.main()
