// Review page behaviour. Loaded as a file: the Content-Security-Policy allows no inline script.
"use strict";

// Everything that has its own meaning for a key: Enter on "Pause for today" pauses, Enter on a
// link follows it, letters type into a field. A shortcut never fires while focus is on one of
// these, so a shortcut can never do something other than what the focused element says.
const CONTROLS = [
  "a[href]",
  "area[href]",
  "button",
  "input",
  "select",
  "textarea",
  "summary",
  "iframe",
  "dialog",
  '[contenteditable]:not([contenteditable="false"])',
  '[role="button"]',
  '[role="link"]',
  '[role="checkbox"]',
  '[role="radio"]',
  '[role="textbox"]',
  '[role="combobox"]',
  '[role="listbox"]',
  '[role="option"]',
  '[role="menuitem"]',
  '[role="tab"]',
  '[role="switch"]',
  '[role="slider"]',
].join(", ");

const TEXT_FIELDS = 'textarea, select, [contenteditable]:not([contenteditable="false"]), input:not([type]), input[type="text"], input[type="search"], input[type="email"], input[type="number"], input[type="url"], input[type="password"]';

// Where a key event happened, as far as shortcuts are concerned:
//   "page"   - nothing in particular has focus (the body or plain text);
//   "choice" - a rating or topic choice inside the answer form (these have no meaning for
//              letters, digits or Enter, so the shortcuts work there too);
//   "field"  - a text field inside the answer form (only Ctrl+Enter is taken there);
//   null     - any other control: the key is left alone.
function keyTarget(event, answers) {
  const target = event.target instanceof Element ? event.target : null;
  if (!target || target === document.body || target === document.documentElement) return "page";
  const control = target.closest(CONTROLS);
  if (!control) return "page";
  if (!answers || !answers.contains(control)) return null;
  if (control.matches('input[type="radio"], input[type="checkbox"]')) return "choice";
  if (control.matches(TEXT_FIELDS)) return "field";
  return null;
}

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

  let submitting = false;
  const submit = () => {
    if (submitting) return;
    submitting = true;
    form.requestSubmit();
    // A submit the browser refused (a field invalid) can be tried again.
    setTimeout(() => (submitting = false), 1000);
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const where = keyTarget(event, form);
    if (where === null) return;
    if (event.key === "Enter" && event.ctrlKey && !event.altKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault();
      submit();
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (where === "field") {
      // Enter in the one-line domain field would submit the form half-filled: Ctrl+Enter does.
      if (event.key === "Enter" && event.target.matches("input")) event.preventDefault();
      return;
    }
    if (/^[0-4]$/.test(event.key)) {
      const radio = form.querySelector(`input[name="rating"][value="${event.key}"]`);
      if (radio) {
        radio.checked = true;
        radio.focus();
        event.preventDefault();
      }
    } else if (event.key === "Enter" && where === "choice") {
      // Plain Enter submits only from a rating or topic choice inside the form.
      event.preventDefault();
      submit();
    }
  });
});
