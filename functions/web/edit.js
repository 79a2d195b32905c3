// Editing the roadmap in place: add a module or a lesson (written by hand, or planned from a
// prompt), rename, remove and reorder them. Controls are real buttons and forms, named for the
// module or lesson they act on, and shown only while "Edit roadmap" is on. Every edit sends the
// roadmap's ETag as If-Match: when another tab edited first the server answers 412, and the page
// shows the roadmap as it now is instead of overwriting that edit.

import { api, ApiError, IN_FLIGHT } from "./api.js";
import { h } from "./dom.js";
import { decodeEntities } from "./markdown.js";

const state = {
  editing: false,
  busy: false,
  // roadmap.js: current() → {roadmap, etag, lessons}; applied(data, response); reload(); redraw();
  // notify(text, kind)
  host: null,
};

export function setup(host) {
  state.host = host;
}

/** Whether the edit controls are shown. */
export function active() {
  return state.editing;
}

/** Leave edit mode (another roadmap, sign-out). */
export function stop() {
  state.editing = false;
}

// ---- sending an edit -----------------------------------------------------------------------------

async function send(method, path, body, { done, focus }) {
  if (state.busy) return false;
  state.busy = true;
  const { roadmap, etag } = state.host.current();
  try {
    const { data, response } = await api.editRoadmap(roadmap.id, etag, method, path, body);
    state.host.applied(data, response);
    state.host.notify(done(data));
    refocus(focus);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 412) {
      await state.host.reload();
      state.host.notify(
        "This roadmap was changed elsewhere (in another tab?): here it is as it is now. Try again.",
        "error",
      );
    } else {
      state.host.notify(refusal(error), "error");
    }
    return false;
  } finally {
    state.busy = false;
  }
}

function refusal(error) {
  if (error instanceof ApiError && error.status === 429) {
    const hours = Math.ceil((error.retryAfter || 3600) / 3600);
    return `You have planned as much as you may for now; try again in about ${hours} hour${hours > 1 ? "s" : ""}, or add it by hand.`;
  }
  return error.message;
}

/** Keep the keyboard's place: the same control after the redraw, or the next best one. */
function refocus(selectors = []) {
  for (const selector of selectors) {
    const target = document.querySelector(selector);
    if (target && !target.disabled) {
      target.focus();
      return;
    }
  }
}

const title = (item) => decodeEntities(item.title);
const control = (action, id) => `[data-edit="${action}"][data-target="${CSS.escape(id)}"]`;

function button(text, label, action, id, onclick, { disabled = false, kind = "secondary" } = {}) {
  return h(
    "button",
    { type: "button", class: `${kind} edit-button`, "aria-label": label, dataset: { edit: action, target: id }, disabled, onclick },
    text,
  );
}

// ---- the toolbar and the new-module forms ------------------------------------------------------------

/** The "Edit roadmap" switch, drawn above the modules. */
export function toolbar() {
  return h(
    "div",
    { class: "edit-bar" },
    h(
      "button",
      {
        type: "button",
        id: "edit-toggle",
        class: "secondary",
        "aria-pressed": state.editing ? "true" : "false",
        onclick: () => {
          state.editing = !state.editing;
          state.host.redraw();
          refocus(["#edit-toggle"]);
        },
      },
      state.editing ? "Done editing" : "Edit roadmap",
    ),
    state.editing ? h("p", { class: "help" }, "Move, rename or remove modules and lessons; written lessons and your progress stay.") : null,
  );
}

/** While editing: add a module planned from a prompt, or one written by hand. */
export function addModule() {
  if (!state.editing) return null;
  const prompt = h("input", { id: "module-prompt", name: "prompt", required: true, minlength: 3, maxlength: 300, placeholder: "e.g. a module on window functions" });
  const byPrompt = h(
    "form",
    { class: "edit-form", "aria-label": "Add a module by prompt", onsubmit: (event) => planModule(event, prompt) },
    h("label", { for: "module-prompt" }, "What should the new module be about?"),
    prompt,
    h("button", { type: "submit", class: "primary" }, "Add module by prompt"),
  );
  const name = h("input", { id: "module-title", name: "title", required: true, minlength: 3, maxlength: 200 });
  const lessons = h("textarea", { id: "module-lessons", name: "lessons", required: true, rows: 3 });
  const byHand = h(
    "form",
    { class: "edit-form", "aria-label": "Add a module by hand", onsubmit: (event) => addModuleByHand(event, name, lessons) },
    h("label", { for: "module-title" }, "Or write one: its title"),
    name,
    h("label", { for: "module-lessons" }, "Its lessons' titles, one per line"),
    lessons,
    h("button", { type: "submit", class: "secondary" }, "Add module"),
  );
  return h(
    "section",
    { class: "card add-module", "aria-labelledby": "add-module-title" },
    h("h2", { id: "add-module-title", tabindex: -1 }, "Add a module"),
    byPrompt,
    byHand,
  );
}

