#!/usr/bin/env node
// tests/openapi/sync.mjs --check|--write GENERATOR — keeps components.schemas of
// gateway/static/openapi.json equal to the protobuf-derived schemas that GENERATOR (the built
// openapi_schemas, build/bin/openapi_schemas) prints. --check exits 1 naming every schema that
// differs; --write rewrites them (hand-written schemas such as Error are kept).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [mode, gen] = process.argv.slice(2);
if (!["--check", "--write"].includes(mode) || !gen) {
  console.error("usage: node sync.mjs --check|--write PATH/TO/openapi_schemas");
  process.exit(2);
}
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "gateway", "static", "openapi.json");
const doc = JSON.parse(fs.readFileSync(file, "utf8"));
const generated = JSON.parse(execFileSync(gen, { encoding: "utf8" }));
const have = doc.components.schemas;
const bad = [];
for (const [name, schema] of Object.entries(generated)) {
  try {
    assert.deepStrictEqual(have[name], schema);
  } catch {
    bad.push(name);
  }
}
if (mode === "--write") {
  Object.assign(have, generated);
  fs.writeFileSync(file, JSON.stringify(doc, null, 1) + "\n");
  console.log(`sync: ${bad.length} schema(s) updated in ${file}`);
} else if (bad.length) {
  console.error(`sync: ${file} is out of date with the protos for: ${bad.join(", ")}\n` +
    `run: node tests/openapi/sync.mjs --write build/bin/openapi_schemas`);
  process.exit(1);
} else {
  console.log(`sync: ${Object.keys(generated).length} schemas current`);
}
