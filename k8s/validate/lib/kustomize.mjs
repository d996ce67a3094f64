// kustomize.mjs — the subset of kustomize that k8s/ uses, so CI renders the manifests without
// kubectl. Output matches `kubectl kustomize` (v5) for these features, including the
// ConfigMap name hashes (validate.mjs --compare-kubectl checks that when kubectl is present).
//
// Supported kustomization fields:
//   resources            files (multi-document YAML) and directories holding a kustomization
//   namespace            sets metadata.namespace of namespaced objects; renames Namespace objects
//   labels               [{pairs, includeSelectors: false, includeTemplates: false}]: metadata.labels
//   images               [{name, newName, newTag, digest}] on every container/initContainer image
//   replicas             [{name, count}] on Deployments/StatefulSets/ReplicaSets
//   configMapGenerator   [{name, behavior: create|merge|replace, literals, envs, options}],
//                        name suffixed with the content hash and references rewritten
//   patches              [{target: {group, version, kind, name, namespace, labelSelector},
//                          patch | path}] with JSON 6902 operations only
// Anything else is an error (so a manifest never silently renders differently than in kubectl).
// Transformers run in kustomize's order: patches, namespace, labels, replicas, images.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const SUPPORTED = new Set([
  "apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas", "configMapGenerator", "patches",
]);
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "CustomResourceDefinition",
  "PriorityClass", "IngressClass", "RuntimeClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
  "APIService", "CSIDriver", "Node",
]);
const SCALABLE = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

export class KustomizeError extends Error {}

function fail(where, msg) {
  throw new KustomizeError(`${where}: ${msg}`);
}

// YAML documents of a file: [{obj, file, index}]; parse errors name the file.
export function loadYamlFile(YAML, file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    fail(file, `cannot read (${e.code || e.message})`);
  }
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  const out = [];
  docs.forEach((d, i) => {
    if (d.errors.length) fail(file, `YAML error: ${d.errors[0].message}`);
    const obj = d.toJS({ maxAliasCount: 0 });
    if (obj === null || obj === undefined) return;
    if (typeof obj !== "object" || Array.isArray(obj)) fail(`${file} document ${i + 1}`, "is not a mapping");
    out.push({ obj, file, index: i });
  });
  return out;
}

// kustomize's envs-file parsing (api/kv): comments and blank lines skipped, leading white space
// trimmed, KEY=VALUE split at the first "=", value kept verbatim.
function parseEnvFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    fail(file, `cannot read (${e.code || e.message})`);
  }
  text = text.replace(/^\uFEFF/, "");
  const out = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").replace(/^\s+/, "");
    if (!line || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq < 0) fail(`${file}:${i + 1}`, `"${line}" has no "=" (a value from the environment is not supported)`);
    const key = line.slice(0, eq);
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) fail(`${file}:${i + 1}`, `"${key}" is not a valid variable name`);
    out.push([key, line.slice(eq + 1)]);
  });
  return out;
}

function parseLiteral(lit, where) {
  const eq = String(lit).indexOf("=");
  if (eq <= 0) fail(where, `literal "${lit}" is not KEY=VALUE`);
  let v = String(lit).slice(eq + 1);
  if (v.length > 1 && ((v[0] === '"' && v.endsWith('"')) || (v[0] === "'" && v.endsWith("'")))) v = v.slice(1, -1);
  return [String(lit).slice(0, eq), v];
}

