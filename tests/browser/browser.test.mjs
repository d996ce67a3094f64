// tests/browser/browser.test.mjs — the gateway's pages in a real browser (ctest -L browser).
// Drives Debian's chromium (CHROMIUM, default /usr/bin/chromium; never downloaded) through
// puppeteer-core against a running suite (tests/browser/with-stack.sh sets SFP_GATEWAY_URL,
// SFP_SODA_URL, SFP_ARTIFACTS). Usage: node browser.test.mjs NODE_MODULES_DIR
//   search → property report (44 permit rows on 3512/001) → a permit's /?q= link → /demo →
//   brief sign-in (HttpOnly SameSite=Strict cookie, token in no URL and no page) → lookback
//   tab → refresh → refresh again (friendly 429 page) → sign-out → a report while SODA fails
//   (the complaints section says "unavailable", never "no complaints").
// Every page: no console error, no page error, no CSP violation; screenshots of the landing
// page, the report and the brief at 375, 768 and 1440 px wide into SFP_ARTIFACTS.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const modules = process.argv[2];
if (!modules) {
  console.error("usage: node browser.test.mjs NODE_MODULES_DIR");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");

const GW = process.env.SFP_GATEWAY_URL;
const SODA = process.env.SFP_SODA_URL;
const ART = process.env.SFP_ARTIFACTS;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
assert.ok(GW && SODA && ART, "SFP_GATEWAY_URL, SFP_SODA_URL and SFP_ARTIFACTS must be set (run through with-stack.sh)");
assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: scripts/bootstrap installs Debian's chromium`);
const TOKEN = "demo-token-alice";
const WIDTHS = [375, 768, 1440];

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-chromium-"));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  userDataDir,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage"],
});

const problems = []; // console errors, page errors, CSP violations not expected by a step
let expected = []; // regexps of console errors the current step expects (e.g. the 429)
let step = "start";
function problem(kind, text) {
  if (kind === "console" && expected.some((re) => re.test(text))) return;
  problems.push(`[${step}] ${kind}: ${text}`);
}

