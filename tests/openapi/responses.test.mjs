// tests/openapi/responses.test.mjs — every REST route of the running suite (with-stack.sh:
// SFP_GATEWAY_URL, SFP_CRON_GATEWAY_URL) is called, and each real response is checked against
// gateway/static/openapi.json: the status is documented for that operation, the Content-Type
// is one the response lists, a JSON body validates against its schema (ajv, JSON Schema
// 2020-12 as OpenAPI 3.1 uses it), and the headers the response marks required are present.
// Finally every operation of the description must have been exercised at least once.
// Usage: node responses.test.mjs NODE_MODULES_DIR OPENAPI_JSON
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [modules, specFile] = process.argv.slice(2);
if (!modules || !specFile) {
  console.error("usage: node responses.test.mjs NODE_MODULES_DIR OPENAPI_JSON");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "node_modules", "x.js"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats");
const GW = process.env.SFP_GATEWAY_URL;
const CRON_GW = process.env.SFP_CRON_GATEWAY_URL;
assert.ok(GW && CRON_GW, "run through tests/browser/with-stack.sh");

const spec = JSON.parse(fs.readFileSync(specFile, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, "openapi");
const validators = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    const s = schema.$ref ? { $ref: `openapi${schema.$ref}` } : { $defs: {}, ...rewrite(schema) };
    validators.set(key, ajv.compile(s));
  }
  return validators.get(key);
}
function rewrite(s) { // local $refs of inline schemas point into the registered document
  if (Array.isArray(s)) return s.map(rewrite);
  if (s && typeof s === "object")
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "$ref" ? `openapi${v}` : rewrite(v)]));
  return s;
}
const deref = (o) => (o && o.$ref ? o.$ref.slice(2).split("/").reduce((a, k) => a[k], spec) : o);

// The typed REST JSON rules, over every JSON body validated: no has_<name> keys (an absent
// nullable value is null instead), no enum sent as "unspecified" (int64 as numbers is what the
// schemas themselves check; ErrorInfo metadata values are strings by definition); and
// the nulls the description allows must actually occur (counted, asserted at the end).
let nullValues = 0;
function typedJson(v, where, key = "", parent = null) {
  if (v === null) {
    nullValues++;
  } else if (Array.isArray(v)) {
    for (const x of v) typedJson(x, where, key, v);
  } else if (typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      assert.ok(!k.startsWith("has_"), `${where}: key ${k}: a has_ flag in the REST JSON (expected null for absent)`);
      typedJson(x, where, k, v);
    }
  } else if (typeof v === "string") {
    assert.notEqual(v, "unspecified", `${where}: ${key} is the enum's unset value in ${JSON.stringify(parent).slice(0, 400)}`);
  }
}

