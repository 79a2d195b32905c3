// The roadmap view: modules, lessons with live status badges, and polling while lessons are
// being written. Polling exists only for lessons queued or generating, waits Retry-After between
// requests, revalidates with If-None-Match and ends when the lesson is completed or failed.

import * as live from "./live.js";
import { api, ApiError, DEFAULT_POLL_SECONDS, getLesson, IN_FLIGHT, retryAfter } from "./api.js";
import { $, h, replace, sleep } from "./dom.js";
import { decodeEntities, inline } from "./markdown.js";
import { lessonSettled } from "./notify.js";
import * as editing from "./edit.js";

const CAN_GENERATE = new Set(["pending", "failed"]);
const MAX_BACKOFF_SECONDS = 30;

const state = {
  roadmap: null, // the last RoadmapView read
  epoch: 0, // bumped to stop every poll of the previous roadmap or session
  lessons: new Map(), // id → the lesson as last seen (summary fields, plus reasons of failures)
  rows: new Map(), // id → its <li> in the rendered view
  polling: new Map(), // id → the epoch its poll belongs to
  refreshing: null,
  refreshAgain: false,
  notify: () => {},
  etag: null, // the roadmap's ETag as last read: edits send it as If-Match (edit.js)
  container: null, // where the roadmap is drawn
  drawn: "", // the shape of the roadmap as drawn: another tab's edit redraws it
};

editing.setup({
  current: () => ({ roadmap: state.roadmap, etag: state.etag }),
  applied: (data, response) => {
    accept(data, response);
    draw();
  },
  reload: async () => {
    await refresh();
    draw();
  },
  redraw: () => draw(),
  notify: (text, kind) => state.notify(text, kind),
});

/** Stop polling and forget the roadmap (sign-out, another roadmap, the home page). */
export function stop() {
  state.epoch += 1;
  state.roadmap = null;
  state.refreshing = null;
  state.lessons.clear();
  state.rows.clear();
  editing.stop();
}

export function setNotifier(notify) {
  state.notify = notify;
}

/** Load `roadmapId` (unless it is the current one) and show its goal and counts. */
export async function load(roadmapId) {
  if (state.roadmap?.id === roadmapId) {
    await refresh(); // shown before: start again from what the server says now
    return state.roadmap;
  }
  stop();
  const { data, response } = await api.roadmap(roadmapId);
  accept(data, response);
  return data;
}

/** Render the roadmap into `container`, and poll the lessons in flight. */
export async function show(container, roadmapId) {
  await load(roadmapId);
  state.container = container;
  draw();
  for (const lesson of state.lessons.values()) {
    if (IN_FLIGHT.has(lesson.generationStatus)) track(lesson.id);
    else if (lesson.generationStatus === "failed" && !lesson.generationError) explainFailure(lesson.id);
  }
}

/** Read the roadmap again: counts, every badge, and polls for lessons newly in flight. */
export function refresh() {
  if (!state.roadmap) return Promise.resolve();
  if (state.refreshing) {
    state.refreshAgain = true; // something changed after that read began: read once more
    return state.refreshing;
  }
  const epoch = state.epoch;
  const run = (async () => {
    try {
      do {
        state.refreshAgain = false;
        const { data, response } = await api.roadmap(state.roadmap.id);
        if (epoch !== state.epoch) return;
        accept(data, response);
        if (shape(data) !== state.drawn) draw(); // edited elsewhere meanwhile
        for (const lesson of state.lessons.values()) if (IN_FLIGHT.has(lesson.generationStatus)) track(lesson.id);
      } while (state.refreshAgain);
    } finally {
      if (state.refreshing === run) state.refreshing = null;
    }
  })();
  state.refreshing = run;
  return run;
}

function accept(roadmap, response) {
  state.roadmap = roadmap;
  state.etag = response?.headers.get("ETag") || state.etag;
  const present = new Set(roadmap.modules.flatMap((module) => module.lessons.map((lesson) => lesson.id)));
  for (const id of [...state.lessons.keys()]) if (!present.has(id)) state.lessons.delete(id); // removed
  for (const module of roadmap.modules) for (const lesson of module.lessons) update(lesson);
  showHeader(roadmap);
}

