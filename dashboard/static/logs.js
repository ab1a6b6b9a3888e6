// The logs page: the tail of the bot's log at the chosen level, /api/logs every 3 s; it keeps to the bottom
// while the reader is there.
(function () {
  "use strict";
  var D = window.Dashboard, select = document.getElementById("log-level"), box = document.getElementById("log-lines");
  var query = new URLSearchParams(window.location.search), last = "";

  function render(data) {
    document.getElementById("page-error").hidden = true;
    document.getElementById("log-file").textContent = data.note || ((data.file || "") + (data.cut ? " (its last 256 KB)" : ""));
    var key = data.lines.length + ":" + (data.lines.length ? data.lines[data.lines.length - 1].text : "");
    if (key !== last) {
      var atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
      box.innerHTML = data.lines.map(function (line) {
        return '<div class="level-' + D.esc(line.level) + '">' + D.esc(line.text) + "</div>";
      }).join("");
      if (atBottom || !last) { box.scrollTop = box.scrollHeight; }
      last = key;
    }
    D.table(document.querySelector("#errors tbody"), data.errors, [
      { field: "at", label: "Time", format: D.time }, { field: "source", label: "Source" },
      { field: "message", label: "Message" }]);
  }
  select.value = (query.get("level") || "DEBUG").toUpperCase();
  select.addEventListener("change", function () {
    var next = new URLSearchParams(window.location.search);
    next.set("level", select.value);
    window.location.search = "?" + next.toString();
  });
  D.poll("/api/logs?level=" + encodeURIComponent(select.value), 3000, render, D.pageError);
})();