// Go's encoding/json escaping (HTML-safe) of a JSON text produced by JSON.stringify.
function goJson(value) {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function sortedObject(o) {
  const out = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

// kustomize api/hasher: sha256 over the Go JSON of {"data":..,"kind":"ConfigMap","name":""}
// (kustomize v5 hashes the generated node before its name is set: the name is empty), first 10
// hex digits with 0,1,3,a,e replaced (no vowels, no look-alike digits).
export function configMapHash(data) {
  const text = goJson({ data: sortedObject(data), kind: "ConfigMap", name: "" });
  const hex = crypto.createHash("sha256").update(text).digest("hex").slice(0, 10);
  const map = { 0: "g", 1: "h", 3: "k", a: "m", e: "t" };
  return hex.replace(/[013ae]/g, (c) => map[c]);
}

// ---- JSON 6902 ----
function pointer(p, where) {
  if (p === "") return [];
  if (!p.startsWith("/")) fail(where, `JSON pointer "${p}" must start with /`);
  return p.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function applyJson6902(obj, ops, where) {
  const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
  const walk = (toks) => {
    let cur = obj;
    for (const t of toks.slice(0, -1)) {
      if (cur === null || typeof cur !== "object" || !(t in cur))
        fail(where, `path /${toks.join("/")}: /${t} does not exist`);
      cur = cur[t];
    }
    return cur;
  };
  const get = (toks) => {
    let cur = obj;
    for (const t of toks) {
      if (cur === null || typeof cur !== "object" || !(t in cur)) fail(where, `path /${toks.join("/")} does not exist`);
      cur = cur[t];
    }
    return cur;
  };
  const remove = (toks) => {
    const parent = walk(toks);
    const last = toks[toks.length - 1];
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i >= parent.length) fail(where, `remove: bad index ${last}`);
      return parent.splice(i, 1)[0];
    }
    if (!(last in parent)) fail(where, `remove: /${toks.join("/")} does not exist`);
    const v = parent[last];
    delete parent[last];
    return v;
  };
  const add = (toks, value) => {
    if (toks.length === 0) fail(where, "cannot replace the whole object");
    const parent = walk(toks);
    const last = toks[toks.length - 1];
    if (Array.isArray(parent)) {
      if (last === "-") parent.push(value);
      else {
        const i = Number(last);
        if (!Number.isInteger(i) || i < 0 || i > parent.length) fail(where, `add: bad index ${last}`);
        parent.splice(i, 0, value);
      }
    } else if (parent && typeof parent === "object") parent[last] = value;
    else fail(where, `add: parent of /${toks.join("/")} is not a container`);
  };
  if (!Array.isArray(ops)) fail(where, "a JSON 6902 patch is a list of operations");
  for (const op of ops) {
    if (!op || typeof op !== "object" || typeof op.op !== "string" || typeof op.path !== "string")
      fail(where, `bad operation ${JSON.stringify(op)}`);
    const toks = pointer(op.path, where);
    switch (op.op) {
      case "add": add(toks, clone(op.value)); break;
      case "remove": remove(toks); break;
      case "replace": get(toks); remove(toks); add(toks, clone(op.value)); break;
      case "move": add(toks, remove(pointer(op.from, where))); break;
      case "copy": add(toks, clone(get(pointer(op.from, where)))); break;
      case "test":
        if (JSON.stringify(get(toks)) !== JSON.stringify(op.value)) fail(where, `test failed at ${op.path}`);
        break;
      default: fail(where, `unknown op "${op.op}"`);
    }
  }
}

function matchesTarget(obj, t, where) {
  const allowed = new Set(["group", "version", "kind", "name", "namespace", "labelSelector"]);
  for (const k of Object.keys(t)) if (!allowed.has(k)) fail(where, `target field "${k}" is not supported`);
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const full = (re, v) => new RegExp(`^(?:${re})$`).test(v ?? "");
  if (t.kind !== undefined && !full(t.kind, obj.kind)) return false;
  if (t.name !== undefined && !full(t.name, obj.metadata?.name)) return false;
  if (t.namespace !== undefined && !full(t.namespace, obj.metadata?.namespace)) return false;
  if (t.group !== undefined && !full(t.group, group)) return false;
  if (t.version !== undefined && !full(t.version, version)) return false;
  if (t.labelSelector !== undefined) {
    const labels = obj.metadata?.labels || {};
    for (const term of String(t.labelSelector).split(",").map((s) => s.trim()).filter(Boolean)) {
      const m = term.match(/^([^=!]+)(==?|!=)(.*)$/);
      if (!m) fail(where, `labelSelector term "${term}" is not supported (k=v or k!=v)`);
      const eq = labels[m[1].trim()] === m[3].trim();
      if (m[2] === "!=" ? eq : !eq) return false;
    }
  }
  return true;
}

// ---- image references ----
function splitImage(image) {
  let digest = "";
  let rest = image;
  const at = rest.indexOf("@");
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag = "";
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  return { name: rest, tag, digest };
}

function eachContainer(obj, fn) {
  const visit = (v) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== "object") return;
    for (const [k, c] of Object.entries(v)) {
      if ((k === "containers" || k === "initContainers" || k === "ephemeralContainers") && Array.isArray(c))
        c.forEach((x) => x && typeof x === "object" && fn(x, v));
      else visit(c);
    }
  };
  visit(obj);
}

