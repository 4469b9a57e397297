// Test-only: evaluates every x-kubernetes-validations rule of crds/*.yaml with @bufbuild/cel, an
// implementation independent of ours, over old/new fixture pairs (tests/tool/cel/cases.yaml).
//
// Semantics reproduced from the Kubernetes documentation ("Validation rules" of CRDs):
// - defaults from the schema are applied before validation;
// - a rule runs at its schema location for every value present there (each item of an array);
// - a rule that mentions oldSelf is a transition rule: it runs only when an old value exists at the
//   same location (on update), and not at all on create;
// - integers are CEL int, objects are CEL maps.
// quantity() is not standard CEL: it is registered here as Kubernetes' library defines it for the one
// use we make of it (quantity(string).compareTo(quantity) -> -1/0/1), on exact decimal arithmetic.
//
// Usage: node check-rules.mjs <repo root>. Exits 1 on any mismatch or on a rule without both an
// accepted and a refused case.
import fs from "node:fs";
import path from "node:path";
import { run, isCelError, celFunc, celMethod, CelScalar, mapType, isCelMap } from "@bufbuild/cel";
import YAML from "yaml";

const root = process.argv[2] ?? "../..";

// ---- quantity(): Kubernetes resource.Quantity, compared exactly as BigInt nano-units.
const binary = { Ki: 2n ** 10n, Mi: 2n ** 20n, Gi: 2n ** 30n, Ti: 2n ** 40n, Pi: 2n ** 50n, Ei: 2n ** 60n };
const decimalExp = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
function parseQuantity(s) {
  const m = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/.exec(s);
  if (!m) throw new Error(`quantities must match the regular expression: ${s}`);
  const [, sign, num, suffix = ""] = m;
  const [intPart, frac = ""] = num.split(".");
  let digits = BigInt((intPart || "0") + frac);
  let exp10 = -frac.length + 9; // nano-units
  let mult = 1n;
  if (suffix in binary) mult = binary[suffix];
  else if (suffix in decimalExp) exp10 += decimalExp[suffix];
  else exp10 += parseInt(suffix.slice(1), 10);
  let v = digits * mult;
  v = exp10 >= 0 ? v * 10n ** BigInt(exp10) : v / 10n ** BigInt(-exp10);
  return sign === "-" ? -v : v;
}
const QTY = mapType(CelScalar.STRING, CelScalar.STRING);
const quantityFuncs = [
  celFunc("quantity", [CelScalar.STRING], QTY, (s) => new Map([["__quantity", parseQuantity(s).toString()]])),
  celMethod("compareTo", QTY, [QTY], CelScalar.INT, function (other) {
    const a = BigInt(this.get("__quantity")), b = BigInt(other.get("__quantity"));
    return a < b ? -1n : a > b ? 1n : 0n;
  }),
];

// ---- JSON -> CEL input.
function toCel(v) {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return v;
}

// ---- schema walking.
function applyDefaults(schema, value) {
  if (!schema || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return schema.items ? value.map((x) => applyDefaults(schema.items, x)) : value;
  for (const [k, sub] of Object.entries(schema.properties ?? {})) {
    if (value[k] === undefined && sub.default !== undefined) value[k] = structuredClone(sub.default);
    if (value[k] !== undefined) value[k] = applyDefaults(sub, value[k]);
  }
  return value;
}

// Every rule with its location, e.g. {loc: ["spec","storage","size"], rule, message}.
function collectRules(schema, loc = [], out = []) {
  for (const r of schema["x-kubernetes-validations"] ?? []) out.push({ loc: loc.slice(), ...r });
  for (const [k, sub] of Object.entries(schema.properties ?? {})) collectRules(sub, [...loc, k], out);
  if (schema.items) collectRules(schema.items, [...loc, "[]"], out);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    collectRules(schema.additionalProperties, [...loc, "{}"], out);
  }
  return out;
}

