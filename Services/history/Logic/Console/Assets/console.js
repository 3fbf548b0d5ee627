// The console's live parts. The pages work without it; with it, the board follows its
// Server-Sent Events and pages marked data-refresh reload their live parts on a change.
"use strict";
(function () {
  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (element) {
      var instant = new Date(element.getAttribute("datetime"));
      if (!isNaN(instant.getTime())) {
        element.textContent = instant.toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
      }
    });
  }

  function rowFrom(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function follows(row, key, id) {
    var rowKey = Number(row.dataset.key);
    return rowKey > key || (rowKey === key && row.dataset.ticket > id);
  }

  function board(table) {
    var body = table.tBodies[0];
    var limit = Number(table.dataset.limit);
    var status = document.getElementById("live-status");
    var base = status ? status.textContent : "";
    var empty = document.getElementById("board-empty");
    function counted() { if (empty) { empty.hidden = body.rows.length > 0; } }
    function find(id) {
      for (var i = 0; i < body.rows.length; i++) { if (body.rows[i].dataset.ticket === id) { return body.rows[i]; } }
      return null;
    }
    function upsert(change) {
      var existing = find(change.id);
      if (existing) { existing.remove(); }
      var before = null;
      for (var i = 0; i < body.rows.length; i++) {
        if (follows(body.rows[i], change.key, change.id)) { before = body.rows[i]; break; }
      }
      // A row past the end of a full page belongs to a later page.
      if (!before && table.dataset.more === "true" && body.rows.length >= limit) { return; }
      var row = rowFrom(change.html);
      row.dataset.seen = String(Date.now());
      body.insertBefore(row, before);
      localTimes(row);
      if (body.rows.length > limit) {
        body.rows[body.rows.length - 1].remove();
        table.dataset.more = "true";
      }
      counted();
    }
    function remove(change) {
      var existing = find(change.id);
      if (existing) { existing.remove(); }
      counted();
    }
    // The rows drawn again: on each (re)connection, for what changed while the stream was not
    // there, and each minute, as time left moves with the clock.
    function redraw() {
      fetch(table.dataset.rows, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { throw new Error("rows " + response.status); }
        return response.text();
      }).then(function (html) {
        var seen = {};
        for (var i = 0; i < body.rows.length; i++) { seen[body.rows[i].dataset.ticket] = body.rows[i].dataset.seen || ""; }
        body.innerHTML = html;
        for (var j = 0; j < body.rows.length; j++) {
          var row = body.rows[j];
          row.dataset.seen = seen[row.dataset.ticket] || String(Date.now());
        }
        localTimes(body);
        counted();
      }).catch(function () {});
    }
    var source = new EventSource(table.dataset.events);
    source.addEventListener("row", function (event) { upsert(JSON.parse(event.data)); });
    source.addEventListener("remove", function (event) { remove(JSON.parse(event.data)); });
    source.addEventListener("open", function () {
      redraw();
      table.dataset.live = "true";
      if (status) { status.textContent = base + " Live."; }
    });
    source.addEventListener("error", function () { table.dataset.live = "false"; if (status) { status.textContent = base + " Reconnecting…"; } });
    setInterval(redraw, 60000);
  }

  function refreshing(main) {
    var source = new EventSource(main.dataset.refresh);
    var pending = false, again = false;
    // On each (re)connection too: what changed while the stream was not there.
    source.addEventListener("open", refresh);
    source.addEventListener("changed", refresh);
    function refresh() {
      // A change during a fetch may have missed it: one more fetch follows.
      if (pending) { again = true; return; }
      pending = true;
      again = false;
      fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
        return response.text();
      }).then(function (html) {
        pending = false;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var active = document.activeElement;
        // Someone typing in a form keeps it: the rest of the page is replaced.
        if (fresh && !(active && main.contains(active) && (active.tagName === "INPUT" || active.tagName === "TEXTAREA") && active.value)) {
          main.innerHTML = fresh.innerHTML;
          main.dataset.updated = String(Date.now());
          localTimes(main);
        }
        if (again) { refresh(); }
      }).catch(function () { pending = false; });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    var table = document.getElementById("board");
    if (table && table.dataset.events && window.EventSource) { board(table); }
    var main = document.getElementById("main");
    if (main && main.dataset.refresh && window.EventSource) { refreshing(main); }
  });
})();
