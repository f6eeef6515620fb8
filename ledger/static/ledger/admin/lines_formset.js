// Adds rows to a lines formset from its empty-form template, keeping Django's
// management form (TOTAL_FORMS) in step.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const group of document.querySelectorAll(".lines-formset")) {
    const prefix = group.dataset.prefix;
    const total = group.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
    const template = group.querySelector("template.empty-row");
    const body = group.querySelector("table.lines tbody");
    group.querySelector(".add-line").addEventListener("click", () => {
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      group.dispatchEvent(new CustomEvent("lines:added", { bubbles: true }));
    });
  }
});
