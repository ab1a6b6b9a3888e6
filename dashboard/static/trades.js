// The trades page: the filter lives in the URL (?from&to&side&strategy&page, plus ?symbol), /api/trades every 5 s.
(function () {
  "use strict";
  var D = window.Dashboard, form = document.getElementById("trade-filter"), FIELDS = ["from", "to", "side", "strategy"];
  var query = new URLSearchParams(window.location.search), pages = 1;

  function duration(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m " + (seconds % 60) + "s";
  }
  function text(value) { return value === null || value === undefined ? "–" : D.esc(value); }
  var columns = [
    { field: "id", label: "Id" }, { field: "closed_at", label: "Closed", format: D.time },
    { field: "symbol", label: "Symbol" }, { field: "side", label: "Side" }, { field: "strategy", label: "Strategy" },
    { field: "quantity", label: "Qty", num: true }, { field: "entry_price", label: "Entry", num: true },
    { field: "exit_price", label: "Exit", num: true, format: text },
    { field: "net_pnl", label: "PnL net", num: true, signed: true, format: D.money },
    { field: "fees", label: "Fees", num: true, format: D.money },
    { field: "r_multiple", label: "R", num: true, signed: true, format: text },
    { field: "duration", label: "Duration", format: function (v, row) { return duration(row.duration_seconds); } },
    { field: "close_reason", label: "Closed by", format: text }, { field: "reason", label: "Reason", format: text }];

  function apiQuery() {
    var out = new URLSearchParams();
    FIELDS.concat(["page", "symbol"]).forEach(function (name) { if (query.get(name)) { out.set(name, query.get(name)); } });
    return out.toString();
  }
  function fillForm() {
    form.elements.symbol.value = D.symbol();
    FIELDS.forEach(function (name) { if (name !== "strategy") { form.elements[name].value = query.get(name) || ""; } });
    document.getElementById("trades-csv").href = "/api/trades.csv?" + apiQuery().replace(/(^|&)page=\d+/, "");
  }
  function render(data) {
    document.getElementById("page-error").hidden = true;
    D.table(document.querySelector("#trades tbody"), data.trades, columns);
    document.getElementById("trades-total").textContent = data.total;
    document.getElementById("trades-page").textContent = data.page + " of " + data.pages;
    pages = data.pages;
    D.fillSelect(form.elements.strategy, data.strategies, query.get("strategy") || "", "all");
  }
  document.getElementById("trades-prev").addEventListener("click", function () { D.turnPage(-1, pages); });
  document.getElementById("trades-next").addEventListener("click", function () { D.turnPage(1, pages); });
  fillForm();
  D.poll("/api/trades?" + apiQuery(), 5000, render, D.pageError);
})();
