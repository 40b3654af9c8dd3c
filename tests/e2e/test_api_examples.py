"""The CLI examples of docs/api.md, run as written: the block "Partners,
declarations and reviews with the CLI" is read from the document, each
`supplysec call` run with the key of the organization its comment names
(an ADMIN of organizations/fwd or organizations/carrier), REQUEST_ID
replaced by the id the request got. Each must exit 0; the last leaves the
forwarder's request REVOKED."""

import json
import os
import re
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

    def test_partner_examples_run_as_written(self):
        pb = protos()
        keys = {}
        for org in ("fwd", "carrier"):
            name = self.make_org(org).name
            keys[org] = self.make_key(name, pb.common.ROLE_ADMIN).secret
        cmds = commands(example_block())
        self.assertGreater(len(cmds), 10)
        request_id = None
        for who, argv in cmds:
            self.assertEqual(argv[:2], ["supplysec", "call"], argv)
            args = [a.replace("REQUEST_ID", request_id or "REQUEST_ID") for a in argv[1:]]
            env = dict(os.environ, SUPPLYSEC_API_KEY=keys[who])
            r = subprocess.run([SUPPLYSEC, "--addr", self.server.addr] + args, env=env,
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL, cwd=tmpdir("ex-"))
            self.assertEqual(r.returncode, 0, "%s as %s: %s" % (args[1], who, r.stderr))
            if args[1] == "DeclarationRequests.CreateDeclarationRequest":
                request_id = re.sub(r".*/", "", json.loads(r.stdout)["name"])
        got = self.admin.call("DeclarationRequests.GetDeclarationRequest",
                              name="organizations/fwd/declarationRequests/" + request_id)
        self.assertEqual(got.state, pb.requests.DECLARATION_REQUEST_STATE_REVOKED)
