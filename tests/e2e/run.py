#!/usr/bin/python3
"""Run the supplysec end-to-end suite.

    /usr/bin/python3 tests/e2e/run.py                 # every tests/e2e/test_*.py
    /usr/bin/python3 tests/e2e/run.py test_wire       # modules, classes or methods by name
    /usr/bin/python3 tests/e2e/run.py -k etag         # only tests whose name contains "etag"
    /usr/bin/python3 tests/e2e/run.py --shard 2/3     # every third module (by name), from the second

Env: SUPPLYSEC_BUILD_DIR (default <repo>/build), SUPPLYSEC_BUF (buf binary).
The last line is `N passed, N failed` (plus `, N skipped`); exit 1 on any failure or error.
A failing setUpClass counts every test of its class as failed; a failing
tearDownClass (e.g. a non-zero exit code after SIGTERM) counts as one failure.
"""

import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402

_FIXTURE_RE = re.compile(r"^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$")


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


class CountingResult(unittest.TextTestResult):
    tests_by_scope = {}

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.ok_ids = set()
        self.failed_ids = set()
        self.skipped_ids = set()
        # wall time per test module, each test's share running from the end
        # of the one before (so a class's setUpClass counts with its module)
        self.module_seconds = {}
        self._last_stop = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        now = time.monotonic()
        module = type(test).__module__
        self.module_seconds[module] = self.module_seconds.get(module, 0.0) + now - self._last_stop
        self._last_stop = now

    def _mark_failed(self, test):
        if isinstance(test, unittest.case._SubTest):
            self.failed_ids.add(test.test_case.id())
            return
        desc = getattr(test, "description", None)
        if desc is not None and not hasattr(test, "_testMethodName"):
            m = _FIXTURE_RE.match(desc)
            if m and m.group(1) in ("setUpClass", "setUpModule"):
                ids = self.tests_by_scope.get(m.group(2), [])
                if ids:
                    self.failed_ids.update(ids)
                    return
            self.failed_ids.add(desc)
            return
        self.failed_ids.add(test.id())

    def addSuccess(self, test):
        super().addSuccess(test)
        self.ok_ids.add(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mark_failed(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._mark_failed(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._mark_failed(subtest)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_ids.add(test.id())

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed_ids.add(test.id())

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.ok_ids.add(test.id())


def parse_shard(text):
    """K/N, 1 <= K <= N: the K-th of N shards."""
    m = re.fullmatch(r"(\d+)/(\d+)", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        sys.exit("--shard takes K/N with 1 <= K <= N, got %r" % text)
    return int(m.group(1)), int(m.group(2))


def shard_of(suite, k, n):
    """The modules of suite (one sub-suite each, as discover gives them) whose
    place in name order is k-1 modulo n: a module's classes stay together, so
    its fixtures run once."""
    def module(sub):
        first = next(iter_tests(sub), None)
        return type(first).__module__ if first is not None else ""
    subs = sorted(suite, key=module)
    return unittest.TestSuite(sub for i, sub in enumerate(subs) if i % n == k - 1)


def main(argv):
    names, pattern, shard = [], None, None
    i = 0
    while i < len(argv):
        if argv[i] == "-k" and i + 1 < len(argv):
            pattern = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--shard" and i + 1 < len(argv):
            shard = parse_shard(argv[i + 1])
            i += 2
            continue
        names.append(argv[i])
        i += 1

    harness.protos()  # generate the message classes once, fail early if protoc fails
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(start_dir=HERE, pattern="test_*.py", top_level_dir=HERE)
    if shard:
        suite = shard_of(suite, *shard)

    scopes = {}
    for t in iter_tests(suite):
        if not hasattr(t, "_testMethodName"):
            continue  # import failures (_FailedTest) are reported as errors by id
        cls = type(t)
        for scope in ("%s.%s" % (cls.__module__, cls.__qualname__), cls.__module__):
            scopes.setdefault(scope, []).append(t.id())
    CountingResult.tests_by_scope = scopes

    print("supplysec e2e: build dir %s" % harness.BUILD, flush=True)
    t0 = time.monotonic()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    sys.stdout.flush()
    failed = result.failed_ids
    passed = result.ok_ids - failed
    skipped = result.skipped_ids - failed - passed
    line = "%d passed, %d failed" % (len(passed), len(failed))
    if skipped:
        line += ", %d skipped" % len(skipped)
    slowest = sorted(result.module_seconds.items(), key=lambda kv: -kv[1])[:8]
    print("slowest modules: " + ", ".join("%s %.1fs" % kv for kv in slowest))
    print("(%.1fs)" % (time.monotonic() - t0))
    print(line, flush=True)
    return 1 if failed or result.errors or result.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
