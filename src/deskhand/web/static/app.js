/* deskhand: keyboard for the approval queue (j/k move, a approve, e edit, r reject). */
(function () {
  "use strict";

  function drafts() {
    return Array.from(document.querySelectorAll("article.draft"));
  }

  function current() {
    var focused = document.activeElement && document.activeElement.closest("article.draft");
    return focused || null;
  }

  function focusDraft(draft) {
    if (!draft) return;
    draft.focus({ preventScroll: true });
    draft.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape") typing.blur();
      return;
    }
    var list = drafts();
    if (!list.length) return;
    var draft = current();
    var index = draft ? list.indexOf(draft) : -1;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var next = event.key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      focusDraft(list[next]);
      return;
    }
    var target = (draft || list[0]).querySelector('[data-key="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.matches("input")) target.focus();
    else target.click();
  });

  /* After a draft is decided, carry on with the next undecided one. */
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.elt;
    if (!swapped || !swapped.matches || !swapped.matches("article.draft.decided")) return;
    var list = drafts().filter(function (d) { return !d.classList.contains("decided"); });
    var after = list.find(function (d) {
      return swapped.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    focusDraft(after || list[list.length - 1]);
  });
})();
