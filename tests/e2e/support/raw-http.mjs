// Raw HTTP/1.1 to the workerd socket: the request target is sent byte for byte (fetch and
// dispatchFetch would normalise it first), and headers may repeat.
import http from "node:http";

/** `headers`: [name, value] pairs, in order; a Host is added unless given. */
export function raw(gateway, target, { method = "GET", headers = [], body } = {}) {
  const socket = new URL(gateway.url);
  const pairs = headers.some(([n]) => n.toLowerCase() === "host") ? headers : [["Host", "gateway.test"], ...headers];
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: socket.hostname, port: socket.port, method, path: target, headers: pairs.flat(), setHost: false },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
