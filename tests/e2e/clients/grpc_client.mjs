#!/usr/bin/env node
// A foreign gRPC client of the suite in Node.js: @grpc/grpc-js with @grpc/proto-loader reading
// the .proto files themselves (every file under the repo's proto/ plus grpc-proto's
// grpc/health/v1/health.proto; SFP_PROTO_DIRS lists the include directories), so every RPC of
// every service in those files is called.
//
// Checks, against the real services (tests/e2e/foreign_clients.c starts them on a seeded demo
// database and passes their addresses in SFP_ADDR_REPORT, _BRIEF, _CRON, _HEALTH):
//   1. every unary RPC of every service answers OK (valid values where needed: a seeded parcel,
//      a demo user's bearer token, CRON_SECRET, a dry-run nightly);
//   2. a bad request gets the documented status code and message;
//   3. server reflection (v1 and v1alpha) lists exactly the services each process serves and
//      sends the file declaring each; an unknown symbol is an error_response NOT_FOUND;
//   4. grpc.health.v1 Health/Watch: SERVING at once, SERVICE_UNKNOWN for an unknown name, and
//      after SIGTERM of the report service (sent by the driver once SFP_WATCH_FILE says
//      "watching") NOT_SERVING, then the end of the stream with OK.
// Exit status 0 when everything holds; the first failed check is printed and exits 1.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const descriptor = require("protobufjs/ext/descriptor");
const protobuf = require("protobufjs");

const TIMEOUT_MS = 30000;
const REFLECTION = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
const BUILT_IN = ["grpc.health.v1.Health", "sfpermits.v1.Introspection", ...REFLECTION];
const OWNER = {
  "sfpermits.v1.ReportService": "report",
  "sfpermits.v1.BriefService": "brief",
  "sfpermits.v1.CronService": "cron",
  "sfpermits.v1.HealthService": "health",
};
const REQUEST_FIELDS = {
  GetPropertyReport: { block: "3512", lot: "001" },
  SearchParcels: { q: "1600 Mission St" },
  GetBrief: { lookback_days: 7 },
  RunNightly: { dry_run: true },
  RunComputeCaches: { concurrency: 2 },
};

// Fields named by the BadRequest details of a failed call's google.rpc.Status.
function badRequestFields(err) {
  const raw = err.metadata?.get("grpc-status-details-bin")?.[0];
  if (!raw) fail(`${err.code}: no grpc-status-details-bin trailer`);
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const d of process.env.SFP_PROTO_DIRS.split(":")) if (fs.existsSync(path.join(d, target))) return path.join(d, target);
    return target;
  };
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
  const status = root.lookupType("google.rpc.Status").decode(raw);
  if (status.code !== err.code) fail(`google.rpc.Status code ${status.code} differs from grpc-status ${err.code}`);
  const badRequest = root.lookupType("google.rpc.BadRequest");
  const fields = [];
  for (const d of status.details)
    if (d.type_url.endsWith("/google.rpc.BadRequest")) fields.push(...badRequest.decode(d.value).field_violations.map((v) => v.field));
  return fields;
}

function fail(msg) {
  console.error(`grpc_client.mjs: FAIL: ${msg}`);
  process.exit(1);
}

function protoFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".proto")) out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

const dirs = process.env.SFP_PROTO_DIRS.split(":");
const files = [...protoFiles(dirs[0]), "grpc/health/v1/health.proto"];
const def = protoLoader.loadSync(files, {
  includeDirs: dirs, keepCase: true, defaults: true, oneofs: true, longs: String, enums: String,
});
const addrs = Object.fromEntries(["report", "brief", "cron", "health"].map((p) => [p, process.env[`SFP_ADDR_${p.toUpperCase()}`]]));
const clients = Object.fromEntries(Object.entries(addrs).map(([p, a]) => [p, new grpc.Client(a, grpc.credentials.createInsecure())]));
const services = Object.keys(def).filter((k) => !def[k].format && typeof def[k] === "object" &&
  Object.values(def[k]).every((m) => m && m.path));

function metadata(service, rid, withAuth = true) {
  const md = new grpc.Metadata();
  md.set("x-request-id", rid);
  if (withAuth && service === "sfpermits.v1.BriefService") md.set("authorization", "Bearer demo-token-alice");
  if (withAuth && service === "sfpermits.v1.CronService") md.set("authorization", `Bearer ${process.env.SFP_CRON_SECRET}`);
  return md;
}

