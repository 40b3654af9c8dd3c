"""The security policy's story (ISO 28000 4.2, a controlled document): draft,
submit, reject with a reason, fix, submit, approve, create revision 2, approve
it; revision 1 still readable and SUPERSEDED; an edit to an approved revision
refused; every illegal move refused naming the state and the allowed moves."""

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
S = "SecurityPolicies."


class SecurityPolicyStoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.org = cls.make_org(cls.uid("pol")).name
        cls.org_admin = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_ADMIN).secret)
        cls.editor = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_EDITOR).secret)
        cls.viewer = cls.server.client(cls.make_key(cls.org, pb.common.ROLE_VIEWER).secret)
        other = cls.make_org(cls.uid("oth")).name
        cls.stranger = cls.server.client(cls.make_key(other, pb.common.ROLE_ADMIN).secret)

    def policy(self, **kw):
        pb = protos()
        kw.setdefault("title", "Supply chain security policy")
        kw.setdefault("text", "We protect the cargo we handle.")
        return pb.policies.SecurityPolicy(**kw)

    def sign_off(self, p):
        pb = protos()
        ts = pb.timestamp.Timestamp(seconds=1790000000)
        p.sign_off.CopyFrom(pb.policies.SignOff(signatory_name="A. Chief",
                                                signatory_role="Managing Director", sign_time=ts))
        return p

    def update(self, client, p, paths):
        pb = protos()
        return client.call(S + "UpdateSecurityPolicy", security_policy=p,
                           update_mask=pb.field_mask.FieldMask(paths=paths))

    def test_story(self):
        pb = protos()
        DS = pb.common
        # draft
        p = self.editor.call(S + "CreateSecurityPolicy", parent=self.org,
                             security_policy=self.policy(), security_policy_id="main")
        name = p.name
        self.assertEqual(name, self.org + "/securityPolicies/main")
        self.assertEqual(p.state, DS.DOCUMENT_STATE_DRAFT)
        self.assertEqual(p.revision_id, "1")
        self.assertTrue(p.HasField("revision_create_time"))
        # submit (EDITOR), then reject (ADMIN) with a reason
        p = self.editor.call(S + "SubmitSecurityPolicy", name=name, etag=p.etag)
        self.assertEqual(p.state, DS.DOCUMENT_STATE_IN_REVIEW)
        self.assertTrue(p.control.submitter.startswith(self.org + "/apiKeys/"))
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.org_admin.call,
                                S + "RejectSecurityPolicy", name=name)
        self.assertIn("reason", e.details())
        p = self.org_admin.call(S + "RejectSecurityPolicy", name=name,
                                reason="No sign-off by top management yet")
        self.assertEqual(p.state, DS.DOCUMENT_STATE_DRAFT)
        self.assertEqual(p.control.rejection_reason, "No sign-off by top management yet")
        # fix: the sign-off, in the draft
        p = self.update(self.editor, self.sign_off(self.policy(name=name)), ["sign_off"])
        self.assertEqual(p.sign_off.signatory_role, "Managing Director")
        # submit, approve
        self.editor.call(S + "SubmitSecurityPolicy", name=name)
        e = self.assertRpcError(C.PERMISSION_DENIED, self.editor.call,
                                S + "ApproveSecurityPolicy", name=name)
        p = self.org_admin.call(S + "ApproveSecurityPolicy", name=name)
        self.assertEqual(p.state, DS.DOCUMENT_STATE_APPROVED)
        self.assertTrue(p.control.approver.startswith(self.org + "/apiKeys/"))
        self.assertTrue(p.control.HasField("approve_time"))
        # an approved revision does not change
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.update, self.editor,
                                self.policy(name=name, title="Changed"), ["title"])
        self.assertIn("APPROVED", e.details())
        self.assertIn("CreateRevision", e.details())
        # revision 2: a draft copy, revision + 1
        p2 = self.editor.call(S + "CreateSecurityPolicyRevision", name=name)
        self.assertEqual(p2.state, DS.DOCUMENT_STATE_DRAFT)
        self.assertEqual(p2.revision_id, "2")
        self.assertEqual(p2.title, p.title)
        self.assertFalse(p2.control.approver)
        p2 = self.update(self.editor, self.policy(name=name, title="Policy, 2nd edition"),
                         ["title"])
        r1 = self.viewer.call(S + "GetSecurityPolicy", name=name + "@1")
        self.assertEqual(r1.state, DS.DOCUMENT_STATE_APPROVED)  # still in force
        self.assertEqual(r1.name, name + "@1")
        self.assertEqual(r1.title, "Supply chain security policy")
        self.editor.call(S + "SubmitSecurityPolicy", name=name)
        p2 = self.org_admin.call(S + "ApproveSecurityPolicy", name=name)
        self.assertEqual(p2.state, DS.DOCUMENT_STATE_APPROVED)
        # revision 1 readable and SUPERSEDED; both in the revision list
        r1 = self.viewer.call(S + "GetSecurityPolicy", name=name + "@1")
        self.assertEqual(r1.state, DS.DOCUMENT_STATE_SUPERSEDED)
        self.assertTrue(r1.control.HasField("supersede_time"))
        self.assertEqual(r1.create_time, p2.create_time)
        r2 = self.viewer.call(S + "GetSecurityPolicy", name=name + "@2")
        self.assertEqual((r2.state, r2.title), (DS.DOCUMENT_STATE_APPROVED, "Policy, 2nd edition"))
        revs = self.viewer.call(S + "ListSecurityPolicyRevisions", name=name)
        self.assertEqual([r.name for r in revs.security_policies], [name + "@1", name + "@2"])
        self.assertEqual(self.viewer.call(S + "GetSecurityPolicy", name=name).revision_id, "2")
        # a revision is read only, and an approved document is not deleted
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.update, self.editor,
                                self.policy(name=name + "@1"), ["title"])
        self.assertIn("read only", e.details())
        self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                            S + "DeleteSecurityPolicy", name=name)
        self.assertRpcError(C.NOT_FOUND, self.viewer.call, S + "GetSecurityPolicy",
                            name=name + "@3")

    def test_illegal_moves_name_the_state(self):
        p = self.editor.call(S + "CreateSecurityPolicy", parent=self.org,
                             security_policy=self.policy())
        for method, client, extra in (("ApproveSecurityPolicy", self.org_admin, {}),
                                      ("RejectSecurityPolicy", self.org_admin, {"reason": "x"}),
                                      ("CreateSecurityPolicyRevision", self.editor, {})):
            with self.subTest(method=method):
                e = self.assertRpcError(C.FAILED_PRECONDITION, client.call, S + method,
                                        name=p.name, **extra)
                self.assertIn("is DRAFT", e.details())
                self.assertIn("SubmitForReview", e.details())
        # approval needs the sign-off
        self.editor.call(S + "SubmitSecurityPolicy", name=p.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.org_admin.call,
                                S + "ApproveSecurityPolicy", name=p.name)
        self.assertIn("sign-off", e.details())
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.editor.call,
                                S + "SubmitSecurityPolicy", name=p.name)
        self.assertIn("is IN_REVIEW", e.details())
        # a stale etag changes nothing
        self.assertRpcError(C.ABORTED, self.org_admin.call, S + "RejectSecurityPolicy",
                            name=p.name, etag=p.etag, reason="stale")
        # a draft never approved may be deleted
        self.org_admin.call(S + "RejectSecurityPolicy", name=p.name, reason="start over")
        self.org_admin.call(S + "DeleteSecurityPolicy", name=p.name)
        self.assertRpcError(C.NOT_FOUND, self.viewer.call, S + "GetSecurityPolicy", name=p.name)

    def test_roles_and_tenancy(self):
        p = self.editor.call(S + "CreateSecurityPolicy", parent=self.org,
                             security_policy=self.policy())
        self.assertRpcError(C.PERMISSION_DENIED, self.viewer.call, S + "CreateSecurityPolicy",
                            parent=self.org, security_policy=self.policy())
        self.assertRpcError(C.PERMISSION_DENIED, self.viewer.call, S + "SubmitSecurityPolicy",
                            name=p.name)
        for method in ("GetSecurityPolicy", "SubmitSecurityPolicy", "ApproveSecurityPolicy",
                       "ListSecurityPolicyRevisions", "DeleteSecurityPolicy"):
            with self.subTest(method=method):
                e1 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, S + method,
                                         name=p.name)
                e2 = self.assertRpcError(C.NOT_FOUND, self.stranger.call, S + method,
                                         name=self.org + "/securityPolicies/no-such")
                self.assertEqual(e1.details().replace(p.name, "{}"),
                                 e2.details().replace(self.org + "/securityPolicies/no-such",
                                                      "{}"))
        self.assertRpcError(C.NOT_FOUND, self.stranger.call, S + "ListSecurityPolicies",
                            parent=self.org)

    def test_validation(self):
        pb = protos()
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call, S + "CreateSecurityPolicy",
                                parent=self.org, security_policy=self.policy(title=""))
        self.assertIn("security_policy.title", e.details())
        bad = self.policy()
        bad.commitments.CopyFrom(pb.policies.PolicyCommitments(iso_28001_best_practices=True))
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.editor.call, S + "CreateSecurityPolicy",
                                parent=self.org, security_policy=bad)
        self.assertIn("best_practices_scope", e.details())
        # output-only fields a client sends are not taken
        p = self.policy(state=pb.common.DOCUMENT_STATE_APPROVED, revision_id="7")
        p = self.editor.call(S + "CreateSecurityPolicy", parent=self.org, security_policy=p)
        self.assertEqual((p.state, p.revision_id), (pb.common.DOCUMENT_STATE_DRAFT, "1"))

    def test_filters_and_their_page_tokens(self):
        pb = protos()
        org = self.make_org(self.uid("flt")).name
        editor = self.server.client(self.make_key(org, pb.common.ROLE_EDITOR).secret)
        admin = self.server.client(self.make_key(org, pb.common.ROLE_ADMIN).secret)
        names = []
        for i in range(5):
            p = editor.call(S + "CreateSecurityPolicy", parent=org,
                            security_policy=self.sign_off(self.policy(title="P%d" % i)),
                            security_policy_id="pol-%d" % i)
            names.append(p.name)
        for n in names[:3]:
            editor.call(S + "SubmitSecurityPolicy", name=n)
        admin.call(S + "ApproveSecurityPolicy", name=names[0])

        def listed(flt, page_size=1000, token=""):
            r = editor.call(S + "ListSecurityPolicies", parent=org, filter=flt,
                            page_size=page_size, page_token=token)
            return [x.name for x in r.security_policies], r.next_page_token

        self.assertEqual(listed("state = APPROVED")[0], names[:1])
        self.assertEqual(listed("state = IN_REVIEW")[0], names[1:3])
        self.assertEqual(listed("state = DRAFT OR title = \"P0\"")[0],
                         [names[0]] + names[3:])
        self.assertEqual(listed("title >= \"P2\" AND NOT state = DRAFT")[0], [names[2]])
        self.assertEqual(listed("create_time < \"2000-01-01T00:00:00Z\"")[0], [])
        # pages of a filtered list, and tokens bound to the filter (not its spelling)
        got, token = listed("state != APPROVED", page_size=2)
        self.assertEqual(got, names[1:3])
        more, token2 = listed("  state!=DOCUMENT_STATE_APPROVED ", page_size=2, token=token)
        self.assertEqual(more, names[3:5])
        self.assertEqual(token2, "")
        e = self.assertRpcError(C.INVALID_ARGUMENT, listed, "state = DRAFT", 2, token)
        self.assertIn("page_token", e.details())
        for bad, word in (("colour = RED", "colour"), ("state = GREEN", "state"),
                          ("title = P1", "quote"), ("state = DRAFT title = \"x\"", "AND")):
            with self.subTest(filter=bad):
                e = self.assertRpcError(C.INVALID_ARGUMENT, listed, bad)
                self.assertIn(word, e.details())