// Pod specs of an object (anything holding a containers list).
export function podSpecs(obj) {
  const out = [];
  const seen = new Set();
  eachContainer(obj, (_c, spec) => {
    if (!seen.has(spec)) { seen.add(spec); out.push(spec); }
  });
  return out;
}

// ---- the build ----
function kustomizationFile(dir) {
  for (const n of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const p = path.join(dir, n);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

function load(YAML, dir, stack) {
  const kfile = kustomizationFile(dir);
  if (!kfile) fail(dir, "no kustomization.yaml");
  if (stack.includes(kfile)) fail(kfile, "resource cycle");
  const docs = loadYamlFile(YAML, kfile);
  if (docs.length !== 1) fail(kfile, "must hold exactly one document");
  const k = docs[0].obj;
  for (const key of Object.keys(k))
    if (!SUPPORTED.has(key)) fail(kfile, `field "${key}" is not supported by k8s/validate/lib/kustomize.mjs`);
  if (k.kind !== undefined && k.kind !== "Kustomization") fail(kfile, `kind must be Kustomization`);

  const recs = [];
  for (const r of k.resources || []) {
    const p = path.resolve(dir, r);
    if (!fs.existsSync(p)) fail(kfile, `resource ${r} does not exist`);
    if (fs.statSync(p).isDirectory()) recs.push(...load(YAML, p, [...stack, kfile]));
    else for (const d of loadYamlFile(YAML, p)) recs.push({ obj: d.obj, source: path.relative(process.cwd(), p) });
  }
  for (const rec of recs) {
    const o = rec.obj;
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string")
      fail(rec.source || kfile, `an object lacks apiVersion, kind or metadata.name`);
  }

  // Generators.
  for (const [i, g] of (k.configMapGenerator || []).entries()) {
    const where = `${kfile} configMapGenerator[${i}]`;
    for (const key of Object.keys(g))
      if (!["name", "behavior", "literals", "envs", "options"].includes(key)) fail(where, `field "${key}" is not supported`);
    for (const key of Object.keys(g.options || {}))
      if (key !== "disableNameSuffixHash") fail(where, `options.${key} is not supported`);
    if (!g.name) fail(where, "needs a name");
    const data = {};
    for (const f of g.envs || []) for (const [key, v] of parseEnvFile(path.resolve(dir, f))) data[key] = v;
    for (const lit of g.literals || []) {
      const [key, v] = parseLiteral(lit, where);
      data[key] = v;
    }
    const behavior = g.behavior || "create";
    const ns = k.namespace;
    const existing = recs.find((r) => r.gen && r.gen.name === g.name && (!ns || r.obj.metadata.namespace === ns));
    if (behavior === "create") {
      if (existing) fail(where, `ConfigMap ${g.name} already exists (use behavior: merge or replace)`);
      recs.push({
        obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data },
        gen: { name: g.name, hash: !g.options?.disableNameSuffixHash },
        source: `${path.relative(process.cwd(), kfile)} (configMapGenerator ${g.name})`,
      });
    } else if (behavior === "merge" || behavior === "replace") {
      if (!existing) fail(where, `behavior ${behavior}: no generated ConfigMap ${g.name} in the bases`);
      existing.obj.data = behavior === "merge" ? { ...existing.obj.data, ...data } : data;
    } else fail(where, `behavior "${behavior}" is not supported`);
  }

  // Transformers, in kustomize's order.
  for (const [i, p] of (k.patches || []).entries()) {
    const where = `${kfile} patches[${i}]`;
    for (const key of Object.keys(p))
      if (!["target", "patch", "path"].includes(key)) fail(where, `field "${key}" is not supported`);
    if (!p.target) fail(where, "needs a target (only JSON 6902 patches are supported)");
    const text = p.patch !== undefined ? p.patch : fs.readFileSync(path.resolve(dir, p.path), "utf8");
    const ops = YAML.parse(text, { uniqueKeys: true });
    if (!Array.isArray(ops)) fail(where, "only JSON 6902 patches (a list of operations) are supported");
    const hits = recs.filter((r) => matchesTarget(r.obj, p.target, where));
    if (hits.length === 0) fail(where, `target ${JSON.stringify(p.target)} matches no object`);
    for (const r of hits) applyJson6902(r.obj, ops, `${where} on ${r.obj.kind}/${r.obj.metadata.name}`);
  }
  if (k.namespace !== undefined) {
    for (const r of recs) {
      if (r.obj.kind === "Namespace") r.obj.metadata.name = k.namespace;
      else if (!CLUSTER_SCOPED.has(r.obj.kind)) r.obj.metadata.namespace = k.namespace;
    }
  }
  for (const [i, l] of (k.labels || []).entries()) {
    const where = `${kfile} labels[${i}]`;
    for (const key of Object.keys(l))
      if (!["pairs", "includeSelectors", "includeTemplates"].includes(key)) fail(where, `field "${key}" is not supported`);
    if (l.includeSelectors || l.includeTemplates)
      fail(where, "includeSelectors/includeTemplates are not supported: write pod and selector labels explicitly");
    for (const r of recs) {
      r.obj.metadata.labels = { ...(r.obj.metadata.labels || {}) };
      for (const [key, v] of Object.entries(l.pairs || {})) r.obj.metadata.labels[key] = String(v);
    }
  }
  for (const [i, rep] of (k.replicas || []).entries()) {
    const where = `${kfile} replicas[${i}]`;
    const hits = recs.filter((r) => SCALABLE.has(r.obj.kind) && r.obj.metadata.name === rep.name);
    if (hits.length === 0) fail(where, `no Deployment/StatefulSet/ReplicaSet named ${rep.name}`);
    if (!Number.isInteger(rep.count) || rep.count < 0) fail(where, `count must be a non-negative integer`);
    for (const r of hits) r.obj.spec.replicas = rep.count;
  }
  for (const [i, img] of (k.images || []).entries()) {
    const where = `${kfile} images[${i}]`;
    for (const key of Object.keys(img))
      if (!["name", "newName", "newTag", "digest"].includes(key)) fail(where, `field "${key}" is not supported`);
    let used = false;
    for (const r of recs) {
      eachContainer(r.obj, (c) => {
        if (typeof c.image !== "string") return;
        const cur = splitImage(c.image);
        if (cur.name !== img.name) return;
        used = true;
        const name = img.newName || cur.name;
        if (img.digest) c.image = `${name}@${img.digest}`;
        else if (img.newTag !== undefined) c.image = `${name}:${img.newTag}`;
        else c.image = `${name}${cur.tag ? ":" + cur.tag : ""}${cur.digest ? "@" + cur.digest : ""}`;
      });
    }
    if (!used) fail(where, `image ${img.name} is used by no container`);
  }
  return recs;
}

// Renders dir: [{obj, source}] with generated names hashed and references rewritten.
export function build(YAML, dir) {
  const recs = load(YAML, path.resolve(dir), []);
  const renamed = new Map(); // "ns/name" -> new name
  for (const r of recs) {
    if (!r.gen) continue;
    if (r.gen.hash) {
      const name = `${r.gen.name}-${configMapHash(r.obj.data)}`;
      renamed.set(`${r.obj.metadata.namespace || ""}/${r.gen.name}`, name);
      r.obj.metadata.name = name;
    }
  }
  const rename = (ns, n) => renamed.get(`${ns || ""}/${n}`) || n;
  for (const r of recs) {
    const ns = r.obj.metadata.namespace;
    for (const spec of podSpecs(r.obj)) {
      for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
        for (const e of c.envFrom || []) if (e.configMapRef?.name) e.configMapRef.name = rename(ns, e.configMapRef.name);
        for (const e of c.env || [])
          if (e.valueFrom?.configMapKeyRef?.name) e.valueFrom.configMapKeyRef.name = rename(ns, e.valueFrom.configMapKeyRef.name);
      }
      for (const v of spec.volumes || []) {
        if (v.configMap?.name) v.configMap.name = rename(ns, v.configMap.name);
        for (const s of v.projected?.sources || []) if (s.configMap?.name) s.configMap.name = rename(ns, s.configMap.name);
      }
    }
  }
  return recs.map((r) => ({ obj: r.obj, source: r.source, generatedFrom: r.gen?.name }));
}
