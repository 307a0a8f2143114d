// The HTTP API from a page: the token as `Authorization: Bearer` (it comes from the link's
// fragment and never travels in a URL), nothing cached, and the JSON body when there is one.

/** `{ok, status, body}` of `path` (body null if the answer is not JSON). */
export async function api(path, token, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  let json = null;
  try {
    json = await res.json();
  } catch {}
  return { ok: res.ok, status: res.status, body: json };
}

/** The JSON body of `GET path`; an error with the server's message when it refuses. */
export async function getJson(path, token) {
  const res = await api(path, token);
  if (!res.ok) throw new Error(res.body?.message ?? `error ${res.status}`);
  return res.body;
}
