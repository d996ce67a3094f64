#!/usr/bin/env node
// k8s/validate/selftest.mjs — proves the validator can fail (ctest k8s_validate_selftest).
//
//   node selftest.mjs [--root DIR] [--modules DIR]
//
// Copies k8s/ to a temporary directory, checks that the untouched copy passes, then applies
// each deliberately broken edit below to a fresh copy and validates it: every copy must be
// rejected with the expected problem. The untouched copy and the first mutations run
// validate.mjs as a separate process (exit 0, resp. exit 1: what ctest sees); the others call
// the same validator in-process, which is much faster. A mutation whose text is no longer in
// the manifests fails the self-test too (so it cannot rot into a no-op). Then facts of a built
// image (as ctest -L image writes them) that contradict the manifests must be rejected, and
// facts written for another Dockerfile must be ignored.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadFacts, loadModules, validateTree } from "./lib/validator.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let root = path.resolve(here, "../.."), modules = here;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--root") root = path.resolve(args[++i]);
  else if (args[i] === "--modules") modules = path.resolve(args[++i]);
  else {
    console.error(`selftest.mjs: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

// Image facts (what tests/image writes after building the image) that must make the untouched
// manifests fail, or be ignored: [what, edit of the facts, expected message (regex) or null =
// the copy passes, checked against the Dockerfile's text].
const IMAGE_CASES = [
  ["image runs as another uid than the manifests' runAsUser", (f) => { f.uid = 10002; },
    /runAsUser 10001 must be the image's user 10002 \(built image/],
  ["image lacks a binary a manifest runs", (f) => { f.binaries = f.binaries.filter((b) => b !== "sfp-cronctl"); },
    /sfp-cronctl is not installed in the image \(built image .*\/usr\/local\/bin\)/],
  ["image and Dockerfile disagree on the binaries", (f) => { f.binaries.push("sfp-extra"); },
    /the built image .* holds .*sfp-extra.* the Dockerfile's SFP_BINARIES says/],
  ["facts of another Dockerfile are not used", (f) => { f.uid = 10002; f.dockerfile_sha256 = "0".repeat(64); }, null],
];

// [what, file under k8s/, text to find, replacement, expected message (regex)]
const MUTATIONS = [
  ["gRPC backend behind a ClusterIP (calls pinned to one pod)", "base/report.yaml", "  clusterIP: None\n", "  type: ClusterIP\n", /Service sfp-report must be headless \(clusterIP: None\)/],
  ["gRPC target without dns:/// (no round-robin)", "base/config/gateway.env", "REPORT_SVC_ADDR=dns:///sfp-report:50051", "REPORT_SVC_ADDR=sfp-report:50051", /REPORT_SVC_ADDR=sfp-report:50051 must be dns:\/\/\/sfp-report:50051/],
  ["YAML syntax error", "base/gateway.yaml", "  name: sfp-gateway\n  labels:", "  name: sfp-gateway\n   labels:", /YAML error/],
  ["duplicate YAML key", "base/report.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 3\n", /YAML error.*[Uu]nique|YAML error.*duplicate/],
  ["schema: replicas not an integer", "base/brief.yaml", "  replicas: 2\n", "  replicas: two\n", /schema: .*replicas must be integer/],
  ["schema: unknown apiVersion", "base/report.yaml", "apiVersion: autoscaling/v2\n", "apiVersion: autoscaling/v2beta1\n", /apiVersion autoscaling\/v2beta1/],
  ["gRPC probe on a port the container lacks", "base/report.yaml", "grpc: {port: 50051, service: readiness}", "grpc: {port: 50061, service: readiness}", /gRPC port 50061 is not a containerPort/],
  ["gRPC probe service name the binary does not answer", "base/health.yaml", "service: readiness}", "service: ready}", /gRPC health service "ready" is not one sfp-health answers/],
  ["liveness probe that touches Postgres", "base/cron.yaml", "livenessProbe:\n            grpc: {port: 50053, service: liveness}", "livenessProbe:\n            grpc: {port: 50053, service: readiness}", /livenessProbe: service "readiness" touches Postgres/],
  ["HTTP probe on a path the gateway lacks", "base/gateway.yaml", "httpGet: {path: /readyz, port: http}", "httpGet: {path: /ready, port: http}", /GET \/ready is not a gateway route/],
  ["env var the binary never reads", "base/config/report.env", "RPC_WORKERS=8\n", "RPC_WORKERS=8\nREPORT_NEARBY_LIMITS=5\n", /sets REPORT_NEARBY_LIMITS .* which sfp-report never reads/],
  ["env value outside the binary's range", "base/config/gateway.env", "GATEWAY_MAX_CONNECTIONS=256", "GATEWAY_MAX_CONNECTIONS=2000000", /GATEWAY_MAX_CONNECTIONS=2000000 .* outside 1\.\.1000000/],
  ["CronJob calling a job sfp-cronctl does not have", "base/cronjobs.yaml", "command: [sfp-cronctl, signals]", "command: [sfp-cronctl, signal]", /sfp-cronctl job "signal" does not exist/],
  ["CronJob deadline shorter than sfp-cronctl's timeout", "base/cronjobs.yaml", "activeDeadlineSeconds: 1200", "activeDeadlineSeconds: 300", /activeDeadlineSeconds 300 must exceed sfp-cronctl's timeout for nightly \(490 s\)/],
  ["Service selector matching no pod", "base/report.yaml", "  selector:\n    app.kubernetes.io/name: sfpermits\n    app.kubernetes.io/component: report\n  ports:", "  selector:\n    app.kubernetes.io/name: sfpermits\n    app.kubernetes.io/component: reports\n  ports:", /Service\/sfp-report .*must select the pods of exactly one Deployment \(selects: nothing\)/],
  ["Service targetPort the pods lack", "base/brief.yaml", "targetPort: grpc", "targetPort: grpcs", /targetPort grpcs is not a containerPort of sfp-brief/],
  ["NetworkPolicy blocking the CronJobs from cron-svc", "base/networkpolicy.yaml", "values: [cronjob, gateway, health]", "values: [gateway, health]", /NetworkPolicy blocks sfp-cron-\w+ -> sfp-cron:50053/],
  ["NetworkPolicy opening cron-svc to report", "base/networkpolicy.yaml", "values: [cronjob, gateway, health]", "values: [cronjob, gateway, health, report]", /NetworkPolicy lets sfp-report reach sfp-cron:50053/],
  ["NetworkPolicy without default deny", "base/networkpolicy.yaml", "  name: default-deny\nspec:\n  podSelector: {}", "  name: default-deny\nspec:\n  podSelector: {matchLabels: {nothing: here}}", /not covered by a default-deny NetworkPolicy|selects no pod/],
  ["Secret key the template does not list", "base/cron.yaml", "key: CRON_SECRET}", "key: CRON_SECRETS}", /refers to key CRON_SECRETS, which secret.example.yaml does not list/],
  ["real value in the Secret template", "base/secret.example.yaml", 'CRON_SECRET: "CHANGE-ME"', 'CRON_SECRET: "hunter2hunter2"', /CRON_SECRET must hold a CHANGE-ME placeholder/],
  ["grace period shorter than the drain", "base/cron.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 20", /terminationGracePeriodSeconds 20 must exceed preStop 5 s \+ SHUTDOWN_GRACE_MS 30000/],
  ["HPA-managed Deployment with replicas", "base/gateway.yaml", "  revisionHistoryLimit: 5\n", "  replicas: 2\n  revisionHistoryLimit: 5\n", /remove spec.replicas/],
  ["metrics annotation on the wrong port", "base/report.yaml", 'prometheus.io/port: "9464"', 'prometheus.io/port: "9465"', /prometheus.io\/port must be "9464"/],
  ["kustomize field the renderer does not support", "base/kustomization.yaml", "namespace: sfpermits\n", "namespace: sfpermits\nnamePrefix: x-\n", /field "namePrefix" is not supported/],
  ["overlay image entry matching no container", "overlays/example/kustomization.yaml", "  - name: sfpermits\n    newName:", "  - name: sfpermit\n    newName:", /image sfpermit is used by no container/],
  ["connection budget exceeded", "overlays/example/kustomization.yaml", 'value: "180"', 'value: "100"', /Postgres connections at full scale: .* = 126 > budget 100/],
];

function copyTree(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.name === "node_modules") continue;
    const s = path.join(src, e.name), d = path.join(dst, e.name);
    if (e.isDirectory()) copyTree(s, d);
    else fs.copyFileSync(s, d);
  }
}

const SPAWNED = 2; // mutations checked through the command line (exit code)

function runProcess(k8sDir) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(here, "validate.mjs"), "--root", root, "--k8s", k8sDir, "--modules", modules, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => resolve({ code, out }));
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-k8s-selftest-"));
const t0 = Date.now();
let failed = 0;
try {
  const pristine = path.join(tmp, "pristine", "k8s");
  copyTree(path.join(root, "k8s"), pristine);
  const base = await runProcess(pristine);
  if (base.code !== 0) {
    console.error(`selftest: the unmodified copy does not pass (exit ${base.code}); fix k8s/ first:\n${base.out}`);
    process.exit(1);
  }
  const modulesLoaded = loadModules(modules);
  const facts = loadFacts(root);
  const runInProcess = async (dir) => {
    const r = validateTree({ root, k8s: dir, modules: modulesLoaded, facts });
    return { code: r.errors.length ? 1 : 0, out: r.errors.join("\n") };
  };
  const jobs = MUTATIONS.map(([what, file, find, repl, expect], i) => async () => {
    const dir = path.join(tmp, `m${i}`, "k8s");
    copyTree(pristine, dir);
    const f = path.join(dir, file);
    const text = fs.readFileSync(f, "utf8");
    if (!text.includes(find)) return { what, ok: false, why: `the text to break is no longer in ${file}: update the mutation` };
    fs.writeFileSync(f, text.replace(find, repl));
    const r = i < SPAWNED ? await runProcess(dir) : await runInProcess(dir);
    if (r.code !== 1) return { what, ok: false, why: `validator ${i < SPAWNED ? "exited" : "returned"} ${r.code}, expected 1\n${r.out}` };
    if (!expect.test(r.out)) return { what, ok: false, why: `failed, but without the expected message ${expect}:\n${r.out}` };
    return { what, ok: true };
  });
  const width = Math.max(1, Math.min(os.cpus().length, SPAWNED));
  const results = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  // Image facts written for this Dockerfile, as the image test would, then broken.
  const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(root, "Dockerfile"))).digest("hex");
  const text = loadFacts(root).docker;
  for (const [what, edit, expect] of IMAGE_CASES) {
    const f = { tag: "sfpermits:selftest", dockerfile_sha256: sha, binaries: [...text.binaries], uid: text.uid, gid: text.gid,
                env: Object.fromEntries(text.env) };
    edit(f);
    const file = path.join(tmp, "image-facts.json");
    fs.writeFileSync(file, JSON.stringify(f));
    const r = validateTree({ root, k8s: pristine, modules: modulesLoaded, facts: loadFacts(root, file) });
    const out = r.errors.join("\n");
    if (expect === null) results.push(r.errors.length ? { what, ok: false, why: `rejected, expected a pass:\n${out}` } : { what, ok: true });
    else if (!r.errors.length) results.push({ what, ok: false, why: "passed, expected a rejection" });
    else if (!expect.test(out)) results.push({ what, ok: false, why: `failed, but without the expected message ${expect}:\n${out}` });
    else results.push({ what, ok: true });
  }
  for (const r of results) {
    if (r.ok) console.log(`ok    ${r.what}`);
    else {
      failed++;
      console.log(`FAIL  ${r.what}: ${r.why}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`selftest: ${MUTATIONS.length + IMAGE_CASES.length - failed}/${MUTATIONS.length + IMAGE_CASES.length} broken copies and image facts rejected, ${Date.now() - t0} ms`);
process.exit(failed ? 1 : 0);
