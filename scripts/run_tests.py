#!/usr/bin/python3
"""Runs every test of supplysec and prints one closing line: N passed, N failed.

Stages: buf lint; the MongoDB double's own tests; build (build/) and its
unit tests, the storage contract on SQLite and on the MongoDB backend (through
the wire-protocol double, beside them), the end-to-end tests on each store
(in halves, two at a time); the same with
ASan+UBSan (build-asan/) unless SUPPLYSEC_SANITIZE=0; then every libFuzzer
target for SUPPLYSEC_FUZZ_SECONDS (10) each, unless SUPPLYSEC_FUZZ=0.

Each cmocka test case and each end-to-end test counts once. Whatever goes
wrong counts as a failure and the run goes on to its closing line: a stage
that cannot run (a missing tool, a failed build, lint errors), a suite that
times out (it is killed with everything it started), crashes (killed by a
signal, or a non-zero exit with no failure counted) or reports no result at
all, a failing setUpClass (one failure for the class, whose tests never
ran), and an error of this script itself.
"""
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = failed = skipped = 0

FIXTURES = ("setUpClass", "tearDownClass", "setUpModule", "tearDownModule")


class Result:
    """What a command did: returncode (negative: killed by that signal; None:
    it never ran), its output, and whether it timed out."""

    def __init__(self, returncode, stdout, timed_out=False):
        self.returncode, self.stdout, self.timed_out = returncode, stdout, timed_out


def run(cmd, env=None, timeout=None, cwd=ROOT):
    """Runs cmd in its own process group, output and errors together. On a
    timeout the whole group (servers and doubles a suite started included)
    is killed. Never raises for a command that cannot run or misbehaves."""
    print("+ " + " ".join(cmd), flush=True)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", start_new_session=True)
    except OSError as e:
        return Result(None, "cannot run %s: %s\n" % (cmd[0], e))
    try:
        out, _ = proc.communicate(timeout=timeout)
        took(cmd, started)
        return Result(proc.returncode, out)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out = drain(proc)
        return Result(proc.returncode, out + "\nTIMEOUT: %s did not finish within %d s; "
                      "killed with its process group\n" % (" ".join(cmd), timeout), True)
    except BaseException:
        kill_group(proc)
        drain(proc)
        raise


def took(cmd, started):
    """Says how long a command ran: where CI's time goes."""
    print("(%.0f s: %s)" % (time.monotonic() - started, " ".join(cmd)), flush=True)


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def drain(proc):
    """What is left of the output of a killed process (a grandchild that left
    the group could hold the pipe open: give up after a while)."""
    try:
        out, _ = proc.communicate(timeout=30)
        return out or ""
    except subprocess.TimeoutExpired:
        proc.kill()
        return "(output lost: a process outside the group kept it open)\n"


def stage(ok, name, output="", counted=True):
    """A step with no test count of its own: a failure counts as one failed
    test; a success counts only when it is a check (lint), not a build."""
    global passed, failed
    if ok:
        passed += 1 if counted else 0
        print(f"PASS {name}", flush=True)
    else:
        failed += 1
        print(output[-6000:])
        print(f"FAIL {name}", flush=True)


def count_unittest(output):
    """unittest's own report: `Ran N tests`, its FAIL:/ERROR: sections and the
    closing OK/FAILED line. A failing fixture (setUpClass, ...) is one failure
    that `Ran` does not count; several failing subtests of one test are one."""
    ran = re.findall(r"^Ran (\d+) tests? in ", output, re.M)
    if not ran:
        return None
    n = int(ran[-1])
    tests, fixtures = set(), set()
    for what in re.findall(r"^(?:FAIL|ERROR): (.+)$", output, re.M):
        m = re.match(r"(\S+) \(([^)]*)\)", what)
        if m and m.group(1) in FIXTURES:
            fixtures.add(m.group(0))
        else:
            tests.add(m.group(2) if m else what)
    closing = re.findall(r"^(OK|FAILED)(?: \((.*)\))?$", output, re.M)
    detail = closing[-1][1] if closing else ""
    s = sum(int(x) for x in re.findall(r"\bskipped=(\d+)", detail))
    unexpected = sum(int(x) for x in re.findall(r"unexpected successes=(\d+)", detail))
    f = len(tests) + len(fixtures) + unexpected
    if closing and closing[-1][0] == "FAILED" and f == 0:
        f = 1  # failed, but no section said what: still a failure
    return max(0, n - len(tests) - s - unexpected), f, s


