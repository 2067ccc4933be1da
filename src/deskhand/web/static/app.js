/* deskhand: keyboard for the approval queue (j/k move, a approve, e edit, r reject), the queue's
   count kept true as drafts are decided or arrive, expiry warnings, and open details kept open
   while a ticket page updates itself. */
(function () {
  "use strict";

  var SOON_MS = 2 * 3600 * 1000; // a draft expiring within two hours is marked

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
      if (event.key === "Escape") {
        typing.blur();
        focusDraft(typing.closest("article.draft"));
      }
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

  /* "N drafts waiting": one less per decision, one more per draft that arrives. */
  function count(change) {
    var shown = document.getElementById("waiting-count");
    if (!shown) return;
    var n = Math.max(0, Number(shown.dataset.count) + change);
    shown.dataset.count = String(n);
    var noun = shown.dataset.noun || "draft"; // the plan queue counts plans
    shown.textContent = n + " " + noun + (n === 1 ? "" : "s") + " waiting";
    var empty = document.getElementById("empty");
    if (empty && n > 0) empty.hidden = true;
  }

  /* Rejecting one draft escalates its run: the run's other drafts are withdrawn with it. */
  function withdrawSiblings(decided) {
    var run = decided.dataset.runId;
    drafts().forEach(function (d) {
      if (d === decided || d.dataset.runId !== run) return;
      if (d.classList.contains("decided") || d.classList.contains("withdrawn")) return;
      d.classList.add("withdrawn");
      d.querySelectorAll("[data-key]").forEach(function (k) { k.removeAttribute("data-key"); });
      var note = document.createElement("p");
      note.className = "withdrawn-note";
      var what = d.querySelector("h3");
      note.textContent = "Withdrawn: " + (what ? what.textContent + ". " : "") + "Draft #" +
        decided.dataset.draftId + " of the same ticket was rejected, so nothing of this plan runs.";
      d.appendChild(note);
      count(-1);
    });
  }

  /* After a draft is decided, carry on with the next undecided one. Settled, not swapped:
     until htmx settles, the new element still wears the old one's attributes. */
  document.addEventListener("htmx:afterSettle", function (event) {
    // An outerHTML swap replaces the target: find its successor by the id they share.
    var target = event.detail.target;
    var swapped = target && target.id ? document.getElementById(target.id) : null;
    if (!swapped || !swapped.matches("article.draft.decided")) return;
    count(-1);
    if (swapped.dataset.verb === "rejected") withdrawSiblings(swapped);
    var list = drafts().filter(function (d) {
      return !d.classList.contains("decided") && !d.classList.contains("withdrawn");
    });
    var after = list.find(function (d) {
      return swapped.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    focusDraft(after || list[list.length - 1]);
  });

  /* The queue's order: riskiest first, then oldest (as the server sorts it). */
  var RISKS = ["destructive", "security", "billing", "external_communication", "internal", "read"];
  function risk(card) {
    var found = RISKS.findIndex(function (r) { return card.classList.contains("radius-" + r); });
    return found < 0 ? RISKS.length : found;
  }

  /* An arrival goes where a reload would put it: after the drafts as risky as it (they are
     older), before the first less risky one. */
  function place(list, card) {
    var before = Array.from(list.querySelectorAll(":scope > article.draft")).find(function (d) {
      return d !== card && !d.classList.contains("decided") && risk(d) > risk(card);
    });
    if (before && card.nextElementSibling !== before) list.insertBefore(card, before);
  }

  /* Drafts the poller appends (a decided draft replacing its card is no arrival). */
  function watchArrivals() {
    var list = document.getElementById("drafts");
    if (!list) return;
    var known = new Set(drafts().map(function (d) { return d.id; }));
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (!node.matches || !node.matches("article.draft") || known.has(node.id)) return;
          known.add(node.id);
          node.classList.add("arrived");
          count(1);
          place(list, node);
        });
      });
    }).observe(list, { childList: true });
  }
  document.addEventListener("DOMContentLoaded", watchArrivals);

  function markExpiring(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("time.expires[datetime]").forEach(function (t) {
      var left = Date.parse(t.getAttribute("datetime")) - Date.now();
      t.classList.toggle("soon", left < SOON_MS);
    });
  }
  document.addEventListener("htmx:load", function (event) { markExpiring(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { markExpiring(document); });

  /* The ticket page redraws itself every few seconds: keep what the reader opened open. */
  var opened = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "ticket-live") return;
    opened = Array.from(event.detail.target.querySelectorAll("details[open][id]")).map(
      function (d) { return d.id; }
    );
  });
  document.addEventListener("htmx:afterSettle", function () {
    opened.forEach(function (id) {
      var again = document.getElementById(id);
      if (again) again.open = true;
    });
    opened = [];
  });

  /* A link to a place on a page (/plans?tenant=x#plan-6, from a notification) keeps its place
     through the sign-in form: the server never sees the part after #, so the form is told. */
  document.addEventListener("DOMContentLoaded", function () {
    var next = document.querySelector("form[action='/login'] input[name='next']");
    if (next && /^#[A-Za-z0-9_-]{1,64}$/.test(location.hash)) next.value += location.hash;
  });
})();
