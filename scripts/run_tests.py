#!/usr/bin/python3
"""Runs every test of supplysec and prints one closing line: N passed, N failed.

Stages: buf lint; the MongoDB double's own tests; build (build/) and its
unit tests, the storage contract on SQLite and on the MongoDB backend (through
the wire-protocol double), the end-to-end tests on each store; the same with
ASan+UBSan (build-asan/) unless SUPPLYSEC_SANITIZE=0.
Each cmocka test case and each end-to-end test counts once; a stage that
cannot run (a failed build, lint errors) counts as one failure.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = failed = skipped = 0


def run(cmd, env=None, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


def stage(ok, name, output="", counted=True):
    """A step with no test count of its own: a failure counts as one failed
    test; a success counts only when it is a check (lint), not a build."""
    global passed, failed
    if ok:
        passed += 1 if counted else 0
        print(f"PASS {name}")
    else:
        failed += 1
        print(output[-6000:])
        print(f"FAIL {name}")


def count(output):
    """Counts from a closing `N passed, N failed[, N skipped]` line or cmocka's summary."""
    m = re.findall(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", output, re.M)
    if m:
        p, f, s = m[-1]
        return int(p), int(f), int(s or 0)
    ran = re.findall(r"^Ran (\d+) tests? in ", output, re.M)  # unittest
    if ran:
        bad = re.findall(r"^FAILED \((.*)\)$", output, re.M)
        f = sum(int(x) for x in re.findall(r"(?:failures|errors)=(\d+)", bad[-1])) if bad else 0
        s = re.findall(r"skipped=(\d+)", output)
        s = int(s[-1]) if s else 0
        return int(ran[-1]) - f - s, f, s
    p = sum(int(x) for x in re.findall(r"\[  PASSED  \] (\d+) test", output))
    f = sum(int(x) for x in re.findall(r"\[  FAILED  \] (\d+) test", output))
    s = sum(int(x) for x in re.findall(r"\[  SKIPPED \] (\d+) test", output))
    return p, f, s


def add(name, proc):
    global passed, failed, skipped
    p, f, s = count(proc.stdout)
    if proc.returncode != 0 and f == 0:
        f = 1  # crashed or failed outside a counted test
    print(proc.stdout)
    print(f"{name}: {p} passed, {f} failed" + (f", {s} skipped" if s else ""), flush=True)
    passed, failed, skipped = passed + p, failed + f, skipped + s


class MongoDouble:
    """tests/mongo_double/ on a free loopback port, for the contract suite."""

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "tests/mongo_double/mongo_double.py"),
             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        self.port = int(line[1]) if len(line) == 2 and line[0] == "ready" else 0
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def suite(build_dir, extra_cmake, env):
    proc = run(["bash", "scripts/build.sh", build_dir] + extra_cmake)
    stage(proc.returncode == 0, f"build {build_dir}", proc.stdout, counted=False)
    if proc.returncode != 0:
        return
    # test_store_mongo is the MongoDB backend's own: it runs on a MongoDB below.
    tests = sorted(f for f in os.listdir(os.path.join(ROOT, build_dir))
                   if f.startswith("test_") and f != "test_store_mongo"
                   and os.access(os.path.join(ROOT, build_dir, f), os.X_OK))
    for t in tests:
        add(f"{build_dir}/{t}", run([os.path.join(build_dir, t)], env=env, timeout=900))
    mongo_tests = ["test_store_contract", "test_store_mongo"]
    with MongoDouble() as double:
        stage(double.port != 0, "start the MongoDB double", counted=False)
        mongo_env = dict(env, SUPPLYSEC_TEST_STORE_URI=f"mongodb://127.0.0.1:{double.port}/contract")
        for t in mongo_tests:
            add(f"{build_dir}/{t} on the MongoDB double",
                run([os.path.join(build_dir, t)], env=mongo_env, timeout=900))
    real = env.get("SUPPLYSEC_TEST_MONGODB_URI")
    if real:
        for t in mongo_tests:
            add(f"{build_dir}/{t} on {real}",
                run([os.path.join(build_dir, t)], env=dict(env, SUPPLYSEC_TEST_STORE_URI=real),
                    timeout=900))
    else:
        print("skipped: the storage suites on a real MongoDB (set SUPPLYSEC_TEST_MONGODB_URI);"
              " tests/e2e/test_mongo_real.py says the same")
    e2e_env = dict(env, SUPPLYSEC_BUILD_DIR=os.path.join(ROOT, build_dir))
    for kind in ("sqlite", "mongodb"):
        add(f"{build_dir} e2e on {kind}",
            run(["/usr/bin/python3", "tests/e2e/run.py"],
                env=dict(e2e_env, SUPPLYSEC_E2E_STORE=kind), timeout=1200))


def main():
    env = dict(os.environ)
    buf = os.path.join(ROOT, ".tools/node_modules/.bin/buf")
    env.setdefault("SUPPLYSEC_BUF", buf)
    env["CMOCKA_MESSAGE_OUTPUT"] = "stdout"
    proc = subprocess.run([buf, "lint"], cwd=os.path.join(ROOT, "proto"), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stage(proc.returncode == 0, "buf lint", proc.stdout)
    add("MongoDB double", run(["/usr/bin/python3", "-m", "unittest", "-v",
                               "tests/mongo_double/test_double.py"], env=env, timeout=600))
    suite("build", [], env)
    if env.get("SUPPLYSEC_SANITIZE", "1") != "0":
        asan_env = dict(env, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
                        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        suite("build-asan", ["-DSUPPLYSEC_SANITIZE=ON", "-DCMAKE_BUILD_TYPE=Debug"], asan_env)
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
