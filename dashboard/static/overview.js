// The overview: figures from /api/overview every 5 s, the equity curve drawn with lightweight-charts.
(function () {
  "use strict";
  var D = window.Dashboard, chart = null, series = null, drawn = "";

  function setMoney(id, text) {
    var element = document.getElementById(id);
    element.textContent = D.money(text);
    element.className = "value " + D.signClass(text);
  }

  // lightweight-charts wants ascending, unique times in seconds: the last value of a second wins
  function points(equity) {
    var bySecond = [];
    equity.forEach(function (point) {
      var second = Math.floor(point.time_ms / 1000), value = parseFloat(point.value);
      if (bySecond.length && bySecond[bySecond.length - 1].time === second) { bySecond[bySecond.length - 1].value = value; }
      else { bySecond.push({ time: second, value: value }); }
    });
    return bySecond;
  }

  function drawEquity(equity) {
    var box = document.getElementById("equity-chart");
    document.getElementById("equity-empty").hidden = equity.length > 0;
    var key = equity.length + ":" + (equity.length ? equity[equity.length - 1].value : "");
    if (key === drawn || !window.LightweightCharts) { return; }
    if (!chart) {
      chart = LightweightCharts.createChart(box, {
        // the library's logo needs an inline style the dashboard's CSP refuses: the page carries the attribution
        autoSize: true, layout: { background: { color: "#171d24" }, textColor: "#d8dee6", attributionLogo: false },
        grid: { vertLines: { color: "#2a323c" }, horzLines: { color: "#2a323c" } },
        timeScale: { timeVisible: true, secondsVisible: false } });
      series = chart.addSeries(LightweightCharts.LineSeries, { color: "#4c8dff", lineWidth: 2 });
    }
    series.setData(points(equity));
    chart.timeScale().fitContent();
    drawn = key;
  }

  function render(data) {
    document.getElementById("page-error").hidden = true;
    document.getElementById("mode").textContent = data.mode || "–";
    var balance = document.getElementById("balance");
    balance.textContent = D.money(data.balance);
    balance.title = data.balance_source ? "from the " + data.balance_source : "unknown";
    setMoney("pnl-today", data.pnl_today.net);
    document.getElementById("fees-today").textContent = "fees " + D.money(data.pnl_today.fees);
    setMoney("pnl-total", data.pnl_total.net);
    // the total counts the fees already paid by open positions; the equity curve, closed trades only
    var last = data.equity.length ? data.equity[data.equity.length - 1].value : null;
    document.getElementById("pnl-total-note").textContent =
      last !== null && D.money(last) !== D.money(data.pnl_total.net) ? "closed trades " + D.money(last) + "; the rest: open positions' fees" : "";
    document.getElementById("fees-total").textContent = D.money(data.fees_total);
    document.getElementById("open-risk").textContent = D.money(data.open_risk);
    document.getElementById("trade-count").textContent = data.trades;
    drawEquity(data.equity);
  }


  D.poll("/api/overview", 5000, render, D.pageError);
})();
