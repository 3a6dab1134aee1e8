// A starting study's progress bar. Loaded as a file: the Content-Security-Policy allows no inline
// script. Without script the page shows the progress as of its loading, and a reload updates it;
// this only polls the study's start-progress JSON and reloads the page once the study is active.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const boxes = document.querySelectorAll("[data-start-progress]");
  if (!boxes.length) return;
  const number = new Intl.NumberFormat("en-US");
  const poll = (box) => {
    fetch(box.dataset.startProgress, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((progress) => {
        if (progress.status !== "starting") {
          window.location.reload();
          return;
        }
        const bar = box.querySelector("progress");
        bar.max = Math.max(progress.total, 1);
        bar.value = progress.done;
        box.querySelector(".start-progress-text").textContent =
          `Starting: ${number.format(progress.done)} of ${number.format(progress.total)} items ready`;
        setTimeout(() => poll(box), 1500);
      })
      // A failed poll (a restart, a lost connection) tries again later, less often.
      .catch(() => setTimeout(() => poll(box), 5000));
  };
  boxes.forEach((box) => setTimeout(() => poll(box), 1000));
});