function showHeader(roadmap) {
  const { lessons, ready, viewed, completed } = roadmap.counts;
  $("#roadmap-link").textContent = roadmap.goal;
  $("#roadmap-link").href = `#/roadmaps/${roadmap.id}`;
  $("#counts").textContent = `${lessons} lessons · ${ready} ready · ${viewed} viewed · ${completed} completed`;
  $("#completion").max = Math.max(lessons, 1);
  $("#completion").value = completed;
  const title = $("#roadmap-title");
  if (title) title.textContent = roadmap.goal;
}

// ---- lessons ---------------------------------------------------------------------------------

/** Merge what the API says about a lesson (a summary or a full view) and redraw its row. */
function update(lesson) {
  const known = state.lessons.get(lesson.id) || {};
  const merged = { ...known, ...lesson };
  if (!("content" in lesson) && merged.generationStatus !== known.generationStatus) {
    merged.progress = undefined; // a summary has no progress: do not show a stale stage
    if (merged.generationStatus !== "failed") merged.generationError = undefined;
  }
  delete merged.content;
  state.lessons.set(lesson.id, merged);
  drawRow(merged);
  drawModuleButtons();
}

function track(id, wait = DEFAULT_POLL_SECONDS) {
  if (state.polling.get(id) === state.epoch) return;
  const epoch = state.epoch;
  state.polling.set(id, epoch);
  poll(id, wait, epoch).finally(() => {
    if (state.polling.get(id) === epoch) state.polling.delete(id);
  });
}

async function poll(id, wait, epoch) {
  let failures = 0;
  for (;;) {
    await sleep(wait * 1000);
    if (epoch !== state.epoch) return;
    try {
      const { lesson, changed, retryAfter: next } = await getLesson(id);
      if (epoch !== state.epoch) return;
      failures = 0;
      wait = next;
      if (changed) update(lesson);
      if (!IN_FLIGHT.has(lesson.generationStatus)) {
        const title = decodeEntities(lesson.title);
        const ok = lesson.generationStatus === "completed";
        const text = ok
          ? `“${title}” is ready to read.`
          : `“${title}” could not be written: ${lesson.generationError || "unknown reason"}`;
        state.notify(text);
        lessonSettled(text, ok, `${lesson.id}:${lesson.generationStatus}:${lesson.updatedAt}`);
        await refresh();
        return;
      }
    } catch (error) {
      if (error instanceof ApiError && [401, 403, 404].includes(error.status)) return;
      failures += 1;
      const busy = error instanceof ApiError && [429, 503].includes(error.status);
      wait = busy ? error.retryAfter : Math.min(MAX_BACKOFF_SECONDS, DEFAULT_POLL_SECONDS * 2 ** failures);
    }
  }
}

async function explainFailure(id) {
  try {
    const { lesson } = await getLesson(id);
    update(lesson);
  } catch {
    // the badge still says failed; the reason is a nicety
  }
}

async function generateLesson(id, button) {
  button.disabled = true;
  try {
    const { data, response } = await api.generateLesson(id);
    update(data);
    const title = decodeEntities(data.title);
    if (response.status === 202) track(id, retryAfter(response));
    state.notify(response.status === 202 ? `“${title}” is queued for writing.` : `“${title}” is already written.`);
  } catch (error) {
    button.disabled = false;
    state.notify(refusal(error), "error");
  }
}

/** Ask for a written lesson to be written again, the learner's way; true once it is queued. */
export async function rewrite(id, instructions) {
  try {
    const { data, response } = await api.rewriteLesson(id, instructions);
    update(data);
    if (response.status === 202) track(id, retryAfter(response));
    state.notify(`“${decodeEntities(data.title)}” is being rewritten; the current version stays until then.`);
    return true;
  } catch (error) {
    state.notify(refusal(error), "error");
    return false;
  }
}

async function generateModule(module, button) {
  button.disabled = true;
  try {
    const { data, response } = await api.generateModule(module.id);
    for (const lesson of data.lessons) update(lesson);
    const wait = retryAfter(response);
    for (const lesson of data.lessons) track(lesson.id, wait);
    state.notify(
      data.lessons.length
        ? `${data.lessons.length} lessons of “${decodeEntities(module.title)}” are queued for writing.`
        : `Every lesson of “${decodeEntities(module.title)}” is already written or on its way.`,
    );
  } catch (error) {
    state.notify(refusal(error), "error");
  } finally {
    drawModuleButtons();
  }
}

function refusal(error) {
  if (error instanceof ApiError && error.status === 429) {
    const minutes = Math.ceil((error.retryAfter || 60) / 60);
    return `You have reached your allowance for now; try again in about ${minutes} minute${minutes > 1 ? "s" : ""}.`;
  }
  return error.message;
}