// Values at a location, paired with the old value at the same place (by index/key) if any.
function valuesAt(newV, oldV, loc) {
  let pairs = [[newV, oldV]];
  for (const step of loc) {
    const next = [];
    for (const [n, o] of pairs) {
      if (n === undefined || n === null) continue;
      if (step === "[]") {
        if (Array.isArray(n)) n.forEach((x, i) => next.push([x, Array.isArray(o) ? o[i] : undefined]));
      } else if (step === "{}") {
        for (const [k, x] of Object.entries(n)) next.push([x, o?.[k]]);
      } else if (typeof n === "object" && n[step] !== undefined) {
        next.push([n[step], o && typeof o === "object" ? o[step] : undefined]);
      }
    }
    pairs = next;
  }
  return pairs;
}

const crds = {};
for (const f of fs.readdirSync(path.join(root, "crds")).filter((f) => f.endsWith(".yaml"))) {
  const crd = YAML.parse(fs.readFileSync(path.join(root, "crds", f), "utf8"));
  const schema = crd.spec.versions.find((v) => v.storage).schema.openAPIV3Schema;
  crds[crd.spec.names.kind] = { schema, rules: collectRules(schema) };
}

function evaluate(kind, oldObj, newObj) {
  const { schema, rules } = crds[kind];
  const n = applyDefaults(schema, structuredClone(newObj));
  const o = oldObj ? applyDefaults(schema, structuredClone(oldObj)) : undefined;
  const failures = [];
  const evaluated = [];
  for (const r of rules) {
    const transition = /\boldSelf\b/.test(r.rule);
    for (const [nv, ov] of valuesAt(n, o, r.loc)) {
      if (transition && ov === undefined) continue;
      const bindings = { self: toCel(nv) };
      if (transition) bindings.oldSelf = toCel(ov);
      const res = run(r.rule, bindings, { funcs: quantityFuncs });
      if (isCelError(res) || typeof res !== "boolean") {
        throw new Error(`${kind} ${r.loc.join(".")}: rule ${JSON.stringify(r.rule)} did not give a bool: ${res?.message ?? res}`);
      }
      evaluated.push({ r, ok: res });
      if (!res) failures.push(r.message);
    }
  }
  return { failures, evaluated };
}

const cases = YAML.parse(fs.readFileSync(path.join(root, "tests/tool/cel/cases.yaml"), "utf8"));
const seen = new Map(); // rule key -> {accepted, refused}
let failed = 0;
for (const c of cases) {
  const { failures, evaluated } = evaluate(c.kind, c.old, c.new);
  for (const { r, ok } of evaluated) {
    const key = `${c.kind} ${r.loc.join(".")} ${r.rule}`;
    const s = seen.get(key) ?? { accepted: false, refused: false };
    if (ok) s.accepted = true;
    else s.refused = true;
    seen.set(key, s);
  }
  const want = [...(c.expectErrors ?? [])].sort();
  const got = [...failures].sort();
  const match = JSON.stringify(want) === JSON.stringify(got);
  console.log(`${match ? "ok  " : "FAIL"} ${c.name}${match ? "" : `\n     want ${JSON.stringify(want)}\n     got  ${JSON.stringify(got)}`}`);
  if (!match) failed++;
}
let uncovered = 0;
for (const [kind, { rules }] of Object.entries(crds)) {
  for (const r of rules) {
    const s = seen.get(`${kind} ${r.loc.join(".")} ${r.rule}`);
    if (!s?.accepted || !s?.refused) {
      uncovered++;
      console.log(`UNCOVERED ${kind} ${r.loc.join(".")}: ${r.rule} (accepted: ${!!s?.accepted}, refused: ${!!s?.refused})`);
    }
  }
}
const total = Object.values(crds).reduce((n, c) => n + c.rules.length, 0);
console.log(`${cases.length - failed} passed, ${failed} failed (${total} rules, ${uncovered} without both an accepted and a refused case)`);
process.exit(failed || uncovered ? 1 : 0);
