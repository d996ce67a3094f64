// csource.mjs — facts about the binaries, read from the C sources and CMake files at test time
// (never from a hard-coded list), so the manifests are checked against the code as it is now:
//
//   binaries()       add_executable() targets and their source files
//   envReads(bin)    every environment variable the binary reads, and envSpecs(bin) their kinds,
//                    defaults and ranges: from the configuration schema the build emits
//                    (sfp-config-doc --json, generated from common/config_vars.h), not from C
//   grpcServer(bin)  whether the binary runs the common gRPC server (and so grpc.health.v1)
//   healthNames(bin) the grpc.health.v1 service names it answers: "", the generic names that
//                    common/rpc_server.c compares against, and the binary's service_names[]
//   cronJobs()       sfp-cronctl's JOB names (services/cron/cron_rules.c k_jobs, cross-checked
//                    with the RPCs of proto/sfpermits/v1/cron.proto), their default --timeout and
//                    the flags of its usage line
//   gatewayRoutes()  the gateway's route table (method, path) from gateway/routes.c
//
// Everything here is a regex-level reading of C, deliberately simple. When the code changes
// shape so that a fact cannot be found, the reader throws with a message naming the file, so
// the validator fails loudly instead of passing vacuously.
import fs from "node:fs";
import path from "node:path";

const SCAN_DIRS = ["common", "services", "gateway", "tools"];
const C_KEYWORDS = new Set(["if", "for", "while", "switch", "return", "sizeof", "do", "else", "case"]);

const SKIP_DIRS = /^(\..*|build.*|node_modules|tests|k8s|bench|db|reference)$/;

function walk(dir, pred, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.test(e.name)) walk(p, pred, out);
    }
    else if (pred(p)) out.push(p);
  }
  return out;
}

// Removes comments; keeps string and char literals intact. Preprocessor lines (with their
// continuations) are returned separately.
function stripC(src) {
  let out = "";
  const pp = [];
  let i = 0;
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    if (lineStart && /[ \t]/.test(c)) { out += c; i++; continue; }
    if (lineStart && c === "#") {
      let j = i, line = "";
      for (;;) {
        const nl = src.indexOf("\n", j);
        const seg = nl < 0 ? src.slice(j) : src.slice(j, nl);
        line += seg;
        j = nl < 0 ? src.length : nl + 1;
        if (!seg.endsWith("\\")) break;
        line = line.slice(0, -1);
      }
      pp.push(line.replace(/\/\*.*?\*\//g, " ").replace(/\/\/.*$/, ""));
      out += "\n";
      i = j;
      continue;
    }
    lineStart = false;
    if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2);
      const chunk = src.slice(i, e < 0 ? src.length : e + 2);
      out += chunk.replace(/[^\n]/g, " ");
      i = e < 0 ? src.length : e + 2;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "\n") lineStart = true;
    out += c;
    i++;
  }
  return { code: out, pp };
}

// Splits stripped C into top-level function definitions and file-scope text.
function splitFunctions(code) {
  const fns = [];
  let fileScope = "";
  let depth = 0, start = 0, headerStart = 0, inFn = null;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === "\\" ? 2 : 1;
      i = j;
      continue;
    }
    if (c === "{") {
      if (depth === 0) {
        const header = code.slice(headerStart, i);
        const m = header.match(/([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*$/);
        if (m && !header.includes("=") && !C_KEYWORDS.has(m[1])) {
          inFn = { name: m[1], isStatic: /\bstatic\b/.test(header), header };
        } else {
          inFn = null;
        }
        start = i;
      }
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) {
        const body = code.slice(start, i + 1);
        if (inFn) fns.push({ ...inFn, body });
        else fileScope += code.slice(headerStart, i + 1) + "\n";
        headerStart = i + 1;
        inFn = null;
      }
    } else if (c === ";" && depth === 0) {
      fileScope += code.slice(headerStart, i + 1) + "\n";
      headerStart = i + 1;
    }
  }
  return { fns, fileScope };
}

// Top-level comma-separated arguments of a call whose "(" ends just before `start`.
function splitArgs(text, start) {
  const args = [];
  let depth = 0, cur = "";
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") {
      if (depth === 0) { args.push(cur.trim()); return args; }
      depth--;
    }
    if (c === "," && depth === 0) { args.push(cur.trim()); cur = ""; continue; }
    cur += c;
  }
  return args;
}

