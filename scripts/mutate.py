#!/usr/bin/python3
"""The mutation check: does the test suite catch each deliberate bug of
tests/mutants/mutants.py?

    /usr/bin/python3 scripts/mutate.py              # every mutant
    /usr/bin/python3 scripts/mutate.py NAME ...     # some of them

For each mutant, in a scratch worktree of HEAD (the checkout is never
touched): apply it, rebuild, run the unit tests and the end-to-end suite on
SQLite, undo it. A mutant is caught when the suite fails and survives when
it passes; a mutant whose text no longer matches, or that does not build, is
stale. The last lines are a markdown table and `N caught, N survived, N
stale`; the exit status is 0 only when every mutant was caught. About two
minutes a mutant on 2 cores.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "mutants"))
from mutants import MUTANTS  # noqa: E402


def sh(cmd, cwd, env=None, timeout=1800):
    try:
        r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace",
                           timeout=timeout, start_new_session=True)
        return r.returncode, r.stdout
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or "") + "\nTIMEOUT\n"


def suite(tree):
    """Unit tests and the e2e suite on SQLite: (passed?, closing line)."""
    build = os.path.join(tree, "build")
    code, out = sh(["bash", "scripts/build.sh", build], tree)
    if code != 0:
        return None, "does not build"
    for t in sorted(glob.glob(os.path.join(build, "test_*"))):
        if os.access(t, os.X_OK) and os.path.isfile(t):
            code, out = sh([t], tree, timeout=600)
            if code != 0:
                return False, "%s failed" % os.path.basename(t)
    env = dict(os.environ, SUPPLYSEC_BUILD_DIR=build, SUPPLYSEC_E2E_STORE="sqlite",
               SUPPLYSEC_BUF=os.path.join(ROOT, ".tools", "node_modules", ".bin", "buf"))
    code, out = sh(["/usr/bin/python3", "tests/e2e/run.py"], tree, env=env)
    last = out.strip().splitlines()[-1] if out.strip() else "no output"
    failing = sorted(set(re.findall(r"^(?:FAIL|ERROR): (\w+) \((\w+)\.", out, re.M)))
    if failing:
        names = ["%s.%s" % (mod, test) for test, mod in failing]
        last += ": " + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return code == 0, last


def main():
    wanted = set(sys.argv[1:])
    chosen = [m for m in MUTANTS if not wanted or m["name"] in wanted]
    if wanted - {m["name"] for m in MUTANTS}:
        print("unknown mutants: %s" % ", ".join(sorted(wanted - {m["name"] for m in MUTANTS})))
        return 2
    tree = tempfile.mkdtemp(prefix="supplysec-mutate-")
    shutil.rmtree(tree)
    code, out = sh(["git", "worktree", "add", "--detach", tree, "HEAD"], ROOT)
    if code != 0:
        print(out)
        return 2
    rows, counts = [], {"caught": 0, "survived": 0, "stale": 0}
    try:
        ok, last = suite(tree)
        print("unmutated HEAD: %s" % last, flush=True)
        if not ok:
            print("the suite fails without any mutant: fix that first")
            return 2
        for m in chosen:
            started = time.monotonic()
            originals, stale = {}, []
            for path, find, _ in m["edits"]:
                full = os.path.join(tree, path)
                if full not in originals:
                    with open(full) as f:
                        originals[full] = f.read()
                if originals[full].count(find) != 1:
                    stale.append("%s: text matched %d times" % (path, originals[full].count(find)))
            if stale:
                verdict, detail = "stale", "; ".join(stale)
            else:
                texts = dict(originals)
                for path, find, replace in m["edits"]:
                    full = os.path.join(tree, path)
                    texts[full] = texts[full].replace(find, replace)
                try:
                    for full, text in texts.items():
                        with open(full, "w") as f:
                            f.write(text)
                    ok, detail = suite(tree)
                finally:
                    for full, text in originals.items():
                        with open(full, "w") as f:
                            f.write(text)
                verdict = "stale" if ok is None else "survived" if ok else "caught"
            counts[verdict] += 1
            rows.append((m["name"], m["promise"], verdict, detail))
            print("%-32s %-8s %s (%.0f s)" % (m["name"], verdict, detail,
                                             time.monotonic() - started), flush=True)
    finally:
        sh(["git", "worktree", "remove", "--force", tree], ROOT)
    print()
    print("| mutant | promise it breaks | result | what failed |")
    print("|---|---|---|---|")
    for name, promise, verdict, detail in rows:
        print("| %s | %s | %s | %s |" % (name, promise, verdict, detail))
    print()
    print("%d caught, %d survived, %d stale" % (counts["caught"], counts["survived"],
                                               counts["stale"]))
    return 0 if counts["survived"] == counts["stale"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