async function planModule(event, input) {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  const submit = event.currentTarget.querySelector("button[type=submit]");
  submit.disabled = true;
  state.host.notify("Planning a module for this roadmap…");
  await send("POST", "/modules/from-prompt", { prompt: input.value.trim() }, {
    done: (data) => `“${title(data.modules.at(-1))}” is added at the end, its lessons ready to be written.`,
    focus: ["#add-module-title"],
  });
  submit.disabled = false;
}

async function addModuleByHand(event, name, lessons) {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  const titles = lessons.value.split("\n").map((line) => line.trim()).filter((line) => line.length >= 3);
  if (!titles.length) {
    state.host.notify("Give at least one lesson title of three characters or more.", "error");
    lessons.focus();
    return;
  }
  const body = { title: name.value.trim(), lessons: titles.slice(0, 20).map((t) => ({ title: t, objectives: [t] })) };
  await send("POST", "/modules", body, {
    done: (data) => `“${title(data.modules.at(-1))}” is added at the end.`,
    focus: ["#add-module-title"],
  });
}

// ---- modules ---------------------------------------------------------------------------------------

/** While editing: move, rename and remove one module; and a form adding a lesson to it. */
export function moduleTools(module) {
  if (!state.editing) return null;
  const { roadmap } = state.host.current();
  const index = roadmap.modules.findIndex((m) => m.id === module.id);
  const last = roadmap.modules.length - 1;
  const name = module.title;
  const tools = h(
    "div",
    { class: "edit-tools", role: "group", "aria-label": `Edit module: ${name}` },
    button("↑ Up", `Move module up: ${name}`, "module-up", module.id, () => moveModule(module.id, -1), { disabled: index === 0 }),
    button("↓ Down", `Move module down: ${name}`, "module-down", module.id, () => moveModule(module.id, 1), { disabled: index === last }),
    button("Rename", `Rename module: ${name}`, "module-rename", module.id, () =>
      openRename(tools, "module", module, `/modules/${encodeURIComponent(module.id)}`)),
    button("Remove", `Remove module: ${name}`, "module-remove", module.id, () =>
      confirmRemoval(tools, `the module “${title(module)}” and its ${module.lessons.length} lessons`, `/modules/${encodeURIComponent(module.id)}`, control("module-remove", module.id), ["#edit-toggle"]),
      { disabled: last === 0 }),
  );
  return tools;
}

function order(roadmap, change) {
  const modules = roadmap.modules.map((m) => ({ moduleId: m.id, lessonIds: m.lessons.map((l) => l.id) }));
  change(modules);
  return { modules };
}

function swap(list, index, by) {
  const other = index + by;
  if (other < 0 || other >= list.length) return false;
  [list[index], list[other]] = [list[other], list[index]];
  return true;
}

async function moveModule(id, by) {
  const { roadmap } = state.host.current();
  const index = roadmap.modules.findIndex((m) => m.id === id);
  const body = order(roadmap, (modules) => swap(modules, index, by));
  const name = title(roadmap.modules[index]);
  await send("PUT", "/order", body, {
    done: () => `“${name}” is now module ${index + by + 1}.`,
    focus: [control(by < 0 ? "module-up" : "module-down", id), control(by < 0 ? "module-down" : "module-up", id)],
  });
}

// ---- lessons -----------------------------------------------------------------------------------------

/** While editing: move, rename and remove one lesson of its module. */
export function lessonTools(lesson) {
  if (!state.editing) return null;
  const { roadmap } = state.host.current();
  const module = roadmap.modules.find((m) => m.lessons.some((l) => l.id === lesson.id));
  if (!module) return null;
  const index = module.lessons.findIndex((l) => l.id === lesson.id);
  const last = module.lessons.length - 1;
  const name = lesson.title;
  const writing = IN_FLIGHT.has(lesson.generationStatus);
  const tools = h(
    "div",
    { class: "edit-tools", role: "group", "aria-label": `Edit lesson: ${name}` },
    button("↑", `Move lesson up: ${name}`, "lesson-up", lesson.id, () => moveLesson(lesson.id, -1), { disabled: index === 0 }),
    button("↓", `Move lesson down: ${name}`, "lesson-down", lesson.id, () => moveLesson(lesson.id, 1), { disabled: index === last }),
    button("Rename", writing ? `Rename lesson (once it is written): ${name}` : `Rename lesson: ${name}`, "lesson-rename", lesson.id, () =>
      openRename(tools, "lesson", lesson, `/lessons/${encodeURIComponent(lesson.id)}`), { disabled: writing }),
    button("Remove", `Remove lesson: ${name}`, "lesson-remove", lesson.id, () =>
      confirmRemoval(tools, `the lesson “${title(lesson)}”`, `/lessons/${encodeURIComponent(lesson.id)}`, control("lesson-remove", lesson.id), [control("module-rename", module.id)]),
      { disabled: last === 0 }),
  );
  return tools;
}

