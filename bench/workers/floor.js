// The floor: the least a worker can do and still refuse a forged token. Not a product and not a
// peer: it reads the `kid`, verifies the RS256 signature with WebCrypto (keys imported once per
// isolate), and forwards the request untouched. No claim is checked (not `exp`, not the issuer,
// not the audience), nothing is logged, no identity header is set. What it costs above the
// passthrough is what the signature alone costs in this harness, so it shows how far below
// jose's cost any validator can get here (issue 15's targets are ratios of that cost).
let keys; // kid -> CryptoKey, one fetch of the key set per isolate

const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const encoder = new TextEncoder();

async function loadKeys(env) {
  const { keys: jwks } = await (await fetch(env.JWKS_URL)).json();
  const imported = new Map();
  for (const jwk of jwks) {
    if (jwk.kty !== "RSA") continue;
    const key = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e }, ALGORITHM, false, ["verify"]);
    imported.set(jwk.kid, key);
  }
  return imported;
}

function base64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const refuse = () => new Response(null, { status: 401 });

export default {
  async fetch(request, env) {
    keys ??= loadKeys(env);
    const authorization = request.headers.get("authorization") ?? "";
    if (!authorization.startsWith("Bearer ")) return refuse();
    const token = authorization.slice(7);
    const firstDot = token.indexOf(".");
    const lastDot = token.lastIndexOf(".");
    if (firstDot < 0 || lastDot <= firstDot) return refuse();
    let kid;
    try {
      kid = JSON.parse(atob(token.slice(0, firstDot).replace(/-/g, "+").replace(/_/g, "/"))).kid;
    } catch {
      return refuse();
    }
    const key = (await keys).get(kid);
    if (key === undefined) return refuse();
    const good = await crypto.subtle.verify(
      ALGORITHM.name,
      key,
      base64url(token.slice(lastDot + 1)),
      encoder.encode(token.slice(0, lastDot)),
    );
    if (!good) return refuse();
    const url = new URL(request.url);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, request);
  },
};
