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

  // decimal text (the journal's) rounded to cents, half away from zero as sqlite's printf('%.2f')
  // and `python bot.py status` round; on the digits, never through floats
  function money(text) {
    if (text === null || text === undefined || text === "") { return "–"; }
    var s = String(text).trim(), negative = s.charAt(0) === "-";
    var parts = s.replace(/^[-+]/, "").split(".");
    var whole = parts[0] || "0", fraction = (parts[1] || "") + "000";
    var digits = (whole + fraction.slice(0, 2)).split("").map(Number);
    if (Number(fraction.charAt(2)) >= 5) {
      for (var i = digits.length - 1; i >= 0; i--) {
        if (digits[i] < 9) { digits[i] += 1; break; }
        digits[i] = 0;
        if (i === 0) { digits.unshift(1); }
      }
    }
    var joined = digits.join("").replace(/^0+(?=\d{3})/, "");
    var shown = joined.slice(0, -2) + "." + joined.slice(-2);
    return (negative && /[1-9]/.test(shown) ? "-" : "") + shown;
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

  // the page's one error line (#page-error): a failed call shows its message there, the next good answer hides it
  function pageError(error) {
    var line = document.getElementById("page-error");
    line.textContent = error.message;
    line.hidden = false;
  }

  // a list's page `step` pages away from the address's ?page=, within 1..pages: a new address
  function turnPage(step, pages) {
    var query = new URLSearchParams(window.location.search);
    query.set("page", String(Math.min(Math.max(1, (parseInt(query.get("page"), 10) || 1) + step), pages)));
    window.location.search = "?" + query.toString();
  }

  // a filter's <select>: "" (shown as `none`) and `names`, plus `chosen` if the list lacks it; rebuilt only when it grew
  function fillSelect(select, names, chosen, none) {
    var wanted = [""].concat(names);
    if (chosen && wanted.indexOf(chosen) < 0) { wanted.push(chosen); }
    if (select.options.length !== wanted.length) {
      select.innerHTML = wanted.map(function (name) {
        return '<option value="' + esc(name) + '">' + (name ? esc(name) : esc(none)) + "</option>";
      }).join("");
    }
    select.value = chosen;
  }

  // the bot's answer to command `id`: onAnswer(row) once it is no longer pending or taken (checked each second, a minute at most)
  function awaitAnswer(id, onAnswer) {
    var tries = 0;
    var timer = setInterval(function () {
      tries += 1;
      get("/api/commands?limit=50").then(function (answer) {
        var row = (answer.commands || []).filter(function (each) { return each.id === id; })[0];
        if (row && row.status !== "pending" && row.status !== "taken") { clearInterval(timer); onAnswer(row); }
      }).catch(function () { /* the next try */ });
      if (tries >= 60) { clearInterval(timer); }
    }, 1000);
  }

  window.Dashboard = { symbol: symbol, get: get, post: post, poll: poll, esc: esc, money: money, time: time,
                       signClass: signClass, table: table, awaitAnswer: awaitAnswer, fillSelect: fillSelect,
                       pageError: pageError, turnPage: turnPage };
  document.addEventListener("DOMContentLoaded", function () {
    keepSymbolInLinks();
    poll("/api/bot", 3000, showBot);
  });
})();
