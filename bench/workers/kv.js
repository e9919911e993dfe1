// An in-memory KV namespace for workerd's `kvNamespace` binding (the wire protocol Miniflare's
// KV speaks: GET/PUT/DELETE /<url-encoded key>, GET / to list, POST /bulk/get). The gate reads
// its key set from KV once per isolate (and again only after ENTRA_KEYS_MEMORY_TTL_SECONDS), so
// this is off the hot path; it exists so entra-gate runs under plain `workerd serve`.
const store = new Map(); // key -> { value: Uint8Array, metadata?: string, expiration?: number }

const keyOf = (url) => decodeURIComponent(url.pathname.slice(1));

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...store.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .map((name) => ({ name, expiration: store.get(name).expiration, metadata: store.get(name).metadata }));
      return Response.json({ keys, list_complete: true, cacheStatus: null });
    }
    if (request.method === "POST" && url.pathname === "/bulk/get") {
      const { keys, type } = await request.json();
      const out = {};
      for (const k of keys) {
        const entry = store.get(k);
        const text = entry ? new TextDecoder().decode(entry.value) : null;
        out[k] = text === null ? null : type === "json" ? JSON.parse(text) : text;
      }
      return Response.json(out);
    }
    const key = keyOf(url);
    switch (request.method) {
      case "GET": {
        const entry = store.get(key);
        if (!entry) return new Response("Not Found", { status: 404 });
        const headers = new Headers();
        if (entry.expiration !== undefined) headers.set("CF-Expiration", String(entry.expiration));
        if (entry.metadata !== undefined) headers.set("CF-KV-Metadata", entry.metadata);
        return new Response(entry.value, { headers });
      }
      case "PUT": {
        const value = new Uint8Array(await request.arrayBuffer());
        const metadata = request.headers.get("CF-KV-Metadata") ?? undefined;
        const ttl = url.searchParams.get("expiration_ttl");
        const at = url.searchParams.get("expiration");
        const expiration = ttl ? Math.floor(Date.now() / 1000) + Number(ttl) : at ? Number(at) : undefined;
        store.set(key, { value, metadata, expiration });
        return new Response();
      }
      case "DELETE":
        store.delete(key);
        return new Response();
      default:
        return new Response("Method Not Allowed", { status: 405 });
    }
  },
};