function request(m, name) {
  const fields = new Set(m.requestType.type.field.map((f) => f.name));
  return Object.fromEntries(Object.entries(REQUEST_FIELDS[name] || {}).filter(([k]) => fields.has(k)));
}

function unary(client, m, req, md) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, md,
      { deadline: Date.now() + TIMEOUT_MS }, (err, resp) => resolve({ err, resp }));
  });
}

function bidi(client, m, reqs) {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new grpc.Metadata(),
      { deadline: Date.now() + TIMEOUT_MS });
    const out = [];
    call.on("data", (d) => out.push(d));
    call.on("error", (err) => resolve({ err, out }));
    call.on("end", () => resolve({ err: null, out }));
    for (const r of reqs) call.write(r);
    call.end();
  });
}

async function checkReflection(proc, expected) {
  for (const svc of REFLECTION) {
    const m = def[svc].ServerReflectionInfo;
    const names = [...expected].sort();
    const reqs = [{ list_services: "" }, ...names.map((s) => ({ file_containing_symbol: s })),
      { file_containing_symbol: "sfpermits.v1.NoSuchThing" }, { file_by_filename: "no/such.proto" }];
    const { err, out } = await bidi(clients[proc], m, reqs);
    if (err) fail(`${proc} ${svc}: ${err.code} ${err.details}`);
    if (out.length !== reqs.length) fail(`${proc} ${svc}: ${out.length} responses to ${reqs.length} requests`);
    const listed = out[0].list_services_response.service.map((s) => s.name).sort();
    if (JSON.stringify(listed) !== JSON.stringify(names)) fail(`${proc} ${svc} list_services: ${listed} want ${names}`);
    names.forEach((name, i) => {
      const fdps = out[i + 1].file_descriptor_response?.file_descriptor_proto || [];
      if (!fdps.length) fail(`${proc} ${svc}: no file for ${name}`);
      const fd = descriptor.FileDescriptorProto.decode(fdps[0]);
      if (!(fd.service || []).some((s) => `${fd.package}.${s.name}` === name)) fail(`${proc} ${svc}: ${fd.name} does not declare ${name}`);
      const sent = new Set(fdps.map((b) => descriptor.FileDescriptorProto.decode(b).name));
      const missing = (fd.dependency || []).filter((d) => !sent.has(d));
      if (missing.length) fail(`${proc} ${svc}: ${fd.name} sent without its imports ${missing}`);
    });
    for (const r of out.slice(-2)) {
      if (r.error_response?.error_code !== grpc.status.NOT_FOUND) fail(`${proc} ${svc}: unknown name answered ${JSON.stringify(r)}`);
    }
  }
  console.log(`reflection ${proc.padEnd(7)} ${[...expected].sort().join(", ")}`);
}

// The read RPCs answer {content, metadata}: the content decodes as its own message and the
// metadata carries the content's etag (32 hex), generated_at and, for a report, its sources.
function checkEnvelope(name, res) {
  if (name !== "GetPropertyReport" && name !== "GetBrief") return;
  const md = res.metadata || {};
  if (name === "GetPropertyReport" && (res.report?.block !== "3512" || res.report?.lot !== "001"))
    fail(`GetPropertyReport: report is ${res.report?.block}/${res.report?.lot}`);
  if (name === "GetBrief" && res.brief?.lookback_days !== 7) fail(`GetBrief: brief.lookback_days is ${res.brief?.lookback_days}`);
  if (!/^[0-9a-f]{32}$/.test(md.etag || "") || !md.generated_at) fail(`${name}: metadata ${JSON.stringify({ etag: md.etag, generated_at: md.generated_at })}`);
  if (name === "GetPropertyReport" && Object.keys(md.sources || {}).sort().join() !== "complaints,tax_roll,violations")
    fail(`GetPropertyReport: metadata sources ${Object.keys(md.sources || {})}`);
}

function watch(client, name) {
  const m = def["grpc.health.v1.Health"].Watch;
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { service: name },
    new grpc.Metadata(), { deadline: Date.now() + TIMEOUT_MS * 8 });
  const queue = [];
  let waiter = null;
  const push = (ev) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(ev);
    } else queue.push(ev);
  };
  call.on("data", (d) => push({ data: d }));
  call.on("status", (s) => push({ status: s }));
  call.on("error", () => {}); // the status event carries it
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiter = r; }));
  return { call, next };
}