def count(output):
    """(passed, failed, skipped) from a closing `N passed, N failed[, N
    skipped]` line, unittest's report or cmocka's summaries."""
    m = re.findall(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", output, re.M)
    if m:
        p, f, s = m[-1]
        return int(p), int(f), int(s or 0)
    u = count_unittest(output)
    if u is not None:
        return u
    p = sum(int(x) for x in re.findall(r"\[  PASSED  \] (\d+) test", output))
    f = sum(int(x) for x in re.findall(r"\[  FAILED  \] (\d+) test", output))
    s = sum(int(x) for x in re.findall(r"\[  SKIPPED \] (\d+) test", output))
    return p, f, s


def add(name, res):
    """Counts a suite's results; a suite that did not end well counts as (at
    least) one failure, however many tests it reported as passed."""
    global passed, failed, skipped
    p, f, s = count(res.stdout)
    why = None
    if res.returncode is None:
        why = "could not run"
    elif res.timed_out:
        why = "timed out"
    elif res.returncode < 0:
        why = "was killed by " + signal_name(-res.returncode)
    elif res.returncode != 0 and f == 0:
        why = "exited with %d and no failure counted" % res.returncode
    elif p + f + s == 0:
        why = "reported no results"
    if why:
        f += 1
    print(res.stdout)
    print(f"{name}: {p} passed, {f} failed" + (f", {s} skipped" if s else "") +
          (f" (the suite {why})" if why else ""), flush=True)
    passed, failed, skipped = passed + p, failed + f, skipped + s


def signal_name(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return "signal %d" % n


class MongoDouble:
    """tests/mongo_double/ on a free loopback port, for the contract suite."""

    def __enter__(self):
        self.proc = None
        self.port = 0
        try:
            self.proc = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(ROOT, "tests/mongo_double/mongo_double.py"),
                 "--port", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True)
            line = self.proc.stdout.readline().split()
            self.port = int(line[1]) if len(line) == 2 and line[0] == "ready" else 0
        except (OSError, ValueError) as e:
            print(f"the MongoDB double did not start: {e}")
        return self

    def __exit__(self, *exc):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def guarded(name, fn, *args):
    """Runs one stage; an exception in it is one failure, and the run goes on."""
    global failed
    try:
        fn(*args)
    except Exception:
        failed += 1
        print(traceback.format_exc())
        print(f"FAIL {name}: the test runner itself failed", flush=True)


def suite(build_dir, extra_cmake, env):
    res = run(["bash", "scripts/build.sh", build_dir] + extra_cmake, timeout=1800)
    stage(res.returncode == 0, f"build {build_dir}", res.stdout, counted=False)
    if res.returncode != 0:
        return
    # test_store_mongo is the MongoDB backend's own: it runs on a MongoDB below.
    tests = sorted(f for f in os.listdir(os.path.join(ROOT, build_dir))
                   if f.startswith("test_") and f != "test_store_mongo"
                   and os.access(os.path.join(ROOT, build_dir, f), os.X_OK))
    stage(bool(tests), f"{build_dir}: unit test binaries found", counted=False)
    # The storage suites on the MongoDB double run beside the unit tests: the
    # double (Python) and the unit tests each keep about one core busy.
    mongo_tests = ["test_store_contract", "test_store_mongo"]
    with MongoDouble() as double, concurrent.futures.ThreadPoolExecutor(1) as beside:
        stage(double.port != 0, "start the MongoDB double", counted=False)
        on_double = None
        if double.port:
            mongo_env = dict(env,
                             SUPPLYSEC_TEST_STORE_URI=f"mongodb://127.0.0.1:{double.port}/contract")
            on_double = beside.submit(lambda: [
                run([os.path.join(build_dir, t)], env=mongo_env, timeout=900) for t in mongo_tests])
        for t in tests:
            add(f"{build_dir}/{t}", run([os.path.join(build_dir, t)], env=env, timeout=900))
        if on_double:
            for t, res in zip(mongo_tests, on_double.result()):
                add(f"{build_dir}/{t} on the MongoDB double", res)
    real = env.get("SUPPLYSEC_TEST_MONGODB_URI")
    if real:
        for t in mongo_tests:
            add(f"{build_dir}/{t} on {real}",
                run([os.path.join(build_dir, t)], env=dict(env, SUPPLYSEC_TEST_STORE_URI=real),
                    timeout=900))
    else:
        print("skipped: the storage suites on a real MongoDB (set SUPPLYSEC_TEST_MONGODB_URI);"
              " tests/e2e/test_mongo_real.py says the same")
    # The end-to-end suites, each store's in two halves (shards of modules),
    # run two at a time, the MongoDB halves (the longer) first: each suite
    # waits on its servers and clients as much as it computes, and each
    # server a test starts has its own port and store, so they do not meet.
    # Two lanes of two halves end closer together than the two stores would.
    e2e_env = dict(env, SUPPLYSEC_BUILD_DIR=os.path.join(ROOT, build_dir))
    halves = [(kind, k) for kind in ("mongodb", "sqlite") for k in (1, 2)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run, ["/usr/bin/python3", "tests/e2e/run.py", "--shard", f"{k}/2"],
                            dict(e2e_env, SUPPLYSEC_E2E_STORE=kind), 900) for kind, k in halves]
        for (kind, k), job in zip(halves, runs):
            add(f"{build_dir} e2e on {kind}, half {k} of 2", job.result())