async function moveLesson(id, by) {
  const { roadmap } = state.host.current();
  const moduleIndex = roadmap.modules.findIndex((m) => m.lessons.some((l) => l.id === id));
  const index = roadmap.modules[moduleIndex].lessons.findIndex((l) => l.id === id);
  const name = title(roadmap.modules[moduleIndex].lessons[index]);
  const body = order(roadmap, (modules) => swap(modules[moduleIndex].lessonIds, index, by));
  await send("PUT", "/order", body, {
    done: () => `“${name}” is now lesson ${index + by + 1} of its module.`,
    focus: [control(by < 0 ? "lesson-up" : "lesson-down", id), control(by < 0 ? "lesson-down" : "lesson-up", id)],
  });
}

/** While editing: a form under a module's lessons adding one, by title or planned from a prompt. */
export function addLesson(module) {
  if (!state.editing) return null;
  const id = `new-lesson-${module.id}`;
  const input = h("input", { id, name: "lesson", required: true, minlength: 3, maxlength: 200 });
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (!form.reportValidity()) return;
    const planned = event.submitter?.dataset.by === "prompt";
    const text = input.value.trim();
    const body = planned ? { moduleId: module.id, prompt: text } : { moduleId: module.id, title: text, objectives: [text] };
    if (planned) state.host.notify("Planning a lesson for this module…");
    await send("POST", planned ? "/lessons/from-prompt" : "/lessons", body, {
      done: (data) => {
        const now = data.modules.find((m) => m.id === module.id);
        return `“${title(now.lessons.at(-1))}” is added to “${title(module)}”.`;
      },
      focus: [`#${CSS.escape(id)}`],
    });
  };
  return h(
    "form",
    { class: "edit-form add-lesson", "aria-label": `Add a lesson to ${module.title}`, onsubmit: submit },
    h("label", { for: id }, "New lesson: its title, or what it should be about"),
    input,
    h(
      "div",
      { class: "edit-actions" },
      h("button", { type: "submit", class: "secondary", dataset: { by: "hand" }, "aria-label": `Add lesson with this title to ${module.title}` }, "Add lesson"),
      h("button", { type: "submit", class: "secondary", dataset: { by: "prompt" }, "aria-label": `Plan a lesson from this prompt for ${module.title}` }, "Plan from prompt"),
    ),
  );
}

// ---- renaming and removing ----------------------------------------------------------------------------

function closeOpen() {
  for (const open of document.querySelectorAll(".edit-open")) open.remove();
}

function openRename(tools, kind, item, path) {
  closeOpen();
  const id = `rename-${item.id}`;
  const back = control(`${kind}-rename`, item.id);
  const input = h("input", { id, name: "title", required: true, minlength: 3, maxlength: 200, value: title(item) });
  const cancel = () => {
    form.remove();
    refocus([back]);
  };
  const form = h(
    "form",
    {
      class: "edit-form edit-open",
      "aria-label": `Rename ${kind}: ${item.title}`,
      onsubmit: async (event) => {
        event.preventDefault();
        if (!form.reportValidity()) return;
        await send("PATCH", path, { title: input.value.trim() }, { done: () => `Renamed to “${input.value.trim()}”.`, focus: [back] });
      },
      onkeydown: (event) => event.key === "Escape" && cancel(),
    },
    h("label", { for: id }, `New title of this ${kind}`),
    input,
    h(
      "div",
      { class: "edit-actions" },
      h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel"),
    ),
  );
  tools.after(form);
  input.focus();
  input.select();
}

function confirmRemoval(tools, what, path, back, focusAfter) {
  closeOpen();
  const keep = h("button", { type: "button", class: "secondary" }, "Keep");
  const box = h(
    "div",
    { class: "edit-confirm edit-open", role: "group", "aria-label": "Confirm removal" },
    h("p", {}, `Remove ${what}? Written content and your progress on it are deleted.`),
    h(
      "div",
      { class: "edit-actions" },
      h("button", {
        type: "button",
        class: "danger",
        onclick: () => send("DELETE", path, undefined, { done: () => `Removed ${what}.`, focus: focusAfter }),
      }, "Remove"),
      keep,
    ),
  );
  keep.addEventListener("click", () => {
    box.remove();
    refocus([back]);
  });
  box.addEventListener("keydown", (event) => event.key === "Escape" && keep.click());
  tools.after(box);
  keep.focus();
}
