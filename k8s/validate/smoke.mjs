#!/usr/bin/env node
// k8s/validate/smoke.mjs — the built binaries accept the configuration the manifests give them
// (ctest k8s_config_smoke). validate.mjs checks values against the ranges it reads from the
// sources; this starts the real processes, which is the final word (exit 2 = configuration
// refused).
//
//   node smoke.mjs --bin DIR [--root DIR] [--modules DIR]
//
// For every container of k8s/base and k8s/overlays/* (deduplicated by binary + environment):
// the container's environment (ConfigMap values as rendered, Secret values replaced by
// placeholders), except that listen addresses become 127.0.0.1:0 and peer/Postgres addresses
// point at a closed local port, so nothing outside is touched. Long-running binaries must
// still be running after 2 s (services start without Postgres) and exit 0 on SIGTERM;
// sfp-cronctl must get past its configuration (exit 5, "unavailable", not 2).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadModules } from "./lib/validator.mjs";
import { build } from "./lib/kustomize.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let root = path.resolve(here, "../.."), modulesDir = here, binDir = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--root") root = path.resolve(args[++i]);
  else if (args[i] === "--modules") modulesDir = path.resolve(args[++i]);
  else if (args[i] === "--bin") binDir = path.resolve(args[++i]);
  else {
    console.error(`smoke.mjs: unknown argument ${args[i]}`);
    process.exit(2);
  }
}
if (!binDir) {
  console.error("usage: node smoke.mjs --bin DIR [--root DIR] [--modules DIR]");
  process.exit(2);
}
const { YAML } = loadModules(modulesDir);
const CLOSED = "127.0.0.1:1"; // nothing listens on port 1
const SECRETS = {
  DATABASE_URL: `postgresql://smoke@${CLOSED}/smoke?connect_timeout=1`,
  CRON_SECRET: "smoke-test-secret",
  SODA_APP_TOKEN: "smoke-test-token",
};
const LISTEN = new Set(["LISTEN_ADDR", "GATEWAY_ADDR", "METRICS_ADDR"]);

const cases = new Map();
for (const dir of ["base", ...fs.readdirSync(path.join(root, "k8s", "overlays")).map((d) => `overlays/${d}`)]) {
  const objs = build(YAML, path.join(root, "k8s", dir)).map((r) => r.obj);
  const cms = new Map(objs.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o.data || {}]));
  for (const o of objs) {
    const spec = o.spec?.template?.spec || o.spec?.jobTemplate?.spec?.template?.spec;
    for (const c of spec?.containers || []) {
      const env = {};
      for (const ef of c.envFrom || []) if (ef.configMapRef) Object.assign(env, cms.get(ef.configMapRef.name));
      for (const e of c.env || []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.configMapKeyRef) env[e.name] = cms.get(e.valueFrom.configMapKeyRef.name)?.[e.valueFrom.configMapKeyRef.key];
        else if (e.valueFrom?.secretKeyRef) env[e.name] = SECRETS[e.valueFrom.secretKeyRef.key] ?? "smoke";
        else if (e.valueFrom?.fieldRef) env[e.name] = "smoke-pod";
      }
      // Redirect well-formed addresses only: a malformed one must still reach the binary.
      const hostPort = /^(\[[^\]]+\]|[^:/]+):\d+$/;
      for (const k of Object.keys(env)) {
        if (LISTEN.has(k) && hostPort.test(env[k])) env[k] = "127.0.0.1:0";
        else if (/_SVC_ADDR$/.test(k) && hostPort.test(env[k].replace(/^dns:(\/\/[^/]*\/)?/, ""))) env[k] = CLOSED;
        else if (k === "SODA_BASE_URL" && /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(env[k])) env[k] = `http://${CLOSED}/resource`;
      }
      const argv = [...(c.command || []), ...(c.args || [])];
      if (argv[0] === "sfp-migrate") continue; // needs a database; its only input is DATABASE_URL
      const key = JSON.stringify([argv, Object.entries(env).sort()]);
      if (!cases.has(key)) cases.set(key, { name: `${dir}: ${o.kind}/${o.metadata.name}`, argv, env, cron: o.kind === "CronJob" });
    }
  }
}

function runCase(k) {
  return new Promise((resolve) => {
    const bin = path.join(binDir, k.argv[0]);
    if (!fs.existsSync(bin)) return resolve(`${k.name}: ${bin} is not built`);
    const env = { PATH: process.env.PATH, ...k.env };
    const args = k.cron ? [...k.argv.slice(1), "--timeout", "5"] : k.argv.slice(1);
    const p = spawn(bin, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    let exited = null;
    p.on("exit", (code, sig) => (exited = { code, sig }));
    const last = () => err.trim().split("\n").slice(-3).join("\n      ");
    if (k.cron) {
      const t = setTimeout(() => p.kill("SIGKILL"), 15000);
      p.on("exit", (code) => {
        clearTimeout(t);
        resolve(code === 5 ? null : `${k.name}: sfp-cronctl exited ${code} (expected 5 = unavailable; 2 = configuration refused)\n      ${last()}`);
      });
      return;
    }
    setTimeout(() => {
      if (exited) return resolve(`${k.name}: ${k.argv[0]} exited ${exited.code ?? exited.sig} at start (2 = configuration refused)\n      ${last()}`);
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 20000);
      p.on("exit", (code, sig) => {
        clearTimeout(t);
        resolve(code === 0 ? null : `${k.name}: ${k.argv[0]} exited ${code ?? sig} on SIGTERM (expected 0)\n      ${last()}`);
      });
      if (exited) p.emit("exit", exited.code, exited.sig);
    }, 2000);
  });
}

const t0 = Date.now();
const results = await Promise.all([...cases.values()].map(runCase));
const failures = results.filter(Boolean);
for (const f of failures) console.error(`FAIL  ${f}`);
console.log(`smoke: ${cases.size - failures.length}/${cases.size} container configurations accepted by the binaries, ${Date.now() - t0} ms`);
process.exit(failures.length ? 1 : 0);
