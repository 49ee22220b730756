// The review page: show the company search only for "Same as another company…".
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.body.classList.add("js-ready");
  for (const picker of document.querySelectorAll(".company-picker")) {
    const select = document.getElementById(picker.dataset.for);
    if (!select) continue;
    const sync = () => { picker.hidden = select.value !== "other"; };
    select.addEventListener("change", sync);
    sync();
  }
});
