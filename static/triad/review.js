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
  // A control in a closed dialog can still hold the focus until the dialog's close event has
  // run; it can no longer be pressed, so the key is the page's.
  if (target.closest("dialog:not([open])")) return "page";
  const control = target.closest(CONTROLS);
  if (!control) return "page";
  if (!answers || !answers.contains(control)) return null;
  if (control.matches('input[type="radio"], input[type="checkbox"]')) return "choice";
  if (control.matches(TEXT_FIELDS)) return "field";
  return null;
}

// A letter for each topic, so "T" then one letter ticks it: the first letter of one of its words
// not taken by an earlier topic, else any free letter. The topics' order is fixed, so the letters
// are the same on every page.
function topicLetters(names) {
  const taken = new Set();
  return names.map((name) => {
    const initials = name.toLowerCase().match(/\b[a-z]/g) || [];
    const letters = name.toLowerCase().match(/[a-z]/g) || [];
    const pick = [...initials, ...letters, ..."abcdefghijklmnopqrstuvwxyz"].find((letter) => !taken.has(letter));
    taken.add(pick);
    return pick;
  });
}

function setUpHelp() {
  const help = document.getElementById("keys-help");
  if (!help) return () => {};
  const close = document.getElementById("keys-help-close");
  close.addEventListener("click", () => help.close());
  // Closing gives the focus back to where it was, the page itself included: left on the hidden
  // Close button, it would swallow the next shortcut.
  let before = null;
  const open = () => {
    if (help.open) return;
    before = document.activeElement;
    help.showModal();
  };
  help.addEventListener("close", () => {
    if (before && before !== document.body && before.isConnected) before.focus();
    else if (help.contains(document.activeElement)) document.activeElement.blur();
  });
  const opener = document.getElementById("keys-help-open");
  if (opener) opener.addEventListener("click", open);
  return open;
}

// The preview: Enter or C continues, S goes to the skip reason (Enter there skips), R reveals.
function previewKeys() {
  const go = document.getElementById("continue");
  const reveal = document.getElementById("reveal-preview");
  const text = document.getElementById("preview-text");
  const showText = () => text.setAttribute("aria-hidden", reveal.checked ? "false" : "true");
  reveal.addEventListener("change", showText);
  showText();
  return (event) => {
    const key = event.key.toLowerCase();
    if (key === "enter" || key === "c") {
      window.location.assign(go.href);
      return true;
    }
    if (key === "r") {
      reveal.checked = !reveal.checked;
      reveal.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    }
    return false;
  };
}

