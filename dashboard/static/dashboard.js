// The dashboard's shared helpers: the symbol filter, GET/POST with the CSRF token, polling,
// escaping and formatting, and tables. Every page script uses window.Dashboard.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);

  function symbol() { return params.get("symbol") || ""; }

  function withSymbol(url) {
    var s = symbol();
    if (!s || /[?&]symbol=/.test(url)) { return url; }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "symbol=" + encodeURIComponent(s);
  }

  function answer(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (!response.ok) {
        var error = new Error(body.error || (response.status + " " + response.statusText));
        error.status = response.status;
        throw error;
      }
      return body;
    });
  }

  function get(url) {
    return fetch(withSymbol(url), { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(answer);
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, { method: "POST", credentials: "same-origin", body: body,
                        headers: { "X-CSRF-Token": token, "Accept": "application/json" } }).then(answer);
  }

  // render(json) now and every everyMs while the tab is visible; onError(error) when a call fails
  function poll(url, everyMs, render, onError) {
    var timer = null;
    function once() {
      get(url).then(render).catch(function (error) { if (onError) { onError(error); } else { console.warn(error); } });
    }
    function schedule() {
      clearInterval(timer);
      if (!document.hidden) { once(); timer = setInterval(once, everyMs); }
    }
    document.addEventListener("visibilitychange", schedule);
    schedule();
    return { refresh: once };
  }

  function esc(text) {
    return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // decimal text as given (the journal's), with a sign class; never through floats
  function money(text) {
    if (text === null || text === undefined || text === "") { return "–"; }
    var s = String(text), negative = s.charAt(0) === "-";
    var parts = s.replace("-", "").split(".");
    var cents = ((parts[1] || "") + "00").slice(0, 2);
    return (negative ? "-" : "") + parts[0] + "." + cents;
  }

  function time(value) {
    if (value === null || value === undefined || value === "") { return "–"; }
    var date = typeof value === "number" ? new Date(value) : new Date(value);
    if (isNaN(date.getTime())) { return String(value); }
    return date.toISOString().replace("T", " ").slice(0, 19) + "Z";
  }

  function signClass(text) {
    var s = String(text || "");
    if (!s || /^-?0*(\.0*)?$/.test(s)) { return ""; }
    return s.charAt(0) === "-" ? "down" : "up";
  }

  // rows: objects; columns: [{field, label, format?, num?}]; each row gets data-id = row.id
  function table(tbody, rows, columns) {
    var html = rows.map(function (row) {
      var cells = columns.map(function (column) {
        var value = row[column.field];
        var shown = column.format ? column.format(value, row) : esc(value);
        var classes = (column.num ? "num " : "") + (column.signed ? signClass(value) : "");
        return '<td data-field="' + esc(column.field) + '" class="' + classes + '">' + shown + "</td>";
      }).join("");
      var id = row.id !== undefined ? ' data-id="' + esc(row.id) + '"' : "";
      return "<tr" + id + ">" + cells + "</tr>";
    }).join("");
    tbody.innerHTML = html || '<tr><td colspan="' + columns.length + '" class="muted">nothing yet</td></tr>';
  }

  function keepSymbolInLinks() {
    var s = symbol();
    document.querySelectorAll("nav a").forEach(function (link) {
      if (s) { link.href = link.getAttribute("href").split("?")[0] + "?symbol=" + encodeURIComponent(s); }
      if (link.getAttribute("href").split("?")[0] === window.location.pathname) { link.classList.add("current"); }
    });
    var picker = document.getElementById("symbol-picker");
    if (picker) {
      picker.value = s;
      picker.addEventListener("change", function () {
        var next = new URLSearchParams(window.location.search);
        if (picker.value) { next.set("symbol", picker.value); } else { next.delete("symbol"); }
        next.delete("page");
        var query = next.toString();
        window.location.search = query ? "?" + query : "";
      });
    }
  }

  function showBot(bot) {
    var badge = document.getElementById("bot-state");
    badge.dataset.state = bot.state;
    badge.textContent = bot.state === "none" ? "not running" : bot.state;
    badge.title = bot.line || "";
    var line = document.getElementById("bot-line");
    var idle = bot.state === "stopped" || bot.state === "stale" || (bot.state === "none" && bot.mode !== "replay");
    line.hidden = !idle || document.getElementById("start-box") !== null;   // the settings page says it itself
    if (idle) { line.textContent = bot.line + ". Start it with: " + bot.how_to_start; }
    document.dispatchEvent(new CustomEvent("dashboard:bot", { detail: bot }));
  }

  window.Dashboard = { symbol: symbol, get: get, post: post, poll: poll, esc: esc, money: money, time: time,
                       signClass: signClass, table: table };
  document.addEventListener("DOMContentLoaded", function () {
    keepSymbolInLinks();
    poll("/api/bot", 3000, showBot);
  });
})();