const exercised = new Set();
let checks = 0;
async function call(base, method, url, template, { headers = {}, body, expect } = {}) {
  const r = await fetch(base + url, { method, headers, body, redirect: "manual" });
  const text = await r.text();
  const op = spec.paths[template]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is not in the description`);
  exercised.add(`${method.toLowerCase()} ${template}`);
  const where = `${method} ${url} → ${r.status}`;
  if (expect !== undefined) assert.equal(r.status, expect, `${where}: expected ${expect}: ${text.slice(0, 300)}`);
  const resp = deref(op.responses[String(r.status)]);
  assert.ok(resp, `${where}: status not documented for ${method} ${template}`);
  const ct = (r.headers.get("content-type") || "").split(";")[0].trim();
  if (text.length) {
    assert.ok(resp.content && resp.content[ct], `${where}: Content-Type ${ct} not documented`);
    if (ct === "application/json") {
      const v = validatorFor(resp.content[ct].schema);
      const parsed = JSON.parse(text);
      if (!v(parsed))
        assert.fail(`${where}: body does not match the description:\n${ajv.errorsText(v.errors, { separator: "\n" })}`);
      if (template !== "/openapi.json") typedJson(parsed, where); /* the description itself lists "unspecified" */
    }
  }
  for (const [h, def] of Object.entries(resp.headers || {}))
    if (deref(def).required) assert.ok(r.headers.has(h), `${where}: required header ${h} missing`);
  assert.ok(r.headers.has("x-request-id") && r.headers.has("x-response-time"), `${where}: X-Request-Id/X-Response-Time`);
  checks++;
  return { r, text, json: ct === "application/json" && text ? JSON.parse(text) : null };
}
const HTML = { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const ALICE = { Authorization: "Bearer demo-token-alice" };
const CRON = { Authorization: "Bearer with-stack-cron-secret" };
const ORIGIN = { Origin: GW, "Content-Type": "application/x-www-form-urlencoded" };

// pages and assets
await call(GW, "GET", "/", "/", { expect: 200 });
await call(GW, "GET", "/?q=3512%2F001", "/", { expect: 200 });
await call(GW, "GET", "/?q=%20", "/", { expect: 200 });
for (const p of ["/methodology", "/about-data", "/demo", "/app.css", "/favicon.svg", "/favicon.ico", "/robots.txt", "/openapi.json"]) {
  const { r } = await call(GW, "GET", p, p, { expect: 200 });
  await call(GW, "GET", p, p, { headers: { "If-None-Match": r.headers.get("etag") }, expect: 304 });
}
const served = await (await fetch(`${GW}/openapi.json`)).json();
assert.deepEqual(served, spec, "/openapi.json serves this description");

// search
let s = await call(GW, "GET", "/search?q=1600%20mission%20st", "/search", { expect: 200 });
assert.equal(s.json.hits[0].report_path, "/report/3512/001");
s = await call(GW, "GET", "/search?q=3512-001&limit=5", "/search", { expect: 200 });
assert.equal(s.json.kind, "block_lot");
await call(GW, "GET", "/search?q=MISS", "/search", { expect: 200 });
await call(GW, "GET", "/search", "/search", { expect: 400 });
await call(GW, "GET", "/search?q=x&limit=0", "/search", { expect: 400 });
await call(GW, "GET", "/search?q=!!!", "/search", { expect: 400 });

// report
const rep = await call(GW, "GET", "/report/3512/001", "/report/{block}/{lot}", { expect: 200 });
assert.equal(rep.json.permits.length, 44);
const permit = rep.json.permits[0].permit_number;
s = await call(GW, "GET", `/search?q=${permit}`, "/search", { expect: 200 });
assert.equal(s.json.kind, "permit");
assert.equal(s.json.hits[0].permit_number, permit);
await call(GW, "GET", "/report/3512/001", "/report/{block}/{lot}", { headers: { "If-None-Match": rep.r.headers.get("etag") }, expect: 304 });
const page = await call(GW, "GET", "/report/3512/001", "/report/{block}/{lot}", { headers: HTML, expect: 200 });
assert.notEqual(page.r.headers.get("etag"), rep.r.headers.get("etag"), "each representation has its own ETag");
await call(GW, "GET", "/report/3512/001", "/report/{block}/{lot}", { headers: { ...HTML, "If-None-Match": page.r.headers.get("etag") }, expect: 304 });
await call(GW, "GET", "/report/3512/001", "/report/{block}/{lot}", { headers: { Accept: "application/json" }, expect: 200 });
await call(GW, "GET", "/report/9999/999", "/report/{block}/{lot}", { expect: 404 });
await call(GW, "GET", "/report/35x2/001", "/report/{block}/{lot}", { expect: 400 });

// brief
await call(GW, "GET", "/brief", "/brief", { expect: 401 });
const br = await call(GW, "GET", "/brief?lookback=7", "/brief", { headers: ALICE, expect: 200 });
await call(GW, "GET", "/brief?lookback=7", "/brief", { headers: { ...ALICE, "If-None-Match": br.r.headers.get("etag") }, expect: 304 });
await call(GW, "GET", "/brief", "/brief", { headers: HTML, expect: 200 });
await call(GW, "GET", "/brief?lookback=30", "/brief", { headers: { ...HTML, Cookie: "sfp_session=demo-token-bob" }, expect: 200 });
await call(GW, "GET", "/brief?lookback=30", "/brief", { headers: { Cookie: "sfp_session=demo-token-bob" }, expect: 200 });
await call(GW, "GET", "/brief?bogus=1", "/brief", { headers: ALICE, expect: 400 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { expect: 401 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { headers: ALICE, expect: 200 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { headers: ALICE, expect: 429 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { headers: { ...ORIGIN, ...HTML, Cookie: "sfp_session=demo-token-bob" }, body: "lookback=7", expect: 303 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { headers: { ...ORIGIN, ...HTML, Cookie: "sfp_session=demo-token-bob" }, body: "lookback=7", expect: 429 });
await call(GW, "POST", "/brief/refresh", "/brief/refresh", { headers: { ...HTML, Origin: "http://evil.example", Cookie: "sfp_session=demo-token-bob" }, body: "lookback=7", expect: 403 });
const si = await call(GW, "POST", "/brief/sign-in", "/brief/sign-in", { headers: ORIGIN, body: "token=demo-token-carol&lookback=7", expect: 303 });
assert.match(si.r.headers.get("set-cookie"), /^sfp_session=demo-token-carol; Path=\/brief; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
assert.equal(si.r.headers.get("location"), "/brief?lookback=7");
await call(GW, "POST", "/brief/sign-in", "/brief/sign-in", { headers: ORIGIN, body: "token=nobody", expect: 401 });
await call(GW, "POST", "/brief/sign-in", "/brief/sign-in", { headers: ORIGIN, body: "lookback=1", expect: 400 });
await call(GW, "POST", "/brief/sign-in", "/brief/sign-in", { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "token=demo-token-carol", expect: 403 });
const so = await call(GW, "POST", "/brief/sign-out", "/brief/sign-out", { headers: ORIGIN, expect: 303 });
assert.match(so.r.headers.get("set-cookie"), /^sfp_session=; Path=\/brief; Max-Age=0; HttpOnly; SameSite=Strict$/);
await call(GW, "POST", "/brief/sign-out", "/brief/sign-out", { headers: { Origin: "http://evil.example" }, expect: 403 });

// health
await call(GW, "GET", "/health", "/health");
await call(GW, "GET", "/healthz", "/healthz", { expect: 200 });
await call(GW, "GET", "/readyz", "/readyz");

// cron (the cron worker's gateway)
await call(CRON_GW, "GET", "/cron/status", "/cron/status", { expect: 200 });
await call(CRON_GW, "POST", "/cron/heartbeat", "/cron/heartbeat", { expect: 401 });
await call(CRON_GW, "POST", "/cron/heartbeat", "/cron/heartbeat", { headers: CRON, expect: 200 });
await call(CRON_GW, "POST", "/cron/signals", "/cron/signals", { headers: CRON, expect: 200 });
await call(CRON_GW, "POST", "/cron/velocity-refresh", "/cron/velocity-refresh", { headers: CRON, expect: 200 });
await call(CRON_GW, "POST", "/cron/compute-caches?concurrency=2", "/cron/compute-caches", { headers: CRON }); // 200, or 500 + ok false
await call(CRON_GW, "POST", "/cron/nightly?dry_run=1&lookback=1", "/cron/nightly", { headers: CRON });
await call(GW, "POST", "/cron/heartbeat", "/cron/heartbeat", { headers: CRON, expect: 404 });
await call(CRON_GW, "GET", "/cron/status", "/cron/status", { expect: 200 });

// CORS (the suite's gateway runs with GATEWAY_CORS_ORIGINS=http://app.example:3000)
const APP = "http://app.example:3000";
let c = await fetch(`${GW}/search?q=3512%2F001`, { headers: { Origin: APP } });
assert.equal(c.headers.get("access-control-allow-origin"), APP);
assert.match(c.headers.get("vary") || "", /Origin/);
c = await fetch(`${GW}/search?q=3512%2F001`, { headers: { Origin: "http://evil.example" } });
assert.equal(c.headers.get("access-control-allow-origin"), null);
c = await fetch(`${GW}/brief`, { method: "OPTIONS", headers: { Origin: APP, "Access-Control-Request-Method": "GET",
  "Access-Control-Request-Headers": "authorization" } });
assert.equal(c.status, 204);
assert.equal(c.headers.get("access-control-allow-origin"), APP);
assert.match(c.headers.get("access-control-allow-headers"), /Authorization/);
c = await fetch(`${GW}/brief`, { method: "OPTIONS", headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "GET" } });
assert.equal(c.status, 403);
c = await fetch(`${GW}/report/3512/001`, { method: "OPTIONS", headers: { Origin: APP, "Access-Control-Request-Method": "POST" } });
assert.equal(c.status, 405);

const missing = [];
for (const [p, ops] of Object.entries(spec.paths))
  for (const m of Object.keys(ops)) if (!exercised.has(`${m} ${p}`)) missing.push(`${m.toUpperCase()} ${p}`);
assert.deepEqual(missing, [], "every operation of the description is exercised");
assert.ok(nullValues > 0, "no JSON body had a null value: the nullable parts of the description went unchecked");
console.log(`openapi responses: ${checks} responses valid against ${specFile} (${nullValues} null values)`);
