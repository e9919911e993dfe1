// Builds the KV record of one key set exactly as the worker writes it (core/src/key_record.rs):
// fetches the tenant's metadata and JWKS documents, wraps them with the set's name, timestamps
// and content hash, and seals the result with an HMAC-SHA-256 under GATE_SECRET. The worker
// refuses a record whose seal does not verify under its own secret, and vets every key again
// when it reads one, so a record seeded here is trusted no more than one it fetched itself.
//
//   GATE_SECRET=... node scripts/kv-record.mjs --tenant <guid|organizations|common>
//        [--authority URL] [--versions 1.0,2.0] [--appid <client id>]
//        → prints {"key": ..., "record": {...}, "text": "<sealed text to store>"}
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

export const RECORD_FORMAT = 2;
const SEAL_PREFIX = "entra-gate-record/2 ";
const MAC_CONTEXT = "entra-gate kv record v2\0";

/** The 32 bytes of a base64 GATE_SECRET (as `openssl rand -base64 32` prints it). */
export function secretBytes(secret) {
  const bytes = Buffer.from(String(secret ?? "").trim(), "base64");
  if (bytes.length < 32) throw new Error("GATE_SECRET must be base64 of at least 32 bytes");
  return bytes;
}

function tag(kvKey, json, secret) {
  return createHmac("sha256", secretBytes(secret))
    .update(MAC_CONTEXT)
    .update(kvKey)
    .update(Buffer.from([0]))
    .update(json)
    .digest();
}

/** The text the worker stores: the seal line, a newline, then the record's JSON. */
export function seal(kvKey, record, secret) {
  const json = typeof record === "string" ? record : JSON.stringify(record);
  return `${SEAL_PREFIX}${tag(kvKey, json, secret).toString("base64url")}\n${json}`;
}

/** The record in a stored text, and whether its seal verifies under `secret`. */
export function unseal(kvKey, text, secret) {
  const newline = text.indexOf("\n");
  const line = newline < 0 ? "" : text.slice(0, newline);
  const json = newline < 0 ? text : text.slice(newline + 1);
  let genuine = false;
  if (line.startsWith(SEAL_PREFIX)) {
    const given = Buffer.from(line.slice(SEAL_PREFIX.length), "base64url");
    const expected = tag(kvKey, json, secret);
    genuine = given.length === expected.length && timingSafeEqual(given, expected);
  }
  return { record: JSON.parse(json), json, genuine };
}

/** The set's name and KV key, as core::keystore::sources() makes them. */
export function keySetId({ authority, tenant, appid }) {
  const url = new URL(authority);
  let id = `${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ""}/${tenant}`;
  if (appid) id += `/appid=${appid}`;
  return id;
}

/** SHA-256 over version, issuer, jwks_uri and document text of every source, NUL-separated. */
export function contentHash(sources) {
  const hash = createHash("sha256");
  for (const s of sources) {
    for (const part of [s.version, s.issuer, s.jwks_uri, s.jwks]) {
      hash.update(part, "utf8");
      hash.update(Buffer.from([0]));
    }
  }
  return hash.digest("hex");
}

async function getText(url) {
  const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

export async function buildRecord({ authority, tenant, versions = ["1.0", "2.0"], appid, secret, now = Math.floor(Date.now() / 1000) }) {
  const base = authority.replace(/\/+$/, "");
  const sources = [];
  for (const version of ["1.0", "2.0"].filter((v) => versions.includes(v))) {
    let metadataUrl = version === "2.0"
      ? `${base}/${tenant}/v2.0/.well-known/openid-configuration`
      : `${base}/${tenant}/.well-known/openid-configuration`;
    if (appid) metadataUrl += `?appid=${appid}`;
    const metadata = JSON.parse(await getText(metadataUrl));
    const jwksUri = new URL(metadata.jwks_uri).href;
    if (new URL(jwksUri).origin !== new URL(metadataUrl).origin) {
      throw new Error(`${jwksUri} is not on the authority`);
    }
    const jwks = await getText(jwksUri);
    JSON.parse(jwks);
    sources.push({
      version: version === "2.0" ? "v2" : "v1",
      metadata_url: metadataUrl,
      jwks_uri: jwksUri,
      issuer: metadata.issuer,
      jwks,
    });
  }
  const set = keySetId({ authority, tenant, appid });
  const key = `jwks:${set}`;
  const record = { format: RECORD_FORMAT, set, fetched_at: now, checked_at: now, content_hash: contentHash(sources), sources };
  return { key, record, text: secret === undefined ? undefined : seal(key, record, secret) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      tenant: { type: "string" },
      authority: { type: "string", default: "https://login.microsoftonline.com" },
      versions: { type: "string", default: "1.0,2.0" },
      appid: { type: "string" },
    },
  });
  if (!values.tenant) {
    console.error("--tenant is required");
    process.exit(2);
  }
  if (!process.env.GATE_SECRET) {
    console.error("GATE_SECRET is required in the environment (the worker's secret)");
    process.exit(2);
  }
  const built = await buildRecord({
    ...values,
    versions: values.versions.split(",").map((v) => v.trim()),
    secret: process.env.GATE_SECRET,
  });
  process.stdout.write(JSON.stringify(built));
}
