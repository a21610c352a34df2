// Progress bars of background jobs (jobs/progress.html): each polls its job's
// progress URL every second until the job is finished, then reloads the page if asked
// (so that what the job produced is shown), or shows the final status.
(function () {
  "use strict";
  if (window.enpycoJobProgress) {
    window.enpycoJobProgress.scan();
    return;
  }
  var watched = new WeakSet();

  function render(element, data) {
    var bar = element.querySelector("progress");
    var label = element.querySelector(".job-progress-label");
    element.dataset.jobStatus = data.status;
    if (bar) {
      if (data.percent === null) {
        bar.removeAttribute("value");
      } else {
        bar.value = data.percent;
      }
      bar.hidden = data.finished;
    }
    if (label) {
      var text = data.status_label;
      if (!data.finished && data.total) {
        text += " \u2014 " + data.done + " / " + data.total;
      }
      if (!data.finished && data.message) {
        text += " (" + data.message + ")";
      }
      label.textContent = text;
    }
    if (data.status === "failed" && data.error && !element.querySelector(".job-progress-error")) {
      var error = document.createElement("span");
      error.className = "job-progress-error errornote";
      error.style.display = "block";
      error.textContent = data.error;
      element.appendChild(error);
    }
  }

  function poll(element) {
    fetch(element.dataset.jobProgress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        render(element, data);
        if (data.finished) {
          if (element.dataset.jobReload) { window.location.reload(); }
          return;
        }
        window.setTimeout(function () { poll(element); }, 1000);
      })
      .catch(function () {
        window.setTimeout(function () { poll(element); }, 5000);
      });
  }

  function scan() {
    document.querySelectorAll("[data-job-progress]").forEach(function (element) {
      var status = element.dataset.jobStatus;
      if (watched.has(element) || status === "succeeded" || status === "failed") { return; }
      watched.add(element);
      window.setTimeout(function () { poll(element); }, 1000);
    });
  }

  window.enpycoJobProgress = { scan: scan };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
