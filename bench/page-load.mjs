// bench/page-load.mjs NODE_MODULES_DIR URL [N=20] — median page load time of URL in headless
// Debian chromium (puppeteer-core), each navigation with the HTTP cache disabled: navigation
// timing's responseEnd (document received), domContentLoadedEventEnd and loadEventEnd, in ms
// from the navigation start.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const [modules, url, nArg] = process.argv.slice(2);
const n = Number(nArg || 20);
const require = createRequire(path.join(path.resolve(modules), "node_modules", "x.js"));
const puppeteer = require("puppeteer-core");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-bench-chromium-"));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, userDataDir: dir,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  await page.setCacheEnabled(false);
  await page.setViewport({ width: 1440, height: 900 });
  const t = { responseEnd: [], domContentLoadedEventEnd: [], loadEventEnd: [] };
  await page.goto(url, { waitUntil: "load" }); // warm-up
  for (let i = 0; i < n; i++) {
    await page.goto(url, { waitUntil: "load" });
    const nav = await page.evaluate(() => {
      const e = performance.getEntriesByType("navigation")[0];
      return { responseEnd: e.responseEnd, domContentLoadedEventEnd: e.domContentLoadedEventEnd, loadEventEnd: e.loadEventEnd };
    });
    for (const k of Object.keys(t)) t[k].push(nav[k]);
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(1); };
  console.log(`page load ${url} (n=${n}, chromium, cache off): responseEnd=${med(t.responseEnd)}ms ` +
    `DOMContentLoaded=${med(t.domContentLoadedEventEnd)}ms load=${med(t.loadEventEnd)}ms`);
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