async function main() {
  let calls = 0;
  for (const svc of services) {
    const procs = BUILT_IN.includes(svc) ? Object.keys(addrs) : [OWNER[svc]];
    if (!procs[0]) fail(`service ${svc} from the .proto files is not served by any process`);
    for (const [name, m] of Object.entries(def[svc])) {
      if (m.requestStream || m.responseStream) continue; // reflection and Watch: checked below
      for (const proc of procs) {
        const { err, resp: res } = await unary(clients[proc], m, request(m, name), metadata(svc, `node-${proc}-${name}`));
        if (err) fail(`${proc} ${svc}/${name}: ${err.code} ${err.details}`);
        checkEnvelope(name, res);
        // Closed sets are enums in the contract: the health status decodes as a SuiteStatus name.
        if (name === "GetHealth" && !["SUITE_STATUS_OK", "SUITE_STATUS_DEGRADED"].includes(res.status)) {
          fail(`${svc}/GetHealth: status ${JSON.stringify(res.status)} is not a SuiteStatus value`);
        }
        if (name === "SearchParcels" && res.kind !== "SEARCH_KIND_ADDRESS") {
          fail(`${svc}/SearchParcels: kind ${JSON.stringify(res.kind)}, want SEARCH_KIND_ADDRESS`);
        }
        // A nullable value is the only member of a oneof optional_<name>: the oneof names the
        // member when the value is present and is undefined when it is absent.
        if (name === "GetPropertyReport") {
          const cases = res.report.permits.map((p) => p.optional_estimated_cost);
          if (!cases.length || cases.some((c) => c !== "estimated_cost" && c !== undefined) || !cases.includes("estimated_cost")) {
            fail(`${svc}/GetPropertyReport: permits' optional_estimated_cost ${JSON.stringify(cases)}`);
          }
        }
        calls++;
        console.log(`ok ${proc.padEnd(7)} ${svc}/${name}`);
      }
    }
  }

  const rep = def["sfpermits.v1.ReportService"].GetPropertyReport;
  let r = await unary(clients.report, rep, { block: "35x2", lot: "001" }, new grpc.Metadata());
  if (!r.err || r.err.code !== grpc.status.INVALID_ARGUMENT || !r.err.details.includes("block")) {
    fail(`GetPropertyReport block=35x2: ${r.err ? `${r.err.code} ${r.err.details}` : "OK"}`);
  }
  // Rich error details: a google.rpc.Status in grpc-status-details-bin whose BadRequest names
  // the field, decoded with protobufjs from the repo's google/rpc protos.
  const violations = badRequestFields(r.err);
  if (!violations.includes("block")) fail(`GetPropertyReport block=35x2: no BadRequest violation of block (got ${violations})`);
  const brief = def["sfpermits.v1.BriefService"].GetBrief;
  r = await unary(clients.brief, brief, request(brief, "GetBrief"), metadata("sfpermits.v1.BriefService", "node-noauth", false));
  if (!r.err || r.err.code !== grpc.status.UNAUTHENTICATED) fail(`GetBrief without a token: ${r.err ? r.err.code : "OK"}`);

  for (const proc of Object.keys(addrs)) {
    const served = new Set([...BUILT_IN, ...Object.keys(OWNER).filter((s) => OWNER[s] === proc)]);
    await checkReflection(proc, served);
  }

  const unknown = watch(clients.report, "nope.NoSuchService");
  let ev = await unknown.next();
  if (ev.data?.status !== "SERVICE_UNKNOWN") fail(`Watch of an unknown service: ${JSON.stringify(ev)}`);
  unknown.call.cancel();
  const w = watch(clients.report, "sfpermits.v1.ReportService");
  ev = await w.next();
  if (ev.data?.status !== "SERVING") fail(`Watch sfpermits.v1.ReportService: first ${JSON.stringify(ev)}`);
  fs.writeFileSync(process.env.SFP_WATCH_FILE, "watching\n");
  ev = await w.next();
  if (ev.data?.status !== "NOT_SERVING") fail(`Watch after SIGTERM: ${JSON.stringify(ev)}`);
  ev = await w.next();
  if (!ev.status || ev.status.code !== grpc.status.OK) fail(`Watch after NOT_SERVING: ${JSON.stringify(ev)}`);
  console.log("watch: SERVING, then NOT_SERVING on drain, then the end of the stream (OK)");
  console.log(`${calls} unary calls ok`);
  for (const c of Object.values(clients)) c.close();
}

main().catch((e) => fail(e.stack || String(e)));
