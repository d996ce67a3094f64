#!/usr/bin/env node
// tests/e2e/clients/ensure-modules.mjs DIR — installs the e2e clients' npm dependencies
// (@grpc/grpc-js, @grpc/proto-loader, @bufbuild/buf) into DIR, a build-tree directory, with
// `npm ci` from the committed package-lock.json. Skipped when DIR already holds exactly that
// lock (a stamp file records its sha256); a changed lock reinstalls.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
if (!dir) {
  console.error("usage: node ensure-modules.mjs DIR");
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const files = ["package.json", "package-lock.json"];
const hash = crypto.createHash("sha256");
for (const f of files) hash.update(fs.readFileSync(path.join(here, f)));
const want = hash.digest("hex");
const stamp = path.join(dir, "node_modules", ".sfp-lock-sha256");
if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === want) {
  console.log(`ensure-modules: ${dir}/node_modules is current`);
  process.exit(0);
}
for (const f of files) fs.copyFileSync(path.join(here, f), path.join(dir, f));
const r = spawnSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
if (r.error || r.status !== 0) {
  console.error(`ensure-modules: npm ci failed in ${dir} (${r.error ? r.error.message : `exit ${r.status}`}); ` +
    "it needs the npm registry or a warm npm cache (scripts/bootstrap installs nodejs and npm)");
  process.exit(1);
}
fs.writeFileSync(stamp, want + "\n");
console.log(`ensure-modules: npm ci in ${dir} done`);
