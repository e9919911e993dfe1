// The origin every worker forwards to: a fixed small JSON answer, no I/O, served by its own
// workerd process so its CPU is never counted against the worker under test.
const BODY = JSON.stringify({ ok: true, items: [{ id: 42, name: "item forty-two" }] });

export default {
  fetch() {
    return new Response(BODY, { headers: { "content-type": "application/json" } });
  },
};