// ---- drawing ---------------------------------------------------------------------------------

/** Draw the whole roadmap (and, while editing, its edit controls) into its container. */
function draw() {
  if (!state.container || !state.roadmap) return;
  state.rows.clear();
  state.container.classList.toggle("editing", editing.active());
  replace(state.container, editing.toolbar(), ...state.roadmap.modules.map(moduleSection), editing.addModule());
  state.drawn = shape(state.roadmap);
  drawModuleButtons();
}

function shape(roadmap) {
  return JSON.stringify(
    roadmap.modules.map((m) => [m.id, m.title, m.description, m.lessons.map((l) => [l.id, l.title])]),
  );
}

function moduleSection(module) {
  const titleId = `module-${module.id}`;
  return h(
    "section",
    { class: "module", "aria-labelledby": titleId, dataset: { moduleId: module.id } },
    h(
      "div",
      { class: "module-head" },
      h("h2", { id: titleId }, `Module ${module.order}: `, ...inline(module.title)),
      h(
        "button",
        {
          type: "button",
          class: "secondary generate-module",
          "aria-label": `Generate module: ${module.title}`,
          onclick: (event) => generateModule(module, event.currentTarget),
        },
        "Generate module",
      ),
    ),
    editing.moduleTools(module),
    module.description ? h("p", { class: "module-description" }, ...inline(module.description)) : null,
    h("ol", { class: "lessons" }, ...module.lessons.map((lesson) => row(lesson.id))),
    editing.addLesson(module),
  );
}

function row(id) {
  const li = h("li", { class: "lesson", tabindex: -1, dataset: { lessonId: id } });
  state.rows.set(id, li);
  drawRow(state.lessons.get(id));
  return li;
}

function drawRow(lesson) {
  const li = state.rows.get(lesson.id);
  if (!li) return;
  const hadFocus = li.contains(document.activeElement);
  li.dataset.status = lesson.generationStatus;
  replace(
    li,
    h(
      "div",
      { class: "lesson-main" },
      h("h3", { class: "lesson-title" }, ...inline(lesson.title)),
      h("p", { class: "lesson-meta" }, `${lesson.estimatedMinutes} min`, marks(lesson)),
      lesson.generationStatus === "failed" && lesson.generationError
        ? h("p", { class: "reason" }, `Why it failed: ${lesson.generationError}`)
        : null,
    ),
    h("div", { class: "lesson-side" }, badge(lesson), action(lesson)),
    editing.lessonTools(lesson),
  );
  if (hadFocus) (li.querySelector("a, button:not(:disabled)") || li).focus(); // keep the keyboard's place
}

function marks(lesson) {
  if (lesson.completedAt) return h("span", { class: "mark done" }, " · ✓ Done");
  if (lesson.viewedAt) return h("span", { class: "mark" }, " · Viewed");
  return null;
}

function badge(lesson) {
  const status = lesson.generationStatus;
  const progress = lesson.progress;
  const detail =
    status === "generating" && progress ? ` · ${progress.stage} · ${progress.percent}%` : "";
  return h("span", { class: `badge badge-${status}`, dataset: { status } }, status, detail);
}

function action(lesson) {
  const title = lesson.title;
  if (lesson.generationStatus === "completed") {
    return h("a", { class: "button primary", href: `#/lessons/${lesson.id}`, "aria-label": `View lesson: ${title}` }, "View");
  }
  if (IN_FLIGHT.has(lesson.generationStatus) && live.connected()) {
    const label = `Read as it is written: ${title}`;
    return h("a", { class: "button secondary", href: `#/lessons/${lesson.id}`, "aria-label": label }, "Read live");
  }
  if (CAN_GENERATE.has(lesson.generationStatus)) {
    return h(
      "button",
      {
        type: "button",
        class: "primary",
        "aria-label": `Generate lesson: ${title}`,
        onclick: (event) => generateLesson(lesson.id, event.currentTarget),
      },
      "Generate",
    );
  }
  return null;
}

function drawModuleButtons() {
  for (const module of state.roadmap?.modules || []) {
    const button = document.querySelector(`[data-module-id="${CSS.escape(module.id)}"] .generate-module`);
    if (!button) continue;
    const open = module.lessons.some((l) => CAN_GENERATE.has(state.lessons.get(l.id)?.generationStatus));
    button.disabled = !open;
  }
}