let failed = false;
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") problem("console", `${m.text()} (${m.location()?.url || ""})`); });
  page.on("pageerror", (e) => problem("pageerror", e.message));
  await page.exposeFunction("__sfpCsp", (v) => problem("csp", v));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__sfpCsp(`${e.violatedDirective} blocked ${e.blockedURI}`));
  });

  async function go(url, status = 200) {
    const r = await page.goto(url, { waitUntil: "load" });
    assert.equal(r.status(), status, `${url}: status ${r.status()}`);
    return r;
  }
  async function submit(selector) {
    const [r] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
    return r;
  }
  const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
  async function shots(name) {
    for (const w of WIDTHS) {
      await page.setViewport({ width: w, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name} at ${w}px scrolls sideways by ${overflow}px`);
      await page.screenshot({ path: path.join(ART, `${name}-${w}.png`) });
    }
    await page.setViewport({ width: 1440, height: 900 });
  }
  async function checkCsp(r) {
    const csp = r.headers()["content-security-policy"] || "";
    assert.match(csp, /default-src 'none'/, "strict CSP on every page");
    assert.doesNotMatch(csp, /script-src|unsafe-inline/, "no script and no inline style allowed");
  }

  step = "landing";
  await page.setViewport({ width: 1440, height: 900 });
  let r = await go(`${GW}/`);
  await checkCsp(r);
  assert.equal(await text("h1"), "Look up a San Francisco property");
  assert.equal(await page.$eval("label[for=q]", (e) => e.textContent), "Address, block/lot or permit number");
  await shots("landing");

  step = "search";
  await page.type("#q", "1600 mission street");
  await submit("form.search button");
  assert.match(page.url(), /\/\?q=1600\+mission\+street$/);
  const hits = await page.$$eval("ol.hits a.hit", (as) => as.map((a) => [a.textContent, a.getAttribute("href")]));
  assert.ok(hits.length >= 1, "a hit for 1600 mission street");
  assert.match(hits[0][0], /1600 MISSION ST/);
  assert.equal(hits[0][1], "/report/3512/001");

  step = "report";
  r = await submit("ol.hits a.hit");
  assert.equal(r.status(), 200);
  await checkCsp(r);
  assert.equal(r.headers()["vary"], "Accept");
  assert.match(r.headers()["etag"], /-html"$/);
  assert.match(await text("h1"), /^1600 MISSION ST$/);
  assert.equal((await page.$$("tr.permit")).length, 44, "44 permit rows on 3512/001");
  for (const id of ["profile", "risk", "complaints", "violations", "permits", "nearby", "sources"])
    assert.ok(await page.$(`section#${id} h2`), `section ${id}`);
  assert.equal(await page.$(".degraded"), null, "no degraded notice while SODA is up");
  const th = await page.$$eval("section#permits thead th[scope=col]", (t) => t.length);
  assert.ok(th >= 8, "permit table has column headers");
  await page.click("tr.permit details summary");
  assert.ok(await page.$eval("tr.permit details", (d) => d.open), "permit details open");
  await shots("report");

  step = "permit link";
  const permitHref = await page.$eval("tr.permit th a", (a) => a.getAttribute("href"));
  assert.match(permitHref, /^\/\?q=\d+/);
  r = await submit("tr.permit th a");
  assert.equal(r.status(), 200);
  const permitHit = await page.$eval("ol.hits a.hit", (a) => a.getAttribute("href"));
  assert.match(permitHit, /^\/report\/3512\/001#permit-\d+$/);

  step = "demo";
  await go(`${GW}/demo`);
  const demoRow = await page.$$eval("tr", (rows) => rows.map((t) => t.textContent).find((t) => t.includes("3512/001")));
  assert.match(demoRow, /1600 Mission St/);

  step = "brief sign-in";
  r = await go(`${GW}/brief`);
  await checkCsp(r);
  assert.equal(await text("h1"), "Sign in to your morning brief");
  assert.equal(await page.$eval("#token", (e) => e.type), "password");
  await page.type("#token", TOKEN);
  r = await submit("form.signin button");
  assert.equal(r.status(), 200);
  assert.equal(await text("h1"), "Morning brief");
  assert.ok(!page.url().includes(TOKEN), "token not in the URL");
  assert.ok(!(await page.content()).includes(TOKEN), "token not in the page");
  const cookies = await page.cookies();
  const session = cookies.find((c) => c.name === "sfp_session");
  assert.ok(session, "session cookie set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(session.path, "/brief");
  assert.equal(await page.evaluate(() => document.cookie), "", "the cookie is not visible to scripts");
  await shots("brief");

  step = "lookback tab";
  await submit("nav.tabs a[href='/brief?lookback=7']");
  assert.match(page.url(), /lookback=7$/);
  assert.equal(await page.$eval("nav.tabs a[aria-current=page]", (a) => a.textContent), "7 days");

  step = "refresh";
  r = await submit("form.refresh button");
  assert.equal(r.status(), 200);
  assert.match(page.url(), /\/brief\?lookback=7&refreshed=1$/);
  assert.match(await text("p.notice[role=status]"), /Refreshed/);

  step = "refresh 429";
  expected = [/status of 429/];
  r = await submit("form.refresh button");
  assert.equal(r.status(), 429);
  assert.equal(await text("h1"), "Already refreshed");
  assert.match(await text("p.notice"), /refreshed this brief a moment ago.*about 5 minutes/);
  expected = [];
  await submit("main a[href='/brief?lookback=7']");
  assert.equal(await text("h1"), "Morning brief");

  step = "sign-out";
  r = await submit("form[action='/brief/sign-out'] button");
  assert.equal(r.status(), 200);
  assert.equal(await text("h1"), "Sign in to your morning brief");
  assert.equal((await page.cookies()).find((c) => c.name === "sfp_session"), undefined, "cookie cleared");

  step = "degraded SODA";
  const ctl = await fetch(`${SODA}/__control?mode=fail503`, { method: "POST" });
  assert.equal(ctl.status, 200);
  try {
    await go(`${GW}/report/0312/005`); // never fetched before: nothing cached to fall back on
    const notice = await text("section#complaints .degraded");
    assert.match(notice, /Complaints are unavailable right now/);
    assert.match(notice, /does not mean there are no complaints/);
    assert.equal(await page.$("section#complaints .empty"), null, "never 'no complaints' while unavailable");
    assert.ok(await page.$("section#violations .degraded"), "violations unavailable too");
    await shots("report-degraded");
  } finally {
    await fetch(`${SODA}/__control?mode=ok`, { method: "POST" });
  }

  step = "end";
  assert.deepEqual(problems, [], "no console errors, page errors or CSP violations");
  console.log(`browser: all steps passed; screenshots in ${ART}`);
} catch (e) {
  failed = true;
  console.error(`browser: FAILED at step "${step}": ${e.stack || e}`);
  if (problems.length) console.error(problems.join("\n"));
} finally {
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
