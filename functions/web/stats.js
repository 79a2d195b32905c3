// Progress at a glance: the stats cards above the roadmaps, from GET /api/me/stats in the
// browser's own time zone. Each card is a named group (its title), so screen readers announce
// "Current streak, 3 days"; every text is set as text, never as markup.

import { ApiError, call } from "./api.js";
import { h, replace } from "./dom.js";

/** The browser's IANA time zone, or UTC when it names none. */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

async function fetchStats() {
  const zone = browserZone();
  try {
    return (await call("GET", `/me/stats?tz=${encodeURIComponent(zone)}`)).data;
  } catch (error) {
    // A zone this server's database lacks: count days in UTC rather than show nothing.
    if (error instanceof ApiError && error.status === 422 && zone !== "UTC") {
      return (await call("GET", "/me/stats?tz=UTC")).data;
    }
    throw error;
  }
}

const days = (n) => `${n} ${n === 1 ? "day" : "days"}`;

function card(key, title, value, ...details) {
  const titleId = `stat-${key}-title`;
  return h(
    "li",
    { dataset: { stat: key } },
    h(
      "div",
      { class: "stat-card", role: "group", "aria-labelledby": titleId },
      h("p", { class: "stat-title", id: titleId }, title),
      h("p", { class: "stat-value" }, value),
      ...details,
    ),
  );
}

function streakHint(streak) {
  if (streak.activeToday) return "You learned today.";
  if (streak.current > 0) return "Open a lesson today to keep it going.";
  return "Open a lesson to start one.";
}

function weekCard(week) {
  const done = week.minutesCompleted;
  if (week.targetMinutes === null) {
    return card("week", "This week", `${done} min`, h("p", { class: "stat-hint" }, "Set weekly hours on a roadmap for a target."));
  }
  const target = week.targetMinutes;
  return card(
    "week",
    "This week",
    `${done} of ${target} min`,
    h("progress", { max: target, value: Math.min(done, target), "aria-label": "Minutes this week against the target" }),
  );
}

function continueCard(next, hasRoadmaps) {
  if (!next && !hasRoadmaps) return card("next", "Continue with", "—", h("p", { class: "stat-hint" }, "Start a roadmap below."));
  if (!next) return card("next", "Continue with", "Nothing left", h("p", { class: "stat-hint" }, "Every lesson is completed."));
  const written = next.generationStatus === "completed";
  // A lesson not written yet is generated from its roadmap, so the link leads there.
  const href = written ? `#/lessons/${next.lessonId}` : `#/roadmaps/${next.roadmapId}`;
  return card(
    "next",
    "Continue with",
    h("a", { href, "aria-describedby": "stat-next-hint" }, next.title),
    h(
      "p",
      { class: "stat-hint", id: "stat-next-hint" },
      written ? `${next.estimatedMinutes} min` : `${next.estimatedMinutes} min · not written yet: generate it in its roadmap`,
    ),
  );
}

let latest = 0; // only the latest request draws: an older answer may arrive after it

/** Fill `section` (its list of cards) with the learner's stats; never throws. */
export async function show(section) {
  const list = section.querySelector(".stats");
  const mine = ++latest;
  section.hidden = false;
  section.setAttribute("aria-busy", "true");
  replace(list, h("li", { class: "empty" }, "Loading your progress…")); // never the last user's
  try {
    const stats = await fetchStats();
    if (mine !== latest) return;
    const lessons = stats.roadmaps.reduce((sum, roadmap) => sum + roadmap.lessons, 0);
    replace(
      list,
      card("current-streak", "Current streak", days(stats.streak.current), h("p", { class: "stat-hint" }, streakHint(stats.streak))),
      card("longest-streak", "Longest streak", days(stats.streak.longest)),
      weekCard(stats.week),
      card(
        "completed",
        "Lessons completed",
        String(stats.lessonsCompleted),
        h("p", { class: "stat-hint" }, `of ${lessons} in your roadmaps`),
      ),
      continueCard(stats.nextLesson, stats.roadmaps.length > 0),
    );
  } catch {
    if (mine === latest) replace(list, h("li", { class: "stat-card empty" }, "Your progress cannot be shown right now."));
  } finally {
    if (mine === latest) section.removeAttribute("aria-busy");
  }
}
