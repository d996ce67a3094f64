#!/usr/bin/env node
// k8s/validate/validate.mjs — offline validation of the Kubernetes manifests (ctest -L k8s).
//
//   node validate.mjs [--root DIR] [--k8s DIR] [--modules DIR] [--image-facts FILE] [--compare-kubectl] [--quiet]
//
//   --root     the source tree (C sources, CMake files, Dockerfile); default: ../.. from here
//   --k8s      the manifests; default: ROOT/k8s
//   --modules  the directory holding node_modules (kubernetes-models, yaml); default: here.
//              ctest installs them with `npm ci` into the build tree and passes that.
//   --image-facts  the built image's facts (binaries in /usr/local/bin, process uid/gid, ENV) as
//              tests/image writes them (ctest -L image: BUILD/image/image-facts.json); used
//              instead of the Dockerfile's text when the file exists and was written for the
//              Dockerfile as it is, so the manifests are checked against the image itself
//   --compare-kubectl  also render with `kubectl kustomize` and require identical output
//                      (a development aid; CI has no kubectl)
//
// For k8s/base and every k8s/overlays/*: render the kustomization (lib/kustomize.mjs, no
// kubectl), validate every object against the Kubernetes schemas (kubernetes-models), then the
// cross-references against the code (lib/checks.mjs, facts read from the C sources by
// lib/csource.mjs). Exit 0 when everything holds; 1 with one line per problem; 2 on bad usage
// or missing modules.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadModules, validateTree } from "./lib/validator.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = { root: path.resolve(here, "../.."), k8s: null, modules: here, imageFacts: null, compare: false, quiet: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--root") opt.root = path.resolve(args[++i]);
  else if (a === "--k8s") opt.k8s = path.resolve(args[++i]);
  else if (a === "--modules") opt.modules = path.resolve(args[++i]);
  else if (a === "--image-facts") opt.imageFacts = path.resolve(args[++i]);
  else if (a === "--compare-kubectl") opt.compare = true;
  else if (a === "--quiet") opt.quiet = true;
  else {
    console.error(`validate.mjs: unknown argument ${a}\nusage: node validate.mjs [--root DIR] [--k8s DIR] [--modules DIR] [--image-facts FILE] [--compare-kubectl] [--quiet]`);
    process.exit(2);
  }
}
opt.k8s = opt.k8s || path.join(opt.root, "k8s");

let modules;
try {
  modules = loadModules(opt.modules);
} catch (e) {
  console.error(`validate.mjs: ${e.message}`);
  process.exit(2);
}

const t0 = Date.now();
let r;
try {
  r = validateTree({ root: opt.root, k8s: opt.k8s, modules, compare: opt.compare, imageFacts: opt.imageFacts });
} catch (e) {
  // A fact could not be read from the sources (they changed shape): a failure, not a pass.
  console.error(`validate.mjs: ${e.message}`);
  process.exit(1);
}
if (!opt.quiet) for (const l of r.lines) console.log(l);
if (r.errors.length) {
  console.error(`k8s validation FAILED (${r.errors.length} problem${r.errors.length > 1 ? "s" : ""}):`);
  for (const e of r.errors) console.error(`  - ${e}`);
  process.exit(1);
}
if (!opt.quiet) console.log(`k8s validation passed: ${r.targets} kustomizations, ${r.checks} checks, ${Date.now() - t0} ms`);
