// Forms are checked by the server, which puts every message beside its field in the same words
// whatever the browser; the browser's own bubbles would show different messages, one at a time.
document.querySelectorAll("form").forEach(function (form) { form.noValidate = true; });

// Behaviour named by data attributes, not inline handlers (the Content-Security-Policy allows scripts
// from files only): a select that submits its form when changed, a button that prints the page.
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// Progress of running jobs: every element with data-job-status polls its job until it finishes.
(function () {
  "use strict";
  function poll(el) {
    var url = el.getAttribute("data-job-status");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) return;
        var bar = el.tagName === "PROGRESS" ? el : el.querySelector("progress");
        if (bar) bar.value = job.progress_percent;
        var status = el.querySelector && el.querySelector(".job-status");
        if (status) status.textContent = job.status;
        var message = el.querySelector && el.querySelector(".job-message");
        if (message) message.textContent = job.error || job.progress_message;
        if (job.finished) {
          if (el.getAttribute("data-finished") === "0") window.location.reload();
        } else {
          setTimeout(function () { poll(el); }, 1000);
        }
      })
      .catch(function () { setTimeout(function () { poll(el); }, 3000); });
  }
  document.querySelectorAll("[data-job-status]").forEach(function (el) {
    if (el.getAttribute("data-finished") !== "1") poll(el);
  });
})();
