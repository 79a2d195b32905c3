// The learner page: sign-in, roadmaps, onboarding and the lesson view, routed by the URL hash
// (#/, #/roadmaps/{id}, #/lessons/{id}) so the back button and reloads keep the place.

import * as allowances from "./allowances.js";
import { api, ApiError, forgetLessons, getLesson, IN_FLIGHT, session, whenUnauthorized } from "./api.js";
import { $, h, replace } from "./dom.js";
import { renderLesson } from "./lesson.js";
import { inline } from "./markdown.js";
import * as roadmap from "./roadmap.js";
import * as stats from "./stats.js";
import { setupNotifications } from "./notify.js";
import * as live from "./live.js";

const VIEWS = ["sign-in-view", "home-view", "roadmap-view", "lesson-view"];
const ID = "([A-Za-z0-9-]{1,64})";

let flash = null; // a message for the view being navigated to

function say(message, kind = "info") {
  $("#status").textContent = kind === "error" ? "" : message;
  $("#error").textContent = kind === "error" ? message : "";
}

function show(view) {
  for (const id of VIEWS) $(`#${id}`).hidden = id !== view;
  $("#roadmap-bar").hidden = !["roadmap-view", "lesson-view"].includes(view);
}

function focusHeading(selector) {
  const heading = $(selector);
  if (heading && document.activeElement?.tagName !== "INPUT") heading.focus({ preventScroll: true });
}

async function route() {
  stopFollowing();
  const [message, kind] = flash || ["", "info"];
  flash = null;
  say(message, kind); // messages belong to the view they were said in
  const signedIn = session.get();
  $("#who").hidden = !signedIn;
  $("#who-name").textContent = signedIn?.userId || "";
  if (!signedIn) {
    roadmap.stop();
    allowances.clear();
    show("sign-in-view");
    return;
  }
  allowances.load(); // never throws; "N lessons left this hour" is there before any click
  live.available(); // the push channel, if this server has one (never throws)
  const roadmapMatch = location.hash.match(new RegExp(`^#/roadmaps/${ID}$`));
  const lessonMatch = location.hash.match(new RegExp(`^#/lessons/${ID}$`));
  try {
    if (roadmapMatch) await showRoadmap(roadmapMatch[1]);
    else if (lessonMatch) await showLesson(lessonMatch[1]);
    else await showHome();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) say(error.message, "error");
  }
}

// ---- sign-in ---------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const input = $("#user-name");
  const userId = input.value.trim();
  if (!input.checkValidity() || !userId) {
    say("Type a user name: letters, digits and . _ - @, up to 64 characters.", "error");
    input.focus();
    return;
  }
  try {
    const { data } = await api.devToken(userId);
    session.set({ userId, token: data.token, expiresAt: data.expiresAt });
    input.value = "";
    navigate("#/", `Signed in as ${userId}.`);
  } catch (error) {
    const off = error instanceof ApiError && error.status === 404;
    say(off ? "Development sign-in is off on this server." : error.message, "error");
  }
}

function signOut(message = "Signed out.") {
  stopFollowing();
  live.close();
  session.clear();
  forgetLessons();
  roadmap.stop();
  navigate("#/", message, message === "Signed out." ? "info" : "error");
}

function navigate(hash, message = null, kind = "info") {
  flash = message ? [message, kind] : null;
  if (location.hash === hash || (hash === "#/" && !location.hash)) route();
  else location.hash = hash;
}

// ---- home: roadmaps and onboarding --------------------------------------------------------------

async function showHome() {
  roadmap.stop();
  show("home-view");
  focusHeading("#home-title");
  stats.show($("#stats")); // never throws; drawn beside the list, whichever answers first
  const list = $("#roadmap-list");
  replace(list, h("li", {}, "Loading your roadmaps…"));
  const { data } = await api.roadmaps();
  if (!data.roadmaps.length) {
    replace(list, h("li", { class: "empty" }, "No roadmaps yet: start one below."));
    return;
  }
  replace(
    list,
    ...data.roadmaps.map((r) =>
      h(
        "li",
        {},
        h("a", { href: `#/roadmaps/${r.id}` }, ...inline(r.goal)),
        h("span", { class: "counts" }, ` — ${r.skillLevel} · ${r.counts.completed} of ${r.counts.lessons} completed`),
      ),
    ),
  );
}

