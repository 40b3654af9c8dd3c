"""Declarations of security across organizations (ISO 28001 4.2), "declare
once, address many", as the story of a forwarder's security manager, with
four organizations on the platform. The forwarder lists a carrier (no
certificate: a declaration is required) and a port operator (a verified
AEO-S: exempt, the basis named) and approves its statement of application
covering both. It asks the carrier for a declaration, and so does an
importer; the carrier writes one declaration, approves it, and answers both;
the forwarder rejects it once with a reason, the importer accepts; the
carrier approves revision 2, which answers both requests again, and both
accept; the forwarder records a credibility review and the carrier's next
review moves a year on; the carrier revokes the declaration and both see
REVOKED. A haulier that is not on the platform gets its paper declaration
recorded, attached and reviewed by the forwarder itself
(test_paper_declaration_for_a_partner_not_on_the_platform,
test_credibility_reviews).

Each side reads what the other wrote for it and nothing else: the forwarder
reads the carrier's declaration only at the revision attached to its own
request, never the latest draft nor the list; the carrier reads the requests
addressed to it, never the forwarder's partners; a third organization gets
NOT_FOUND on every name it guesses, worded as for a name that does not
exist. Every illegal move is refused."""

import time

import grpc

from harness import ServerTestCase, protos

C = grpc.StatusCode
D = "Declarations."
R = "DeclarationRequests."
BP = "BusinessPartners."
YEAR = 365 * 86400


class DeclarationsStoryTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pb = protos()
        cls.who = {}
        for org in ("forwarder", "importer", "carrier", "third"):
            name = cls.make_org(cls.uid(org[:4])).name
            cls.who[org] = dict(name=name)
            for role in ("viewer", "editor", "admin"):
                r = cls.make_key(name, getattr(pb.common, "ROLE_" + role.upper()))
                cls.who[org][role] = cls.server.client(r.secret)

    def c(self, org, role="editor"):
        return self.who[org][role]

    def org(self, org):
        return self.who[org]["name"]

    def ts(self, seconds_from_now):
        return protos().timestamp.Timestamp(seconds=int(time.time()) + seconds_from_now)

    def partner(self, org, linked_to=None, pid=None):
        pb = protos()
        return self.c(org).call(BP + "CreateBusinessPartner", parent=self.org(org),
                                business_partner_id=pid or self.uid("bp"),
                                business_partner=pb.partners.BusinessPartner(
                                    legal_name="Carrier Ltd", country_code="PL",
                                    risk_tier=pb.partners.RISK_TIER_HIGH,
                                    organization=self.org(linked_to) if linked_to else ""))

    def request(self, org, partner):
        pb = protos()
        return self.c(org).call(R + "CreateDeclarationRequest", parent=self.org(org),
                                declaration_request=pb.requests.DeclarationRequest(
                                    business_partner=partner.name,
                                    message="Please send your declaration of security"))

    def declaration(self, org, complete=True, template_only=False, **kw):
        """A declaration; template_only: the four statements of the EU AEO
        security declaration template (C, E, F, G) and no more."""
        pb = protos()
        P = pb.declarations
        d = P.Declaration(title="Declaration of security", **kw)
        if complete:
            d.measures.CopyFrom(P.SecurityMeasures(
                information_protection="Need-to-know access to shipment data",
                cargo_security="Sealed units, seal log checked at every hand-over",
                conveyance_security="Trucks locked and tracked; no unscheduled stops",
                premises_security="Fenced yard, CCTV, access badges",
                personnel_security="Background checks where the law allows",
                trading_partner_security="Subcontractors bound by the same measures"))
            if template_only:
                d.measures.ClearField("information_protection")
                d.measures.ClearField("conveyance_security")
            d.signatory.CopyFrom(P.Signatory(name="J. Kowalski", position="Managing Director"))
            d.sign_time.CopyFrom(self.ts(-3600))
            d.valid_until.CopyFrom(self.ts(YEAR))
        return self.c(org).call(D + "CreateDeclaration", parent=self.org(org), declaration=d)

    def approve(self, org, name):
        self.c(org).call(D + "SubmitDeclaration", name=name)
        return self.c(org, "admin").call(D + "ApproveDeclaration", name=name)

    def statement(self, org, partners):
        """The forwarder's scope of service, covering partners (an exempt
        one with its basis), submitted and approved."""
        pb = protos()
        S, O = pb.statements, pb.orgs
        st = self.c(org).call(
            "StatementsOfApplication.CreateStatementOfApplication", parent=self.org(org),
            statement_of_application=S.StatementOfApplication(
                title="Scope of service: Asia-Europe sea freight",
                functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER],
                facilities=[S.Facility(name="Hamburg export warehouse",
                                       address="Am Hafen 1, Hamburg", country_code="DE",
                                       un_locode="DEHAM",
                                       functions=[O.SUPPLY_CHAIN_ROLE_FORWARDER])],
                covered_portion=S.SupplyChainPortion(
                    **{"from": "Supplier's dock, Shenzhen", "to": "Consignee, Hamburg"},
                    transport_modes=[S.TRANSPORT_MODE_SEA, S.TRANSPORT_MODE_ROAD],
                    goods="Consumer electronics", crosses_border=True),
                business_partners=[S.CoveredPartner(business_partner=p.name,
                                                    exemption_basis=p.exemption_basis)
                                   for p in partners]))
        self.c(org).call("StatementsOfApplication.SubmitStatementOfApplication", name=st.name)
        return self.c(org, "admin").call("StatementsOfApplication.ApproveStatementOfApplication",
                                         name=st.name)

    def port_operator(self, org):
        """A port operator holding a verified AEO-S."""
        pb = protos()
        P = pb.partners
        return self.c(org).call(BP + "CreateBusinessPartner", parent=self.org(org),
                                business_partner_id=self.uid("port"),
                                business_partner=P.BusinessPartner(
                                    legal_name="Port of Gdansk Terminal", country_code="PL",
                                    risk_tier=P.RISK_TIER_MEDIUM,
                                    roles=[pb.orgs.SUPPLY_CHAIN_ROLE_PORT_OPERATOR],
                                    certificates=[P.PartnerCertificate(
                                        type=P.PARTNER_CERTIFICATE_TYPE_AEO_S,
                                        number="PLAEOS0042", issuing_country="PL",
                                        issuing_authority="Krajowa Administracja Skarbowa",
                                        valid_until=self.ts(YEAR),
                                        verified_by=P.CERTIFICATE_VERIFICATION_AUTHORITY_REGISTER,
                                        verify_time=self.ts(-86400))]))

    def test_story(self):
        pb = protos()
        S = pb.requests
        # the forwarder and the importer each list the carrier, linked to its
        # organization: no certificate, so a declaration is required; the
        # forwarder's port operator is exempt by its verified AEO-S
        fw_carrier = self.partner("forwarder", linked_to="carrier")
        im_carrier = self.partner("importer", linked_to="carrier")
        self.assertTrue(fw_carrier.declaration_required)
        port = self.port_operator("forwarder")
        self.assertFalse(port.declaration_required)
        self.assertTrue(port.exemption_basis.startswith("AEO-S PLAEOS0042 (PL), valid until "),
                        port.exemption_basis)
        # the forwarder's scope of service covers both, and is approved
        st = self.statement("forwarder", [fw_carrier, port])
        self.assertEqual(st.state, pb.common.DOCUMENT_STATE_APPROVED)
        self.assertEqual([c.exemption_basis for c in st.business_partners],
                         ["", port.exemption_basis])
        fw_req = self.request("forwarder", fw_carrier)
        im_req = self.request("importer", im_carrier)
        self.assertEqual(fw_req.state, S.DECLARATION_REQUEST_STATE_REQUESTED)
        self.assertEqual(fw_req.partner_organization, self.org("carrier"))

        # the carrier sees both, and reads each
        incoming = self.c("carrier", "viewer").call(R + "ListIncomingDeclarationRequests",
                                                    parent=self.org("carrier"))
        seen = {r.name: r.partner_organization for r in incoming.declaration_requests}
        self.assertLessEqual({fw_req.name, im_req.name}, set(seen))  # (and the other tests')
        self.assertEqual(set(seen.values()), {self.org("carrier")})
        self.assertEqual(self.c("carrier", "viewer").call(R + "GetDeclarationRequest",
                                                          name=fw_req.name), fw_req)

        # one declaration: approval needs it complete
        draft = self.declaration("carrier", complete=False)
        self.c("carrier").call(D + "SubmitDeclaration", name=draft.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("carrier", "admin").call,
                                D + "ApproveDeclaration", name=draft.name)
        self.assertIn("measures.cargo_security", e.details())
        decl = self.declaration("carrier")
        # a draft does not answer anything
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("carrier").call,
                                R + "AnswerDeclarationRequest", name=fw_req.name,
                                declaration=decl.name)
        self.assertIn("DRAFT", e.details())
        decl = self.approve("carrier", decl.name)

        # declare once, address many
        for req in (fw_req, im_req):
            a = self.c("carrier").call(R + "AnswerDeclarationRequest", name=req.name,
                                       declaration=decl.name)
            self.assertEqual(a.state, S.DECLARATION_REQUEST_STATE_ANSWERED)
            self.assertEqual((a.declaration, a.declaration_revision_id), (decl.name, "1"))
            self.assertEqual(a.declaration_valid_until, decl.valid_until)
        # each addressee reads the revision attached, and only that
        got = self.c("forwarder", "viewer").call(D + "GetDeclaration", name=decl.name + "@1")
        self.assertEqual(got.measures, decl.measures)
        for name in (decl.name, decl.name + "@2", draft.name, draft.name + "@1"):
            self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "viewer").call,
                                D + "GetDeclaration", name=name)
        self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "viewer").call,
                            D + "ListDeclarations", parent=self.org("carrier"))

        # the forwarder rejects once with a reason; the importer accepts
        self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder", "admin").call,
                            R + "RejectDeclarationRequest", name=fw_req.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.c("forwarder").call,
                            R + "AcceptDeclarationRequest", name=fw_req.name)
        self.assertRpcError(C.PERMISSION_DENIED, self.c("carrier", "admin").call,
                            R + "AcceptDeclarationRequest", name=fw_req.name)
        rj = self.c("forwarder", "admin").call(R + "RejectDeclarationRequest", name=fw_req.name,
                                               reason="Conveyance measures do not cover rail")
        self.assertEqual(rj.state, S.DECLARATION_REQUEST_STATE_REJECTED)
        self.assertEqual(rj.rejection_reason, "Conveyance measures do not cover rail")
        ac = self.c("importer", "admin").call(R + "AcceptDeclarationRequest", name=im_req.name)
        self.assertEqual(ac.state, S.DECLARATION_REQUEST_STATE_ACCEPTED)
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("importer", "admin").call,
                            R + "AcceptDeclarationRequest", name=im_req.name)
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("carrier").call,
                            R + "AnswerDeclarationRequest", name=im_req.name,
                            declaration=decl.name)

        # revision 2 answers both requests again, by itself: the rejected one
        # and the accepted one are ANSWERED, and each addressee decides again
        rev2 = self.c("carrier").call(D + "CreateDeclarationRevision", name=decl.name)
        conv = pb.declarations.SecurityMeasures(
            conveyance_security="Trucks and rail wagons locked and tracked")
        self.c("carrier").call(D + "UpdateDeclaration",
                               declaration=pb.declarations.Declaration(name=rev2.name,
                                                                       measures=conv),
                               update_mask=pb.field_mask.FieldMask(
                                   paths=["measures.conveyance_security"]))
        self.approve("carrier", decl.name)
        for org, req in (("forwarder", fw_req), ("importer", im_req)):
            got = self.c(org, "viewer").call(R + "GetDeclarationRequest", name=req.name)
            self.assertEqual(got.state, S.DECLARATION_REQUEST_STATE_ANSWERED, org)
            self.assertEqual(got.declaration_revision_id, "2")
            self.assertEqual(got.rejection_reason, "")
        self.assertEqual(self.c("forwarder", "viewer").call(
            D + "GetDeclaration", name=decl.name + "@2").measures.conveyance_security,
            "Trucks and rail wagons locked and tracked")
        self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "viewer").call,
                            D + "GetDeclaration", name=decl.name + "@1")  # no longer attached
        for org, req in (("forwarder", fw_req), ("importer", im_req)):
            self.c(org, "admin").call(R + "AcceptDeclarationRequest", name=req.name)

        # the forwarder reviews the accepted declaration's credibility: the
        # carrier (HIGH tier) is next due a year after the review
        V = pb.reviews
        when = self.ts(-3600)
        review = self.c("forwarder").call(
            "CredibilityReviews.CreateCredibilityReview", parent=fw_carrier.name,
            credibility_review=V.CredibilityReview(
                declaration_request=fw_req.name, method=V.REVIEW_METHOD_QUESTIONNAIRE,
                reviewer="F. Security Manager", findings="Answers match the declaration",
                result=V.REVIEW_RESULT_CREDIBLE, review_time=when))
        self.assertEqual((review.declaration, review.declaration_revision_id), (decl.name, "2"))
        p = self.c("forwarder", "viewer").call(BP + "GetBusinessPartner", name=fw_carrier.name)
        self.assertEqual(p.last_credibility_review_time, when)
        due, was = time.gmtime(p.next_credibility_review_time.seconds), time.gmtime(when.seconds)
        self.assertEqual((due.tm_year, due.tm_mon, due.tm_mday),
                         (was.tm_year + 1, was.tm_mon, was.tm_mday))
        self.assertGreater(p.next_credibility_review_time.seconds,
                           fw_carrier.next_credibility_review_time.seconds)

        # the carrier revokes it: both requests REVOKED at once
        self.assertRpcError(C.PERMISSION_DENIED, self.c("carrier").call,
                            D + "RevokeDeclaration", name=decl.name)
        self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "admin").call,
                            D + "RevokeDeclaration", name=decl.name)
        rv = self.c("carrier", "admin").call(D + "RevokeDeclaration", name=decl.name)
        self.assertTrue(rv.HasField("revoke_time"))
        for org, req in (("forwarder", fw_req), ("importer", im_req)):
            got = self.c(org, "viewer").call(R + "GetDeclarationRequest", name=req.name)
            self.assertEqual(got.state, S.DECLARATION_REQUEST_STATE_REVOKED, org)
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("carrier", "admin").call,
                            D + "RevokeDeclaration", name=decl.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("carrier").call,
                                R + "AnswerDeclarationRequest", name=fw_req.name,
                                declaration=decl.name)
        self.assertIn("revoked", e.details())
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder", "admin").call,
                            R + "AcceptDeclarationRequest", name=fw_req.name)

        # neither side edits the other's records (the carrier reads the
        # request addressed to it: its edit is PERMISSION_DENIED, not NOT_FOUND)
        self.assertRpcError(C.PERMISSION_DENIED, self.c("carrier", "admin").call,
                            R + "UpdateDeclarationRequest",
                            declaration_request=S.DeclarationRequest(name=fw_req.name,
                                                                     message="x"),
                            update_mask=pb.field_mask.FieldMask(paths=["message"]))
        self.assertRpcError(C.NOT_FOUND, self.c("carrier", "admin").call,
                            BP + "UpdateBusinessPartner",
                            business_partner=pb.partners.BusinessPartner(
                                name=fw_carrier.name, legal_name="x"),
                            update_mask=pb.field_mask.FieldMask(paths=["legal_name"]))
        self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "admin").call,
                            D + "UpdateDeclaration",
                            declaration=pb.declarations.Declaration(name=decl.name, title="x"),
                            update_mask=pb.field_mask.FieldMask(paths=["title"]))
        self.assertRpcError(C.NOT_FOUND, self.c("forwarder", "admin").call,
                            D + "ApproveDeclaration", name=decl.name)

        # a third organization sees nothing, worded as for what does not exist
        third = self.c("third", "admin")
        calls = [
            (R + "GetDeclarationRequest", dict(name=fw_req.name),
             dict(name=self.org("forwarder") + "/declarationRequests/no-such-thing")),
            (D + "GetDeclaration", dict(name=decl.name + "@2"),
             dict(name=self.org("carrier") + "/declarations/no-such-thing@2")),
            (R + "AnswerDeclarationRequest", dict(name=fw_req.name, declaration=decl.name),
             dict(name=self.org("forwarder") + "/declarationRequests/no-such-thing",
                  declaration=decl.name)),
            (R + "ListIncomingDeclarationRequests", dict(parent=self.org("carrier")),
             dict(parent="organizations/no-such-org")),
            ("StatementsOfApplication.GetStatementOfApplication", dict(name=st.name),
             dict(name=self.org("forwarder") + "/statementsOfApplication/no-such-thing")),
            (BP + "GetBusinessPartner", dict(name=port.name),
             dict(name=self.org("forwarder") + "/businessPartners/no-such-thing")),
            ("CredibilityReviews.GetCredibilityReview", dict(name=review.name),
             dict(name=fw_carrier.name + "/credibilityReviews/no-such-thing")),
        ]
        for method, real, missing in calls:
            with self.subTest(method):
                e1 = self.assertRpcError(C.NOT_FOUND, third.call, method, **real)
                e2 = self.assertRpcError(C.NOT_FOUND, third.call, method, **missing)
                key = "name" if "name" in real else "parent"
                base = lambda n: n.split("@")[0]  # a revision's message names its document
                self.assertEqual(e1.details().replace(base(real[key]), "{}"),
                                 e2.details().replace(base(missing[key]), "{}"))
        # the carrier cannot answer with another organization's declaration
        other = self.approve("importer", self.declaration("importer").name)
        again = self.request("forwarder", fw_carrier)
        self.assertRpcError(C.NOT_FOUND, self.c("carrier").call, R + "AnswerDeclarationRequest",
                            name=again.name, declaration=other.name)

    def test_paper_declaration_for_a_partner_not_on_the_platform(self):
        pb = protos()
        S = pb.requests
        haulier = self.partner("forwarder")  # not linked: not on the platform
        req = self.request("forwarder", haulier)
        self.assertEqual(req.partner_organization, "")
        # a declaration recorded for another partner, or the forwarder's own, does not fit
        own = self.approve("forwarder", self.declaration("forwarder").name)
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder").call,
                                R + "AnswerDeclarationRequest", name=req.name,
                                declaration=own.name)
        self.assertIn("recorded_for", e.details())
        paper = self.declaration("forwarder", template_only=True, recorded_for=haulier.name)
        self.c("forwarder").call(D + "SubmitDeclaration", name=paper.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder", "admin").call,
                                D + "ApproveDeclaration", name=paper.name)
        self.assertIn("paper_reference", e.details())
        self.c("forwarder", "admin").call(D + "RejectDeclaration", name=paper.name,
                                          reason="Add the archive reference")
        self.c("forwarder").call(D + "UpdateDeclaration",
                                 declaration=pb.declarations.Declaration(
                                     name=paper.name, paper_reference="ARCH-2026-0415"),
                                 update_mask=pb.field_mask.FieldMask(paths=["paper_reference"]))
        paper = self.approve("forwarder", paper.name)
        a = self.c("forwarder").call(R + "AnswerDeclarationRequest", name=req.name,
                                     declaration=paper.name)
        self.assertEqual(a.state, S.DECLARATION_REQUEST_STATE_ANSWERED)
        self.assertEqual((a.declaration, a.declaration_revision_id), (paper.name, "1"))
        ac = self.c("forwarder", "admin").call(R + "AcceptDeclarationRequest", name=req.name)
        self.assertEqual(ac.state, S.DECLARATION_REQUEST_STATE_ACCEPTED)
        # recorded_for names one of the organization's own partners, and stays
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.declaration, "forwarder",
                                recorded_for=self.org("importer") + "/businessPartners/x")
        self.assertIn("declaration.recorded_for", e.details())

    def test_requests_refuse_what_does_not_fit(self):
        pb = protos()
        linked = self.partner("forwarder", linked_to="carrier")
        req = self.request("forwarder", linked)
        # the forwarder does not answer for a partner on the platform
        own = self.approve("forwarder", self.declaration("forwarder").name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder").call,
                                R + "AnswerDeclarationRequest", name=req.name,
                                declaration=own.name)
        self.assertIn("answered by " + self.org("carrier"), e.details())
        # nothing to accept yet
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder", "admin").call,
                            R + "AcceptDeclarationRequest", name=req.name)
        # a viewer of the carrier does not answer
        decl = self.approve("carrier", self.declaration("carrier").name)
        self.assertRpcError(C.PERMISSION_DENIED, self.c("carrier", "viewer").call,
                            R + "AnswerDeclarationRequest", name=req.name, declaration=decl.name)
        # the partner must be the organization's own, and exist
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder").call,
                                R + "CreateDeclarationRequest", parent=self.org("forwarder"),
                                declaration_request=pb.requests.DeclarationRequest(
                                    business_partner=self.org("forwarder") +
                                    "/businessPartners/never-listed"))
        self.assertIn("declaration_request.business_partner", e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder").call,
                                R + "CreateDeclarationRequest", parent=self.org("forwarder"),
                                declaration_request=pb.requests.DeclarationRequest(
                                    business_partner=linked.name.replace(
                                        self.org("forwarder"), self.org("importer"))))
        self.assertIn("declaration_request.business_partner", e.details())
        # the server's fields are not the client's
        r2 = self.c("forwarder").call(R + "CreateDeclarationRequest", parent=self.org("forwarder"),
                                      declaration_request=pb.requests.DeclarationRequest(
                                          business_partner=linked.name,
                                          state=pb.requests.DECLARATION_REQUEST_STATE_ACCEPTED,
                                          partner_organization=self.org("third"),
                                          declaration=decl.name))
        self.assertEqual(r2.state, pb.requests.DECLARATION_REQUEST_STATE_REQUESTED)
        self.assertEqual(r2.partner_organization, self.org("carrier"))
        self.assertEqual(r2.declaration, "")
        # once answered, its message no longer changes
        self.c("carrier").call(R + "AnswerDeclarationRequest", name=r2.name, declaration=decl.name)
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder").call,
                                R + "UpdateDeclarationRequest",
                                declaration_request=pb.requests.DeclarationRequest(
                                    name=r2.name, message="changed"),
                                update_mask=pb.field_mask.FieldMask(paths=["message"]))
        self.assertIn("ANSWERED", e.details())

    def test_an_expired_declaration_expires_its_requests(self):
        pb = protos()
        S = pb.requests
        req = self.request("forwarder", self.partner("forwarder", linked_to="carrier"))
        d = self.declaration("carrier")
        self.c("carrier").call(D + "UpdateDeclaration",
                               declaration=pb.declarations.Declaration(
                                   name=d.name, valid_until=self.ts(4)),
                               update_mask=pb.field_mask.FieldMask(paths=["valid_until"]))
        self.approve("carrier", d.name)
        self.c("carrier").call(R + "AnswerDeclarationRequest", name=req.name, declaration=d.name)
        self.c("forwarder", "admin").call(R + "AcceptDeclarationRequest", name=req.name)
        time.sleep(5)
        got = self.c("forwarder", "viewer").call(R + "GetDeclarationRequest", name=req.name)
        self.assertEqual(got.state, S.DECLARATION_REQUEST_STATE_EXPIRED)
        listed = self.c("forwarder", "viewer").call(
            R + "ListDeclarationRequests", parent=self.org("forwarder"),
            filter='declaration = "%s"' % d.name).declaration_requests
        self.assertEqual([r.state for r in listed], [S.DECLARATION_REQUEST_STATE_EXPIRED])
        incoming = self.c("carrier", "viewer").call(R + "ListIncomingDeclarationRequests",
                                                    parent=self.org("carrier"))
        self.assertEqual([r.state for r in incoming.declaration_requests if r.name == req.name],
                         [S.DECLARATION_REQUEST_STATE_EXPIRED])
        self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder", "admin").call,
                            R + "AcceptDeclarationRequest", name=req.name)
        # the carrier answers again with a declaration in force
        fresh = self.approve("carrier", self.declaration("carrier").name)
        a = self.c("carrier").call(R + "AnswerDeclarationRequest", name=req.name,
                                   declaration=fresh.name)
        self.assertEqual(a.state, S.DECLARATION_REQUEST_STATE_ANSWERED)

    def test_credibility_reviews(self):
        """ISO 28001 4.5: a review of an accepted declaration moves the
        partner's review dates by its tier; NOT_CREDIBLE rejects the request,
        naming the review; a review is a record, kept with its partner."""
        pb = protos()
        V = pb.reviews
        haulier = self.partner("forwarder")  # HIGH tier: every 12 months
        self.assertTrue(haulier.HasField("next_credibility_review_time"))
        req = self.request("forwarder", haulier)
        paper = self.approve("forwarder", self.declaration(
            "forwarder", template_only=True, recorded_for=haulier.name,
            paper_reference="ARCH-7").name)
        self.c("forwarder").call(R + "AnswerDeclarationRequest", name=req.name,
                                 declaration=paper.name)

        def review(result, when, role="editor", **kw):
            return self.c("forwarder", role).call(
                "CredibilityReviews.CreateCredibilityReview", parent=haulier.name,
                credibility_review=V.CredibilityReview(
                    declaration_request=req.name, method=V.REVIEW_METHOD_SITE_VISIT,
                    reviewer="A. Auditor", findings="Yard fenced, seals logged",
                    result=getattr(V, "REVIEW_RESULT_" + result), review_time=when, **kw))

        # only an ACCEPTED request is reviewed
        e = self.assertRpcError(C.FAILED_PRECONDITION, review, "CREDIBLE", self.ts(-60))
        self.assertIn("ANSWERED", e.details())
        self.c("forwarder", "admin").call(R + "AcceptDeclarationRequest", name=req.name)
        when = self.ts(-86400)
        rv = review("CREDIBLE", when)
        self.assertEqual((rv.declaration, rv.declaration_revision_id), (paper.name, "1"))
        p = self.c("forwarder", "viewer").call(BP + "GetBusinessPartner", name=haulier.name)
        self.assertEqual(p.last_credibility_review_time, when)
        # 12 months on (HIGH), to the day
        due = time.gmtime(p.next_credibility_review_time.seconds)
        was = time.gmtime(when.seconds)
        self.assertEqual((due.tm_year, due.tm_mon, due.tm_mday),
                         (was.tm_year + 1, was.tm_mon, was.tm_mday))
        # an earlier review recorded later does not move the dates back
        review("CREDIBLE_WITH_ACTIONS", self.ts(-30 * 86400))
        p2 = self.c("forwarder", "viewer").call(BP + "GetBusinessPartner", name=haulier.name)
        self.assertEqual(p2.last_credibility_review_time, when)
        # not credible: the request is REJECTED, naming the review (an ADMIN's
        # review, as any rejection)
        self.assertRpcError(C.PERMISSION_DENIED, review, "NOT_CREDIBLE", self.ts(-10))
        bad = review("NOT_CREDIBLE", self.ts(-10), role="admin")
        r = self.c("forwarder", "viewer").call(R + "GetDeclarationRequest", name=req.name)
        self.assertEqual(r.state, pb.requests.DECLARATION_REQUEST_STATE_REJECTED)
        self.assertIn(bad.name, r.rejection_reason)
        listed = self.c("forwarder", "viewer").call(
            "CredibilityReviews.ListCredibilityReviews", parent=haulier.name,
            filter="result = NOT_CREDIBLE").credibility_reviews
        self.assertEqual([x.name for x in listed], [bad.name])
        # invalid fields name the field; a review is never in the future
        for kw, field in ((dict(reviewer=""), "credibility_review.reviewer"),
                          (dict(method=0), "credibility_review.method")):
            with self.subTest(field):
                e = self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder").call,
                                        "CredibilityReviews.CreateCredibilityReview",
                                        parent=haulier.name,
                                        credibility_review=V.CredibilityReview(
                                            **dict(dict(declaration_request=req.name,
                                                        method=V.REVIEW_METHOD_SITE_VISIT,
                                                        reviewer="A", result=1,
                                                        review_time=self.ts(-5)), **kw)))
                self.assertIn(field, e.details())
        e = self.assertRpcError(C.INVALID_ARGUMENT, review, "CREDIBLE", self.ts(86400))
        self.assertIn("credibility_review.review_time", e.details())
        # a review of another partner's request is refused
        other = self.partner("forwarder")
        e = self.assertRpcError(C.INVALID_ARGUMENT, self.c("forwarder").call,
                                "CredibilityReviews.CreateCredibilityReview", parent=other.name,
                                credibility_review=V.CredibilityReview(
                                    declaration_request=req.name,
                                    method=V.REVIEW_METHOD_DOCUMENT_REVIEW, reviewer="A",
                                    result=V.REVIEW_RESULT_CREDIBLE, review_time=self.ts(-5)))
        self.assertIn("asks another partner", e.details())
        # the partner's reviews are kept: it is not deleted
        e = self.assertRpcError(C.FAILED_PRECONDITION, self.c("forwarder", "admin").call,
                                BP + "DeleteBusinessPartner", name=haulier.name)
        self.assertIn("credibility reviews", e.details())
        # the carrier and a third organization see none of it
        for org in ("carrier", "third"):
            self.assertRpcError(C.NOT_FOUND, self.c(org, "admin").call,
                                "CredibilityReviews.GetCredibilityReview", name=rv.name)


if __name__ == "__main__":
    import unittest
    unittest.main()
