// The few JavaScript helpers the Rust edge calls (src/edge/js.rs binds them): each does in one
// call what would otherwise be one crossing per header or a timer race in wasm.

// Header lists cross as one string each (names and values separated by "\n", which no header
// name or value can contain) instead of one call per header.
export function header_names(headers) {
  let names = "";
  for (const name of headers.keys()) names += name + "\n";
  return names;
}

// The origin request, built and sent in one call: a copy of the client's `headers` without the
// `drop` names and with the `pairs` set (see build_headers), the client's method and body,
// redirects passed back to the client, and `fetch(url, init)` aborted if no response (status
// and headers) has arrived within `milliseconds` (0: no deadline of ours); once it has, the
// body streams for as long as it takes. (A signal given to `fetch` itself, such as
// `AbortSignal.timeout`, would also cut the body off.) `service`: a service binding to fetch through instead of the network. A header the
// runtime refuses throws here; a fetch that fails to start rejects like one that fails later.
export function forward(request, headers, url, method, drop, pairs, milliseconds, service) {
  const init = { method, headers: build_headers(headers, drop, pairs), redirect: "manual" };
  const body = request.body;
  if (body) init.body = body;
  // No deadline of ours (0): the fetch alone, without the controller, timer and reaction that
  // one costs on every request.
  const controller = milliseconds > 0 ? new AbortController() : null;
  if (controller) init.signal = controller.signal;
  let answer;
  try {
    answer = service ? service.fetch(url, init) : fetch(url, init);
  } catch (error) {
    return Promise.reject(error);
  }
  if (controller) {
    const timer = setTimeout(
      () => controller.abort(new DOMException("the origin did not answer in time", "TimeoutError")),
      milliseconds,
    );
    const clear = () => clearTimeout(timer);
    answer.then(clear, clear);
  }
  return answer;
}

// `limiter.limit({ key })` (a Workers rate-limiting binding), rejected if it has not answered
// within `milliseconds`: a stalled limiter fails the request closed instead of holding it.
export function limit_within(limiter, key, milliseconds) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DOMException("the rate limiter did not answer in time", "TimeoutError")), milliseconds);
  });
  return Promise.race([limiter.limit({ key }), deadline]).finally(() => clearTimeout(timer));
}

// A copy of `source` (if any) without the `drop` names, then the `pairs` set.
export function build_headers(source, drop, pairs) {
  const headers = source ? new Headers(source) : new Headers();
  if (drop) for (const name of drop.split("\n")) if (name) headers.delete(name);
  const parts = pairs.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) headers.set(parts[i], parts[i + 1]);
  return headers;
}

// A promise's outcome to one of two long-lived Rust callbacks, with the number that finds its
// waiter there (src/edge/settle.rs for awaits, src/edge/pending.rs for origin answers): no
// closure is made per promise on the Rust side. The chained promise settles with what the
// callback returns.
export function then_numbered(promise, id, fulfilled, rejected) {
  return promise.then(
    (value) => fulfilled(id, value),
    (error) => rejected(id, error),
  );
}