export class CSources {
  constructor(root) {
    this.root = root;
    this.files = new Map(); // rel path -> {fns, fileScope, pp, code}
    this.macros = new Map(); // NAME -> string value (from #define NAME "value")
    this.numMacros = new Map(); // NAME -> numeric expression text (from #define NAME 123 / (1 << 4))
    this.byName = new Map(); // fn name -> [{file, fn}]
    for (const d of SCAN_DIRS) {
      for (const p of walk(path.join(root, d), (f) => /\.[ch]$/.test(f))) {
        const rel = path.relative(root, p);
        const { code, pp } = stripC(fs.readFileSync(p, "utf8"));
        for (const line of pp) {
          const m = line.match(/^#\s*define\s+([A-Za-z_]\w*)\s+"((?:[^"\\]|\\.)*)"\s*$/);
          if (m) this.macros.set(m[1], m[2]);
          const n = line.match(/^#\s*define\s+([A-Za-z_]\w*)\s+(\(?[-0-9A-Za-z_ *+()<>]+\)?)\s*$/);
          if (n && /\d/.test(n[2])) this.numMacros.set(n[1], n[2]);
        }
        if (!rel.endsWith(".c")) continue;
        const { fns, fileScope } = splitFunctions(code);
        this.files.set(rel, { fns, fileScope, pp, code });
        for (const fn of fns) {
          if (!this.byName.has(fn.name)) this.byName.set(fn.name, []);
          this.byName.get(fn.name).push({ file: rel, fn });
        }
      }
    }
    if (this.files.size === 0) throw new Error(`no C sources under ${root} (${SCAN_DIRS.join(", ")})`);
    this._bins = null;
    this._reach = new Map();
  }

  read(rel) {
    const p = path.join(this.root, rel);
    if (!fs.existsSync(p)) throw new Error(`C source facts: ${rel} is missing`);
    return fs.readFileSync(p, "utf8");
  }

  // add_executable(name src...) in every CMakeLists.txt outside tests/ and build trees.
  binaries() {
    if (this._bins) return this._bins;
    const bins = new Map();
    const lists = walk(this.root, (f) => path.basename(f) === "CMakeLists.txt");
    for (const f of lists) {
      const text = fs.readFileSync(f, "utf8").replace(/#.*$/gm, "");
      const re = /add_executable\s*\(\s*([\w.-]+)([^)]*)\)/g;
      let m;
      while ((m = re.exec(text))) {
        const dir = path.relative(this.root, path.dirname(f));
        const srcs = m[2].split(/\s+/).filter((s) => s.endsWith(".c")).map((s) => path.join(dir, s));
        bins.set(m[1], { name: m[1], dir, srcs });
      }
    }
    this._bins = bins;
    return bins;
  }

  binary(name) {
    const b = this.binaries().get(name);
    if (!b) throw new Error(`no add_executable(${name}) in the CMake files`);
    return b;
  }

  // The functions reachable from the binary's own sources: [{file, fn}] plus touched files.
  reach(bin) {
    if (this._reach.has(bin)) return this._reach.get(bin);
    const b = this.binary(bin);
    const seen = new Set();
    const files = new Set();
    const queue = [];
    const visitText = (text, file) => {
      const re = /\b([A-Za-z_]\w*)\b/g;
      let m;
      while ((m = re.exec(text))) {
        const defs = this.byName.get(m[1]);
        if (!defs) continue;
        const local = defs.filter((d) => d.file === file);
        const targets = local.length ? local : defs.filter((d) => !d.fn.isStatic);
        for (const d of targets) {
          const key = `${d.file}:${d.fn.name}`;
          if (!seen.has(key)) { seen.add(key); queue.push(d); }
        }
      }
    };
    for (const src of b.srcs) {
      const f = this.files.get(src);
      if (!f) throw new Error(`${bin}: source ${src} (from CMake) not found`);
      files.add(src);
      visitText(f.fileScope, src);
      for (const fn of f.fns) {
        const key = `${src}:${fn.name}`;
        if (!seen.has(key)) { seen.add(key); queue.push({ file: src, fn }); }
      }
    }
    const out = [];
    while (queue.length) {
      const d = queue.shift();
      out.push(d);
      files.add(d.file);
      visitText(d.fn.body, d.file);
    }
    const r = { fns: out, files };
    this._reach.set(bin, r);
    return r;
  }

  reachesFunction(bin, name) {
    return this.reach(bin).fns.some((d) => d.fn.name === name);
  }

  // The configuration schema the build emits (sfp-config-doc --json, from common/config_vars.h):
  // every environment variable, its kind, default, range and the binaries that read it.
  // SFP_CONFIG_SCHEMA names it (ctest sets it); else build/config-schema.json under the root.
  schema() {
    if (this._schema) return this._schema;
    const p = process.env.SFP_CONFIG_SCHEMA || path.join(this.root, "build", "config-schema.json");
    if (!fs.existsSync(p))
      throw new Error(`configuration schema ${p} is missing: build sfp-config-doc (or set SFP_CONFIG_SCHEMA)`);
    this._schema = JSON.parse(fs.readFileSync(p, "utf8"));
    if (!Array.isArray(this._schema.variables) || !this._schema.variables.length)
      throw new Error(`${p}: no variables`);
    return this._schema;
  }

  // The project version the binaries report (CMake project(VERSION), via the schema).
  version() {
    return this.schema().version;
  }

  // Map NAME -> [where] of env variables the binary reads (from the configuration table).
  envReads(bin) {
    const names = new Map();
    for (const v of this.schema().variables) if (v.binaries.includes(bin)) names.set(v.name, ["common/config_vars.h"]);
    return names;
  }

  // NAME -> {fn, def, min, max, off} of the binary's variables: fn is int, bool, addr, target or str.
  envSpecs(bin) {
    const specs = new Map();
    for (const v of this.schema().variables) {
      if (!v.binaries.includes(bin)) continue;
      const fn = v.kind === "int" ? "int" : v.kind === "bool" ? "bool" : v.kind.startsWith("addr") ? "addr" : v.kind.startsWith("target") ? "target" : "str";
      let def = v.default;
      if (v.name === "LISTEN_ADDR") def = this.schema().binaries.find((b) => b.name === bin)?.listen_default ?? null;
      specs.set(v.name, { fn, def: typeof def === "boolean" ? String(def) : def, min: v.min, max: v.max, off: v.kind === "addr_or_off" || v.kind === "target_or_off", kind: v.kind });
    }
    return specs;
  }

  // Integer value of a C constant expression (literals with L/U suffixes, + - * << ( ), and
  // numeric #defines); NaN when it cannot be evaluated.
  evalInt(expr, depth = 0) {
    if (depth > 8) return NaN;
    let e = String(expr).trim();
    e = e.replace(/\b([A-Za-z_]\w*)\b/g, (id) => {
      if (this.numMacros.has(id)) return `(${this.evalInt(this.numMacros.get(id), depth + 1)})`;
      return id;
    });
    e = e.replace(/\b(\d+)[uUlL]+\b/g, "$1");
    if (!/^[-0-9 ()*+<>]+$/.test(e)) return NaN;
    try {
      const v = Function(`"use strict"; return (${e});`)();
      return Number.isFinite(v) ? v : NaN;
    } catch {
      return NaN;
    }
  }

  // sfp-cronctl's exit codes: NAME -> value (services/cron/cron_rules.h, SFP_CRONCTL_*).
  cronctlExitCodes() {
    const rel = "services/cron/cron_rules.h";
    const code = stripC(this.read(rel)).code;
    const codes = new Map([...code.matchAll(/\b(SFP_CRONCTL_\w+)\s*=\s*(\d+)/g)].map((m) => [m[1], +m[2]]));
    for (const need of ["SFP_CRONCTL_OK", "SFP_CRONCTL_USAGE", "SFP_CRONCTL_UNAUTH"])
      if (!codes.has(need)) throw new Error(`${rel}: cannot find ${need}`);
    return codes;
  }

  grpcServer(bin) {
    return this.reachesFunction(bin, "sfp_rpc_server_create");
  }

  // "" + the names common/rpc_server.c compares the Check request's service against + the
  // binary's service_names[] array.
  healthNames(bin) {
    const rs = "common/rpc_server.c";
    const f = this.files.get(rs);
    if (!f) throw new Error(`${rs} not found: cannot read the gRPC health service names`);
    const generic = new Set();
    for (const m of f.code.matchAll(/strcmp\(\s*svc\s*,\s*"([^"]*)"\s*\)/g)) generic.add(m[1]);
    if (!generic.has("liveness") || !generic.has("readiness"))
      throw new Error(`${rs}: cannot find the "liveness"/"readiness" comparisons of the health Check`);
    if (/!\s*\*\s*svc\b/.test(f.code)) generic.add("");
    const full = new Set();
    for (const src of this.binary(bin).srcs) {
      const code = this.files.get(src).code;
      const m = code.match(/\.service_names\s*=\s*([A-Za-z_]\w*)/);
      if (!m) continue;
      const arr = code.match(new RegExp(`\\b${m[1]}\\s*\\[\\s*\\]\\s*=\\s*\\{([^}]*)\\}`));
      if (!arr) throw new Error(`${src}: cannot find the initializer of ${m[1]}[] (service_names)`);
      for (const el of arr[1].split(",").map((s) => s.trim()).filter(Boolean)) {
        if (el === "NULL") continue;
        const lit = el.match(/^"([^"]*)"$/);
        if (lit) full.add(lit[1]);
        else if (this.macros.has(el)) full.add(this.macros.get(el));
        else throw new Error(`${src}: service name ${el} is neither a literal nor a known #define`);
      }
    }
    if (this.grpcServer(bin) && full.size === 0)
      throw new Error(`${bin}: runs a gRPC server but no .service_names array was found in its sources`);
    return { generic, full };
  }

  // {jobs: Map cli -> {enumName, type, rpc, timeoutS}, flags: Set}
  cronJobs() {
    const rulesRel = "services/cron/cron_rules.c";
    const rules = stripC(this.read(rulesRel)).code;
    const jobs = new Map();
    for (const m of rules.matchAll(/\{\s*(SFP_CRON_JOB_\w+)\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\}/g))
      jobs.set(m[3], { enumName: m[1], type: m[2], cli: m[3], rpc: m[4] });
    if (jobs.size === 0) throw new Error(`${rulesRel}: cannot find the job table {SFP_CRON_JOB_*, type, cli, rpc}`);
    const proto = this.read("proto/sfpermits/v1/cron.proto");
    const rpcs = new Set([...proto.matchAll(/\brpc\s+(\w+)\s*\(/g)].map((m) => `/sfpermits.v1.CronService/${m[1]}`));
    for (const j of jobs.values())
      if (!rpcs.has(j.rpc)) throw new Error(`${rulesRel}: job ${j.cli} calls ${j.rpc}, which cron.proto does not define`);
    const ctlRel = "tools/cronctl/main.c";
    const ctl = stripC(this.read(ctlRel)).code;
    const fn = ctl.match(/default_timeout_s\s*\([^)]*\)\s*\{([\s\S]*?)\n\}/);
    if (!fn) throw new Error(`${ctlRel}: cannot find default_timeout_s()`);
    const byEnum = new Map([...fn[1].matchAll(/case\s+(SFP_CRON_JOB_\w+)\s*:\s*return\s+(\d+)\s*;/g)].map((m) => [m[1], +m[2]]));
    const def = fn[1].match(/default\s*:\s*return\s+(\d+)\s*;/);
    if (!def) throw new Error(`${ctlRel}: default_timeout_s() has no default`);
    for (const j of jobs.values()) j.timeoutS = byEnum.get(j.enumName) ?? +def[1];
    const usage = ctl.match(/usage: sfp-cronctl JOB([^"\\]*)/);
    if (!usage) throw new Error(`${ctlRel}: cannot find the usage line`);
    const flags = new Map([...usage[1].matchAll(/\[(--[a-z-]+)(\s+[A-Z]+)?\]/g)].map((m) => [m[1], !!m[2]]));
    const jobLine = ctl.match(/JOB:\s*([a-z| -]+)\\n/);
    if (jobLine) {
      const listed = new Set(jobLine[1].split("|").map((s) => s.trim()).filter(Boolean));
      for (const j of jobs.keys())
        if (!listed.has(j)) throw new Error(`${ctlRel}: usage does not list job ${j} (cron_rules.c has it)`);
    }
    return { jobs, flags };
  }

  gatewayRoutes() {
    const rel = "gateway/routes.c";
    const code = stripC(this.read(rel)).code;
    const routes = [...code.matchAll(/\{\s*GW_M_(\w+)\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*([\w ()*+]+?)\s*,/g)].map(
      (m) => ({ method: m[1], path: m[2], handler: m[3], cls: m[4], timeoutMs: this.evalInt(m[5]) }),
    );
    if (routes.length === 0) throw new Error(`${rel}: cannot find the route table`);
    return routes;
  }
}