def lint(env):
    buf = env["SUPPLYSEC_BUF"]
    res = run([buf, "lint"], cwd=os.path.join(ROOT, "proto"), timeout=300)
    if res.returncode is None:
        res.stdout += "\nbuf is missing: scripts/deps.sh installs it into .tools/\n"
    stage(res.returncode == 0, "buf lint", res.stdout)


def interrupted(signum, frame):
    raise SystemExit("stopped by " + signal_name(signum))


def main():
    global failed
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    env = dict(os.environ)
    env.setdefault("SUPPLYSEC_BUF", os.path.join(ROOT, ".tools/node_modules/.bin/buf"))
    env["CMOCKA_MESSAGE_OUTPUT"] = "stdout"
    try:
        guarded("buf lint", lint, env)
        guarded("MongoDB double", lambda: add("MongoDB double", run(
            ["/usr/bin/python3", "-m", "unittest", "-v", "tests/mongo_double/test_double.py"],
            env=env, timeout=600)))
        guarded("build", suite, "build", [], env)
        if env.get("SUPPLYSEC_SANITIZE", "1") != "0":
            asan_env = dict(env, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
                            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
            guarded("build-asan", suite, "build-asan",
                    ["-DSUPPLYSEC_SANITIZE=ON", "-DCMAKE_BUILD_TYPE=Debug"], asan_env)
        if env.get("SUPPLYSEC_FUZZ", "1") != "0":
            seconds = env.get("SUPPLYSEC_FUZZ_SECONDS", "10")
            guarded("fuzz", lambda: add(f"fuzz targets, {seconds} s each", run(
                ["bash", "scripts/fuzz.sh", seconds], env=env, timeout=1800)))
    except BaseException as e:  # interrupted: still say where the run got to
        failed += 1
        print(f"FAIL the run was interrupted ({type(e).__name__}: {e})", flush=True)
    print("(the whole run: %.0f s)" % (time.monotonic() - started))
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""),
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
