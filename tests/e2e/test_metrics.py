"""/metrics on the HTTP listener (docs/operations.md, "Metrics"), scraped and
read with a real Prometheus parser (Debian's python3-prometheus-client):
calls counted by method, protocol and code over both listeners, latency
histograms whose counts match, calls in flight, the store's latency and
state, and no label that names a tenant, a principal or what a client sent
as a method."""

import json
import re
import unittest
import urllib.request

import grpc

import harness
from harness import ServerTestCase

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # scripts/deps.sh installs it
    text_string_to_metric_families = None




def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        ctype = r.headers["Content-Type"]
        return ctype, r.read().decode("utf-8")


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(fams, family, sample, **labels):
    for s in fams[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def connect_call(port, method, body, key=None):
    req = urllib.request.Request("http://127.0.0.1:%d/%s" % (port, method),
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@unittest.skipIf(text_string_to_metric_families is None, "python3-prometheus-client is missing")
class MetricsTest(ServerTestCase):

    server_args = ["--http-listen", "127.0.0.1:0"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = harness.http_port(cls.server)

    def test_calls_counted_by_method_protocol_and_code(self):
        org = self.uid("m")
        self.make_org(org)
        _, before = scrape(self.port)
        b = families(before)
        get = "/supplysec.v1.Organizations/GetOrganization"
        ok0 = value(b, "supplysec_calls", "supplysec_calls_total", method=get, protocol="grpc",
                    code="OK") or 0
        nf0 = value(b, "supplysec_calls", "supplysec_calls_total", method=get,
                    protocol="connect", code="NOT_FOUND") or 0
        for _ in range(3):
            self.admin.call("Organizations.GetOrganization", name="organizations/" + org)
        for _ in range(2):
            self.assertEqual(connect_call(self.port, get[1:], {"name": "organizations/none-x"},
                                          self.server.admin_secret), 404)
        ctype, text = scrape(self.port)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        f = families(text)
        self.assertEqual(value(f, "supplysec_calls", "supplysec_calls_total", method=get,
                               protocol="grpc", code="OK"), ok0 + 3)
        self.assertEqual(value(f, "supplysec_calls", "supplysec_calls_total", method=get,
                               protocol="connect", code="NOT_FOUND"), nf0 + 2)
        self.assertEqual(f["supplysec_calls"].type, "counter")

    def test_latency_histogram_agrees_with_the_counts(self):
        self.admin.call("Organizations.ListOrganizations", page_size=1)
        f = families(scrape(self.port)[1])
        self.assertEqual(f["supplysec_call_duration_seconds"].type, "histogram")
        method = "/supplysec.v1.Organizations/ListOrganizations"
        total = sum(s.value for s in f["supplysec_calls"].samples
                    if s.labels["method"] == method)
        count = value(f, "supplysec_call_duration_seconds",
                      "supplysec_call_duration_seconds_count", method=method)
        inf = value(f, "supplysec_call_duration_seconds",
                    "supplysec_call_duration_seconds_bucket", method=method, le="+Inf")
        self.assertEqual(count, total)
        self.assertEqual(inf, total)
        buckets = [s for s in f["supplysec_call_duration_seconds"].samples
                   if s.name.endswith("_bucket") and s.labels["method"] == method]
        self.assertEqual([s.value for s in buckets], sorted(s.value for s in buckets))
        self.assertGreater(value(f, "supplysec_call_duration_seconds",
                                 "supplysec_call_duration_seconds_sum", method=method), 0)

    def test_store_and_in_flight(self):
        self.make_org(self.uid("w"))  # a write
        f = families(scrape(self.port)[1])
        self.assertEqual(value(f, "supplysec_store_up", "supplysec_store_up"), 1)
        self.assertGreaterEqual(value(f, "supplysec_calls_in_flight",
                                      "supplysec_calls_in_flight"), 1)  # the scrape itself
        for op in ("read", "write"):
            self.assertGreater(value(f, "supplysec_store_duration_seconds",
                                     "supplysec_store_duration_seconds_count", operation=op), 0)

    def test_no_label_a_client_or_tenant_chooses(self):
        org = self.uid("secretive")
        self.make_org(org)
        key = self.make_key("organizations/" + org, self.pb.common.ROLE_ADMIN).secret
        harness.Client(self.server.channel, key).call("Organizations.GetOrganization",
                                                   name="organizations/" + org)
        connect_call(self.port, "supplysec.v1.Nope/NoSuchMethodXyz", {})
        with self.assertRaises(grpc.RpcError):
            self.admin.call("Organizations.GetOrganization", name="organizations/" + org + "-no")
        text = scrape(self.port)[1]
        self.assertNotIn(org, text)
        self.assertNotIn("NoSuchMethodXyz", text)
        f = families(text)
        labels = set()
        for fam in f.values():
            for s in fam.samples:
                labels.update(s.labels)
        self.assertLessEqual(labels, {"method", "protocol", "code", "le", "operation"})
        methods = {s.labels["method"] for s in f["supplysec_calls"].samples}
        for m in methods:
            self.assertTrue(m == "unknown" or re.match(r"^/[\w.]+/\w+$", m), m)
        self.assertIn("unknown", methods)


if __name__ == "__main__":
    unittest.main()
