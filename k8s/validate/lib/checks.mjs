// checks.mjs — cross-reference checks of one rendered kustomization against the code.
// Each check adds errors to ctx.errors (never throws for a manifest problem); see
// k8s/README.md, "Validation", for the list.
import { NetPol, selectorMatches } from "./netpol.mjs";
import { podSpecs } from "./kustomize.mjs";

// Variables a process reads without our code asking for them (glibc, libpq, gRPC core).
export const RUNTIME_ENV = {
  TZ: "glibc localtime (the San Francisco day of reports and briefs)",
};
// Variables the manifests set ahead of the code: allowed on long-running pods even where the
// binary does not read them yet. Remove an entry once every binary reads it.
// sfp-cronctl JOBs that need no CronJob.
const UNSCHEDULED_JOBS = new Set(["status"]);
// Which binary a peer address variable must lead to.
const PEER_VARS = {
  REPORT_SVC_ADDR: "sfp-report",
  BRIEF_SVC_ADDR: "sfp-brief",
  CRON_SVC_ADDR: "sfp-cron",
  HEALTH_SVC_ADDR: "sfp-health",
};
const REQUIRED_TZ = "America/Los_Angeles";
const DNS1123_SUB = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// Samples for the NetworkPolicy questions.
const PUBLIC_IP = "198.51.100.7"; // a client / DataSF on the internet
const PRIVATE_IP = "10.20.30.40"; // e.g. a managed Postgres in the VPC
const foreignPod = (ns, labels = {}) => ({
  kind: "pod", ns, nsLabels: { "kubernetes.io/metadata.name": ns }, labels, ports: [],
});

