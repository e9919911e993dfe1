// One test environment: a mock tenant, an echo origin and the built gateway wired together.
// Each test file starts its own and stops it (by PID for the tenant) when done.
import { startMockTenant } from "./mock-tenant.mjs";
import { startEchoOrigin } from "./echo-origin.mjs";
import { startGateway } from "./gateway.mjs";
import net from "node:net";

export const AUDIENCE = "api://entra-gate-dev";
/** A bare challenge as the gateway sends it to tests (which call it as http://gateway.test). */
export const BARE_CHALLENGE =
  'Bearer realm="entra-gate", resource_metadata="http://gateway.test/.well-known/oauth-protected-resource"';
export { TEST_SECRET } from "./gateway.mjs";

export async function startEnvironment(overrides = {}) {
  const tenant = await startMockTenant();
  const origin = await startEchoOrigin();
  const gateways = [];
  const logs = [];
  // `options.kvPersist`: a directory; gateways given the same one share KV (see gateway.mjs).
  // `options.metricsSpy`: Analytics Engine data points appear in `logs`; `options.ratelimits`,
  // `serviceBindings`, `workers`, `build`: see gateway.mjs.
  const gatewayWith = async (bindings = {}, options = {}) => {
    const gw = await startGateway(
      {
        ENTRA_TENANT_ID: tenant.tenantId,
        ENTRA_AUDIENCES: AUDIENCE,
        ORIGIN_URL: origin.url,
        ENTRA_AUTHORITY: tenant.url,
        ...overrides,
        ...bindings,
      },
      { logs, ...options },
    );
    gateways.push(gw);
    return gw;
  };
  const gateway = await gatewayWith();
  return {
    tenant,
    origin,
    gateway,
    gatewayWith,
    logs,
    stop: async () => {
      for (const gw of gateways) await gw.stop();
      await origin.close();
      await tenant.stop();
    },
  };
}

/** Parses `Bearer k="v", k2="v2"` into { scheme, params }; fails the test on bad syntax. */
export function parseChallenge(header) {
  const match = /^Bearer(?: (.*))?$/.exec(header ?? "");
  if (!match) throw new Error(`not a Bearer challenge: ${header}`);
  const params = {};
  const rest = match[1] ?? "";
  const re = /\s*([a-z_]+)="((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let m;
  let consumed = 0;
  while (consumed < rest.length && (m = re.exec(rest))) {
    params[m[1]] = m[2].replace(/\\(.)/g, "$1");
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) throw new Error(`bad challenge parameters: ${rest}`);
  return params;
}

export const b64url = (value) => Buffer.from(value).toString("base64url");

/** A loopback port nothing listens on: bound, then released. */
/** Whether a connection to 127.0.0.1:`port` is refused (nothing listens there). */
function refused(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error) => resolve(error.code === "ECONNREFUSED"));
  });
}

/**
 * A loopback port nothing listens on. Port 1 first: it is privileged, so no process a test
 * starts can take it later (a port freed by closing a listener can be handed to the next
 * listener that asks for any port, which made "origin down" tests answer 404 now and then).
 */
export async function closedPort() {
  if (await refused(1)) return 1;
  const server = net.createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}
