/* The chat: asks the API, shows the conversation, suggests questions while typing, sends
   feedback, keeps the conversation in sessionStorage. Shared by the chat page (page.js) and
   the widget (GET /widget.js bundles this file with widget.js).
   Every visitor or passage string goes into the page as text (textContent, text nodes),
   never as HTML. */
const FaqChat = (() => {
  "use strict";

  const MAX_HISTORY = 10;
  const MAX_TURNS = 40;
  const SUGGEST_DELAY_MS = 120;

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

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  /** A regular expression finding the terms as whole words, in any case. */
  function termsPattern(terms) {
    const words = [...new Set((terms || []).filter((t) => t && t.trim()))];
    if (!words.length) return null;
    words.sort((a, b) => b.length - a.length);
    const alternatives = words.map(escapeRegExp).join("|");
    return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])`, "giu");
  }

  /** Append text to parent as text nodes, wrapping each term in a <mark>. */
  function appendMarked(parent, text, pattern) {
    if (!text) return;
    if (!pattern) {
      parent.append(text);
      return;
    }
    let start = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > start) parent.append(text.slice(start, match.index));
      parent.append(h("mark", {}, match[0]));
      start = match.index + match[0].length;
    }
    if (start < text.length) parent.append(text.slice(start));
  }

  /** The passage, its best sentence in <strong class="best">, the visitor's words marked. */
  function passageNode(answer) {
    const p = h("p", { class: "passage" });
    const text = answer.text || "";
    const highlight = answer.highlight || "";
    const pattern = termsPattern(answer.matched_terms);
    const at = highlight ? text.indexOf(highlight) : -1;
    if (at < 0) {
      appendMarked(p, text, pattern);
      return p;
    }
    appendMarked(p, text.slice(0, at), pattern);
    const best = h("strong", { class: "best" });
    appendMarked(best, highlight, pattern);
    p.append(best);
    appendMarked(p, text.slice(at + highlight.length), pattern);
    return p;
  }

  /** A quiet hint of how sure the answer is (the same words as the server's confidence_hint). */
  function confidenceHint(confidence) {
    const percent = Math.round(confidence * 100);
    if (confidence >= 0.8) return `Confident (${percent}%)`;
    if (confidence >= 0.6) return `Fairly confident (${percent}%)`;
    return `Not entirely sure (${percent}%)`;
  }

  /** The chat's markup, as web/templates/index.html renders it (for the widget). */
  function build({ title, starters, lede }) {
    const starterList = h("ul", { class: "suggestions" });
    for (const question of starters || []) {
      starterList.append(h("li", {}, h("button", { type: "button", class: "suggestion" }, question)));
    }
    return h(
      "div",
      { class: "chat" },
      h(
        "div",
        { class: "scroller" },
        lede ? h("p", { class: "lede" }, lede) : null,
        h("section", { class: "log", "aria-live": "polite", "aria-label": "Conversation" }),
        h(
          "section",
          { class: "starters", "aria-labelledby": "starters-title" },
          h("h2", { id: "starters-title" }, "Try asking"),
          starterList,
        ),
      ),
      h(
        "form",
        { id: "ask", class: "ask-form", method: "post", action: "#", "data-server-turns": "0" },
        h(
          "div",
          { class: "chip", hidden: true },
          h("span", { class: "chip-text" }),
          h("button", { type: "button", class: "chip-clear", "aria-label": "Forget this topic" }, "×"),
        ),
        h("label", { for: "question" }, `Your question about ${title}`),
        h(
          "div",
          { class: "field" },
          h("textarea", {
            id: "question",
            name: "question",
            rows: "1",
            maxlength: "1000",
            required: true,
            autocomplete: "off",
            "aria-describedby": "question-hint",
            placeholder: "Ask a question",
          }),
          h("ul", {
            class: "listbox",
            id: "question-suggestions",
            role: "listbox",
            "aria-label": "Suggested questions",
            hidden: true,
          }),
          h("button", { type: "submit", class: "send" }, "Ask"),
        ),
        h("p", { class: "hint", id: "question-hint" }, "Enter sends · Shift+Enter adds a new line"),
      ),
    );
  }

  /** The parts of a chat (server-rendered or built) that the behaviour needs. */
  function partsOf(root) {
    const q = (selector) => root.querySelector(selector);
    return {
      root,
      log: q(".log"),
      form: q(".ask-form"),
      input: q("textarea"),
      listbox: q(".listbox"),
      chip: q(".chip"),
      chipText: q(".chip-text"),
      chipClear: q(".chip-clear"),
      clear: q(".clear"),
      starters: q(".starters"),
    };
  }

  /**
   * Bring a chat to life.
   * options.base: URL the API paths resolve against; options.storageKey: sessionStorage key;
   * options.linkTarget: "_blank" to open sources in a new tab (the widget);
   * options.scroller: the element that scrolls the conversation (else the window).
   */
  function start(parts, options) {
    const { log, form, input, listbox, chip, chipText, chipClear, starters } = parts;
    const base = options.base;
    const api = (path) => new URL(path, base).href;
    const link = (url) => new URL(url, base).href;
    let state = load();
    let busy = false;

    // ------------------------------------------------------------ storage

    function load() {
      try {
        const saved = JSON.parse(sessionStorage.getItem(options.storageKey) || "null");
        if (saved && Array.isArray(saved.turns)) {
          const turns = saved.turns.filter((t) => t && typeof t.q === "string" && t.reply);
          return { turns, from: Math.min(Number(saved.from) || 0, turns.length) };
        }
      } catch (err) {
        /* storage disabled or unreadable: start afresh */
      }
      return { turns: [], from: 0 };
    }

    function save() {
      try {
        if (state.turns.length > MAX_TURNS) {
          const drop = state.turns.length - MAX_TURNS;
          state.turns.splice(0, drop);
          state.from = Math.max(0, state.from - drop);
        }
        if (state.turns.length) sessionStorage.setItem(options.storageKey, JSON.stringify(state));
        else sessionStorage.removeItem(options.storageKey);
      } catch (err) {
        /* storage full or disabled: the conversation just won't survive a reload */
      }
    }

    function history() {
      return state.turns.slice(state.from).map((t) => t.q).slice(-MAX_HISTORY);
    }

    // ------------------------------------------------------------ rendering

    function userNode(question) {
      return h("div", { class: "turn user" }, h("p", { class: "bubble" }, question));
    }

    function sourceNode(answer) {
      const attrs = { href: link(answer.url) };
      if (options.linkTarget) Object.assign(attrs, { target: options.linkTarget, rel: "noopener" });
      return h("span", { class: "source" }, "Source: ", h("a", attrs, answer.document));
    }

    function suggestionList(questions) {
      return h(
        "ul",
        { class: "suggestions" },
        questions.map((question) =>
          h("li", {}, h("button", { type: "button", class: "suggestion", onclick: () => ask(question) }, question)),
        ),
      );
    }

    function feedbackNode(turn) {
      if (turn.feedback === true || turn.feedback === false) {
        return h("p", { class: "feedback thanks", tabindex: "-1" }, thanksText(turn.feedback));
      }
      const status = h("span", { class: "failed" });
      const group = h("div", { class: "feedback", role: "group", "aria-label": "Was this answer helpful?" });
      const buttons = [true, false].map((helpful) =>
        h("button", { type: "button", onclick: () => sendFeedback(turn, helpful, group, buttons, status) }, helpful ? "Yes" : "No"),
      );
      group.append(h("span", { "aria-hidden": "true" }, "Helpful?"), ...buttons, status);
      return group;
    }

    function thanksText(helpful) {
      return helpful ? "Thanks for the feedback — glad it helped." : "Thanks for the feedback — it helps us improve.";
    }

    function answerNode(turn) {
      const reply = turn.reply;
      if (!reply.answered || !reply.answers.length) {
        const card = h("article", { class: "answer no-answer", "aria-label": "No answer" });
        card.append(h("p", { class: "message" }, reply.message || "The article doesn't seem to answer that."));
        if (reply.suggestions && reply.suggestions.length) {
          card.append(h("p", { class: "you-could" }, "You could ask:"), suggestionList(reply.suggestions));
        }
        return h("div", { class: "turn bot" }, card);
      }
      const [best, ...others] = reply.answers;
      const card = h(
        "article",
        { class: "answer", "aria-label": "Answer" },
        passageNode(best),
        h("p", { class: "meta" }, sourceNode(best), h("span", { class: "confidence" }, confidenceHint(reply.confidence))),
      );
      if (others.length) {
        card.append(
          h(
            "details",
            { class: "others" },
            h("summary", {}, `Other answers (${others.length})`),
            others.map((other) => h("div", { class: "other" }, passageNode(other), h("p", { class: "meta" }, sourceNode(other)))),
          ),
        );
      }
      card.append(feedbackNode(turn));
      return h("div", { class: "turn bot" }, card);
    }

    function failedNode(question, message, userBubble) {
      const node = h("div", { class: "turn bot" });
      const retry = h("button", { type: "button", class: "suggestion" }, "Try again");
      retry.addEventListener("click", () => {
        userBubble.remove();
        node.remove();
        updateChrome();
        ask(question);
      });
      node.append(h("p", { class: "answer failed", role: "alert" }, message, retry));
      return node;
    }

    function scrollTo(node) {
      const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
      if (options.scroller) {
        options.scroller.scrollTo({ top: node.offsetTop - options.scroller.offsetTop - 8, behavior: smooth ? "smooth" : "auto" });
      } else {
        node.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
      }
    }

    function renderAll() {
      // restoring a conversation is not news: keep the live region quiet meanwhile
      log.setAttribute("aria-live", "off");
      log.replaceChildren(...state.turns.flatMap((turn) => [userNode(turn.q), answerNode(turn)]));
      requestAnimationFrame(() => log.setAttribute("aria-live", "polite"));
      updateChrome();
    }

    function updateChrome() {
      const last = state.turns.length > state.from ? state.turns[state.turns.length - 1] : null;
      const topic = last && last.reply.context;
      chip.hidden = !topic;
      chipText.textContent = topic ? `About: ${topic}` : "";
      if (starters) starters.hidden = log.children.length > 0;
      if (parts.clear) parts.clear.hidden = log.children.length === 0;
    }

    // ------------------------------------------------------------ talking to the API

    async function errorMessage(response) {
      if (response.status === 429) return "You're asking quickly — please wait a moment and try again.";
      try {
        const body = await response.json();
        if (response.status === 422 && body.message) return `That question can't be asked: ${body.message}.`;
      } catch (err) {
        /* not JSON */
      }
      return "Sorry, something went wrong. Please try again.";
    }

    async function postJSON(path, body) {
      return fetch(api(path), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    }

    async function ask(text) {
      const question = (text || "").trim();
      if (!question || busy) return;
      busy = true;
      closeSuggestions();
      const turn = { q: question, reply: null, feedback: null };
      const asked = history();
      const bubble = userNode(question);
      const pending = h("div", { class: "turn bot pending" }, h("p", { class: "typing" }, "Looking in the article"));
      log.append(bubble, pending);
      updateChrome();
      input.value = "";
      input.focus();
      scrollTo(bubble);
      try {
        const response = await postJSON("api/ask", { question, history: asked, top_k: 3 });
        if (!response.ok) {
          pending.replaceWith(failedNode(question, await errorMessage(response), bubble));
          return;
        }
        turn.reply = await response.json();
        state.turns.push(turn);
        save();
        const answer = answerNode(turn);
        pending.replaceWith(answer);
        updateChrome();
        scrollTo(bubble);
      } catch (err) {
        pending.replaceWith(failedNode(question, "Couldn't reach the assistant. Check your connection and try again.", bubble));
      } finally {
        busy = false;
        updateChrome();
      }
    }

    async function sendFeedback(turn, helpful, group, buttons, status) {
      buttons.forEach((b) => (b.disabled = true));
      status.textContent = "";
      try {
        const response = await postJSON("api/feedback", { question: turn.q, answer_id: turn.reply.answers[0].id, helpful });
        if (!response.ok) throw new Error(String(response.status));
        turn.feedback = helpful;
        save();
        const thanks = feedbackNode(turn);
        group.replaceWith(thanks);
        thanks.focus();
      } catch (err) {
        buttons.forEach((b) => (b.disabled = false));
        status.textContent = "Couldn't send that — try again.";
      }
    }

    // ------------------------------------------------------------ suggestions while typing

    let suggestions = [];
    let active = -1;
    let timer = 0;
    let inflight = null;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("aria-expanded", "false");

    function closeSuggestions() {
      clearTimeout(timer);
      if (inflight) inflight.abort();
      inflight = null;
      suggestions = [];
      active = -1;
      listbox.replaceChildren();
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function showSuggestions(list) {
      // a list that arrives while the visitor moves through the last one keeps their choice
      const chosen = active >= 0 ? suggestions[active] : null;
      suggestions = list;
      active = -1;
      listbox.replaceChildren(
        ...list.map((question, i) =>
          h(
            "li",
            {
              role: "option",
              id: `${listbox.id}-${i}`,
              "aria-selected": "false",
              onmousedown: (event) => event.preventDefault(), // keep the focus in the input
              onclick: () => ask(question),
            },
            question,
          ),
        ),
      );
      listbox.hidden = list.length === 0;
      input.setAttribute("aria-expanded", String(list.length > 0));
      input.removeAttribute("aria-activedescendant");
      if (chosen !== null && list.includes(chosen)) setActive(list.indexOf(chosen));
    }

    function setActive(index) {
      active = index;
      [...listbox.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      const option = listbox.children[index];
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    async function fetchSuggestions() {
      const typed = input.value;
      const q = typed.trim();
      if (q.length < 2 || q.length > 200 || typed.includes("\n")) {
        closeSuggestions();
        return;
      }
      if (inflight) inflight.abort();
      inflight = new AbortController();
      try {
        const url = new URL(api("api/suggest"));
        url.searchParams.set("q", q);
        const response = await fetch(url, { signal: inflight.signal, credentials: "omit" });
        if (!response.ok || input.value !== typed) return;
        const body = await response.json();
        const list = (body.suggestions || []).filter((s) => s.toLowerCase() !== q.toLowerCase());
        if (input.getRootNode().activeElement === input) showSuggestions(list);
      } catch (err) {
        /* aborted or offline: no suggestions */
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
    });
    input.addEventListener("blur", closeSuggestions);

    input.addEventListener("keydown", (event) => {
      const open = !listbox.hidden && suggestions.length > 0;
      if (event.key === "ArrowDown" && open) {
        event.preventDefault();
        setActive(active + 1 >= suggestions.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        setActive(active <= 0 ? suggestions.length - 1 : active - 1);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        event.stopPropagation(); // the widget closes its panel on an Escape nobody took
        closeSuggestions();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        ask(open && active >= 0 ? suggestions[active] : input.value);
      } else if (event.key === "Tab") {
        closeSuggestions();
      }
    });

    // ------------------------------------------------------------ the rest of the controls

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const submitter = event.submitter;
      ask(submitter && submitter.name === "suggestion" ? submitter.value : input.value);
    });

    if (starters) {
      starters.addEventListener("click", (event) => {
        const button = event.target.closest("button.suggestion");
        if (button && button.type === "button") ask(button.textContent);
      });
    }

    chipClear.addEventListener("click", () => {
      state.from = state.turns.length;
      save();
      updateChrome();
      input.focus();
    });

    function clear() {
      closeSuggestions();
      state = { turns: [], from: 0 };
      save();
      renderAll();
      input.focus();
    }
    if (parts.clear) parts.clear.addEventListener("click", clear);

    renderAll();
    return { ask, clear };
  }

  return { build, partsOf, start };
})();
