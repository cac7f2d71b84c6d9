/* The article page: a source link's passage (the URL's #fragment) gets the focus, so that
   keyboard and screen-reader users land on it too; CSS (:target) highlights it. */
(() => {
  "use strict";
  function focusTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    const passage = id && document.getElementById(id);
    if (passage) passage.focus({ preventScroll: false });
  }
  focusTarget();
  window.addEventListener("hashchange", focusTarget);
})();
