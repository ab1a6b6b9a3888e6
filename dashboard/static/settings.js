// The settings page: risk settings (one set_risk command per changed field), pause / resume / stop,
// the Start button, and the command log. Every command waits in the journal until the bot answers;
// the page polls /api/commands and shows the answer of each command it sent.
(function () {
  "use strict";
  var D = window.Dashboard;
  var current = {};      // the risk settings as settings.toml says now: key -> text
  var watched = {};      // command id -> true while the page waits for the bot's answer
  var KIND_WORDS = { pause: "pause", resume: "resume", stop: "stop", set_risk: "set", close_position: "close",
                     close_all: "close all" };

  function byId(id) { return document.getElementById(id); }

  function say(text, isError) {
    var line = byId("command-result");
    line.textContent = text;
    line.className = isError ? "error-line" : "muted";
  }

  function loadSettings() {
    D.get("/api/settings").then(function (answer) {
      var error = byId("risk-error");
      error.hidden = !answer.error;
      error.textContent = answer.error || "";
      current = answer.risk || {};
      document.querySelectorAll("#risk-form label[data-key]").forEach(function (label) {
        var key = label.dataset.key, input = label.querySelector("input");
        label.hidden = answer.keys.indexOf(key) < 0;
        if (!label.hidden && document.activeElement !== input) { input.value = current[key]; }
      });
      byId("risk-save").disabled = answer.keys.length === 0;
    }).catch(function (error) { say(error.message, true); });
  }

  function send(fields) {
    return D.post("/api/commands", fields).then(function (answer) {
      watched[answer.id] = true;
      say("#" + answer.id + " " + describe(fields) + ": sent, waiting for the bot…", false);
      log.refresh();
      return answer.id;
    }).catch(function (error) { say(describe(fields) + ": " + error.message, true); throw error; });
  }

  function describe(row) {
    var words = KIND_WORDS[row.kind] || row.kind;
    return [words, row.target || "", row.value ? "= " + row.value : ""].join(" ").replace(/\s+/g, " ").trim();
  }

  function saveRisk(event) {
    event.preventDefault();
    var changed = [];
    document.querySelectorAll("#risk-form label[data-key]").forEach(function (label) {
      var key = label.dataset.key, value = label.querySelector("input").value.trim();
      if (!label.hidden && value !== "" && value !== current[key]) { changed.push({ kind: "set_risk", target: key, value: value }); }
    });
    if (!changed.length) { say("nothing changed", false); return; }
    // one command per field, one after the other: each gets its own answer from the bot
    changed.reduce(function (chain, fields) {
      return chain.then(function () { return send(fields); });
    }, Promise.resolve()).catch(function () { /* shown by send */ });
  }

  function renderLog(answer) {
    var rows = answer.commands || [];
    var body = document.querySelector("#command-log tbody");
    body.innerHTML = rows.map(function (row) {
      var cells = [["id", row.id], ["created_at", D.time(row.created_at_ms)], ["kind", row.kind], ["target", row.target],
                   ["value", row.value], ["status", row.status], ["result", row.result || ""],
                   ["done_at", row.done_at_ms ? D.time(row.done_at_ms) : "–"]];
      return '<tr data-id="' + D.esc(row.id) + '" data-status="' + D.esc(row.status) + '">' + cells.map(function (cell) {
        return '<td data-field="' + cell[0] + '">' + D.esc(cell[1]) + "</td>";
      }).join("") + "</tr>";
    }).join("") || '<tr><td colspan="8" class="muted">no command sent yet</td></tr>';
    rows.forEach(function (row) {
      if (watched[row.id] && row.status !== "pending" && row.status !== "taken") {
        delete watched[row.id];
        say("#" + row.id + " " + describe(row) + ": " + row.status + (row.result ? ": " + row.result : ""),
            row.status !== "applied");
        if (row.kind === "set_risk") { loadSettings(); }
      }
    });
  }

  function showBot(event) {
    var bot = event.detail, live = bot.state === "running" || bot.state === "paused";
    byId("control-line").textContent = bot.line || "";
    byId("pause-button").hidden = bot.state !== "running";
    byId("resume-button").hidden = bot.state !== "paused";
    byId("stop-bot").hidden = !live;
    var idle = !live && bot.mode !== "replay";
    byId("start-box").hidden = !idle;
    byId("how-to-start").textContent = bot.how_to_start || "";
    var start = byId("start-bot");
    if (start) { start.hidden = !bot.can_start; }
  }

  function startBot() {
    var button = byId("start-bot");
    button.disabled = true;
    D.post("/api/bot/start", {}).then(function (answer) {
      say("bot started (pid " + answer.pid + "); it shows as running once it has connected and written its heartbeat", false);
    }).catch(function (error) { say(error.message, true); })
      .then(function () { setTimeout(function () { button.disabled = false; }, 5000); });
  }

  var log = D.poll("/api/commands?limit=20", 2000, renderLog, function (error) { say(error.message, true); });
  document.addEventListener("dashboard:bot", showBot);
  document.addEventListener("DOMContentLoaded", function () {
    loadSettings();
    byId("risk-form").addEventListener("submit", saveRisk);
    byId("pause-button").addEventListener("click", function () { send({ kind: "pause" }).catch(function () {}); });
    byId("resume-button").addEventListener("click", function () { send({ kind: "resume" }).catch(function () {}); });
    byId("stop-bot").addEventListener("click", function () {
      if (window.confirm("Stop the bot? Open positions stay open on the exchange with their stop and target; " +
                         "under systemd it stays stopped until you start it.")) {
        send({ kind: "stop" }).catch(function () {});
      }
    });
    var start = byId("start-bot");
    if (start) { start.addEventListener("click", startBot); }
  });
})();
