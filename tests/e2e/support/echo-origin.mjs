// A tiny origin for development and tests: answers every request with what it received, as
// JSON (method, path with query, headers, body), so tests can see exactly what the gateway
// forwarded. Listens on 127.0.0.1 only.
import http from "node:http";
import { pathToFileURL } from "node:url";

export function startEchoOrigin(port = 0) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const payload = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      });
      res.writeHead(200, { "content-type": "application/json", "x-echo-origin": "1" });
      res.end(payload);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address();
      resolve({ url: `http://127.0.0.1:${bound}`, port: bound, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

// `node echo-origin.mjs PORT` runs it on its own (scripts/dev.sh does).
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const origin = await startEchoOrigin(Number(process.argv[2] ?? 0));
  console.log(`echo origin listening on ${origin.url}`);
}
