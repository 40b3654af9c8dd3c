#!/usr/bin/python3
"""Turns one h2load run into a result row, and result rows into a table.

    report.py record --op NAME --streams N --method PATH --h2load OUT --lat TSV
                     --log SERVER_LOG --log-from BYTE --results RESULTS.jsonl
    report.py table RESULTS.jsonl

record: QPS from h2load's summary; p50/p99 from h2load's --log-file (third
column: response time in microseconds); correctness from the server's own
per-call log lines ("msg":"call") written since byte --log-from: every call
of the window must be the benchmarked method with status OK, and there must
be as many as h2load completed. h2load counts HTTP 200 even when the gRPC
status in the trailers is an error, so the server log is the referee.
"""

import argparse
import collections
import json
import math
import re
import sys
import time


def parse_h2load(text):
    m = re.search(r"finished in ([\d.]+)(us|ms|s), ([\d.]+) req/s", text)
    r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    c = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if not (m and r and c):
        sys.exit("cannot parse h2load output:\n" + text[-2000:])
    secs = float(m.group(1)) / {"us": 1e6, "ms": 1e3, "s": 1.0}[m.group(2)]
    total, started, done, ok, failed, errored, timeout = map(int, r.groups())
    return {"seconds": secs, "qps": float(m.group(3)), "requests": total, "done": done,
            "succeeded": ok, "failed": failed, "errored": errored, "timeout": timeout,
            "non2xx": int(c.group(2)) + int(c.group(3)) + int(c.group(4))}


def percentile(sorted_vals, q):
    """Nearest-rank percentile."""
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(q * len(sorted_vals)))
    return sorted_vals[k - 1]


def read_window(path, start):
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    # Only whole lines.
    end = data.rfind(b"\n") + 1
    calls = []
    for line in data[:end].splitlines():
        if b'"msg":"call"' not in line:
            continue
        try:
            calls.append(json.loads(line))
        except ValueError:
            calls.append({"method": "?", "status": "UNPARSEABLE_LOG_LINE"})
    return calls


def record(a):
    h = parse_h2load(open(a.h2load, encoding="utf-8", errors="replace").read())
    lat = []
    with open(a.lat) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3:
                lat.append(int(cols[2]))
    lat.sort()

    # Wait for the server to log every call h2load completed (a line is
    # written as each call finishes), then for the count to settle.
    deadline = time.monotonic() + 15
    last, stable_since = -1, time.monotonic()
    while True:
        calls = read_window(a.log, a.log_from)
        now = time.monotonic()
        if len(calls) != last:
            last, stable_since = len(calls), now
        if (len(calls) >= h["done"] and now - stable_since >= 0.3) or now > deadline:
            break
        time.sleep(0.1)

    statuses = collections.Counter()
    errors = collections.Counter()
    other = collections.Counter()
    cancelled = 0
    for c in calls:
        if c.get("method") != a.method:
            other[c.get("method")] += 1
            continue
        statuses[c.get("status")] += 1
        if c.get("status") != "OK":
            errors["%s: %s" % (c.get("status"), c.get("error", ""))] += 1
        if c.get("cancelled"):
            cancelled += 1
    logged = sum(statuses.values())
    non_ok = logged - statuses.get("OK", 0)
    problems = []
    if non_ok:
        problems.append("%d non-OK gRPC statuses in the server log: %s" % (
            non_ok, "; ".join("%d x %s" % (n, e) for e, n in errors.most_common(3))))
    if logged != h["done"]:
        problems.append("server logged %d calls of %s, h2load completed %d" % (
            logged, a.method, h["done"]))
    if other:
        problems.append("unexpected calls in the window: %s" % dict(other))
    if cancelled:
        problems.append("%d calls logged as cancelled" % cancelled)
    if h["failed"] or h["errored"] or h["timeout"] or h["non2xx"]:
        problems.append("h2load: %d failed, %d errored, %d timeout, %d non-2xx" % (
            h["failed"], h["errored"], h["timeout"], h["non2xx"]))
    if len(lat) != h["done"]:
        problems.append("latency log has %d entries for %d requests" % (len(lat), h["done"]))

    row = {"op": a.op, "streams": a.streams, "method": a.method, "requests": h["done"],
           "seconds": h["seconds"], "qps": h["qps"],
           "p50_ms": percentile(lat, 0.50) / 1000.0, "p99_ms": percentile(lat, 0.99) / 1000.0,
           "non_ok": non_ok, "logged": logged, "statuses": dict(statuses),
           "problems": problems}
    with open(a.results, "a") as f:
        f.write(json.dumps(row) + "\n")
    flag = ("  <-- FLAGGED: " + " | ".join(problems)) if problems else ""
    print("  %-34s %2d streams: %7d requests in %5.1f s, %9.1f QPS, p50 %.3f ms, "
          "p99 %.3f ms, non-OK %d%s" % (a.op, a.streams, h["done"], h["seconds"], h["qps"],
                                         row["p50_ms"], row["p99_ms"], non_ok, flag),
          flush=True)


def table(a):
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    order = {}
    for r in rows:
        order.setdefault(r["op"], len(order))
    rows.sort(key=lambda r: (order[r["op"]], r["streams"]))
    out = ["| operation | streams | requests | QPS | p50 ms | p99 ms | non-OK |",
           "|---|--:|--:|--:|--:|--:|--:|"]
    notes = []
    for r in rows:
        cell = "%d" % r["non_ok"]
        if r["problems"]:
            notes.append("%s, %d streams: %s" % (r["op"], r["streams"], " | ".join(r["problems"])))
            cell += " **FLAGGED [%d]**" % len(notes)
        out.append("| %s | %d | %d | %.0f | %.2f | %.2f | %s |" % (
            r["op"], r["streams"], r["requests"], r["qps"], r["p50_ms"], r["p99_ms"], cell))
    print("\n".join(out))
    if notes:
        print()
        for i, n in enumerate(notes, 1):
            print("[%d] %s" % (i, n))
    else:
        print()
        print("Every call of every run was logged by the server with status OK "
              "(server log count = h2load count).")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--op", required=True)
    r.add_argument("--streams", type=int, required=True)
    r.add_argument("--method", required=True)
    r.add_argument("--h2load", required=True)
    r.add_argument("--lat", required=True)
    r.add_argument("--log", required=True)
    r.add_argument("--log-from", type=int, required=True)
    r.add_argument("--results", required=True)
    t = sub.add_parser("table")
    t.add_argument("results")
    a = ap.parse_args()
    record(a) if a.cmd == "record" else table(a)


if __name__ == "__main__":
    main()
