/* The staff workspace: lookup as you type, what visitors asked, "not helpful" passages,
   teaching a question to a passage, and the taught phrasings. It calls the staff JSON API with
   the session cookie; every state-changing call sends the page's CSRF token in X-CSRF-Token.
   Every visitor or passage string goes into the page as text, never as HTML. */
(() => {
  "use strict";

  const SEARCH_DELAY_MS = 150;
  const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const $ = (id) => document.getElementById(id);
  const box = $("q");
  const results = $("results");
  const teaching = $("teaching");
  let teachingQuestion = "";
  let searchTimer = 0;
  let searchAbort = null;

  /** An element with attributes ("on…" adds a listener) and text or element children. */
  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function say(text) {
    $("status").textContent = text;
  }

  /** Call the staff API; a lost session goes back to the sign-in form. */
  async function api(path, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      signal,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      location.assign("/staff/login");
      throw new Error("Your session has ended.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || `The server answered ${response.status}.`);
    return data;
  }

  function when(iso) {
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // ------------------------------------------------------------------ lookup

  function shortened(text, length) {
    return text.length > length ? text.slice(0, length) + "…" : text;
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  /** The matched terms as whole words; a longer term also marks its word forms (deploy…ment). */
  function termsPattern(terms) {
    const words = [...new Set((terms || []).filter((t) => t && t.trim()))];
    if (!words.length) return null;
    words.sort((a, b) => b.length - a.length);
    const alternatives = words
      .map((w) => escapeRegExp(w) + (w.length >= 4 ? "[\\p{L}\\p{N}]*" : ""))
      .join("|");
    return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])`, "giu");
  }

  /** The text as text nodes, each matched term in a <mark>. */
  function marked(text, terms) {
    const p = h("p", { class: "passage" });
    const pattern = termsPattern(terms);
    let start = 0;
    for (const match of pattern ? text.matchAll(pattern) : []) {
      if (match.index > start) p.append(text.slice(start, match.index));
      p.append(h("mark", {}, match[0]));
      start = match.index + match[0].length;
    }
    if (start < text.length) p.append(text.slice(start));
    return p;
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = h("textarea", { class: "visually-hidden", readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    say("The passage and its link are on the clipboard.");
    setTimeout(() => (button.textContent = label), 1500);
  }

  function resultNode(result, rank) {
    const link = new URL(result.url, location.href).href;
    const where = [result.document, result.section].filter(Boolean).join(" · ");
    return h(
      "li",
      { class: "result card" },
      h(
        "p",
        { class: "meta" },
        h("span", { class: "rank" }, `#${rank}`),
        h("span", { class: "score" }, `score ${result.score.toFixed(2)}`),
        h("span", {}, where),
      ),
      marked(result.text, result.matched_terms),
      h(
        "p",
        { class: "actions" },
        h("code", { class: "pid" }, result.id),
        h(
          "button",
          {
            type: "button",
            class: "quiet",
            "aria-label": `Copy passage #${rank} with its link`,
            onclick: (e) => copy(`${result.text}\n${link}`, e.currentTarget),
          },
          "Copy",
        ),
        h("a", { href: result.url, target: "_blank", rel: "noopener" }, "Open in article"),
        teachingQuestion
          ? h(
              "button",
              {
                type: "button",
                class: "teach-here",
                "aria-label": `Teach this passage (#${rank})`,
                onclick: (e) => teach(result, e.currentTarget),
              },
              "Teach this passage",
            )
          : null,
      ),
    );
  }

  async function search() {
    const q = box.value.trim();
    searchAbort?.abort();
    if (!q) {
      results.replaceChildren();
      $("search-count").textContent = "";
      return;
    }
    searchAbort = new AbortController();
    try {
      const data = await api(`/api/staff/search?k=10&q=${encodeURIComponent(q)}`, {
        signal: searchAbort.signal,
      });
      results.replaceChildren(...data.results.map((r, i) => resultNode(r, i + 1)));
      $("search-count").textContent = data.results.length
        ? `${data.results.length} passages, best first`
        : "No passage shares a word with that.";
    } catch (error) {
      if (error.name !== "AbortError") say(error.message);
    }
  }

  box.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  });
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    search();
  });

  // ------------------------------------------------------------------ teaching

  function startTeaching(question) {
    teachingQuestion = question;
    $("teaching-question").textContent = question;
    teaching.hidden = false;
    say("");
    box.value = question;
    search();
    box.focus();
  }

  function stopTeaching() {
    teachingQuestion = "";
    teaching.hidden = true;
    search();
  }

  $("teaching-cancel").addEventListener("click", stopTeaching);

  async function teachPassage(question, id, button) {
    button.disabled = true;
    try {
      await api(`/api/staff/passages/${encodeURIComponent(id)}/questions`, {
        method: "POST",
        body: { question },
      });
      say(`Taught: “${question}” now finds ${id}.`);
      loadQuestions();
      loadTaught();
      return true;
    } catch (error) {
      button.disabled = false;
      say(`Not taught: ${error.message}`);
      return false;
    }
  }

  async function teach(result, button) {
    if (await teachPassage(teachingQuestion, result.id, button)) stopTeaching();
  }

  // ------------------------------------------------------------------ what visitors asked

  function filterValue() {
    return document.querySelector('input[name="filter"]:checked').value;
  }

  function questionNode(item) {
    const variants = item.variants.length
      ? h(
          "details",
          { class: "variants" },
          h("summary", {}, `${item.variants.length} similar`),
          h("ul", {}, item.variants.map((v) => h("li", {}, v))),
        )
      : null;
    const action = item.taught
      ? h("span", { class: "badge taught-badge" }, "Taught")
      : h(
          "button",
          {
            type: "button",
            class: "teach",
            "aria-label": `Teach “${item.question}”`,
            onclick: () => startTeaching(item.question),
          },
          "Teach",
        );
    // what the assistant ranked first: often right, then one click teaches it
    const guess =
      item.guess && !item.taught
        ? h(
            "div",
            { class: "guess" },
            h(
              "p",
              { class: "snippet" },
              h("span", { class: "label" }, "The assistant’s best guess: "),
              shortened(item.guess.text, 200),
            ),
            h(
              "button",
              {
                type: "button",
                class: "quiet",
                "aria-label": `Right answer: teach the best guess for “${item.question}”`,
                onclick: (event) => teachPassage(item.question, item.guess.id, event.currentTarget),
              },
              "Right answer: teach it",
            ),
          )
        : null;
    return h(
      "li",
      { class: "question" },
      h("p", { class: "text" }, item.question),
      h(
        "p",
        { class: "meta" },
        h("span", { class: "count" }, `asked ${item.count}×`),
        h("span", {}, `last ${when(item.last_asked)}`),
        item.answered ? h("span", {}, "sometimes answered") : h("span", {}, "unanswered"),
      ),
      guess,
      variants,
      action,
    );
  }

  async function loadQuestions() {
    const list = $("questions");
    try {
      const data = await api(`/api/staff/questions?filter=${filterValue()}`);
      list.replaceChildren(...data.questions.map(questionNode));
      if (!data.questions.length) list.append(h("li", { class: "empty" }, "Nothing yet."));
      const chat = data.small_talk || 0;
      $("small-talk").textContent = chat
        ? `Not listed: ${chat} small-talk ${chat === 1 ? "message" : "messages"} (hello, thanks, bye, help, “that was wrong”): the assistant replied, nothing to teach.`
        : "";
    } catch (error) {
      say(error.message);
    }
  }

  for (const radio of document.querySelectorAll('input[name="filter"]')) {
    radio.addEventListener("change", loadQuestions);
  }

  async function loadNotHelpful() {
    const list = $("not-helpful");
    try {
      const data = await api("/api/staff/feedback");
      list.replaceChildren(
        ...data.passages.map((p) =>
          h(
            "li",
            {},
            h(
              "p",
              { class: "meta" },
              h("span", { class: "count" }, `${p.not_helpful} not helpful`),
              h("span", {}, `${p.helpful} helpful`),
            ),
            p.url ? h("a", { href: p.url, target: "_blank", rel: "noopener" }, p.id) : h("code", {}, p.id),
            p.text ? h("p", { class: "snippet" }, shortened(p.text, 160)) : null,
            h("ul", { class: "asked" }, p.questions.map((q) => h("li", {}, q))),
          ),
        ),
      );
      if (!data.passages.length) list.append(h("li", { class: "empty" }, "No votes yet."));
    } catch (error) {
      say(error.message);
    }
  }

  // ------------------------------------------------------------------ taught phrasings

  async function untaught(row, button) {
    button.disabled = true;
    try {
      await api(`/api/staff/taught/${row.id}`, { method: "DELETE" });
      say(`Removed: “${row.question}”.`);
      loadTaught();
      loadQuestions();
    } catch (error) {
      button.disabled = false;
      say(`Not removed: ${error.message}`);
    }
  }

  function taughtNode(row) {
    const removed = Boolean(row.removed_at);
    return h(
      "li",
      { class: removed ? "removed" : "" },
      h("p", { class: "text" }, row.question),
      h(
        "p",
        { class: "meta" },
        h("span", {}, "→ "),
        row.url ? h("a", { href: row.url, target: "_blank", rel: "noopener" }, row.passage_id) : h("code", {}, `${row.passage_id} (gone)`),
      ),
      h(
        "p",
        { class: "meta" },
        h("span", {}, `by ${row.created_by}, ${when(row.created_at)}`),
        removed ? h("span", {}, `removed by ${row.removed_by}, ${when(row.removed_at)}`) : null,
      ),
      removed
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "quiet",
              "aria-label": `Remove “${row.question}”`,
              onclick: (e) => untaught(row, e.currentTarget),
            },
            "Remove",
          ),
    );
  }

  async function loadTaught() {
    const list = $("taught");
    try {
      const data = await api("/api/staff/taught");
      const rows = [...data.taught].reverse(); // newest first
      list.replaceChildren(...rows.map(taughtNode));
      if (!rows.length) list.append(h("li", { class: "empty" }, "Nothing taught yet."));
    } catch (error) {
      say(error.message);
    }
  }

  loadQuestions();
  loadNotHelpful();
  loadTaught();
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) {
    box.value = initial;
    search();
  }
})();
