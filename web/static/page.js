/* The chat page: the server-rendered form (which works without JavaScript) becomes a live chat. */
(() => {
  "use strict";
  const root = document.getElementById("chat");
  const form = root && root.querySelector(".ask-form");
  // A page the form posted to (JavaScript was off then) keeps working as a form.
  if (!form || form.dataset.serverTurns !== "0") return;
  FaqChat.start(FaqChat.partsOf(root), {
    base: new URL("/", location.href),
    storageKey: "faq-assistant:page",
  });
})();
