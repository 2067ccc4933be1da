/* deskhand: the analysis upload form — refuse files over the limit before sending them, and
   show how much of the upload has gone. */
(function () {
  "use strict";

  function tooLarge(form) {
    var limit = Number(form.dataset.maxBytes || 0);
    var input = form.querySelector('input[type="file"]');
    if (!limit || !input || !input.files) return false;
    var total = 0;
    for (var i = 0; i < input.files.length; i++) total += input.files[i].size;
    var problem = form.querySelector("#upload-problem");
    if (total <= limit) {
      if (problem) problem.hidden = true;
      return false;
    }
    if (problem) {
      problem.textContent = "These files are larger than the limit of " + form.dataset.maxWords +
        ". Upload the export as .csv.gz, or split it into shorter periods.";
      problem.hidden = false;
    }
    return true;
  }

  /* Capture phase: runs before htmx's own submit handler on the form. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.analysis-upload")) return;
    if (tooLarge(form)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form.analysis-upload")) return;
    if (tooLarge(form)) {
      event.preventDefault();
      return;
    }
    var box = form.querySelector(".upload-progress");
    if (box) box.hidden = false;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.analysis-upload")) return;
    var bar = form.querySelector("#upload-progress");
    var text = form.querySelector("#upload-progress-text");
    if (!bar || !event.detail.total) return;
    var percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    bar.value = percent;
    if (text) text.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Uploaded; starting the analysis…";
  });
})();
