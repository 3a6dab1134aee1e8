// Break screen countdown. Loaded as a file: the Content-Security-Policy allows no inline script.
// Without script the page still says how long the break is; this only makes the time tick.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const timer = document.getElementById("break-timer");
  if (!timer) return;
  // Counted from the server's figure, not the client's clock, which may be off.
  const endsAt = Date.now() + Number(timer.dataset.secondsLeft || 0) * 1000;
  const show = () => {
    const left = Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
    if (left === 0) {
      timer.textContent = timer.dataset.doneText;
      clearInterval(ticking);
      return;
    }
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    timer.textContent = `${minutes}:${seconds} left`;
  };
  const ticking = setInterval(show, 1000);
  show();
});
