// Telling the learner a lesson they asked for is ready (or failed): an in-page toast, a count in
// the tab's title while the tab is in the background, and — only if they allowed it with a
// click — a browser notification. A learner who never allows notifications loses nothing.

import { h } from "./dom.js";

const TOAST_MS = 8000;
let unseen = 0;
let baseTitle = "";
let toasts = null;
const announced = new Set();

/** Add the "Notify me" button (when the browser can notify) and the title badge's reset. */
export function setupNotifications(place) {
  baseTitle = document.title;
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) clearBadge();
  });
  if (!("Notification" in window) || Notification.permission !== "default") return;
  const button = h("button", { type: "button", class: "secondary notify-me" }, "Notify me when lessons are ready");
  button.addEventListener("click", async () => {
    const answer = await Notification.requestPermission(); // asked only on this click
    button.remove();
    toast(answer === "granted" ? "You will be notified when lessons are ready." : "No notifications, then: this page will still tell you.");
  });
  place.append(button);
}

/** A lesson the learner asked for has settled: tell them, however they are looking — once per
 *  outcome (`key`), even if two polls of the same lesson see it settle. */
export function lessonSettled(text, ok, key = text) {
  if (announced.has(key)) return;
  announced.add(key);
  toast(text, ok ? "info" : "error");
  if (document.hidden) {
    unseen += 1;
    document.title = `(${unseen}) ${baseTitle}`;
  }
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      new Notification("SkillSync Lessons", { body: text });
    } catch {
      // some browsers only notify from a service worker; the toast and badge still told them
    }
  }
}

function clearBadge() {
  unseen = 0;
  if (baseTitle) document.title = baseTitle;
}

function toast(text, kind = "info") {
  toasts ??= document.body.appendChild(h("div", { class: "toasts", role: "status", "aria-live": "polite" }));
  const item = h("p", { class: `toast ${kind}` }, text);
  toasts.append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}
