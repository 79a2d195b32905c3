// One written lesson, as a learner reads it: content, diagrams, exercises, quiz and sources.

import { h } from "./dom.js";
import { codeBlock, decodeEntities, inline, link, renderMarkdown } from "./markdown.js";

// Pinned to one release, checked by Subresource Integrity: a changed file on the CDN is refused
// (the page then shows the diagram's source). The hash is of the npm package's dist/mermaid.min.js,
// which jsDelivr serves byte for byte; the page's CSP allows exactly this URL.
export const MERMAID_URL = "https://cdn.jsdelivr.net/npm/mermaid@11.17.2/dist/mermaid.min.js";
export const MERMAID_INTEGRITY = "sha384-EOXBFmc3gx5mb+vn0vPvvGqACToJD24hhacX5Yx+8NUUQrHIle/Qi5Bg9o3zKwW2";
const MERMAID_WAIT_MS = 8000;
let mermaid = null; // one attempt per page: a failed load is not retried for every lesson
let diagramCount = 0;

/**
 * The lesson's article. `onComplete(completed)` records the learner's "done" mark and resolves
 * to the new `completedAt` (null once cleared).
 */
export function renderLesson(lesson, { onComplete, onRewrite }) {
  const content = lesson.content;
  const article = h(
    "article",
    { class: "lesson-view", "aria-labelledby": "lesson-title" },
    h("h1", { id: "lesson-title", tabindex: -1 }, ...inline(lesson.title)),
    lesson.description ? h("p", { class: "lede" }, ...inline(lesson.description)) : null,
    h("p", { class: "meta" }, `About ${lesson.estimatedMinutes} minutes`),
    providerLabel(lesson),
    lesson.researchNote ? h("p", { class: "note", role: "note" }, lesson.researchNote) : null,
    lesson.instructions
      ? h("p", { class: "note instructions", role: "note" }, "Written as you asked: ", h("q", {}, lesson.instructions))
      : null,
    section("Objectives", h("ul", {}, ...lesson.objectives.map((o) => h("li", {}, ...inline(o))))),
    section("Summary", renderMarkdown(content.summary)),
    ...content.sections.map((s) =>
      h("section", { class: "lesson-section" }, h("h2", {}, ...inline(s.heading)), renderMarkdown(s.body)),
    ),
    content.codeExamples.length ? section("Code examples", ...content.codeExamples.map(codeExample)) : null,
    section("Diagrams", ...content.diagrams.map(diagram)),
    section("Exercises", h("ol", { class: "exercises" }, ...content.exercises.map(exercise))),
    section("Quiz", ...content.quiz.map((q, n) => question(q, n, lesson.id))),
    section("Key takeaways", h("ul", {}, ...content.keyTakeaways.map((t) => h("li", {}, ...inline(t))))),
    content.furtherReading.length
      ? section(
          "Further reading",
          h("ul", {}, ...content.furtherReading.map((r) => h("li", {}, link(r.url, decodeEntities(r.title))))),
        )
      : null,
    sources(lesson.sources),
    completion(lesson, onComplete),
    onRewrite ? rewriteForm(onRewrite) : null,
  );
  return article;
}

function section(title, ...children) {
  return h("section", { class: "lesson-part" }, h("h2", {}, title), ...children);
}

function providerLabel(lesson) {
  if (lesson.provider === "offline") {
    return h(
      "p",
      { class: "provider offline", role: "note" },
      h("strong", {}, "Offline template — not AI-written."),
      " No language model was reachable, so this lesson was assembled from a template. Use it as an outline and check the official documentation.",
    );
  }
  if (!lesson.provider) return null;
  const model = lesson.model ? ` · ${lesson.model}` : "";
  return h("p", { class: "provider" }, `Written by ${lesson.provider}${model}`);
}

function codeExample(example) {
  return h(
    "figure",
    { class: "code-example" },
    h("figcaption", {}, ...inline(example.title), h("span", { class: "language" }, ` (${example.language})`)),
    codeBlock(example.code, example.language),
    renderMarkdown(example.explanation),
  );
}

function diagram(item) {
  const source = codeBlock(item.mermaid, "mermaid");
  const caption = h("p", { class: "diagram-label" }, "Diagram (Mermaid source)");
  const figure = h("figure", { class: "diagram" }, h("figcaption", {}, ...inline(item.title)), caption, source);
  drawDiagram(item, figure, caption, source);
  return figure;
}

function loadMermaid() {
  mermaid ??= Promise.race([
    loadScript(MERMAID_URL, MERMAID_INTEGRITY),
    new Promise((_, reject) => setTimeout(() => reject(new Error("Mermaid took too long")), MERMAID_WAIT_MS)),
  ]).then(() => {
    const library = globalThis.mermaid;
    if (!library) throw new Error("Mermaid did not load");
    // strict: no script, no click handlers; labels as SVG text, so the picture stands alone.
    library.initialize({ startOnLoad: false, securityLevel: "strict", flowchart: { htmlLabels: false } });
    return library;
  });
  return mermaid;
}

// A classic script (SRI applies to <script>, not to a dynamic import()), anonymous CORS as SRI needs.
function loadScript(src, integrity) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.integrity = integrity;
    script.crossOrigin = "anonymous";
    script.referrerPolicy = "no-referrer";
    script.onload = resolve;
    script.onerror = () => reject(new Error("Mermaid could not be loaded"));
    document.head.append(script);
  });
}

