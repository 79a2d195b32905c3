// What is left of the learner's allowances ("12 lessons left this hour"), shown before any click:
// read from GET /api/me/allowances whenever a view opens, then from the RateLimit-Policy and
// RateLimit header fields of every answer that spends one (api.js hands them over), so the count
// drops the moment a lesson is asked for. Every element with data-allowance="lessons" (or
// "roadmaps") shows it; those are polite live regions in index.html, so a screen reader hears
// the new count without losing its place. Text is set as text only.

import { call, whenRateLimited } from "./api.js";

const known = new Map(); // kind → {limit, remaining, windowSeconds, resetsAt (ms, this clock)}
const NOUNS = { lessons: ["lesson", "lessons"], roadmaps: ["roadmap", "roadmaps"] };
let refresh = null; // a timer: read again when a used-up allowance's window ends
let signedIn = false;

/** The items of a Structured Field List (RFC 9651), each `{name, params}`; strings unquoted. */
export function parseFieldList(value) {
  return split(value || "", ",").map((item) => {
    const [name, ...params] = split(item, ";");
    const entries = params.map((param) => {
      const at = param.indexOf("=");
      return at < 0 ? [param, "?1"] : [param.slice(0, at).trim(), unquote(param.slice(at + 1).trim())];
    });
    return { name: unquote(name), params: Object.fromEntries(entries) };
  });
}

function split(text, separator) {
  const parts = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === "\\") {
      current += c + (text[++i] ?? "");
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current.trim());
      current = "";
    } else current += c;
  }
  parts.push(current.trim());
  return parts.filter(Boolean);
}

function unquote(text) {
  return text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1).replace(/\\(.)/g, "$1") : text;
}

/** Take in an answer's RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers). */
export function fromHeaders(headers) {
  const policies = new Map(parseFieldList(headers.get("RateLimit-Policy")).map((p) => [p.name, p.params]));
  for (const { name, params } of parseFieldList(headers.get("RateLimit"))) {
    const policy = policies.get(name) || {};
    const before = known.get(name) || {};
    const remaining = Number(params.r);
    const seconds = Number(params.t);
    if (!Number.isInteger(remaining)) continue;
    known.set(name, {
      limit: Number(policy.q ?? before.limit),
      windowSeconds: Number(policy.w ?? before.windowSeconds),
      remaining,
      resetsAt: Number.isInteger(seconds) ? Date.now() + seconds * 1000 : before.resetsAt,
    });
  }
  draw();
}

function fromBody(allowances) {
  for (const a of allowances) {
    known.set(a.kind, {
      limit: a.limit,
      windowSeconds: a.windowSeconds,
      remaining: a.remaining,
      resetsAt: Date.now() + a.resetsInSeconds * 1000, // a delta: no need for our clocks to agree
    });
  }
  draw();
}

/** "this hour" for a window of an hour; the words follow the window the server reports. */
export function period(windowSeconds) {
  if (windowSeconds === 60) return "this minute";
  if (windowSeconds === 3600) return "this hour";
  if (windowSeconds === 86400) return "today";
  if (windowSeconds % 3600 === 0) return `in these ${windowSeconds / 3600} hours`;
  return `in these ${Math.max(1, Math.round(windowSeconds / 60))} minutes`;
}

/** "12 lessons left this hour", and when more come once none is left. */
export function describe(kind, state) {
  const [one, many] = NOUNS[kind] || [kind, kind];
  const text = `${state.remaining} ${state.remaining === 1 ? one : many} left ${period(state.windowSeconds)}`;
  if (state.remaining > 0 || !state.resetsAt) return text;
  const at = new Date(state.resetsAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `${text} · more at ${at}`;
}

function draw() {
  for (const element of document.querySelectorAll("[data-allowance]")) {
    const state = known.get(element.dataset.allowance);
    const text = state ? describe(element.dataset.allowance, state) : "";
    if (element.textContent !== text) element.textContent = text; // a live region: only changes
    if (state) element.dataset.remaining = String(state.remaining);
    else delete element.dataset.remaining;
  }
  clearTimeout(refresh);
  // A used-up allowance is read again when its window ends, so "more at 14:00" does not linger;
  // any other count is read again with the next view or answer (no timer, no needless calls).
  const used = [...known.values()].filter((s) => s.remaining === 0);
  const ends = used.map((s) => s.resetsAt).filter(Number.isFinite);
  if (signedIn && ends.length) {
    const wait = Math.min(...ends) - Date.now() + 1000;
    refresh = setTimeout(load, Math.min(Math.max(wait, 1000), 2 ** 31 - 1));
  }
}

/** Read the allowances now (a view opened, a window ended); never throws. */
export async function load() {
  signedIn = true;
  try {
    const { data } = await call("GET", "/me/allowances");
    fromBody(data.allowances);
  } catch {
    // the counts are a courtesy: the page works without them, and a 429 still explains itself
  }
}

/** Forget them (signed out): the next learner never sees the last one's counts. */
export function clear() {
  signedIn = false;
  known.clear();
  draw();
}

whenRateLimited(fromHeaders);
