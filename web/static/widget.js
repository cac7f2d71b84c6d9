/* The embeddable widget: a floating button that opens the chat in a panel. GET /widget.js
   serves this file after chat.js, inside one function, with CONFIG ({title, starters}).
   All of its DOM lives in a shadow root with its own stylesheets, so the host page's CSS
   and the widget's cannot touch each other. The API is the server the script came from. */
const script = document.currentScript;
const base = new URL(".", script && script.src ? script.src : location.href);
const TAG = "faq-assistant-widget";

function svgIcon(pathData) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

const CHAT_ICON = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z";
const CLOSE_ICON = "M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z";

function mount() {
  if (document.querySelector(TAG)) return; // the script tag was included twice
  const host = document.createElement(TAG);
  const shadow = host.attachShadow({ mode: "open" });
  const h = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    node.append(...children);
    return node;
  };

  const wrapper = h("div", { class: "widget", hidden: "" });
  let pending = 2;
  for (const name of ["chat.css", "widget.css"]) {
    const sheet = h("link", { rel: "stylesheet", href: new URL(`static/${name}`, base).href });
    // show nothing until the styles are in: an unstyled widget would break the host page
    sheet.addEventListener("load", () => {
      pending -= 1;
      if (pending === 0) wrapper.hidden = false;
    });
    shadow.append(sheet);
  }

  const title = CONFIG.title;
  const launcher = h("button", {
    type: "button",
    class: "launcher",
    "aria-expanded": "false",
    "aria-controls": "faq-panel",
    "aria-label": `Ask about “${title}”`,
  });
  launcher.append(svgIcon(CHAT_ICON));
  const closeButton = h("button", { type: "button", class: "close", "aria-label": "Close the chat" }, "×");
  const clearButton = h("button", { type: "button", class: "clear", hidden: "" }, "Clear");
  const heading = h("h2", { id: "faq-panel-title" });
  heading.textContent = `Ask about “${title}”`;
  const chatRoot = FaqChat.build({
    title,
    starters: CONFIG.starters,
    lede: "Answers come straight from the article, with a link to the passage.",
  });
  const panel = h(
    "div",
    { class: "panel", id: "faq-panel", role: "dialog", "aria-labelledby": "faq-panel-title", hidden: "" },
    h("div", { class: "panel-head" }, heading, clearButton, closeButton),
    chatRoot,
  );
  wrapper.append(panel, launcher);
  shadow.append(wrapper);

  const parts = FaqChat.partsOf(chatRoot);
  parts.clear = clearButton;
  const storageKey = `faq-assistant:widget:${base.href}`;
  FaqChat.start(parts, {
    base,
    storageKey,
    linkTarget: "_blank",
    scroller: chatRoot.querySelector(".scroller"),
  });

  function setOpen(open, focus = true) {
    panel.hidden = !open;
    wrapper.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.replaceChildren(svgIcon(open ? CLOSE_ICON : CHAT_ICON));
    launcher.setAttribute("aria-label", open ? "Close the chat" : `Ask about “${title}”`);
    try {
      sessionStorage.setItem(`${storageKey}:open`, open ? "1" : "0");
    } catch (err) {
      /* storage disabled */
    }
    if (open && focus) parts.input.focus();
  }
  launcher.addEventListener("click", () => setOpen(panel.hidden));
  closeButton.addEventListener("click", () => {
    setOpen(false);
    launcher.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      launcher.focus();
    }
  });

  document.body.append(host);
  let reopen = false;
  try {
    reopen = sessionStorage.getItem(`${storageKey}:open`) === "1";
  } catch (err) {
    /* storage disabled */
  }
  if (reopen) setOpen(true, false);
}

if (document.body) mount();
else document.addEventListener("DOMContentLoaded", mount);
