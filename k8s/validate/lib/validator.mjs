// validator.mjs — one validation run over a k8s/ tree: render base + overlays, schema-check
// every object, then the cross-references (checks.mjs) against the code (csource.mjs).
// validate.mjs is the command line around it; selftest.mjs calls it in-process.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { CSources } from "./csource.mjs";
import { build, loadYamlFile, KustomizeError } from "./kustomize.mjs";
import { Checker } from "./checks.mjs";

// Kubernetes >= 1.27 is required (gRPC probes and CronJob timeZone are GA there): only these
// API versions are accepted for the kinds the suite uses.
const API = {
  Namespace: "v1", ServiceAccount: "v1", ConfigMap: "v1", Secret: "v1", Service: "v1",
  Deployment: "apps/v1", Job: "batch/v1", CronJob: "batch/v1",
  HorizontalPodAutoscaler: "autoscaling/v2", PodDisruptionBudget: "policy/v1",
  NetworkPolicy: "networking.k8s.io/v1", Ingress: "networking.k8s.io/v1",
};

// yaml + kubernetes-models from DIR/node_modules; throws with a hint when missing.
export function loadModules(dir) {
  const req = createRequire(path.join(dir, "package.json"));
  try {
    const YAML = req("yaml");
    req.resolve("kubernetes-models/v1");
    return { YAML, req };
  } catch (e) {
    throw new Error(`cannot load yaml/kubernetes-models from ${dir}/node_modules (run npm ci there): ${e.message}`);
  }
}

function dockerFacts(root) {
  const file = path.join(root, "Dockerfile");
  if (!fs.existsSync(file)) throw new Error("Dockerfile is missing");
  const lines = fs.readFileSync(file, "utf8").replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const stages = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([]);
    if (stages.length) stages[stages.length - 1].push(l);
  }
  const last = stages[stages.length - 1] || [];
  const env = new Map();
  for (const l of last.filter((x) => /^ENV\s/i.test(x)))
    for (const m of l.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|(\S*))/g)) env.set(m[1], m[3] ?? m[4]);
  const user = last.filter((x) => /^USER\s/i.test(x)).pop();
  const um = user && user.match(/^USER\s+(\d+)(?::(\d+))?$/i);
  if (!um) throw new Error("Dockerfile: the runtime stage needs a numeric USER uid:gid (runAsNonRoot can only verify numbers)");
  const argLine = lines.find((l) => /^ARG\s+SFP_BINARIES=/.test(l));
  if (!argLine) throw new Error('Dockerfile: ARG SFP_BINARIES="..." (the shipped binaries) not found');
  const binaries = new Set(argLine.match(/SFP_BINARIES="([^"]*)"/)[1].split(/\s+/).filter(Boolean));
  return { env, uid: Number(um[1]), gid: um[2] ? Number(um[2]) : undefined, binaries,
           source: "Dockerfile", binSource: "Dockerfile SFP_BINARIES", userSource: "Dockerfile USER" };
}

// The facts of the built image, as tests/image (ctest -L image) wrote them after building it
// and looking inside: {dockerfile_sha256, tag, binaries, uid, gid, env}. Used only when written
// for the Dockerfile as it is now; returns {docker, note, errors}, docker null when unusable.
function imageFacts(file, root, text) {
  if (!file) return { docker: null, note: null, errors: [] };
  if (!fs.existsSync(file)) return { docker: null, note: `image facts: none in ${file} (ctest -L image writes them); checked against the Dockerfile's text`, errors: [] };
  let j;
  try {
    j = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return { docker: null, note: null, errors: [`${file}: not JSON (${e.message}); rerun ctest -L image`] };
  }
  const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(root, "Dockerfile"))).digest("hex");
  if (j.dockerfile_sha256 !== sha)
    return { docker: null, note: `image facts: ${file} was written for another Dockerfile (rerun ctest -L image); checked against the Dockerfile's text`, errors: [] };
  if (!Array.isArray(j.binaries) || !Number.isInteger(j.uid) || typeof j.env !== "object")
    return { docker: null, note: null, errors: [`${file}: binaries, uid and env expected; rerun ctest -L image`] };
  const docker = {
    env: new Map(Object.entries(j.env).filter(([k]) => k !== "PATH")), // PATH comes with the base image
    uid: j.uid, gid: Number.isInteger(j.gid) ? j.gid : undefined, binaries: new Set(j.binaries),
    source: `built image ${j.tag}`, binSource: `built image ${j.tag}, /usr/local/bin`, userSource: `built image ${j.tag}, its process uid`,
  };
  // The image was built from this Dockerfile: what it holds must be what the file says.
  const errors = [];
  const list = (set) => [...set].sort().join(" ");
  if (list(docker.binaries) !== list(text.binaries))
    errors.push(`the built image ${j.tag} holds ${list(docker.binaries)} in /usr/local/bin, the Dockerfile's SFP_BINARIES says ${list(text.binaries)}`);
  if (docker.uid !== text.uid || (text.gid !== undefined && docker.gid !== text.gid))
    errors.push(`the built image ${j.tag} runs as ${docker.uid}:${docker.gid}, the Dockerfile's USER says ${text.uid}:${text.gid}`);
  return { docker, note: `image facts: from the ${docker.source} (${file})`, errors };
}

// Facts about the code and the image, computed once per source tree. imageFactsFile (optional):
// the built image's facts, preferred to the Dockerfile's text when they were written for it.
export function loadFacts(root, imageFactsFile) {
  const facts = new CSources(root);
  const text = dockerFacts(root);
  const img = imageFacts(imageFactsFile, root, text);
  const docker = img.docker || text;
  const errors = [...img.errors];
  for (const b of docker.binaries)
    if (!facts.binaries().has(b)) errors.push(`${docker.binSource} lists ${b}, which no add_executable() builds`);
  for (const k of docker.env.keys()) {
    const readers = [...docker.binaries].filter((b) => facts.binaries().has(b) && facts.envReads(b).has(k));
    if (!readers.length && k !== "TZ" && k !== "METRICS_ADDR") errors.push(`${docker.source}: ENV ${k} is read by no shipped binary`);
  }
  return { facts, docker, errors, notes: img.note ? [img.note] : [] };
}