// The review form: 0-4 rate, T then a letter ticks a topic, E expertise, N note, Ctrl+Enter submits.
function reviewKeys(form) {
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

  const names = tagInputs.map((input) => input.parentElement.textContent.trim());
  const letters = topicLetters(names);
  const byLetter = new Map();
  tagInputs.forEach((input, index) => {
    byLetter.set(letters[index], input);
    const hint = document.createElement("kbd");
    hint.className = "key-hint topic-key";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = letters[index];
    input.after(" ", hint);
  });
  const status = document.getElementById("keys-status");
  let picking = false;
  const pick = (on) => {
    picking = on;
    tagBox.classList.toggle("picking", on);
    status.textContent = on ? "Topic: press its letter, or Escape." : "";
  };

  // "/" finds a topic by typing: every typed word starts a word of the topic's name.
  const filterBox = document.getElementById("topic-filter-box");
  const filter = document.getElementById("topic-filter");
  const labels = tagInputs.map((input) => input.closest("label"));
  const words = names.map((name) => name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean));
  let active = 0;
  const shown = () => tagInputs.filter((_, index) => !labels[index].hidden);
  const mark = () => {
    const matches = shown();
    labels.forEach((label) => label.classList.remove("active"));
    if (!filter.value.trim()) {
      status.textContent = "";
      return;
    }
    const current = matches[active];
    if (current) current.closest("label").classList.add("active");
    status.textContent = current
      ? `${matches.length} matching; Enter ticks or unticks: ${names[tagInputs.indexOf(current)]}.`
      : "No topic matches.";
  };
  const applyFilter = () => {
    const typed = filter.value.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    labels.forEach((label, index) => {
      label.hidden = !typed.every((part) => words[index].some((word) => word.startsWith(part)));
    });
    active = 0;
    mark();
  };
  filterBox.hidden = false;
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    const matches = shown();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (matches.length) active = (active + (event.key === "ArrowDown" ? 1 : -1) + matches.length) % matches.length;
      mark();
    } else if (event.key === "Enter") {
      // Enter here picks the highlighted topic; it never submits the half-done form.
      event.preventDefault();
      const input = filter.value.trim() ? matches[active] : null;
      if (!input) return;
      if (input.disabled) {
        status.textContent = `${limit} topics chosen: untick one first.`;
        return;
      }
      input.checked = !input.checked;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      filter.value = "";
      applyFilter();
      status.textContent = `${input.checked ? "Ticked" : "Unticked"}: ${names[tagInputs.indexOf(input)]}.`;
    } else if (event.key === "Escape") {
      event.preventDefault();
      filter.value = "";
      applyFilter();
      filter.blur();
    }
  });

  let submitting = false;
  const submit = () => {
    if (submitting) return;
    submitting = true;
    form.requestSubmit();
    // A submit the browser refused (a field invalid) can be tried again.
    setTimeout(() => (submitting = false), 1000);
  };
  const expertise = form.querySelector('input[name="needs_expertise"]');
  const domain = form.querySelector('select[name="expertise_tag"]');
  const noteField = form.querySelector('textarea[name="note"]');

  return (event, where) => {
    const key = event.key.toLowerCase();
    if (key === "enter" && event.ctrlKey) {
      pick(false);
      submit();
      return true;
    }
    if (picking) {
      pick(false);
      const input = byLetter.get(key);
      if (input) {
        if (input.disabled) {
          note.textContent = `${limit} topics chosen: untick one first.`;
        } else {
          input.checked = !input.checked;
          input.dispatchEvent(new Event("change", { bubbles: true }));
          input.focus();
        }
        return true;
      }
      if (key === "escape" || key.length === 1) return true;
    }
    if (/^[0-4]$/.test(key)) {
      const radio = form.querySelector(`input[name="rating"][value="${key}"]`);
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
      radio.focus();
      return true;
    }
    if (key === "enter") {
      // Plain Enter submits only from a rating or topic choice inside the form.
      if (where !== "choice") return false;
      submit();
      return true;
    }
    if (key === "t") {
      pick(true);
      return true;
    }
    if (key === "/") {
      filter.focus();
      return true;
    }
    if (key === "e") {
      expertise.checked = !expertise.checked;
      expertise.dispatchEvent(new Event("change", { bubbles: true }));
      (expertise.checked ? domain : expertise).focus();
      return true;
    }
    if (key === "n") {
      noteField.focus();
      return true;
    }
    return false;
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("review-form");
  const onPreview = Boolean(document.getElementById("continue"));
  if (!form && !onPreview) return;
  const showHelp = setUpHelp();
  const pageKeys = form ? reviewKeys(form) : previewKeys();
  const skipReason = document.querySelector(".skip-form input[name='reason']");
  // The "Saved" notice's Undo, when the last submit put one on this page.
  const undo = document.getElementById("undo-review");

  // The one key handler of the reviewer pages.
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const where = keyTarget(event, form);
    if (where === null) return;
    // Ctrl+Enter is the one chord taken: it submits, also from the note.
    const submitChord = event.key === "Enter" && event.ctrlKey && !event.altKey && !event.metaKey && !event.shiftKey;
    if (submitChord) {
      if (form && pageKeys(event, where)) event.preventDefault();
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (where === "field") {
      // Enter in the one-line domain field would submit the form half-filled: Ctrl+Enter does.
      if (event.key === "Enter" && event.target.matches("input")) event.preventDefault();
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      showHelp();
      return;
    }
    if (event.key.toLowerCase() === "u" && undo) {
      event.preventDefault();
      undo.click();
      return;
    }
    if (event.key.toLowerCase() === "s" && skipReason) {
      // To the skip reason, not straight to a skip: Enter there skips, with or without a reason.
      event.preventDefault();
      skipReason.focus();
      return;
    }
    if (pageKeys(event, where)) event.preventDefault();
  });
});
