// A WebSocket origin for tests, on 127.0.0.1: a handshake is accepted, the first message tells
// what the origin received (URL and headers), then every message is echoed back. A plain HTTP
// request gets the same report as JSON, so a test sees that an upgrade did not reach it.
import http from "node:http";
import { WebSocketServer } from "ws";

export async function startWebSocketOrigin() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "x-echo-origin": "1" });
    res.end(JSON.stringify({ upgraded: false, url: req.url, headers: req.headers }));
  });
  const sockets = new WebSocketServer({ server });
  sockets.on("connection", (socket, req) => {
    socket.send(JSON.stringify({ upgraded: true, url: req.url, headers: req.headers }));
    socket.on("message", (data) => socket.send(`echo:${data}`));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
