// Builds the KV record of one key set exactly as the worker writes it (src/core/keystore.rs):
// fetches the tenant's metadata and JWKS documents and wraps them with the set's name,
// timestamps and content hash. The worker vets every key again when it reads the record, so a
// record seeded here is trusted no more than one it fetched itself.
//
//   node scripts/kv-record.mjs --tenant <guid|organizations|common> [--authority URL]
//        [--versions 1.0,2.0] [--appid <client id>]          → prints {"key": ..., "record": {...}}
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

export const RECORD_FORMAT = 1;

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

export async function buildRecord({ authority, tenant, versions = ["1.0", "2.0"], appid, now = Math.floor(Date.now() / 1000) }) {
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
  return {
    key: `jwks:${set}`,
    record: { format: RECORD_FORMAT, set, fetched_at: now, checked_at: now, content_hash: contentHash(sources), sources },
  };
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
  const built = await buildRecord({ ...values, versions: values.versions.split(",").map((v) => v.trim()) });
  process.stdout.write(JSON.stringify(built));
}
