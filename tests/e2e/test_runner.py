"""scripts/run_tests.py keeps its promise: whatever goes wrong, the run ends
with `N passed, N failed`, and every way of going wrong counts as a failure:
a missing tool, a suite that times out (killed with what it started), a
suite that crashes, a failing setUpClass, an error of the runner itself."""

import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import textwrap
import time
import unittest

from harness import REPO, tmpdir

SUMMARY = r"^\d+ passed, \d+ failed(, \d+ skipped)?$"


def load_runner():
    spec = importlib.util.spec_from_file_location(
        "supplysec_run_tests", os.path.join(REPO, "scripts", "run_tests.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_main(patch):
    """Runs run_tests.main() in a child Python with `patch` (source, at top
    level) applied to the module `rt` first; returns (exit code, output)."""
    code = "\n".join([
        "import importlib.util, sys",
        "spec = importlib.util.spec_from_file_location('rt', %r)"
        % os.path.join(REPO, "scripts", "run_tests.py"),
        "rt = importlib.util.module_from_spec(spec)",
        "spec.loader.exec_module(rt)",
        patch,
        "sys.exit(rt.main())",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, SUPPLYSEC_SANITIZE="0",
                                SUPPLYSEC_BUF="/nonexistent/buf"))
    return r.returncode, r.stdout + r.stderr


def alive(pid):
    """Whether pid runs (a zombie nobody reaped yet does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class RunnerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rt = load_runner()

    def setUp(self):
        self.rt.passed = self.rt.failed = self.rt.skipped = 0
        # what the runner prints (counts of pretend suites among them) stays
        # out of this suite's output, where a runner would count it
        self.out = io.StringIO()
        quiet = contextlib.redirect_stdout(self.out)
        quiet.__enter__()
        self.addCleanup(quiet.__exit__, None, None, None)

    def counted(self, res):
        self.rt.add("suite", res)
        return self.rt.passed, self.rt.failed, self.rt.skipped

    def test_missing_tool_is_one_failure(self):
        res = self.rt.run(["/nonexistent/tool", "lint"])
        self.assertIsNone(res.returncode)
        self.assertEqual(self.counted(res), (0, 1, 0))

    def test_timeout_kills_the_suite_and_what_it_started(self):
        d = tmpdir("runner-")
        pidfile = os.path.join(d, "grandchild.pid")
        t0 = time.monotonic()
        res = self.rt.run(["sh", "-c", "sleep 60 & echo $! > %s; echo 3 passed, 0 failed; wait"
                           % pidfile], timeout=1)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertTrue(res.timed_out)
        self.assertIn("TIMEOUT", res.stdout)
        with open(pidfile) as f:
            pid = int(f.read())
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(pid), "the suite's child outlived the timeout")
        p, f, _ = self.counted(res)
        self.assertGreaterEqual(f, 1)

    def test_crash_is_a_failure_whatever_was_reported(self):
        res = self.rt.run(["sh", "-c", "echo 5 passed, 0 failed; kill -SEGV $$"])
        self.assertLess(res.returncode, 0)
        self.assertEqual(self.counted(res), (5, 1, 0))

    def test_nonzero_exit_without_failures_is_a_failure(self):
        res = self.rt.run(["sh", "-c", "echo '[  PASSED  ] 4 test(s).'; exit 3"])
        self.assertEqual(self.counted(res), (4, 1, 0))

    def test_no_results_is_a_failure(self):
        self.assertEqual(self.counted(self.rt.run(["true"])), (0, 1, 0))

    def test_failing_setupclass_counts_failed_never_negative(self):
        d = tmpdir("runner-")
        with open(os.path.join(d, "test_fixture.py"), "w") as f:
            f.write(textwrap.dedent("""
                import unittest

                class Broken(unittest.TestCase):
                    @classmethod
                    def setUpClass(cls):
                        raise RuntimeError("no fixture")

                    def test_a(self):
                        pass

                    def test_b(self):
                        pass

                class Fine(unittest.TestCase):
                    def test_ok(self):
                        pass

                    def test_sub(self):
                        for i in range(3):
                            with self.subTest(i=i):
                                self.assertEqual(i, 0)

                    @unittest.skip("no reason")
                    def test_skipped(self):
                        pass
            """))
        res = self.rt.run([sys.executable, "-m", "unittest", "-v", "test_fixture"], cwd=d)
        self.assertNotEqual(res.returncode, 0)
        # Fine: test_ok passes, test_sub fails (once, however many subtests),
        # test_skipped skips; Broken's setUpClass is one failure
        self.assertEqual(self.rt.count(res.stdout), (1, 2, 1), res.stdout)
        self.assertEqual(self.counted(res), (1, 2, 1))

    def test_summary_line_when_nothing_can_run(self):
        # no buf, no python for the double, no build: every stage fails, the
        # run still closes with its summary
        code, out = run_main("rt.run = lambda cmd, **kw: rt.Result(None, 'cannot run')")
        self.assertEqual(code, 1, out)
        self.assertRegex(out.strip().splitlines()[-1], SUMMARY)
        self.assertRegex(out.strip().splitlines()[-1], r"^0 passed, [1-9]\d* failed")

    def test_summary_line_when_the_runner_itself_fails(self):
        code, out = run_main(
            "def boom(*a, **kw):\n    raise RuntimeError('boom')\n"
            "rt.suite = boom\n"
            "rt.run = lambda cmd, **kw: rt.Result(0, '2 passed, 0 failed')")
        self.assertEqual(code, 1, out)
        last = out.strip().splitlines()[-1]
        self.assertRegex(last, SUMMARY)
        self.assertIn("RuntimeError: boom", out)
        self.assertRegex(last, r"^\d+ passed, [1-9]\d* failed")

    def test_summary_line_when_interrupted(self):
        code, out = run_main(
            "def stop(*a, **kw):\n    raise KeyboardInterrupt()\n"
            "rt.suite = stop\n"
            "rt.run = lambda cmd, **kw: rt.Result(0, '2 passed, 0 failed')")
        self.assertEqual(code, 1, out)
        self.assertRegex(out.strip().splitlines()[-1], r"^\d+ passed, [1-9]\d* failed")


if __name__ == "__main__":
    unittest.main()
