// The signals page: the filter lives in the URL (?accepted&strategy&refusal&page, plus ?symbol), /api/signals every 5 s.
(function () {
  "use strict";
  var D = window.Dashboard, form = document.getElementById("signal-filter"), FIELDS = ["accepted", "strategy", "refusal"];
  var query = new URLSearchParams(window.location.search), pages = 1;

  function text(value) { return value === null || value === undefined ? "–" : D.esc(value); }
  // the "why" first (outcome, refusal, the ICT events), then the plan: it stays in view on a laptop
  var columns = [
    { field: "id", label: "Id" }, { field: "at", label: "Handled", format: D.time },
    { field: "symbol", label: "Symbol" }, { field: "side", label: "Side" },
    { field: "accepted", label: "Accepted", format: function (value) { return value ? "yes" : "no"; } },
    { field: "refusal", label: "Refusal", format: text },
    { field: "basis", label: "ICT basis", format: function (value) { return value.length ? D.esc(value.join(", ")) : "–"; } },
    { field: "entry_type", label: "Type" },
    { field: "entry_price", label: "Entry", num: true }, { field: "stop_price", label: "Stop", num: true },
    { field: "take_profit_price", label: "Target", num: true }, { field: "strategy", label: "Strategy" },
    { field: "position_id", label: "Position", format: text },
    { field: "reason", label: "Reason", format: text }];

  function apiQuery() {
    var out = new URLSearchParams();
    FIELDS.concat(["page", "symbol"]).forEach(function (name) { if (query.get(name)) { out.set(name, query.get(name)); } });
    return out.toString();
  }
  function render(data) {
    document.getElementById("page-error").hidden = true;
    D.table(document.querySelector("#signals tbody"), data.signals, columns);
    document.getElementById("signals-total").textContent = data.total;
    document.getElementById("signals-page").textContent = data.page + " of " + data.pages;
    pages = data.pages;
    D.fillSelect(form.elements.strategy, data.strategies, query.get("strategy") || "", "all");
    D.fillSelect(form.elements.refusal, data.refusal_codes, query.get("refusal") || "", "any");
  }
  form.elements.symbol.value = D.symbol();
  form.elements.accepted.value = query.get("accepted") || "";
  document.getElementById("signals-prev").addEventListener("click", function () { D.turnPage(-1, pages); });
  document.getElementById("signals-next").addEventListener("click", function () { D.turnPage(1, pages); });
  D.poll("/api/signals?" + apiQuery(), 5000, render, D.pageError);
})();
