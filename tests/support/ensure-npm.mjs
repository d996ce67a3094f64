#!/usr/bin/env node
// tests/support/ensure-npm.mjs SRC DIR — the one npm installer of the tests (k8s validator, e2e
// clients, browser, openapi): installs the npm dependencies of SRC (its package.json and
// package-lock.json) into DIR
// (a build-tree directory, never the source tree) with `npm ci` from the committed
// package-lock.json. Skipped when DIR already holds exactly that lock (a stamp file records its
// sha256), so repeated ctest runs cost nothing; a changed lock reinstalls.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const here = process.argv[2];
const dir = process.argv[3];
if (!here || !dir) {
  console.error("usage: node ensure-npm.mjs SRC DIR");
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const files = ["package.json", "package-lock.json"];
const hash = crypto.createHash("sha256");
for (const f of files) hash.update(fs.readFileSync(path.join(here, f)));
const want = hash.digest("hex");
const stamp = path.join(dir, "node_modules", ".sfp-lock-sha256");
if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === want) {
  console.log(`ensure-npm: ${dir}/node_modules is current`);
  process.exit(0);
}
for (const f of files) fs.copyFileSync(path.join(here, f), path.join(dir, f));
const t0 = Date.now();
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const r = spawnSync(npm, ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
if (r.error || r.status !== 0) {
  console.error(`ensure-npm: npm ci failed in ${dir} (${r.error ? r.error.message : `exit ${r.status}`}); ` +
    "it needs the npm registry or a warm npm cache (scripts/bootstrap installs nodejs and npm)");
  process.exit(1);
}
fs.writeFileSync(stamp, want + "\n");
console.log(`ensure-npm: npm ci in ${dir}: ${Date.now() - t0} ms`);
