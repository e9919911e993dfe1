// The ceiling: no authentication at all, the request forwarded to the origin as it came.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.ORIGIN_URL + url.pathname + url.search, request);
  },
};