export function parseQuantity(q) {
  if (typeof q === "number") return q;
  const m = String(q).match(/^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/);
  if (!m) return NaN;
  const mult = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

// 5-field cron → {minutes of the week it fires} or an error string. dom/month must be "*" for the
// interval to be known (interval: smallest gap in seconds between runs, cyclic over a week).
export function parseCron(expr) {
  const f = String(expr).trim().split(/\s+/);
  if (f.length !== 5) return { error: `"${expr}" must have 5 fields` };
  const ranges = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
  const names = [null, null, null,
    { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
    { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }];
  const sets = [];
  for (let i = 0; i < 5; i++) {
    const [lo, hi] = ranges[i];
    const set = new Set();
    for (const part of f[i].split(",")) {
      const m = part.match(/^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:\/(\d+))?$/i);
      if (!m) return { error: `field ${i + 1} "${f[i]}" is not valid` };
      const val = (s) => {
        const n = names[i] && names[i][s.toLowerCase()] !== undefined ? names[i][s.toLowerCase()] : Number(s);
        return Number.isInteger(n) && n >= lo && n <= hi ? n : NaN;
      };
      let a = lo, b = hi;
      if (m[1] !== "*") {
        const [x, y] = m[1].split("-");
        a = val(x);
        b = y === undefined ? (m[2] ? hi : a) : val(y);
      }
      const step = m[2] ? Number(m[2]) : 1;
      if (Number.isNaN(a) || Number.isNaN(b) || a > b || step < 1) return { error: `field ${i + 1} "${part}" is out of range` };
      for (let v = a; v <= b; v += step) set.add(i === 4 && v === 7 ? 0 : v);
    }
    sets.push(set);
  }
  let interval = null;
  if (f[2] === "*" && f[3] === "*") {
    const fires = [];
    for (let d = 0; d < 7; d++) if (sets[4].has(d))
      for (let h = 0; h < 24; h++) if (sets[1].has(h))
        for (let mi = 0; mi < 60; mi++) if (sets[0].has(mi)) fires.push(d * 1440 + h * 60 + mi);
    if (fires.length) {
      let gap = Infinity;
      for (let i = 0; i < fires.length; i++) {
        const next = i + 1 < fires.length ? fires[i + 1] : fires[0] + 7 * 1440;
        gap = Math.min(gap, next - fires[i]);
      }
      interval = gap * 60;
    }
  }
  return { interval };
}

function validTimeZone(tz) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseAddr(v) {
  if (typeof v !== "string") return null;
  if (v.startsWith("unix:")) return { unix: v.slice(5) };
  const m = v.match(/^(\[[^\]]+\]|[^:[\]]*):(\d+)$/);
  if (!m) return null;
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

// A gRPC dial target (*_SVC_ADDR): an address, or dns:[//server]/host:port (dns: true).
function parseTarget(v) {
  if (typeof v !== "string" || !v.startsWith("dns:")) return parseAddr(v);
  const m = v.match(/^dns:(?:\/\/[^/]*\/)?(.*)$/);
  const a = m && !m[1].startsWith("unix:") ? parseAddr(m[1]) : null;
  return a ? { ...a, dns: true } : null;
}

const isLoopback = (h) => h === "localhost" || /^127\./.test(h) || h === "::1";

export class Checker {
  constructor({ objs, facts, docker, secret, label }) {
    this.objs = objs; // [{obj, source}]
    this.facts = facts;
    this.docker = docker; // {env: Map, uid, gid, binaries: Set}
    this.secret = secret; // {name, keys: Set} from secret.example.yaml
    this.label = label;
    this.errors = [];
    this.notes = [];
    this.count = 0;
  }

  ref(o) {
    const rec = this.objs.find((r) => r.obj === o);
    return `${o.kind}/${o.metadata?.name}${rec?.source ? ` (${rec.source})` : ""}`;
  }

  err(o, msg) {
    this.errors.push(`${this.label}: ${o ? this.ref(o) + ": " : ""}${msg}`);
  }

  check(cond, o, msg) {
    this.count++;
    if (!cond) this.err(o, msg);
    return cond;
  }

  of(kind) {
    return this.objs.map((r) => r.obj).filter((o) => o.kind === kind);
  }

  find(kind, name, ns) {
    return this.objs.map((r) => r.obj).find((o) => o.kind === kind && o.metadata.name === name && (ns === undefined || (o.metadata.namespace || "") === (ns || "")));
  }

  // ---- workloads: one entry per pod template ----
  workloads() {
    if (this._wl) return this._wl;
    const out = [];
    for (const o of this.objs.map((r) => r.obj)) {
      let tpl = null;
      if (o.kind === "Deployment" || o.kind === "StatefulSet" || o.kind === "Job") tpl = o.spec?.template;
      else if (o.kind === "CronJob") tpl = o.spec?.jobTemplate?.spec?.template;
      else if (podSpecs(o).length) this.err(o, `kind ${o.kind} holds containers but is not checked by the validator`);
      if (!tpl) continue;
      const hpa = this.of("HorizontalPodAutoscaler").find(
        (h) => h.spec.scaleTargetRef.kind === o.kind && h.spec.scaleTargetRef.name === o.metadata.name && h.metadata.namespace === o.metadata.namespace,
      );
      const ns = o.metadata.namespace || "";
      const nsObj = this.find("Namespace", ns);
      const nsLabels = { ...(nsObj?.metadata?.labels || {}), "kubernetes.io/metadata.name": ns };
      const containers = tpl.spec?.containers || [];
      const ports = containers.flatMap((c) => c.ports || []);
      const w = {
        obj: o, kind: o.kind, name: o.metadata.name, ns, nsLabels, hpa,
        labels: tpl.metadata?.labels || {}, annotations: tpl.metadata?.annotations || {},
        spec: tpl.spec || {}, containers, ports,
        minReplicas: o.kind === "Deployment" ? (hpa ? hpa.spec.minReplicas ?? 1 : o.spec.replicas ?? 1) : 1,
        maxReplicas: o.kind === "Deployment" ? (hpa ? hpa.spec.maxReplicas : o.spec.replicas ?? 1) : 1,
        longRunning: o.kind === "Deployment" || o.kind === "StatefulSet",
      };
      w.peer = { kind: "pod", ns, nsLabels, labels: w.labels, ports };
      out.push(w);
    }
    this._wl = out;
    return out;
  }

  binaryOf(w, c) {
    const cmd = c.command || [];
    return cmd[0];
  }

  // Effective environment of a container: Map name -> {value?, secret?, from}.
  env(w, c) {
    const env = new Map();
    for (const [k, v] of this.docker.env) env.set(k, { value: v, from: "image ENV" });
    const fromCm = new Map();
    for (const ef of c.envFrom || []) {
      if (ef.prefix) this.err(w.obj, `container ${c.name}: envFrom prefix is not supported by the checks`);
      if (ef.configMapRef) {
        const cm = this.find("ConfigMap", ef.configMapRef.name, w.ns);
        if (!cm) {
          if (!ef.configMapRef.optional) this.err(w.obj, `container ${c.name}: envFrom ConfigMap ${ef.configMapRef.name} does not exist`);
          continue;
        }
        for (const [k, v] of Object.entries(cm.data || {})) {
          if (fromCm.has(k))
            this.err(w.obj, `container ${c.name}: ${k} comes from two envFrom sources (${fromCm.get(k)} and ${cm.metadata.name}); keep one`);
          fromCm.set(k, cm.metadata.name);
          env.set(k, { value: String(v), from: `ConfigMap ${cm.metadata.name}`, cm: cm.metadata.name });
        }
      } else if (ef.secretRef) {
        this.check(ef.secretRef.name === this.secret.name, w.obj, `container ${c.name}: envFrom Secret ${ef.secretRef.name} is not the documented ${this.secret.name}`);
        for (const k of this.secret.keys) env.set(k, { secret: true, from: `Secret ${ef.secretRef.name}` });
      }
    }
    const seen = new Set();
    for (const e of c.env || []) {
      if (seen.has(e.name)) this.err(w.obj, `container ${c.name}: env ${e.name} is listed twice`);
      seen.add(e.name);
      if (e.value !== undefined) env.set(e.name, { value: String(e.value), from: "env", explicit: true });
      else if (e.valueFrom?.configMapKeyRef) {
        const r = e.valueFrom.configMapKeyRef;
        const cm = this.find("ConfigMap", r.name, w.ns);
        const ok = cm && cm.data && Object.prototype.hasOwnProperty.call(cm.data, r.key);
        if (!ok && !r.optional) this.err(w.obj, `container ${c.name}: env ${e.name} refers to ConfigMap ${r.name} key ${r.key}, which does not exist`);
        env.set(e.name, { value: ok ? String(cm.data[r.key]) : undefined, from: `ConfigMap ${r.name}`, explicit: true });
      } else if (e.valueFrom?.secretKeyRef) {
        const r = e.valueFrom.secretKeyRef;
        this.check(r.name === this.secret.name, w.obj, `container ${c.name}: env ${e.name} refers to Secret ${r.name}, not the documented ${this.secret.name} (secret.example.yaml)`);
        this.check(this.secret.keys.has(r.key), w.obj, `container ${c.name}: env ${e.name} refers to key ${r.key}, which secret.example.yaml does not list`);
        env.set(e.name, { secret: true, optional: !!r.optional, from: `Secret ${r.name}/${r.key}`, explicit: true });
      } else if (e.valueFrom?.fieldRef || e.valueFrom?.resourceFieldRef) {
        env.set(e.name, { value: undefined, from: "downward API", explicit: true });
      } else this.err(w.obj, `container ${c.name}: env ${e.name} has no value`);
    }
    return env;
  }

  run() {
    this.namesAndNamespaces();
    const wls = this.workloads();
    for (const w of wls) {
      this.podSecurity(w);
      this.volumes(w);
      for (const c of w.containers) {
        const bin = this.binaryOf(w, c);
        if (!this.check(typeof bin === "string" && this.facts.binaries().has(bin), w.obj,
          `container ${c.name}: command[0] ${JSON.stringify(bin)} is not a binary of the build (add_executable): ${[...this.facts.binaries().keys()].join(", ")}`)) continue;
        this.check(this.docker.binaries.has(bin), w.obj, `container ${c.name}: ${bin} is not installed in the image (${this.docker.binSource})`);
        const env = this.env(w, c);
        c.__env = env;
        c.__bin = bin;
        this.envNames(w, c, bin, env);
        this.envValues(w, c, bin, env);
        this.resources(w, c);
        this.containerPorts(w, c);
        if (w.longRunning) {
          this.probes(w, c, bin, env);
          this.metrics(w, c, bin, env);
          this.lifecycle(w, c, bin, env);
        }
      }
    }
    this.images();
    this.deployments();
    this.services();
    this.ingresses();
    this.autoscalers();
    this.disruptionBudgets();
    this.cronJobs();
    this.jobs();
    this.networkPolicies();
    this.connectionBudget();
    return this;
  }

  namesAndNamespaces() {
    const keys = new Set();
    const nsNames = new Set(this.of("Namespace").map((n) => n.metadata.name));
    for (const o of this.objs.map((r) => r.obj)) {
      const key = `${o.kind}/${o.metadata.namespace || ""}/${o.metadata.name}`;
      this.check(!keys.has(key), o, "defined twice");
      keys.add(key);
      const n = o.metadata.name;
      const re = o.kind === "Service" ? DNS1035_LABEL : ["Namespace", "Deployment"].includes(o.kind) ? DNS1123_LABEL : DNS1123_SUB;
      this.check(re.test(n) && n.length <= (o.kind === "CronJob" ? 52 : re === DNS1123_SUB ? 253 : 63), o, `name "${n}" is not a valid ${o.kind} name`);
      if (o.kind !== "Namespace") this.check(o.metadata.namespace && nsNames.has(o.metadata.namespace), o, `namespace ${o.metadata.namespace} is not one of the rendered Namespaces (${[...nsNames].join(", ")})`);
      for (const [k, v] of Object.entries(o.metadata.labels || {})) {
        this.check(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k), o, `label key "${k}" is invalid`);
        this.check(typeof v === "string" && /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(v), o, `label ${k}: value ${JSON.stringify(v)} is invalid`);
      }
      for (const [k, v] of Object.entries(o.metadata.annotations || {}))
        this.check(typeof v === "string", o, `annotation ${k} must be a string (quote it)`);
    }
  }

  podSecurity(w) {
    const s = w.spec;
    const psc = s.securityContext || {};
    this.check(!s.hostNetwork && !s.hostPID && !s.hostIPC, w.obj, "host namespaces are not allowed (restricted Pod Security Standard)");
    this.check(s.automountServiceAccountToken === false, w.obj, "automountServiceAccountToken must be false (no pod talks to the Kubernetes API)");
    if (s.serviceAccountName) this.check(!!this.find("ServiceAccount", s.serviceAccountName, w.ns), w.obj, `ServiceAccount ${s.serviceAccountName} does not exist`);
    for (const c of [...(s.initContainers || []), ...w.containers]) {
      const sc = c.securityContext || {};
      const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
      const uid = sc.runAsUser ?? psc.runAsUser;
      const seccomp = (sc.seccompProfile || psc.seccompProfile || {}).type;
      this.check(nonRoot === true, w.obj, `container ${c.name}: runAsNonRoot must be true`);
      this.check(uid === this.docker.uid, w.obj, `container ${c.name}: runAsUser ${uid} must be the image's user ${this.docker.uid} (${this.docker.userSource})`);
      this.check(sc.allowPrivilegeEscalation === false, w.obj, `container ${c.name}: allowPrivilegeEscalation must be false`);
      this.check(!sc.privileged, w.obj, `container ${c.name}: privileged is not allowed`);
      this.check(sc.readOnlyRootFilesystem === true, w.obj, `container ${c.name}: readOnlyRootFilesystem must be true`);
      const drop = sc.capabilities?.drop || [];
      this.check(drop.includes("ALL"), w.obj, `container ${c.name}: capabilities.drop must include ALL`);
      this.check((sc.capabilities?.add || []).every((x) => x === "NET_BIND_SERVICE"), w.obj, `container ${c.name}: only NET_BIND_SERVICE may be added`);
      this.check(seccomp === "RuntimeDefault" || seccomp === "Localhost", w.obj, `container ${c.name}: seccompProfile must be RuntimeDefault`);
    }
  }

  volumes(w) {
    const vols = new Set((w.spec.volumes || []).map((v) => v.name));
    for (const v of w.spec.volumes || []) {
      this.check(!v.hostPath, w.obj, `volume ${v.name}: hostPath is not allowed`);
      if (v.configMap) this.check(!!this.find("ConfigMap", v.configMap.name, w.ns) || v.configMap.optional, w.obj, `volume ${v.name}: ConfigMap ${v.configMap.name} does not exist`);
    }
    for (const c of w.containers)
      for (const m of c.volumeMounts || []) this.check(vols.has(m.name), w.obj, `container ${c.name}: volumeMount ${m.name} has no volume`);
  }

  envNames(w, c, bin, env) {
    const reads = this.facts.envReads(bin);
    for (const [name, e] of env) {
      if (e.from === "image ENV") continue; // image defaults apply to every binary
      if (reads.has(name) || RUNTIME_ENV[name]) { this.count++; continue; }
      this.err(w.obj, `container ${c.name}: sets ${name} (${e.from}), which ${bin} never reads — the sources read: ${[...reads.keys()].sort().join(", ")}`);
    }
    // Variables a binary cannot start without in a cluster.
    const need = (name, why) => {
      if (!reads.has(name)) return;
      const e = env.get(name);
      this.check(e && (e.secret ? !e.optional : e.value !== undefined && e.value !== ""), w.obj, `container ${c.name}: ${bin} needs ${name} (${why})`);
    };
    need("DATABASE_URL", "no default");
    if (bin === "sfp-cron" || bin === "sfp-cronctl") need("CRON_SECRET", "an empty secret denies every job");
    if (this.facts.grpcServer(bin)) need("LISTEN_ADDR", "the default listens on loopback only");
    if (bin === "sfp-gateway") need("GATEWAY_ADDR", "the default listens on loopback only");
    for (const v of Object.keys(PEER_VARS)) if (reads.has(v)) need(v, "the default is a loopback address");
  }

  envValues(w, c, bin, env) {
    const specs = this.facts.envSpecs(bin);
    for (const [name, e] of env) {
      const s = specs.get(name);
      if (!s || e.value === undefined || e.value === "") continue;
      const v = e.value;
      let ok = true;
      if (s.fn === "int" || s.fn === "long") {
        ok = /^-?\d+$/.test(v.trim()) && Number(v) >= s.min && Number(v) <= s.max;
        this.check(ok, w.obj, `container ${c.name}: ${name}=${v} (${e.from}) is outside ${s.min}..${s.max}: ${bin} would refuse to start`);
      } else if (s.fn === "bool") {
        this.check(/^(1|true|yes|on|0|false|no|off)$/i.test(v), w.obj, `container ${c.name}: ${name}=${v} is not a boolean: ${bin} would refuse to start`);
      } else if (s.fn === "addr" || s.fn === "target") {
        const a = s.fn === "target" ? parseTarget(v) : parseAddr(v);
        const off = v === "off" && s.off;
        this.check(off || (a && (a.unix || (a.port >= 0 && a.port <= 65535))), w.obj, `container ${c.name}: ${name}=${v} is not host:port or unix:/path`);
      }
    }
    const lv = env.get("LOG_LEVEL");
    if (lv?.value !== undefined) this.check(/^(debug|info|warn|error)$/.test(lv.value), w.obj, `container ${c.name}: LOG_LEVEL=${lv.value} is not debug|info|warn|error`);
    const mn = env.get("DB_POOL_MIN"), mx = env.get("DB_POOL_MAX");
    if (mn?.value && mx?.value) this.check(Number(mn.value) <= Number(mx.value), w.obj, `container ${c.name}: DB_POOL_MIN ${mn.value} > DB_POOL_MAX ${mx.value}`);
  }

  effective(bin, env, name) {
    const e = env.get(name);
    if (e?.value !== undefined) return e.value;
    const s = this.facts.envSpecs(bin).get(name);
    return s?.def;
  }

  resources(w, c) {
    const r = c.resources || {};
    const rq = r.requests || {}, lim = r.limits || {};
    this.check(rq.cpu !== undefined && rq.memory !== undefined, w.obj, `container ${c.name}: needs cpu and memory requests`);
    this.check(lim.memory !== undefined, w.obj, `container ${c.name}: needs a memory limit`);
    for (const [k, v] of Object.entries({ ...rq, ...lim })) this.check(!Number.isNaN(parseQuantity(v)), w.obj, `container ${c.name}: ${k} quantity ${v} is invalid`);
    for (const k of ["cpu", "memory"])
      if (rq[k] !== undefined && lim[k] !== undefined)
        this.check(parseQuantity(lim[k]) >= parseQuantity(rq[k]), w.obj, `container ${c.name}: ${k} limit ${lim[k]} is below the request ${rq[k]}`);
  }

  containerPorts(w, c) {
    const names = new Set(), nums = new Set();
    for (const p of c.ports || []) {
      if (p.name) {
        this.check(IANA_SVC_NAME.test(p.name) && p.name.length <= 15, w.obj, `container ${c.name}: port name ${p.name} is invalid`);
        this.check(!names.has(p.name), w.obj, `container ${c.name}: port name ${p.name} twice`);
        names.add(p.name);
      }
      this.check(!nums.has(p.containerPort), w.obj, `container ${c.name}: containerPort ${p.containerPort} twice`);
      nums.add(p.containerPort);
    }
  }

  resolvePort(c, port) {
    if (typeof port === "number") return (c.ports || []).find((p) => p.containerPort === port);
    return (c.ports || []).find((p) => p.name === port);
  }

  probes(w, c, bin, env) {
    const grpcSrv = this.facts.grpcServer(bin);
    this.check(!!c.livenessProbe && !!c.readinessProbe, w.obj, `container ${c.name}: needs livenessProbe and readinessProbe`);
    const listen = parseAddr(this.effective(bin, env, grpcSrv ? "LISTEN_ADDR" : "GATEWAY_ADDR") || "");
    if (listen && !listen.unix) this.check(!isLoopback(listen.host), w.obj, `container ${c.name}: ${grpcSrv ? "LISTEN_ADDR" : "GATEWAY_ADDR"} listens on ${listen.host}: unreachable for probes and Services`);
    for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const p = c[kind];
      if (!p) continue;
      const where = `container ${c.name}: ${kind}`;
      if (p.grpc) {
        if (!this.check(grpcSrv, w.obj, `${where}: gRPC probe on ${bin}, which serves no grpc.health.v1`)) continue;
        const port = this.resolvePort(c, p.grpc.port);
        this.check(!!port, w.obj, `${where}: gRPC port ${p.grpc.port} is not a containerPort (${(c.ports || []).map((x) => x.containerPort).join(", ")})`);
        this.check(listen && listen.port === p.grpc.port, w.obj, `${where}: gRPC port ${p.grpc.port} is not LISTEN_ADDR's port (${listen ? listen.port : "unset"})`);
        const names = this.facts.healthNames(bin);
        const svc = p.grpc.service ?? "";
        const known = names.generic.has(svc) || names.full.has(svc);
        this.check(known, w.obj, `${where}: gRPC health service "${svc}" is not one ${bin} answers (${[...names.generic, ...names.full].map((x) => JSON.stringify(x)).join(", ")}): the probe would get NOT_FOUND`);
        if (kind === "readinessProbe") this.check(svc === "readiness" || names.full.has(svc), w.obj, `${where}: service "${svc}" does not check the database; readiness must use "readiness" or the full service name`);
        else this.check(svc === "" || svc === "liveness", w.obj, `${where}: service "${svc}" touches Postgres; ${kind} must use "liveness" (or "") so a database outage never restarts pods`);
      } else if (p.httpGet) {
        const port = this.resolvePort(c, p.httpGet.port);
        this.check(!!port, w.obj, `${where}: HTTP port ${p.httpGet.port} is not a containerPort`);
        if (port && listen) this.check(port.containerPort === listen.port, w.obj, `${where}: port ${port.containerPort} is not ${bin}'s listening port ${listen.port}`);
        if (bin === "sfp-gateway") {
          const route = this.facts.gatewayRoutes().find((r) => r.method === "GET" && r.path === p.httpGet.path);
          this.check(!!route, w.obj, `${where}: GET ${p.httpGet.path} is not a gateway route`);
          if (route) {
            this.check(route.cls === "GW_CLASS_HEALTH", w.obj, `${where}: ${p.httpGet.path} is not a health route (it would 404 on a cron worker)`);
            if (kind !== "readinessProbe") this.check(route.timeoutMs === 0, w.obj, `${where}: ${p.httpGet.path} calls a backend; liveness must not (use the gateway-only route)`);
          }
        } else this.err(w.obj, `${where}: HTTP probe on ${bin}, which serves no HTTP`);
      } else this.err(w.obj, `${where}: use a grpc or httpGet probe`);
    }
  }

  metrics(w, c, bin, env) {
    const reads = this.facts.envReads(bin).has("METRICS_ADDR");
    if (!reads) return;
    const a = parseAddr(env.get("METRICS_ADDR")?.value || "");
    if (!this.check(a && !a.unix, w.obj, `container ${c.name}: METRICS_ADDR must be set to 0.0.0.0:<port> in the cluster (code default is loopback)`)) return;
    this.check(!isLoopback(a.host), w.obj, `container ${c.name}: METRICS_ADDR ${a.host} is loopback: Prometheus cannot scrape it`);
    const port = (c.ports || []).find((p) => p.name === "metrics");
    this.check(port && port.containerPort === a.port, w.obj, `container ${c.name}: needs a containerPort named metrics = METRICS_ADDR's port ${a.port}`);
    this.check(w.annotations["prometheus.io/scrape"] === "true", w.obj, `pod template needs the annotation prometheus.io/scrape: "true"`);
    this.check(w.annotations["prometheus.io/port"] === String(a.port), w.obj, `pod annotation prometheus.io/port must be "${a.port}" (METRICS_ADDR)`);
  }

  lifecycle(w, c, bin, env) {
    const drainMs = Number(this.effective(bin, env, "SHUTDOWN_GRACE_MS") ?? 0);
    let preStopMs = 0;
    const ps = c.lifecycle?.preStop;
    if (ps?.exec?.command?.[0] === "sleep") preStopMs = Number(ps.exec.command[1]) * 1000;
    else if (ps?.sleep) preStopMs = ps.sleep.seconds * 1000;
    const tgps = (w.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    this.check(tgps > preStopMs + drainMs, w.obj,
      `terminationGracePeriodSeconds ${tgps / 1000} must exceed preStop ${preStopMs / 1000} s + SHUTDOWN_GRACE_MS ${drainMs} ms, or in-flight calls are killed mid-drain`);
    const lp = c.livenessProbe;
    if (lp) {
      const window = (lp.periodSeconds ?? 10) * (lp.failureThreshold ?? 3) * 1000;
      this.check(window >= preStopMs + drainMs, w.obj,
        `livenessProbe fails after ${window / 1000} s, less than preStop + drain (${(preStopMs + drainMs) / 1000} s): a draining pod (liveness NOT_SERVING) could be restarted`);
    }
  }

  images() {
    const names = new Set(), refs = [];
    for (const w of this.workloads())
      for (const c of [...(w.spec.initContainers || []), ...w.containers]) {
        refs.push([w, c]);
        const m = String(c.image).match(/^(.*?)(?::([^:/@]+))?(?:@(sha256:[0-9a-f]{64}))?$/);
        names.add(m[1]);
        this.check(!!(m[2] || m[3]) && m[2] !== "latest", w.obj, `container ${c.name}: image ${c.image} needs a release tag or digest (not latest)`);
      }
    this.check(names.size <= 1, null, `every container runs the one image of the Dockerfile; found ${[...names].join(", ")}`);
  }

  deployments() {
    const deps = this.workloads().filter((w) => w.kind === "Deployment");
    for (const w of deps) {
      const sel = w.obj.spec.selector;
      this.check(selectorMatches(sel, w.labels), w.obj, "spec.selector does not match the pod template labels");
      for (const o of deps)
        if (o !== w) this.check(!selectorMatches(sel, o.labels), w.obj, `selector also matches the pods of Deployment ${o.name}`);
      for (const t of w.spec.topologySpreadConstraints || [])
        this.check(selectorMatches(t.labelSelector, w.labels), w.obj, "topologySpreadConstraints.labelSelector does not select the pod itself");
    }
  }

  selected(selector, ns) {
    return this.workloads().filter((w) => w.ns === ns && Object.entries(selector || {}).every(([k, v]) => w.labels[k] === v));
  }

  services() {
    for (const s of this.of("Service")) {
      const sel = s.spec.selector;
      if (!this.check(sel && Object.keys(sel).length > 0, s, "needs a selector")) continue;
      const pods = this.selected(sel, s.metadata.namespace);
      this.check(pods.length === 1 && pods[0].longRunning, s, `selector ${JSON.stringify(sel)} must select the pods of exactly one Deployment (selects: ${pods.map((p) => p.name).join(", ") || "nothing"})`);
      for (const p of s.spec.ports || []) {
        if ((s.spec.ports || []).length > 1) this.check(!!p.name, s, `port ${p.port} needs a name`);
        const tp = p.targetPort ?? p.port;
        for (const w of pods) {
          const found = w.containers.some((c) => this.resolvePort(c, tp) && (this.resolvePort(c, tp).protocol || "TCP") === (p.protocol || "TCP"));
          this.check(found, s, `targetPort ${tp} is not a containerPort of ${w.name}`);
        }
      }
    }
  }

  ingresses() {
    for (const i of this.of("Ingress")) {
      const backends = [];
      if (i.spec.defaultBackend?.service) backends.push(i.spec.defaultBackend.service);
      for (const r of i.spec.rules || []) for (const p of r.http?.paths || []) if (p.backend.service) backends.push(p.backend.service);
      for (const b of backends) {
        const s = this.find("Service", b.name, i.metadata.namespace);
        if (!this.check(!!s, i, `backend Service ${b.name} does not exist`)) continue;
        const ok = (s.spec.ports || []).some((p) => (b.port.name !== undefined ? p.name === b.port.name : p.port === b.port.number));
        this.check(ok, i, `backend port ${JSON.stringify(b.port)} is not a port of Service ${b.name}`);
      }
    }
  }

  autoscalers() {
    for (const h of this.of("HorizontalPodAutoscaler")) {
      const ref = h.spec.scaleTargetRef;
      const w = this.workloads().find((x) => x.kind === ref.kind && x.name === ref.name && x.ns === h.metadata.namespace);
      if (!this.check(!!w, h, `scaleTargetRef ${ref.kind}/${ref.name} does not exist`)) continue;
      this.check(ref.apiVersion === w.obj.apiVersion, h, `scaleTargetRef apiVersion ${ref.apiVersion} is not ${w.obj.apiVersion}`);
      this.check(w.obj.spec.replicas === undefined, w.obj, `managed by HorizontalPodAutoscaler ${h.metadata.name}: remove spec.replicas (every apply would reset the scale)`);
      this.check((h.spec.minReplicas ?? 1) <= h.spec.maxReplicas, h, "minReplicas > maxReplicas");
      this.check((h.spec.minReplicas ?? 1) >= 2, h, "minReplicas must be at least 2 (one pod is a single point of failure)");
      for (const m of h.spec.metrics || [])
        if (m.type === "Resource")
          for (const c of w.containers)
            this.check(c.resources?.requests?.[m.resource.name] !== undefined, h, `scales on ${m.resource.name} utilization but container ${c.name} has no ${m.resource.name} request`);
    }
  }

  disruptionBudgets() {
    for (const p of this.of("PodDisruptionBudget")) {
      const ws = this.workloads().filter((w) => w.longRunning && w.ns === p.metadata.namespace && selectorMatches(p.spec.selector, w.labels));
      if (!this.check(ws.length === 1, p, `selector must match the pods of exactly one Deployment (matches: ${ws.map((w) => w.name).join(", ") || "nothing"})`)) continue;
      const w = ws[0];
      if (p.spec.minAvailable !== undefined && typeof p.spec.minAvailable === "number")
        this.check(p.spec.minAvailable < w.minReplicas, p, `minAvailable ${p.spec.minAvailable} >= replicas ${w.minReplicas}: node drains would block forever`);
      if (typeof p.spec.maxUnavailable === "number") this.check(p.spec.maxUnavailable >= 1, p, "maxUnavailable 0 blocks every voluntary eviction");
    }
    for (const w of this.workloads().filter((x) => x.kind === "Deployment"))
      this.check(this.of("PodDisruptionBudget").some((p) => p.metadata.namespace === w.ns && selectorMatches(p.spec.selector, w.labels)), w.obj, "has no PodDisruptionBudget");
  }

  cronJobs() {
    const { jobs, flags } = this.facts.cronJobs();
    const codes = this.facts.cronctlExitCodes();
    const codeValues = new Set(codes.values());
    const scheduled = new Map();
    for (const w of this.workloads().filter((x) => x.kind === "CronJob")) {
      const cj = w.obj, s = cj.spec, js = s.jobTemplate.spec;
      const c = w.containers[0];
      this.check(w.containers.length === 1, cj, "one container (sfp-cronctl) per job");
      const argv = [...(c.command || []), ...(c.args || [])];
      if (!this.check(argv[0] === "sfp-cronctl", cj, `runs ${argv[0]}; CronJobs run sfp-cronctl JOB`)) continue;
      const job = jobs.get(argv[1]);
      if (!this.check(!!job, cj, `sfp-cronctl job "${argv[1]}" does not exist (tools/cronctl: ${[...jobs.keys()].join(", ")})`)) continue;
      if (scheduled.has(job.cli)) this.err(cj, `job ${job.cli} is also scheduled by ${scheduled.get(job.cli)}`);
      scheduled.set(job.cli, cj.metadata.name);
      let timeoutS = job.timeoutS;
      for (let i = 2; i < argv.length; i++) {
        const takes = flags.get(argv[i]);
        if (!this.check(takes !== undefined, cj, `sfp-cronctl has no option ${argv[i]} (usage: ${[...flags.keys()].join(" ")})`)) continue;
        if (takes) {
          const v = argv[++i];
          this.check(/^\d+$/.test(v ?? ""), cj, `${argv[i - 1]} needs a number`);
          if (argv[i - 1] === "--timeout") timeoutS = Number(v);
        }
      }
      const cron = parseCron(s.schedule);
      this.check(!cron.error, cj, `schedule: ${cron.error}`);
      this.check(s.timeZone === REQUIRED_TZ && validTimeZone(s.timeZone), cj, `timeZone must be ${REQUIRED_TZ} (San Francisco days), is ${s.timeZone}`);
      this.check(s.concurrencyPolicy === "Forbid", cj, "concurrencyPolicy must be Forbid");
      this.check(s.successfulJobsHistoryLimit !== undefined && s.failedJobsHistoryLimit !== undefined, cj, "set successfulJobsHistoryLimit and failedJobsHistoryLimit");
      this.check(Number.isInteger(s.startingDeadlineSeconds) && s.startingDeadlineSeconds >= 10, cj, "startingDeadlineSeconds must be set and >= 10 (the controller checks every 10 s; less may never start the job)");
      if (cron.interval) this.check(s.startingDeadlineSeconds <= cron.interval, cj, `startingDeadlineSeconds ${s.startingDeadlineSeconds} exceeds the interval ${cron.interval} s`);
      this.check(Number.isInteger(js.backoffLimit), cj, "jobTemplate backoffLimit must be set");
      this.check(Number.isInteger(js.activeDeadlineSeconds) && js.activeDeadlineSeconds > timeoutS, cj,
        `activeDeadlineSeconds ${js.activeDeadlineSeconds} must exceed sfp-cronctl's timeout for ${job.cli} (${timeoutS} s), or every slow run is killed`);
      if (cron.interval) this.check(js.activeDeadlineSeconds < cron.interval, cj, `activeDeadlineSeconds ${js.activeDeadlineSeconds} >= the interval ${cron.interval} s: with Forbid a stuck run skips the next`);
      this.podFailurePolicy(w, js, codeValues, [codes.get("SFP_CRONCTL_USAGE"), codes.get("SFP_CRONCTL_UNAUTH")], "sfp-cronctl");
    }
    for (const j of jobs.keys())
      if (!UNSCHEDULED_JOBS.has(j)) this.check(scheduled.has(j), null, `sfp-cronctl job ${j} has no CronJob`);
  }

  podFailurePolicy(w, js, allowed, mustFail, bin) {
    const pfp = js.podFailurePolicy;
    if (!pfp) return;
    this.check(w.spec.restartPolicy === "Never", w.obj, "podFailurePolicy needs restartPolicy Never");
    const failing = new Set();
    for (const r of pfp.rules || []) {
      if (!r.onExitCodes) continue;
      if (r.onExitCodes.containerName) this.check(w.containers.some((c) => c.name === r.onExitCodes.containerName), w.obj, `podFailurePolicy names container ${r.onExitCodes.containerName}, which does not exist`);
      for (const v of r.onExitCodes.values) {
        if (allowed) this.check(allowed.has(v), w.obj, `podFailurePolicy exit code ${v} is not one ${bin} returns (${[...allowed].join(", ")})`);
        if (r.action === "FailJob" && r.onExitCodes.operator === "In") failing.add(v);
      }
    }
    for (const v of mustFail) this.check(failing.has(v), w.obj, `exit code ${v} of ${bin} (bad configuration/credentials) must fail the Job at once (podFailurePolicy FailJob)`);
  }

  jobs() {
    for (const w of this.workloads().filter((x) => x.kind === "Job")) {
      const js = w.obj.spec;
      // Deploy step "migrations first" applies the Job alone (kubectl apply -l ...): it may
      // depend on the Secret only.
      const cmRefs = w.containers.some((c) => (c.envFrom || []).some((e) => e.configMapRef) || (c.env || []).some((e) => e.valueFrom?.configMapKeyRef)) ||
        (w.spec.volumes || []).some((v) => v.configMap || v.projected);
      this.check(!cmRefs, w.obj, "a Job is applied before the rest (k8s/README.md, Deploying): it must not read ConfigMaps");
      this.check(Number.isInteger(js.backoffLimit), w.obj, "backoffLimit must be set");
      this.check(Number.isInteger(js.activeDeadlineSeconds), w.obj, "activeDeadlineSeconds must be set");
      this.podFailurePolicy(w, js, null, [], w.containers[0]?.command?.[0]);
    }
  }

  // Connections each workload needs, from its configuration.
  neededConnections() {
    const edges = []; // {src: w, dst: w|peer, port, protocol, why}
    for (const w of this.workloads()) {
      for (const c of w.containers) {
        const env = c.__env, bin = c.__bin;
        if (!env) continue;
        const reads = this.facts.envReads(bin);
        for (const [v, wantBin] of Object.entries(PEER_VARS)) {
          if (!reads.has(v)) continue;
          const val = this.effective(bin, env, v);
          if (val === "off") continue;
          const a = parseTarget(val || "");
          if (!a || a.unix) continue;
          if (!this.check(!/^[0-9.]+$|:/.test(a.host) && a.host !== "localhost", w.obj, `container ${c.name}: ${v}=${val} must name a Service, not an address`)) continue;
          const host = a.host.split(".");
          const svcNs = host.length > 1 ? host[1] : w.ns;
          const svc = this.find("Service", host[0], svcNs);
          if (!this.check(!!svc && (host.length === 1 || host[2] === "svc" || host.length === 2), w.obj, `container ${c.name}: ${v}=${val}: no Service ${host[0]} in namespace ${svcNs}`)) continue;
          // Calls balance per call only when the client sees every pod: a dns:/// target (the
          // channel's round_robin policy) naming a headless Service. Through a ClusterIP each
          // client's one HTTP/2 connection pins it to one pod.
          this.check(!!a.dns, w.obj, `container ${c.name}: ${v}=${val} must be dns:///${a.host}:${a.port} so calls spread round-robin over the pods`);
          this.check(svc.spec.clusterIP === "None", w.obj, `container ${c.name}: ${v}=${val}: Service ${svc.metadata.name} must be headless (clusterIP: None) so DNS returns every pod`);
          const sp = (svc.spec.ports || []).find((p) => p.port === a.port);
          if (!this.check(!!sp, w.obj, `container ${c.name}: ${v}=${val}: Service ${svc.metadata.name} has no port ${a.port}`)) continue;
          const dsts = this.selected(svc.spec.selector, svc.metadata.namespace);
          for (const d of dsts) {
            this.check(d.containers.some((dc) => dc.command?.[0] === wantBin), w.obj, `container ${c.name}: ${v} leads to ${d.name}, which does not run ${wantBin}`);
            for (const dc of d.containers) {
              const port = this.resolvePort(dc, sp.targetPort ?? sp.port);
              // A headless Service maps no ports: clients dial the pod at the target's port.
              if (port && svc.spec.clusterIP === "None" && dc.command?.[0] === wantBin)
                this.check(port.containerPort === a.port, w.obj, `container ${c.name}: ${v}=${val}: ${d.name} listens on ${port.containerPort}; a headless Service maps no ports`);
              if (port) edges.push({ src: w, dst: d, port: port.containerPort, protocol: port.protocol || "TCP", why: `${v}=${val}` });
            }
          }
        }
        if (env.has("DATABASE_URL")) edges.push({ src: w, dst: { kind: "ip", ip: PRIVATE_IP }, port: 5432, protocol: "TCP", why: "DATABASE_URL (Postgres, port 5432)" });
        if (reads.has("SODA_BASE_URL")) {
          const u = new URL(this.effective(bin, env, "SODA_BASE_URL") || "https://data.sfgov.org/resource");
          edges.push({ src: w, dst: { kind: "ip", ip: PUBLIC_IP }, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)), protocol: "TCP", why: `SODA_BASE_URL ${u.origin}` });
        }
        edges.push({ src: w, dst: foreignPod("kube-system", { "k8s-app": "kube-dns" }), port: 53, protocol: "UDP", why: "DNS" });
      }
    }
    // Services an Ingress routes to: reachable from the ingress controller's namespace.
    for (const i of this.of("Ingress"))
      for (const r of i.spec.rules || [])
        for (const p of r.http?.paths || []) {
          const s = p.backend.service && this.find("Service", p.backend.service.name, i.metadata.namespace);
          if (!s) continue;
          const sp = (s.spec.ports || []).find((x) => (p.backend.service.port.name !== undefined ? x.name === p.backend.service.port.name : x.port === p.backend.service.port.number));
          if (!sp) continue;
          for (const d of this.selected(s.spec.selector, s.metadata.namespace))
            for (const dc of d.containers) {
              const port = this.resolvePort(dc, sp.targetPort ?? sp.port);
              if (port) edges.push({ src: foreignPod("ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" }), dst: d, port: port.containerPort, protocol: "TCP", why: `Ingress ${i.metadata.name}` });
            }
        }
    // Prometheus scrapes annotated pods from the monitoring namespace.
    for (const w of this.workloads())
      if (w.annotations["prometheus.io/scrape"] === "true")
        edges.push({ src: foreignPod("monitoring", { "app.kubernetes.io/name": "prometheus" }), dst: w, port: Number(w.annotations["prometheus.io/port"]), protocol: "TCP", why: "Prometheus scrape" });
    return edges;
  }

  networkPolicies() {
    const np = new NetPol(this.of("NetworkPolicy"));
    const wls = this.workloads();
    const name = (p) => (p.name ? p.name : p.kind === "ip" ? p.ip : `${p.ns}/${Object.values(p.labels).join(",") || "pod"}`);
    for (const p of this.of("NetworkPolicy")) {
      const sel = wls.filter((w) => w.ns === p.metadata.namespace && selectorMatches(p.spec.podSelector, w.labels));
      this.check(sel.length > 0, p, "podSelector selects no pod");
      for (const dir of ["ingress", "egress"])
        for (const r of p.spec[dir] || [])
          for (const peer of r[dir === "ingress" ? "from" : "to"] || [])
            if (peer.podSelector && !peer.namespaceSelector)
              this.check(wls.some((w) => w.ns === p.metadata.namespace && selectorMatches(peer.podSelector, w.labels)), p, `${dir} peer ${JSON.stringify(peer.podSelector)} selects no pod`);
    }
    for (const w of wls) {
      this.check(np.isolated(w.peer, "Ingress") && np.isolated(w.peer, "Egress"), w.obj, "pods are not covered by a default-deny NetworkPolicy (Ingress and Egress)");
    }
    const edges = this.neededConnections();
    for (const e of edges) {
      const src = e.src.peer || e.src, dst = e.dst.peer || e.dst;
      this.check(np.allowed(src, dst, e.port, e.protocol), e.src.obj || e.dst.obj,
        `NetworkPolicy blocks ${name(e.src)} -> ${name(e.dst)}:${e.port}/${e.protocol}, needed for ${e.why}`);
    }
    const needed = (src, dst, port) => edges.some((e) => e.src === src && e.dst === dst && e.port === port);
    // Least privilege inside the namespace, each side on its own (defence in depth): a pod's
    // ingress admits, and a pod's egress reaches, only the gRPC ports somebody uses.
    for (const dst of wls)
      for (const p of dst.ports) {
        const proto = p.protocol || "TCP";
        const isPublic = np.ingressAllowed(dst.peer, { kind: "ip", ip: PUBLIC_IP }, p.containerPort, proto);
        for (const src of wls) {
          if (p.name === "metrics" || isPublic || src === dst || needed(src, dst, p.containerPort)) continue;
          this.check(!np.ingressAllowed(dst.peer, src.peer, p.containerPort, proto), dst.obj,
            `NetworkPolicy lets ${src.name} reach ${dst.name}:${p.containerPort} (ingress), which ${src.name} does not use (no *_SVC_ADDR points there)`);
          this.check(!np.egressAllowed(src.peer, dst.peer, p.containerPort, proto), src.obj,
            `NetworkPolicy lets ${src.name} reach ${dst.name}:${p.containerPort} (egress), which ${src.name} does not use (no *_SVC_ADDR points there)`);
        }
        // From outside the namespace: only the gateway (and Prometheus on the metrics port).
        const outsiders = [{ kind: "ip", ip: PUBLIC_IP }, foreignPod("other"), foreignPod("ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" })];
        const isGateway = dst.containers.some((c) => c.__bin === "sfp-gateway");
        for (const o of outsiders)
          if (np.ingressAllowed(dst.peer, o, p.containerPort, p.protocol || "TCP"))
            this.check(isGateway, dst.obj, `NetworkPolicy admits ${name(o)} to ${dst.name}:${p.containerPort}; only the gateway takes traffic from outside the namespace`);
      }
    // External egress only where configured.
    for (const w of wls) {
      const has = (pred) => w.containers.some(pred);
      if (np.egressAllowed(w.peer, { kind: "ip", ip: PRIVATE_IP }, 5432))
        this.check(has((c) => c.__env?.has("DATABASE_URL")), w.obj, "NetworkPolicy lets it reach Postgres (5432) but it has no DATABASE_URL");
      if (np.egressAllowed(w.peer, { kind: "ip", ip: PUBLIC_IP }, 443))
        this.check(has((c) => c.__bin && this.facts.envReads(c.__bin).has("SODA_BASE_URL")), w.obj, "NetworkPolicy lets it reach the internet (443) but it is no SODA client");
    }
  }

  connectionBudget() {
    const nss = this.of("Namespace");
    for (const n of nss) {
      const budget = Number(n.metadata.annotations?.["sfpermits.io/postgres-connection-budget"]);
      if (!this.check(Number.isInteger(budget) && budget > 0, n, "needs the annotation sfpermits.io/postgres-connection-budget (Postgres connections the suite may use)")) continue;
      let total = 0;
      const parts = [];
      const cronJobs = this.workloads().filter((w) => w.kind === "CronJob" && w.ns === n.metadata.name).length;
      for (const w of this.workloads().filter((x) => x.ns === n.metadata.name)) {
        for (const c of w.containers) {
          if (!c.__env?.has("DATABASE_URL")) continue;
          const bin = c.__bin;
          if (this.facts.envReads(bin).has("DB_POOL_MAX")) {
            const per = Number(this.effective(bin, c.__env, "DB_POOL_MAX"));
            const extra = bin === "sfp-cron" ? cronJobs : 0; // one advisory-lock connection per running job
            total += per * w.maxReplicas + extra;
            parts.push(`${w.name} ${per}x${w.maxReplicas}${extra ? `+${extra}` : ""}`);
          } else {
            total += 1;
            parts.push(`${w.name} 1`);
          }
        }
      }
      this.check(total <= budget, n, `Postgres connections at full scale: ${parts.join(" + ")} = ${total} > budget ${budget} (lower DB_POOL_MAX or maxReplicas, raise max_connections, or put PgBouncer in front: k8s/README.md)`);
      this.connections = { total, budget, parts };
    }
  }
}
