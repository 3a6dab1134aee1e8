// Review page behaviour. Loaded as a file: the Content-Security-Policy allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("review-form");
  if (!form) return;

  // At most two topics: once two are ticked, the others are disabled (the server checks too).
  const tagBox = form.querySelector(".tags");
  const limit = Number(tagBox.dataset.max || 2);
  const tagInputs = Array.from(tagBox.querySelectorAll('input[type="checkbox"]'));
  const note = document.getElementById("tag-limit");
  const enforceLimit = () => {
    const chosen = tagInputs.filter((input) => input.checked).length;
    for (const input of tagInputs) input.disabled = !input.checked && chosen >= limit;
    note.textContent = chosen >= limit ? `${limit} topics chosen: untick one to change.` : `Choose up to ${limit}.`;
  };
  tagInputs.forEach((input) => input.addEventListener("change", enforceLimit));
  enforceLimit();

  // Keyboard: 0-4 rate, Enter submits, except while typing in a text field.
  const typing = (element) => element && (element.tagName === "TEXTAREA" || (element.tagName === "INPUT" && element.type === "text"));
  document.addEventListener("keydown", (event) => {
    if (typing(document.activeElement) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (/^[0-4]$/.test(event.key)) {
      const radio = form.querySelector(`input[name="rating"][value="${event.key}"]`);
      if (radio) {
        radio.checked = true;
        radio.focus();
        event.preventDefault();
      }
    } else if (event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
});
