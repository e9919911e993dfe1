// KV attacks for the attack corpus (tests/data/attack-corpus-kv.json): key records someone with
// write access to the JWKS namespace could store, each with whether the gateway may believe it.
// A record that is not believed is logged (kv_record_rejected) and the keys are fetched from
// Entra as if KV were empty.
//
// The records are templates, materialised by each run for its own deployment: strings may hold
// `{authority}` (the corpus tenant's base URL) and `{host}` (its host:port, as in the set's id),
// `fetched_at` / `checked_at` are `{ "now": <offset seconds> }`, and a `content_hash` of
// "{computed}" is the record's true hash. `seal` says how the text is sealed: `gateway` (with the
// deployment's GATE_SECRET, over its own KV key), `none`, `other-secret`, or `other-key` (the
// gateway's secret over another set's key). tests/attack_corpus.rs and tests/e2e/attack.test.mjs
// each implement `materialize` and `seal` (scripts/kv-record.mjs is the JavaScript side).
// (gen-corpus.mjs passes its deployment in: importing it from here would be a cycle.)

const now = (offset = 0) => ({ now: offset });

/** The record the gateway itself writes after fetching the corpus tenant's documents. */
function goodRecord({ CORPUS: C, docs, v1Issuer, v2Issuer }) {
  return {
    format: 2,
    set: `{host}/${C.tenantId}`,
    fetched_at: now(-600),
    checked_at: now(-60),
    content_hash: "{computed}",
    sources: [
      {
        version: "v1",
        metadata_url: `{authority}/${C.tenantId}/.well-known/openid-configuration`,
        jwks_uri: `{authority}/${C.tenantId}/discovery/keys`,
        issuer: v1Issuer(C.tenantId),
        jwks: JSON.stringify(docs.v1),
      },
      {
        version: "v2",
        metadata_url: `{authority}/${C.tenantId}/v2.0/.well-known/openid-configuration`,
        jwks_uri: `{authority}/${C.tenantId}/discovery/v2.0/keys`,
        issuer: v2Issuer(C.tenantId),
        jwks: JSON.stringify(docs.v2),
      },
    ],
  };
}

/** An attacker's own key, published in the v2 document (the issue's forged record): test-key-1's
 * modulus under another kid stands for a valid key the attacker holds. */
const ATTACKER_JWK = { kty: "RSA", use: "sig", kid: "attacker-key", e: "AQAB" };

/** `deployment`: the corpus's `CORPUS`, key documents (`docs`) and issuer functions. */
export function buildKvCases(deployment) {
  const { CORPUS: C, v2Issuer } = deployment;
  const good = () => JSON.parse(JSON.stringify(goodRecord(deployment)));
  const edit = (change) => {
    const record = good();
    change(record);
    return record;
  };
  const withAttackerKey = (record) => {
    const v2 = JSON.parse(record.sources[1].jwks);
    const n = v2.keys[0].n;
    v2.keys.push({ ...ATTACKER_JWK, n, issuer: v2Issuer(C.tenantId) });
    record.sources[1].jwks = JSON.stringify(v2);
  };
  const believed = (name, seal, record) => ({ name, seal, record, expect: { believed: true } });
  const refused = (name, seal, record) => ({ name, seal, record, expect: { believed: false } });
  return [
    believed("the gateway's own record", "gateway", good()),
    believed("a genuine record a day old (the refresh policy's business, not a forgery)", "gateway",
      edit((r) => { r.fetched_at = now(-2 * 86400); r.checked_at = now(-86400); })),
    // The seal.
    refused("the gateway's record without its seal", "none", good()),
    refused("sealed under another secret", "other-secret", good()),
    refused("the gateway's seal, but over another set's key (a record moved)", "other-key", good()),
    refused("an extra signing key, hash recomputed, sealed under another secret", "other-secret", edit(withAttackerKey)),
    refused("an extra signing key, checked_at far ahead, sealed under another secret", "other-secret",
      edit((r) => { withAttackerKey(r); r.checked_at = now(10 * 365 * 86400); })),
    // Behind a genuine seal (a writer holding the secret, or a bug): still checked.
    refused("an extra signing key under a hash that does not match", "gateway",
      edit((r) => { withAttackerKey(r); r.content_hash = "0".repeat(64); })),
    refused("issuer swapped for the {tenantid} template", "gateway",
      edit((r) => { r.sources[1].issuer = v2Issuer("{tenantid}"); })),
    refused("issuer of another tenant", "gateway",
      edit((r) => { r.sources[1].issuer = v2Issuer(C.otherTenantId); })),
    refused("key document on another host", "gateway",
      edit((r) => { r.sources[1].jwks_uri = "https://keys.attacker.example/keys"; })),
    refused("metadata of another tenant", "gateway",
      edit((r) => { r.sources[0].metadata_url = `{authority}/${C.otherTenantId}/.well-known/openid-configuration`; })),
    refused("a version missing", "gateway", edit((r) => { r.sources.pop(); })),
    refused("a version twice", "gateway", edit((r) => { r.sources[0] = JSON.parse(JSON.stringify(r.sources[1])); })),
    refused("another set's name", "gateway", edit((r) => { r.set = `{host}/${C.otherTenantId}`; })),
    refused("checked_at in the future", "gateway", edit((r) => { r.checked_at = now(3600); })),
    refused("fetched after checked", "gateway", edit((r) => { r.fetched_at = now(-10); r.checked_at = now(-60); })),
    refused("an older format", "gateway", edit((r) => { r.format = 1; })),
    refused("an unknown member", "gateway", edit((r) => { r.trusted = true; })),
  ];
}