// The diagram is drawn as an <img> of the SVG: an image runs no script and needs no inline style.
async function drawDiagram(item, figure, caption, source) {
  try {
    const library = await loadMermaid();
    const { svg } = await library.render(`diagram-${++diagramCount}`, item.mermaid);
    const picture = h("img", {
      class: "diagram-picture",
      alt: `Diagram: ${decodeEntities(item.title)}`,
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(naturalSize(svg))}`,
    });
    const details = h("details", {}, h("summary", {}, "Mermaid source"), source);
    caption.replaceWith(picture, details);
  } catch {
    figure.classList.add("diagram-source-only"); // no network or a diagram Mermaid cannot read
  }
}

// Mermaid sizes its SVG to the page (width 100%); as an image it needs a size of its own.
// DOMParser documents are inert: nothing in them loads or runs.
function naturalSize(svg) {
  const root = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
  const [, , width, height] = (root.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  if (root.nodeName !== "svg" || !(width > 0 && height > 0)) return svg;
  root.setAttribute("width", String(Math.ceil(width)));
  root.setAttribute("height", String(Math.ceil(height)));
  root.removeAttribute("style");
  return new XMLSerializer().serializeToString(root);
}

function exercise(item) {
  return h(
    "li",
    {},
    renderMarkdown(item.prompt),
    h("details", {}, h("summary", {}, "Hint"), renderMarkdown(item.hint)),
    h("details", {}, h("summary", {}, "Solution"), renderMarkdown(item.solution)),
  );
}

function question(item, n, lessonId) {
  const name = `quiz-${lessonId}-${n}`;
  const feedback = h("div", { class: "feedback", role: "status", "aria-live": "polite" });
  const options = item.options.map((option, k) =>
    h("label", { class: "option" }, h("input", { type: "radio", name, value: k }), " ", ...inline(option)),
  );
  const form = h(
    "form",
    { class: "quiz-question", onsubmit: (event) => check(event, item, form, feedback) },
    h("fieldset", {}, h("legend", {}, `${n + 1}. `, ...inline(item.question)), ...options),
    h("button", { type: "submit", class: "secondary", "aria-label": `Check answer to question ${n + 1}` }, "Check"),
    feedback,
  );
  return form;
}

function check(event, item, form, feedback) {
  event.preventDefault();
  const chosen = form.querySelector("input:checked");
  if (!chosen) {
    feedback.replaceChildren(h("p", {}, "Choose an answer first."));
    return;
  }
  const right = Number(chosen.value) === item.answerIndex;
  feedback.className = `feedback ${right ? "right" : "wrong"}`;
  feedback.replaceChildren(
    h(
      "p",
      {},
      h("strong", {}, right ? "✓ Correct." : "✗ Not quite."),
      right ? "" : [" The answer is: ", ...inline(item.options[item.answerIndex])],
    ),
    renderMarkdown(item.explanation),
  );
}

function sources(list) {
  const body = list.length
    ? h(
        "ol",
        { class: "sources" },
        ...list.map((s, n) =>
          h(
            "li",
            { id: `source-${n + 1}` },
            link(s.url, decodeEntities(s.title)),
            h("span", { class: "kind" }, ` — ${s.kind}`),
          ),
        ),
      )
    : h("p", { class: "empty" }, "No outside sources were used for this lesson.");
  return h("section", { class: "lesson-part", "aria-labelledby": "sources-title" }, h("h2", { id: "sources-title" }, "Sources"), body);
}

// The chips fill the wish box; the learner may write any other wish of up to 300 characters.
const PRESETS = ["Simpler", "More examples", "More practice", "Deeper"];

function rewriteForm(onRewrite) {
  const input = h("input", {
    type: "text",
    id: "rewrite-instructions",
    maxlength: 300,
    placeholder: "e.g. use PostgreSQL in the examples",
  });
  const chips = PRESETS.map((preset) =>
    h("button", { type: "button", class: "chip", onclick: () => { input.value = preset; input.focus(); } }, preset),
  );
  const submit = h("button", { type: "submit", class: "secondary" }, "Rewrite this lesson");
  const form = h(
    "form",
    { class: "rewrite", "aria-labelledby": "rewrite-title" },
    h("h2", { id: "rewrite-title" }, "Not quite right?"),
    h("div", { class: "chips", role: "group", "aria-label": "Suggestions" }, ...chips),
    h("label", { for: "rewrite-instructions" }, "How should it be written?"),
    input,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      if (await onRewrite(input.value.trim())) input.value = "";
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function completion(lesson, onComplete) {
  let done = Boolean(lesson.completedAt);
  const status = h("p", { class: "done-status", role: "status" });
  const button = h("button", { type: "button" });
  const draw = () => {
    status.textContent = done ? "✓ You completed this lesson." : "";
    button.textContent = done ? "Mark not completed" : "Mark completed";
    button.className = done ? "secondary" : "primary";
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      done = Boolean(await onComplete(!done));
      draw();
    } finally {
      button.disabled = false;
    }
  });
  draw();
  return h("footer", { class: "lesson-footer" }, status, button);
}