async function createRoadmap(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!form.reportValidity()) return;
  const button = form.querySelector("button[type=submit]");
  const hours = Number($("#weekly-hours").value);
  const body = { goal: $("#goal").value.trim(), skillLevel: $("#skill-level").value };
  if (hours) body.weeklyHours = hours;
  button.disabled = true;
  say("Planning your roadmap…");
  try {
    const { data } = await api.createRoadmap(body);
    form.reset();
    navigate(`#/roadmaps/${data.id}`, "Your roadmap is ready; its first lesson is being written.");
  } catch (error) {
    say(error.message, "error");
  } finally {
    button.disabled = false;
  }
}

// ---- a roadmap and a lesson ----------------------------------------------------------------------

async function showRoadmap(id) {
  show("roadmap-view");
  await roadmap.show($("#modules"), id);
  focusHeading("#roadmap-title");
}

async function showLesson(id) {
  show("lesson-view");
  const container = $("#lesson");
  replace(container, h("p", {}, "Loading the lesson…"));
  const pushed = await live.available(); // subscribed before reading: no event falls between
  const { lesson } = await getLesson(id);
  await roadmap.load(lesson.roadmapId);
  $("#back-to-roadmap").href = `#/roadmaps/${lesson.roadmapId}`;
  if (pushed && IN_FLIGHT.has(lesson.generationStatus)) {
    followLesson(container, lesson);
    return;
  }
  if (lesson.generationStatus !== "completed" || !lesson.content) {
    replace(container, h("p", {}, `This lesson is not written yet (${lesson.generationStatus}).`));
    return;
  }
  replace(
    container,
    renderLesson(lesson, {
      onComplete: (done) => markCompleted(lesson.id, done),
      onRewrite: (instructions) => roadmap.rewrite(lesson.id, instructions),
    }),
  );
  focusHeading("#lesson-title");
  await api.progress(id, { viewed: true }); // may queue the module's next lesson
  await roadmap.refresh();
}

// ---- a lesson read as it is written (live.js) -----------------------------------------------------

const CHECK_MS = 5000; // a missed "completed" is found by reading the lesson this often
let stopFollowing = () => {};

function followLesson(container, lesson) {
  const here = location.hash;
  let timer = null;
  const reopen = () => {
    stopFollowing();
    if (location.hash === here) route(); // now stored: shown as any written lesson
  };
  const unfollow = live.follow(container, lesson, reopen);
  const check = async () => {
    try {
      const { lesson: now } = await getLesson(lesson.id);
      if (!IN_FLIGHT.has(now.generationStatus)) return reopen();
    } catch {
      // the next check, or a pushed message, will tell
    }
    timer = setTimeout(check, CHECK_MS);
  };
  timer = setTimeout(check, CHECK_MS);
  stopFollowing = () => {
    clearTimeout(timer);
    unfollow();
    stopFollowing = () => {};
  };
  focusHeading("#lesson-title");
}

async function markCompleted(id, completed) {
  try {
    const { data } = await api.progress(id, { completed });
    await roadmap.refresh();
    say(completed ? "Lesson marked completed." : "Lesson marked not completed.");
    return data.completedAt;
  } catch (error) {
    say(error.message, "error");
    return !completed ? new Date().toISOString() : null; // unchanged
  }
}

// ---- start -------------------------------------------------------------------------------------

whenUnauthorized(() => signOut("Your session has ended: sign in again."));
roadmap.setNotifier(say);
setupNotifications($(".topbar"));
$("#sign-in-form").addEventListener("submit", signIn);
$("#onboarding-form").addEventListener("submit", createRoadmap);
$("#sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
route();