export function validateTree({ root, k8s, modules, compare = false, facts: pre, imageFacts: imageFactsFile }) {
  const { YAML, req } = modules;
  const errors = [];
  const lines = [];
  const notes = new Set();

  const schemaCheck = (label, obj, source) => {
    const where = `${label}: ${obj.kind}/${obj.metadata?.name} (${source})`;
    if (!API[obj.kind]) return errors.push(`${where}: kind ${obj.kind} is not one the validator knows (${Object.keys(API).join(", ")})`);
    if (obj.apiVersion !== API[obj.kind]) return errors.push(`${where}: apiVersion ${obj.apiVersion} — use ${API[obj.kind]} (Kubernetes >= 1.27)`);
    const Model = req(`kubernetes-models/${obj.apiVersion}`)[obj.kind];
    if (!Model) return errors.push(`${where}: kubernetes-models has no ${obj.apiVersion} ${obj.kind}`);
    try {
      new Model(JSON.parse(JSON.stringify(obj))).validate();
    } catch (e) {
      errors.push(`${where}: schema: ${e.message}`);
    }
  };

  const { facts, docker, errors: factErrors, notes: factNotes = [] } = pre || loadFacts(root, imageFactsFile);
  errors.push(...factErrors);
  lines.push(...factNotes);

  // The Secret template: the one Secret the manifests may reference, placeholders only.
  const secretFile = path.join(k8s, "base", "secret.example.yaml");
  let secret = { name: "", keys: new Set() };
  try {
    const docs = loadYamlFile(YAML, secretFile);
    if (docs.length !== 1 || docs[0].obj.kind !== "Secret") throw new KustomizeError(`${secretFile}: must hold one Secret`);
    const s = docs[0].obj;
    schemaCheck("secret template", s, "base/secret.example.yaml");
    const values = { ...(s.stringData || {}), ...(s.data || {}) };
    for (const [k, v] of Object.entries(values))
      if (!/CHANGE-ME/.test(String(v))) errors.push(`base/secret.example.yaml: ${k} must hold a CHANGE-ME placeholder, never a real value`);
    secret = { name: s.metadata.name, keys: new Set(Object.keys(values)) };
  } catch (e) {
    if (!(e instanceof KustomizeError)) throw e;
    errors.push(e.message);
  }

  const targets = [path.join(k8s, "base")];
  const overlays = path.join(k8s, "overlays");
  if (fs.existsSync(overlays))
    for (const d of fs.readdirSync(overlays).sort()) if (fs.statSync(path.join(overlays, d)).isDirectory()) targets.push(path.join(overlays, d));

  let checks = 0;
  for (const dir of targets) {
    const label = path.relative(k8s, dir);
    let recs;
    try {
      recs = build(YAML, dir);
    } catch (e) {
      if (!(e instanceof KustomizeError)) throw e;
      errors.push(`${label}: ${e.message}`);
      continue;
    }
    const before = errors.length;
    for (const r of recs) schemaCheck(label, r.obj, r.source);
    const schemaOk = errors.length === before;
    if (compare) kubectlCompare(YAML, dir, label, recs.map((r) => r.obj), errors);
    if (label === "base") {
      const want = facts.version();
      const tags = new Set();
      for (const r of recs) for (const s of [r.obj.spec?.template?.spec, r.obj.spec?.jobTemplate?.spec?.template?.spec])
        for (const c of s?.containers || []) tags.add(String(c.image).split(":")[1]);
      if (want && (tags.size !== 1 || !tags.has(want))) errors.push(`base: the image tag (${[...tags].join(", ")}) must be the project version ${want} (CMakeLists.txt project(VERSION))`);
    }
    if (!schemaOk) continue; // cross-references assume well-formed objects
    const c = new Checker({ objs: recs, facts, docker, secret, label }).run();
    errors.push(...c.errors);
    c.notes.forEach((n) => notes.add(n));
    checks += c.count;
    const kinds = {};
    for (const r of recs) kinds[r.obj.kind] = (kinds[r.obj.kind] || 0) + 1;
    lines.push(`${label}: ${recs.length} objects (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")}); ${c.count} cross-reference checks` +
      (c.connections ? `; Postgres connections at full scale ${c.connections.total}/${c.connections.budget}` : ""));
  }
  for (const n of notes) lines.push(`note: ${n}`);
  return { errors, lines, targets: targets.length, checks };
}

function kubectlCompare(YAML, dir, label, objs, errors) {
  let out;
  try {
    out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    errors.push(`${label}: kubectl kustomize failed: ${String(e.stderr || e.message).split("\n")[0]}`);
    return;
  }
  const key = (o) => `${o.kind}/${o.metadata.namespace || ""}/${o.metadata.name}`;
  const theirs = new Map(YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean).map((o) => [key(o), o]));
  const mine = new Map(objs.map((o) => [key(o), o]));
  const canon = (v) => JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));
  for (const k of new Set([...theirs.keys(), ...mine.keys()])) {
    if (!theirs.has(k)) errors.push(`${label}: ${k} rendered here but not by kubectl kustomize`);
    else if (!mine.has(k)) errors.push(`${label}: ${k} rendered by kubectl kustomize but not here`);
    else if (canon(theirs.get(k)) !== canon(mine.get(k))) errors.push(`${label}: ${k} differs from kubectl kustomize`);
  }
}
