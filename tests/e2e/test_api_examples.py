"""The CLI examples of docs/api.md, run as written: the block "Partners,
declarations and reviews with the CLI" is read from the document, each
`supplysec call` run with the key of the organization its comment names
(an ADMIN of organizations/fwd or organizations/carrier). Each must exit 0;
the last leaves the forwarder's request REVOKED. The block calls every
method of the services it documents, read from their descriptors, so a
method added to one of them needs its example."""

import json
import os
import shlex
import subprocess

from harness import REPO, SUPPLYSEC, ServerTestCase, protos, tmpdir


def example_block():
    text = open(os.path.join(REPO, "docs", "api.md"), encoding="utf-8").read()
    start = text.index("Partners, declarations and reviews with the CLI")
    block = text[text.index("```sh", start) + len("```sh"):]
    return block[:block.index("```")]


def commands(block):
    """(who, argv) for each command: who is "fwd" or "carrier", from the
    comment above it."""
    out, who, current = [], None, ""
    for line in block.splitlines():
        if not current and line.startswith("#"):
            who = "carrier" if line.startswith("# the carrier") else "fwd"
            continue
        if not current and not line.strip():
            continue
        current += line + "\n"
        try:
            argv = shlex.split(current)
        except ValueError:  # a quote still open: the command goes on
            continue
        out.append((who, argv))
        current = ""
    return out


class ApiExamplesTest(ServerTestCase):

    SERVICES = ("BusinessPartners", "StatementsOfApplication", "DeclarationRequests",
                "Declarations", "CredibilityReviews")

    def test_every_method_has_an_example(self):
        descs = {name: sd for mod in protos().services
                 for name, sd in mod.DESCRIPTOR.services_by_name.items()}
        called = {argv[2] for _, argv in commands(example_block()) if len(argv) > 2}
        for svc in self.SERVICES:
            for m in descs[svc].methods:
                self.assertIn("%s.%s" % (svc, m.name), called, "no example calls it")

    def test_partner_examples_run_as_written(self):
        pb = protos()
        keys = {}
        for org in ("fwd", "carrier"):
            name = self.make_org(org).name
            keys[org] = self.make_key(name, pb.common.ROLE_ADMIN).secret
        cmds = commands(example_block())
        self.assertGreater(len(cmds), 40)
        for who, argv in cmds:
            self.assertEqual(argv[:2], ["supplysec", "call"], argv)
            env = dict(os.environ, SUPPLYSEC_API_KEY=keys[who])
            r = subprocess.run([SUPPLYSEC, "--addr", self.server.addr] + argv[1:], env=env,
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL, cwd=tmpdir("ex-"))
            self.assertEqual(r.returncode, 0, "%s as %s: %s" % (argv[2], who, r.stderr))
            json.loads(r.stdout)  # every call answers one JSON document
        got = self.admin.call("DeclarationRequests.GetDeclarationRequest",
                              name="organizations/fwd/declarationRequests/carrier-2026")
        self.assertEqual(got.state, pb.requests.DECLARATION_REQUEST_STATE_REVOKED)
        self.assertEqual(got.declaration_revision_id, "2")
