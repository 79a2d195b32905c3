// The JSON API as the page uses it: the session, bearer tokens, problems, Retry-After, ETags.

const SESSION_KEY = "skillsync.session";
export const DEFAULT_POLL_SECONDS = 2;
// Lesson statuses whose writer holds or awaits the lesson.
export const IN_FLIGHT = new Set(["queued", "generating"]);

/** The API's base path: the page is served at `/{routePrefix}/app`. */
export const API_BASE = location.pathname.replace(/\/app\/?$/, "");

/** An answer that is not 2xx (or 304): its status, RFC 9457 problem and Retry-After. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(describe(status, problem));
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

function describe(status, problem) {
  if (!problem) return `The server answered ${status}.`;
  const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`);
  return [problem.detail || problem.title, ...fields].join(" · ");
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), or `fallback`. */
export function retryAfter(response, fallback = DEFAULT_POLL_SECONDS) {
  const value = response.headers.get("Retry-After");
  if (!value) return fallback;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 1), 300) : fallback;
}

export const session = {
  get() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      return saved && Date.parse(saved.expiresAt) > Date.now() ? saved : null;
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** Called when the API refuses the token: the page signs out. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Given each answer's headers that carry RateLimit fields, 429s too (allowances.js). */
let onRateLimit = () => {};
export function whenRateLimited(handler) {
  onRateLimit = handler;
}

/** One API call; the parsed body and the response, or an `ApiError`. */
export async function call(method, path, { body, headers = {} } = {}) {
  const token = session.get()?.token;
  const response = await fetch(API_BASE + path, {
    method,
    cache: "no-store", // the page does its own revalidation with If-None-Match
    headers: {
      Accept: "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (response.headers.has("RateLimit")) onRateLimit(response.headers);
  if (response.status === 304) return { data: null, response };
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(response.status, data, retryAfter(response));
  }
  return { data, response };
}

// Lessons by id as last read, with their ETags: polls and re-opened lessons send If-None-Match.
const lessons = new Map();

/** The lesson, revalidated with its ETag: `{lesson, changed, retryAfter}`. */
export async function getLesson(id) {
  const cached = lessons.get(id);
  const headers = cached ? { "If-None-Match": cached.etag } : {};
  const { data, response } = await call("GET", `/lessons/${encodeURIComponent(id)}`, { headers });
  const wait = retryAfter(response);
  if (response.status === 304 && cached) return { lesson: cached.lesson, changed: false, retryAfter: wait };
  const etag = response.headers.get("ETag");
  if (etag) lessons.set(id, { etag, lesson: data });
  return { lesson: data, changed: true, retryAfter: wait };
}

export function forgetLessons() {
  lessons.clear();
}

export const api = {
  devToken: (userId) => call("POST", "/dev/token", { body: { userId } }),
  roadmaps: () => call("GET", "/roadmaps"),
  roadmap: (id) => call("GET", `/roadmaps/${encodeURIComponent(id)}`),
  createRoadmap: (body) => call("POST", "/roadmaps", { body }),
  generateLesson: (id) => call("POST", `/lessons/${encodeURIComponent(id)}/generate`),
  rewriteLesson: (id, instructions) =>
    call("POST", `/lessons/${encodeURIComponent(id)}/generate`, {
      body: instructions ? { force: true, instructions } : { force: true },
    }),
  generateModule: (id) => call("POST", `/modules/${encodeURIComponent(id)}/generate`),
  progress: (id, marks) => call("PUT", `/lessons/${encodeURIComponent(id)}/progress`, { body: marks }),
  // An edit of a roadmap (edit.js): `path` under it, made against its ETag.
  editRoadmap: (id, etag, method, path, body) =>
    call(method, `/roadmaps/${encodeURIComponent(id)}${path}`, { body, headers: { "If-Match": etag } }),
};
