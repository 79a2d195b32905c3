// Markdown written by a language model, rendered as DOM nodes.
//
// This is the browser's own sanitising: the server already escapes raw HTML in lessons, and here
// no text ever reaches innerHTML. Every element is made with createElement, every piece of text is
// a text node, links keep only http(s) targets and open in a new tab without an opener. Supported:
// headings, paragraphs, **bold**, *italic*, ~~struck~~, `code`, fenced code blocks (with a
// language class), bullet and numbered lists (nested), blockquotes, tables and links.

import { h } from "./dom.js";

const MAX_DEPTH = 8;

// Character references in prose (older lessons, research text) are shown as the characters.
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** `text` with HTML character references turned into the characters they name. */
export function decodeEntities(text) {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,6});/g, (whole, name) => {
    if (name[0] !== "#") return ENTITIES[name.toLowerCase()] ?? whole;
    const hex = name[1] === "x" || name[1] === "X";
    const code = parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10);
    const valid = code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    return valid ? String.fromCodePoint(code) : whole;
  });
}

/** The URL if it is absolute http or https, else null (no javascript:, data:, relative…). */
export function safeUrl(raw) {
  try {
    const url = new URL(decodeEntities(String(raw).trim()));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link that opens in a new tab, or just its content when the URL is not http(s). */
export function link(href, ...children) {
  const url = safeUrl(href);
  if (!url) return h("span", {}, ...children);
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, ...children);
}

/** A code block; `language` becomes a `language-…` class when it is a plain name. */
export function codeBlock(code, language = "") {
  const name = /^[A-Za-z0-9+#.-]{1,40}$/.test(language) ? language : "";
  return h("pre", { tabindex: 0 }, h("code", { class: name ? `language-${name}` : null, text: code }));
}

// ---- inline ----------------------------------------------------------------------------------

const isWord = (ch) => !!ch && /[\p{L}\p{N}]/u.test(ch);
// Each rule: the character it starts with, a sticky pattern, how to build the node, and whether
// it must follow a non-word character (so snake_case and URLs inside words stay text).
const RULES = [
  { first: "`", pattern: /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/y, build: (m) => h("code", { text: trimCode(m[2]) }) },
  {
    first: "[",
    pattern:
      /\[((?:[^[\]]|\[[^[\]]*\])*)\]\(\s*<?([^\s<>()]*(?:\([^\s<>()]*\)[^\s<>()]*)*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/y,
    build: (m, d) => link(m[2], ...inline(m[1], d + 1, true)),
    link: true,
  },
  { first: "<", pattern: /<(https?:\/\/[^\s<>]+)>/y, build: (m) => link(m[1], decodeEntities(m[1])), link: true },
  { first: "*", pattern: /\*\*(?=\S)([\s\S]*?\S)\*\*/y, build: (m, d, n) => h("strong", {}, ...inline(m[1], d + 1, n)) },
  {
    first: "_",
    pattern: /__(?=\S)([\s\S]*?\S)__(?![\p{L}\p{N}])/uy,
    build: (m, d, n) => h("strong", {}, ...inline(m[1], d + 1, n)),
    word: true,
  },
  { first: "~", pattern: /~~(?=\S)([\s\S]*?\S)~~/y, build: (m, d, n) => h("del", {}, ...inline(m[1], d + 1, n)) },
  { first: "*", pattern: /\*([^\s*](?:[\s\S]*?[^\s*])?)\*/y, build: (m, d, n) => h("em", {}, ...inline(m[1], d + 1, n)) },
  {
    first: "_",
    pattern: /_([^\s_](?:[\s\S]*?[^\s_])?)_(?![\p{L}\p{N}])/uy,
    build: (m, d, n) => h("em", {}, ...inline(m[1], d + 1, n)),
    word: true,
  },
  {
    first: "h",
    pattern: /https?:\/\/(?:(?!&(?:lt|gt|quot);)[^\s<>"])*[^\s<>".,;:!?'")\]&]/y,
    build: (m) => link(m[0], decodeEntities(m[0])),
    word: true,
    link: true,
  },
];
// CommonMark: a backslash escapes any ASCII punctuation (the server writes `\<` for a literal `<`).
const ESCAPABLE = /[!-/:-@[-`{-~]/;

function trimCode(code) {
  const flat = code.replace(/\n/g, " ");
  return /^ .*[^ ].* $/.test(flat) ? flat.slice(1, -1) : flat;
}

/** Inline Markdown as an array of nodes; inside a link (`noLinks`), no link is made. */
export function inline(text, depth = 0, noLinks = false) {
  if (depth > MAX_DEPTH) return [document.createTextNode(decodeEntities(text))];
  const nodes = [];
  let plain = "";
  const flush = () => {
    if (plain) nodes.push(document.createTextNode(decodeEntities(plain)));
    plain = "";
  };
  let i = 0;
  outer: while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && ESCAPABLE.test(text[i + 1] || "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    for (const rule of RULES) {
      if (ch !== rule.first || (rule.word && isWord(text[i - 1])) || (rule.link && noLinks)) continue;
      rule.pattern.lastIndex = i;
      const match = rule.pattern.exec(text);
      if (!match) continue;
      flush();
      nodes.push(rule.build(match, depth, noLinks));
      i = rule.pattern.lastIndex;
      continue outer;
    }
    plain += ch;
    i += 1;
  }
  flush();
  return nodes;
}

// ---- blocks ----------------------------------------------------------------------------------

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^( *)([-*+])\s+(.*)$/;
const ORDERED = /^( *)(\d{1,9})[.)]\s+(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

const indentOf = (line) => line.match(/^ */)[0].length;
const startsBlock = (line) =>
  FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || listMarker(line);
const listMarker = (line) => {
  const m = BULLET.exec(line) || ORDERED.exec(line);
  return m && m[1].length <= 3 ? m : null;
};

/**
 * Markdown as a fragment of elements. `headingLevel` is the element a `#` heading becomes (a
 * lesson's parts are h2, so the headings inside them start at h3).
 */
export function renderMarkdown(source, { headingLevel = 3 } = {}) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/^\t+/, (tabs) => "    ".repeat(tabs.length)));
  blocks(lines, fragment, headingLevel, 0);
  return fragment;
}

function blocks(lines, parent, level, depth) {
  if (depth > MAX_DEPTH) {
    parent.append(h("p", {}, ...inline(lines.join("\n"), MAX_DEPTH + 1)));
    return;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      i += 1;
    } else if ((m = FENCE.exec(line))) {
      i = fence(lines, i, m, parent);
    } else if ((m = HEADING.exec(line))) {
      parent.append(h(`h${Math.min(6, level + m[1].length - 1)}`, {}, ...inline(m[2], depth)));
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(h("hr"));
      i += 1;
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        quoted.push(m[1]);
        i += 1;
      }
      const quote = h("blockquote");
      blocks(quoted, quote, level, depth + 1);
      parent.append(quote);
    } else if (listMarker(line)) {
      i = list(lines, i, parent, level, depth);
    } else if (line.includes("|") && TABLE_RULE.test(lines[i + 1] || "") && lines[i + 1].includes("-")) {
      i = table(lines, i, parent, depth);
    } else {
      const paragraph = [line.trim()];
      i += 1;
      while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) {
        paragraph.push(lines[i].trim());
        i += 1;
      }
      parent.append(h("p", {}, ...inline(paragraph.join("\n"), depth)));
    }
  }
}

function fence(lines, start, match, parent) {
  const mark = match[1];
  const close = new RegExp(`^ {0,3}\\${mark[0]}{${mark.length},}\\s*$`);
  const body = [];
  let i = start + 1;
  while (i < lines.length && !close.test(lines[i])) body.push(lines[i++]);
  parent.append(codeBlock(body.join("\n"), match[2] || ""));
  return i + 1;
}

function list(lines, start, parent, level, depth) {
  const first = listMarker(lines[start]);
  const ordered = !BULLET.test(lines[start]);
  const pattern = ordered ? ORDERED : BULLET;
  const base = first[1].length;
  const element = h(ordered ? "ol" : "ul");
  if (ordered && first[2] !== "1") element.start = Number(first[2]);
  let i = start;
  let loose = false;
  while (i < lines.length) {
    const m = pattern.exec(lines[i]);
    if (!m || m[1].length > base + 1 || m[1].length < base) break;
    const contentIndent = m[1].length + m[2].length + (ordered ? 2 : 1);
    const item = [m[3]];
    i += 1;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {
        const next = lines.slice(i + 1).find((l) => l.trim());
        if (next === undefined || indentOf(next) < contentIndent) break;
        loose = true;
        item.push("");
      } else if (indentOf(line) >= base + 2) {
        item.push(line.slice(Math.min(indentOf(line), contentIndent)));
      } else if (startsBlock(line)) {
        break;
      } else {
        item.push(line.trim()); // a lazy continuation of the item's paragraph
      }
      i += 1;
    }
    const li = h("li");
    blocks(item, li, level, depth + 1);
    if (!loose) li.querySelectorAll(":scope > p").forEach((p) => p.replaceWith(...p.childNodes));
    element.append(li);
    // Blank lines between items keep the list going.
    let j = i;
    while (j < lines.length && !lines[j].trim()) j += 1;
    if (j > i && j < lines.length && pattern.test(lines[j]) && indentOf(lines[j]) <= base + 1) {
      loose = true;
      i = j;
    }
  }
  parent.append(element);
  return i;
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function table(lines, start, parent, depth) {
  const head = cells(lines[start]);
  const body = [];
  let i = start + 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes("|")) body.push(cells(lines[i++]));
  const row = (values, tag) =>
    h("tr", {}, ...head.map((_, n) => h(tag, tag === "th" ? { scope: "col" } : {}, ...inline(values[n] ?? "", depth))));
  parent.append(
    h(
      "div",
      { class: "table-scroll" },
      h("table", {}, h("thead", {}, row(head, "th")), h("tbody", {}, ...body.map((values) => row(values, "td")))),
    ),
  );
  return i;
}
