// connect_client.mjs — typed calls to supplysecd's HTTP listener with the
// Connect project's own Node client (@connectrpc/connect-node) and
// @bufbuild/protobuf, a client we did not write. The service and message
// types come from the server's descriptor set at run time (no code
// generation step): the client serializes and checks messages itself.
//
//   node connect_client.mjs DESCRIPTOR_SET BASE_URL KEY PROTOCOL(connect|grpcweb) [json|binary]
//
// Prints one JSON object: what each call returned (or its error code and
// message), for tests/e2e/test_node_client.py to compare with gRPC.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

// The packages live in the repository's .tools/node_modules (scripts/deps.sh).
const here = path.dirname(fileURLToPath(import.meta.url));
const tools = path.resolve(here, "../../../.tools/node_modules");
const require = createRequire(path.join(tools, "noop.js"));
const { createClient, ConnectError, Code } = require("@connectrpc/connect");
const { createConnectTransport, createGrpcWebTransport } = require("@connectrpc/connect-node");
const { fromBinary, createFileRegistry, create, toJson } = require("@bufbuild/protobuf");
const { FileDescriptorSetSchema } = require("@bufbuild/protobuf/wkt");

const [descPath, baseUrl, key, protocol, format] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descPath)));
const service = (name) => {
  const s = registry.getService(name);
  if (!s) throw new Error("no service " + name + " in the descriptor set");
  return s;
};
const options = { baseUrl, httpVersion: "1.1", useBinaryFormat: format === "binary" };
const transport =
  protocol === "grpcweb" ? createGrpcWebTransport(options) : createConnectTransport(options);
const headers = { authorization: "Bearer " + key };

async function attempt(name, fn) {
  try {
    const msg = await fn();
    return { name, ok: true, message: msg };
  } catch (e) {
    const err = ConnectError.from(e);
    return { name, ok: false, code: Code[err.code], message: err.rawMessage };
  }
}

const orgs = createClient(service("supplysec.v1.Organizations"), transport);
const keys = createClient(service("supplysec.v1.ApiKeys"), transport);
const health = createClient(service("grpc.health.v1.Health"), transport);
const orgSchema = registry.getMessage("supplysec.v1.Organization");
const asJson = (schema, m) => toJson(schema, m, { alwaysEmitImplicit: false });
const suffix = String(Date.now() % 1000000);
const orgId = "node-" + protocol + "-" + (format || "json") + "-" + suffix;

const results = [];
results.push(await attempt("Health.Check", async () => {
  const r = await health.check({ service: "" });
  return { status: r.status };
}));
results.push(await attempt("CreateOrganization", async () => {
  const r = await orgs.createOrganization(
    { organizationId: orgId,
      organization: create(orgSchema, { legalName: "Node Client GmbH", countryCode: "DE", kind: 1 }) },
    { headers });
  return asJson(orgSchema, r);
}));
results.push(await attempt("GetOrganization", async () =>
  asJson(orgSchema, await orgs.getOrganization({ name: "organizations/" + orgId }, { headers }))));
results.push(await attempt("GetOrganization other", async () =>
  asJson(orgSchema, await orgs.getOrganization({ name: "organizations/none-" + suffix }, { headers }))));
results.push(await attempt("GetOrganization no key", async () =>
  asJson(orgSchema, await orgs.getOrganization({ name: "organizations/" + orgId }))));
results.push(await attempt("GetOrganization bad name", async () =>
  asJson(orgSchema, await orgs.getOrganization({ name: "not a name" }, { headers }))));
results.push(await attempt("UpdateOrganization stale etag", async () =>
  asJson(orgSchema, await orgs.updateOrganization(
    { organization: create(orgSchema, { name: "organizations/" + orgId, legalName: "X", etag: "0000" }),
      updateMask: { paths: ["legal_name"] } }, { headers }))));
results.push(await attempt("ListApiKeys", async () => {
  const r = await keys.listApiKeys({ parent: "organizations/" + orgId }, { headers });
  return { count: r.apiKeys.length };
}));
// a server stream: Connect's streaming protocol (application/connect+json or +proto) or gRPC-Web
results.push(await attempt("Health.Watch first", async () => {
  const ac = new AbortController();
  for await (const r of health.watch({ service: "" }, { signal: ac.signal })) {
    ac.abort();
    return { status: r.status };
  }
  return { ended: true };
}));
console.log(JSON.stringify({ orgId, results }, (k, v) => (typeof v === "bigint" ? String(v) : v)));
