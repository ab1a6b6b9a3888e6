// The positions page: /api/positions every 3 s; Close buttons post commands the bot applies on its next tick.
(function () {
  "use strict";
  var D = window.Dashboard;

  function age(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + (seconds % 60) + "s";
  }
  function closeButton(label) {
    return function (value, row) {
      return '<button type="button" class="close-position danger" data-id="' + D.esc(row.id) + '">' + label + "</button>";
    };
  }
  function text(value) { return value === null || value === undefined ? "–" : D.esc(value); }

  var common = [{ field: "id", label: "Id" }, { field: "symbol", label: "Symbol" }, { field: "side", label: "Side" },
                { field: "state", label: "State" }, { field: "quantity", label: "Quantity", num: true, format: text }];
  var held = common.concat([
    { field: "entry_price", label: "Entry", num: true, format: text },
    { field: "stop_price", label: "Stop", num: true }, { field: "take_profit_price", label: "Target", num: true },
    { field: "last_price", label: "Last", num: true, format: text },
    { field: "unrealized_pnl", label: "Unrealized PnL", num: true, signed: true, format: D.money },
    { field: "open_risk", label: "Risk", num: true, format: D.money },
    { field: "age", label: "Age", format: function (v, row) { return age(row.age_seconds); } },
    { field: "strategy", label: "Strategy" }, { field: "close", label: "", format: closeButton("Close") }]);
  var resting = common.concat([
    { field: "entry_price", label: "Limit", num: true }, { field: "stop_price", label: "Stop", num: true },
    { field: "take_profit_price", label: "Target", num: true },
    { field: "open_risk", label: "Risk if filled", num: true, format: D.money },
    { field: "age", label: "Age", format: function (v, row) { return age(row.age_seconds); } },
    { field: "strategy", label: "Strategy" }, { field: "close", label: "", format: closeButton("Cancel") }]);

  var polling = null;
  function render(data) {
    document.getElementById("page-error").hidden = true;
    D.table(document.querySelector("#positions tbody"), data.positions, held);
    D.table(document.querySelector("#resting-entries tbody"), data.resting_entries, resting);
    document.getElementById("positions-risk").textContent = D.money(data.open_risk);
  }
  function send(fields, question) {
    if (!window.confirm(question)) { return; }
    var line = document.getElementById("command-line");
    line.textContent = "sending…";
    D.post("/api/commands", fields).then(function (answer) {
      line.textContent = "command " + answer.id + " sent: the bot applies it on its next tick…";
      D.awaitAnswer(answer.id, function (row) {
        line.textContent = "command " + row.id + " " + row.status + ": " + (row.result || "");
        line.className = row.status === "applied" ? "muted" : "error-line";
        if (polling) { polling.refresh(); }
      });
    }).catch(function (error) { line.textContent = error.message; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.close-position");
    if (button) {
      send({ kind: "close_position", target: button.dataset.id }, "Close position " + button.dataset.id + " at market?");
    } else if (event.target.id === "close-all") {
      send({ kind: "close_all" }, "Close every open position at market?");
    }
  });
  polling = D.poll("/api/positions", 3000, render, D.pageError);
})();
