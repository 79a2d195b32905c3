// Reading a lesson while it is written. The page subscribes once (POST /notifications/negotiate →
// a Web PubSub WebSocket for this learner only) and hears, per lesson being written:
//   lesson.section  {delivery, sequence, index, section}   a whole, cleaned section
//   lesson.reset    {delivery, sequence}                    drop what was shown of this answer
//   lesson.completed {delivery, sequence}                   stored: read the lesson itself
// and every status change (lesson.status). A lesson opened late starts from the sections its last
// progress write stored (progress.sections, as of progress.sequence); events take over from there.
// A gap in the sequence means an event was missed: the view says so and waits for the stored
// lesson, never showing a section out of order. With no push channel (404) nothing here runs and
// the page polls as before.

import { call } from "./api.js";
import { $, h, replace } from "./dom.js";
import { inline, renderMarkdown } from "./markdown.js";

const SUBPROTOCOL = "json.webpubsub.azure.v1";
const RECONNECT_MS = [1000, 3000, 10000];
const listeners = new Map(); // lesson id → handler of that lesson's messages
let channel = null; // a promise of "is the push channel there?"
let socket = null;

/** Whether the channel is open now (for drawing, which cannot wait). */
export function connected() {
  return socket !== null;
}

/** Whether pushed messages can reach this page; connects on first use, never throws. */
export function available() {
  channel ??= connect(0);
  return channel;
}

/** Forget the channel (sign-out): the next learner negotiates their own. */
export function close() {
  listeners.clear();
  socket?.close();
  socket = null;
  channel = null;
}

async function connect(attempt) {
  let url;
  try {
    ({ data: { url } } = await call("POST", "/notifications/negotiate"));
  } catch {
    return false; // 404: no push channel here; anything else: the page polls as before
  }
  return new Promise((resolve) => {
    const ws = new WebSocket(url, SUBPROTOCOL);
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      socket = ws;
      resolve(true);
    });
    ws.addEventListener("message", (event) => deliver(event.data));
    ws.addEventListener("close", () => {
      if (!opened) resolve(false);
      if (socket !== ws) return; // closed on purpose
      socket = null;
      const wait = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)];
      setTimeout(() => {
        channel = connect(attempt + 1);
        for (const handler of listeners.values()) handler({ type: "lesson.reconnected" });
      }, wait);
    });
  });
}

function deliver(raw) {
  let frame;
  try {
    frame = JSON.parse(raw);
  } catch {
    return;
  }
  const data = frame?.type === "message" ? frame.data : null;
  if (data && typeof data.lessonId === "string") listeners.get(data.lessonId)?.(data);
}

/**
 * Show `lesson` (queued or generating) as it is written, into `container`; `onDone()` is called
 * once the lesson is stored (completed or failed), to show it as stored. Returns a function that
 * stops following it.
 */
export function follow(container, lesson, onDone) {
  const status = h("p", { class: "live-status", role: "status", "aria-live": "polite" });
  const body = h("div", { class: "live-sections" });
  const note = h("p", { class: "note", role: "note", hidden: true });
  replace(
    container,
    h(
      "article",
      { class: "lesson-view live", "aria-labelledby": "lesson-title", "aria-busy": "true" },
      h("h1", { id: "lesson-title", tabindex: -1 }, ...inline(lesson.title)),
      lesson.description ? h("p", { class: "lede" }, ...inline(lesson.description)) : null,
      status,
      note,
      body,
    ),
  );
  const progress = lesson.progress || {};
  let delivery = lesson.deliveries;
  let sequence = progress.sequence || 0;
  let shown = 0;
  let stalled = false;
  const say = () => {
    status.textContent =
      lesson.generationStatus === "queued"
        ? "Waiting for a writer…"
        : `Being written… ${shown} section${shown === 1 ? "" : "s"} so far.`;
  };
  const add = (part) => {
    body.append(h("section", { class: "lesson-section" }, h("h2", {}, ...inline(part.heading)), renderMarkdown(part.body)));
    shown += 1;
  };
  const reset = () => {
    body.replaceChildren();
    shown = 0;
    stalled = false;
    note.hidden = true;
  };
  for (const part of progress.sections || []) add(part);
  say();

  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    listeners.delete(lesson.id);
    onDone();
  };
  listeners.set(lesson.id, (data) => {
    if (data.type === "lesson.status") {
      lesson.generationStatus = data.status;
      if (data.status === "completed" || data.status === "failed") finish();
      else say();
      return;
    }
    if (data.type === "lesson.reconnected") {
      stalled = true; // events may have been missed while the socket was down
      note.textContent = "Reconnected: the rest of the lesson shows once it is written.";
      note.hidden = false;
      return;
    }
    if (data.type === "lesson.completed") return finish();
    if (data.delivery !== delivery) {
      if (data.delivery < delivery) return; // an earlier attempt's last words
      delivery = data.delivery; // written anew (a retry): start over
      sequence = 0;
      reset();
    }
    if (data.sequence <= sequence) return; // already applied (from the stored progress)
    if (data.sequence !== sequence + 1) {
      stalled = true;
      note.textContent = "Some of the lesson did not reach this page; it shows in full once written.";
      note.hidden = false;
    }
    sequence = data.sequence;
    if (data.type === "lesson.reset") {
      reset();
      note.textContent = "The writer started this lesson over; the new version follows.";
      note.hidden = false;
    } else if (data.type === "lesson.section" && !stalled && data.index === shown) {
      lesson.generationStatus = "generating";
      add(data.section);
    }
    say();
  });
  return () => {
    done = true;
    listeners.delete(lesson.id);
  };
}

/** Whether the view in `container` follows a lesson as it is written. */
export function following(container) {
  return Boolean($(".lesson-view.live", container));
}
