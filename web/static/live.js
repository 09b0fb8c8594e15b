// Live updates (web/html/live.py): the header's unread count, and new replies
// on a thread page. Everything here is extra: without it the count is in the
// page and a reload shows new replies. It never moves the focus.
(function () {
  "use strict";
  var url = document.body && document.body.getAttribute("data-live-url");
  if (!url || !window.EventSource) return;
  var source = null;

  function showUnread(data) {
    document.querySelectorAll("[data-unread-count]").forEach(function (badge) {
      badge.textContent = String(data.count);
      badge.hidden = !data.count;
    });
    document.querySelectorAll("[data-unread-label]").forEach(function (label) {
      label.textContent = data.label;
    });
  }

  function shownReplies() {
    var section = document.querySelector("section.replies[data-replies]");
    return section ? Number(section.getAttribute("data-replies")) : null;
  }

  function showThread(data) {
    var notice = document.querySelector("[data-live-thread]");
    var shown = shownReplies();
    if (!notice || shown === null || data.replies <= shown) return;
    var button = notice.querySelector("[data-live-load]");
    var status = notice.querySelector("[data-live-status]");
    notice.setAttribute("data-latest", String(data.replies));
    if (button.hidden) {
      button.hidden = false;
      status.textContent = notice.getAttribute("data-new-text"); // said once, politely
    }
  }

  // The replies of this page, fetched again and put in place of the old ones;
  // the rest of the page (a reply being written, say) stays as it is.
  var loading = false;
  function loadReplies(button) {
    if (loading) return;
    loading = true;
    var notice = button.closest("[data-live-thread]");
    var status = notice.querySelector("[data-live-status]");
    fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("section.replies");
        var old = document.querySelector("section.replies");
        if (!fresh || !old) throw new Error("no replies on the page");
        old.replaceWith(document.importNode(fresh, true));
        status.textContent = notice.getAttribute("data-shown-text");
        if (document.activeElement !== button) button.hidden = true; // else when the focus leaves it
      })
      .catch(function () {
        status.textContent = notice.getAttribute("data-failed-text");
      })
      .finally(function () {
        loading = false;
      });
  }

  function open() {
    if (source) return;
    source = new EventSource(url);
    source.addEventListener("unread", function (event) { showUnread(JSON.parse(event.data)); });
    source.addEventListener("thread", function (event) { showThread(JSON.parse(event.data)); });
  }

  function close() {
    if (source) source.close();
    source = null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-live-load]");
    if (button) loadReplies(button);
  });
  document.addEventListener("focusout", function (event) {
    var button = event.target;
    if (!button.matches || !button.matches("[data-live-load]") || loading) return;
    var notice = button.closest("[data-live-thread]");
    if (shownReplies() >= Number(notice.getAttribute("data-latest") || 0)) button.hidden = true;
  });
  // An open stream keeps a page out of the back-forward cache: close it when leaving.
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", open);
  open();
})();
