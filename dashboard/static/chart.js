/* The chart page: candles of one symbol with the ICT engine's zones and every trade (lightweight-charts v5).

   Data: GET /api/chart?symbol=&interval=&limit= (dashboard/pages/chart.py), polled every few seconds;
   new closed candles are added with series.update(), without a reload. Prices arrive as decimal strings
   and become numbers here, for drawing only.
   Drawing, all with the library's own mechanisms:
   - candles: a CandlestickSeries;
   - zones (fair value gaps, order blocks, breakers: boxes; liquidity pools: dashed levels) and each
     trade's planned stop and target (short dashed segments over the trade's life): one series
     primitive (series.attachPrimitive), drawn behind the candles;
   - entries, exits, sweeps and runs: series markers (LightweightCharts.createSeriesMarkers);
   - an open position's entry, stop and target: price lines (series.createPriceLine).
   After each drawing, window.dashboardChart = {candles, zones, trades, symbol} (counts; the browser tests read it). */
(function () {
  'use strict';

  var LC = window.LightweightCharts;
  var POLL_MS = 5000;
  var ZONE_STYLE = {  // kind: [bullish colour, bearish colour, label]; chart.css's legend uses the same colours
    fvg: ['38, 166, 154', '239, 83, 80', 'FVG'],
    order_block: ['76, 141, 255', '255, 152, 0', 'OB'],
    breaker: ['186, 104, 200', '186, 104, 200', 'BRK']
  };
  var TOUCHED = {touched: true, half_filled: true, filled: true, mitigated: true, retested: true};
  var POOL_COLOUR = '#90a4ae';
  var TAKE_COLOUR = '#cfd8dc';
  var WIN = '#26a69a';
  var LOSS = '#ef5350';
  var OPEN = '#4c8dff';
  var MIN_BAR_PIXELS = 4;   // the first view shows at most one candle per this many pixels (a phone: the last ~90)
  var POOL_NAMES = {day: ['PDH', 'PDL'], week: ['PWH', 'PWL'], internal: ['EQH', 'EQL']};
  var EXIT_NAMES = {take_profit: 'TP', stop_loss: 'SL', end_of_replay: 'end', manual_close: 'closed'};

  function num(text) { return text === null || text === undefined ? null : Number(text); }
  function seconds(ms) { return Math.floor(ms / 1000); }

  /* Index of the candle holding time `ms` (the last one opening at or before it); -1 before the first. */
  function barIndex(times, ms) {
    var lo = 0, hi = times.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (times[mid] <= ms) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  /* ----- the series primitive: zones and trade segments, behind the candles ----------------------- */
  function Drawings() {
    this.boxes = [];      // {from, to (bar indexes, to = null: the right edge), top, bottom, fill, edge, label, dashed}
    this.levels = [];     // {from, to, price, price2 (a sloped segment's end; else level), colour, alpha, label, dash, width}
    this.keepInView = []; // prices
    this.views = [{zOrder: function () { return 'bottom'; }, renderer: this.renderer.bind(this)}];
  }
  Drawings.prototype.attached = function (param) {
    this.chart = param.chart; this.series = param.series; this.requestUpdate = param.requestUpdate;
  };
  Drawings.prototype.detached = function () { this.chart = this.series = this.requestUpdate = null; };
  Drawings.prototype.paneViews = function () { return this.views; };
  Drawings.prototype.set = function (boxes, levels, keepInView) {
    this.boxes = boxes; this.levels = levels; this.keepInView = keepInView;
    if (this.requestUpdate) { this.requestUpdate(); }
  };
  /* The price scale always reaches an open position's stop and target (prices to keep in view). */
  Drawings.prototype.autoscaleInfo = function () {
    if (!this.keepInView || !this.keepInView.length) { return null; }
    return {priceRange: {minValue: Math.min.apply(null, this.keepInView), maxValue: Math.max.apply(null, this.keepInView)}};
  };
  Drawings.prototype.renderer = function () {
    var self = this;
    return {draw: function () {}, drawBackground: function (target) {
      if (!self.chart) { return; }
      target.useMediaCoordinateSpace(function (scope) { self.paint(scope.context, scope.mediaSize.width); });
    }};
  };
  /* The x of bar `index` (off the pane when the bar is scrolled out: the canvas clips); null: the right edge. */
  Drawings.prototype.x = function (index, width, rightEdge) {
    if (index === null) { return rightEdge ? width : 0; }
    var x = this.chart.timeScale().logicalToCoordinate(index);
    return x === null ? (rightEdge ? width : 0) : x;
  };
  Drawings.prototype.paint = function (ctx, width) {
    var self = this;
    ctx.save();
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    this.boxes.forEach(function (box) {
      var y1 = self.series.priceToCoordinate(box.top), y2 = self.series.priceToCoordinate(box.bottom);
      if (y1 === null || y2 === null) { return; }
      var x1 = self.x(box.from - 0.5, width, false), x2 = self.x(box.to === null ? null : box.to + 0.5, width, true);
      var h = Math.max(1, y2 - y1);
      ctx.fillStyle = box.fill;
      ctx.fillRect(x1, y1, Math.max(1, x2 - x1), h);
      ctx.strokeStyle = box.edge;
      ctx.setLineDash(box.dashed ? [4, 3] : []);
      ctx.lineWidth = 1;
      ctx.strokeRect(x1, y1, Math.max(1, x2 - x1), h);
      if (x2 - Math.max(x1, 0) > 24 && h > 9) { ctx.fillStyle = box.edge; ctx.fillText(box.label, Math.max(x1, 0) + 2, y1 + 1); }
    });
    this.levels.forEach(function (level) {
      var y = self.series.priceToCoordinate(level.price);
      var y2 = level.price2 === undefined ? y : self.series.priceToCoordinate(level.price2);
      if (y === null || y2 === null) { return; }
      var x1 = self.x(level.from, width, false), x2 = self.x(level.to, width, true);
      ctx.strokeStyle = level.colour;
      ctx.globalAlpha = level.alpha || 1;
      ctx.lineWidth = level.width || 1;
      ctx.setLineDash(level.dash || []);
      ctx.beginPath(); ctx.moveTo(x1, y); ctx.lineTo(x2, y2); ctx.stroke();
      if (level.label) { ctx.fillStyle = level.colour; ctx.fillText(level.label, Math.min(x2 + 2, width - 28), y - 11); }
      ctx.globalAlpha = 1;
    });
    ctx.restore();
  };

  /* ----- turning the JSON into drawings ------------------------------------------------------------ */
  function zoneDrawings(zones, times) {
    var boxes = [], levels = [], markers = [];
    zones.forEach(function (zone) {
      var from = Math.max(barIndex(times, zone.start_ms), 0);
      var to = zone.end_ms === null ? null : barIndex(times, zone.end_ms);
      var bull = zone.direction === 'bullish';
      var style = ZONE_STYLE[zone.kind];
      if (style) {   // a zone price has already reached is drawn fainter
        var rgb = bull ? style[0] : style[1], alpha = TOUCHED[zone.state] ? 0.13 : 0.26;
        boxes.push({from: from, to: to, top: num(zone.top), bottom: num(zone.bottom), fill: 'rgba(' + rgb + ', ' + alpha + ')',
                    edge: 'rgba(' + rgb + ', 0.85)', label: style[2], dashed: zone.kind === 'breaker'});
      } else if (zone.kind === 'liquidity_pool') {
        var names = POOL_NAMES[zone.level] || POOL_NAMES.internal;
        levels.push({from: from, to: to, price: num(zone.top), colour: POOL_COLOUR, dash: [6, 4],
                     label: bull ? names[0] : names[1]});
      } else if ((zone.kind === 'sweep' || zone.kind === 'run') && barIndex(times, zone.start_ms) >= 0) {
        // a buy-side take (the wick or close went up through the pool) sits above the bar
        var above = (zone.kind === 'sweep') !== bull;
        markers.push({time: seconds(times[barIndex(times, zone.start_ms)]), shape: 'square', size: 0.6,
                      position: above ? 'aboveBar' : 'belowBar', color: TAKE_COLOUR, text: zone.kind});
      }
    });
    return {boxes: boxes, levels: levels, markers: markers};
  }

  function tradeDrawings(trades, times, interval) {
    var levels = [], markers = [], open = [], drawn = 0;
    var first = times[0], end = times[times.length - 1] + interval;
    trades.forEach(function (t) {
      if (t.entry_ms === null) { return; }   // never filled: nothing happened on the chart
      var exitMs = t.exit_ms;
      if (t.entry_ms >= end || (exitMs !== null && exitMs < first)) { return; }   // outside the window
      drawn += 1;
      var from = barIndex(times, t.entry_ms), to = exitMs === null ? null : barIndex(times, Math.min(exitMs, end - 1));
      var net = num(t.realized_pnl) - num(t.fees);
      var colour = exitMs === null ? OPEN : (net > 0 ? WIN : LOSS);
      var long = t.side === 'LONG';
      levels.push({from: Math.max(from, 0), to: to, price: num(t.stop_price), colour: LOSS, dash: [2, 2]});
      levels.push({from: Math.max(from, 0), to: to, price: num(t.take_profit_price), colour: WIN, dash: [2, 2]});
      if (from >= 0) {
        markers.push({time: seconds(times[from]), position: 'atPriceMiddle', price: num(t.entry_price),
                      shape: long ? 'arrowUp' : 'arrowDown', color: colour, size: 1.2, text: '#' + t.id});
        if (exitMs !== null) {   // entry to exit, so each exit reads with its entry
          levels.push({from: from, to: to, price: num(t.entry_price), price2: num(t.exit_price), colour: colour,
                       alpha: 0.55});
        }
      }
      if (exitMs === null) {
        open.push(t);
      } else {
        markers.push({time: seconds(times[to]), position: 'atPriceMiddle', price: num(t.exit_price), shape: 'circle',
                      size: 0.7, color: colour, text: EXIT_NAMES[t.close_reason] || 'exit'});
      }
    });
    return {levels: levels, markers: markers, open: open, drawn: drawn};
  }

  /* ----- the page --------------------------------------------------------------------------------- */
  function ChartPage(root) {
    this.root = root;
    this.status = document.getElementById('chart-status');
    this.chart = LC.createChart(root, {
      autoSize: true,
      // the library's logo needs an inline <style>, which the dashboard's CSP refuses: chart.html
      // carries the attribution (TradingView's notice and link) under the chart instead
      layout: {background: {color: '#171d24'}, textColor: '#d8dee6', fontSize: 11, attributionLogo: false},
      grid: {vertLines: {color: '#222a33'}, horzLines: {color: '#222a33'}},
      rightPriceScale: {borderColor: '#2a323c', scaleMargins: {top: 0.08, bottom: 0.08}},
      timeScale: {timeVisible: true, secondsVisible: false, rightOffset: 4, borderColor: '#2a323c'},
      crosshair: {mode: LC.CrosshairMode.Normal}
    });
    this.series = this.chart.addSeries(LC.CandlestickSeries, {
      upColor: '#26a69a', downColor: '#ef5350', wickUpColor: '#26a69a', wickDownColor: '#ef5350', borderVisible: false
    });
    this.drawings = new Drawings();
    this.series.attachPrimitive(this.drawings);
    this.markers = LC.createSeriesMarkers(this.series, []);
    this.priceLines = [];
    this.times = [];
    this.key = null;
  }

  ChartPage.prototype.render = function (data) {
    if (data.error) { this.say(data.error, true); return; }
    var candles = data.candles.map(function (c) {
      return {time: seconds(c.time_ms), open: num(c.open), high: num(c.high), low: num(c.low), close: num(c.close)};
    });
    var key = data.symbol + ' ' + data.interval;
    var times = data.candles.map(function (c) { return c.time_ms; });
    var lastTime = this.times.length ? this.times[this.times.length - 1] : null;
    var at = lastTime === null || key !== this.key ? -1 : times.indexOf(lastTime);
    // the same chart, and not grown to twice the window: add the candles closed since the last poll. The
    // series keeps its older candles, so `this.times` (the series' times) keeps them too: the bar indexes
    // the zones and trades are drawn at must be the series' own
    if (at >= 0 && this.times.length + times.length - at <= 2 * times.length + 50) {
      var self = this;
      candles.slice(at + 1).forEach(function (candle) { self.series.update(candle); });
      this.times = this.times.concat(times.slice(at + 1));
    } else {
      this.series.setData(candles);
      this.times = times;
      this.firstView(candles.length);
    }
    this.key = key;
    this.drawOverlays(data, this.times);
  };

  /* All the candles when they fit, else the newest ones at MIN_BAR_PIXELS each (scroll or pinch for more). */
  ChartPage.prototype.firstView = function (count) {
    if (!count) { return; }
    var shown = Math.min(count, Math.floor(this.root.clientWidth / MIN_BAR_PIXELS));
    this.chart.timeScale().setVisibleLogicalRange({from: count - shown - 0.5, to: count + 3});
  };

  ChartPage.prototype.drawOverlays = function (data, times) {
    var interval = data.interval_ms;
    var zones = times.length ? zoneDrawings(data.zones, times) : {boxes: [], levels: [], markers: []};
    var trades = times.length ? tradeDrawings(data.trades, times, interval) : {levels: [], markers: [], open: [], drawn: 0};
    var keep = [];
    trades.open.forEach(function (t) { keep.push(num(t.stop_price), num(t.take_profit_price)); });
    this.drawings.set(zones.boxes, zones.levels.concat(trades.levels), keep);
    this.markers.setMarkers(zones.markers.concat(trades.markers).sort(function (a, b) { return a.time - b.time; }));
    this.openLines(trades.open);
    var parts = [data.symbol + ' ' + data.interval, data.candles.length + ' candles from ' + data.source,
                 data.zones.length + ' zones', trades.drawn + ' trades here (' + data.trades_total + ' in the journal)'];
    this.say(data.problem ? data.problem : parts.join(' · '), Boolean(data.problem));
    window.dashboardChart = {candles: data.candles.length, zones: data.zones.length, trades: trades.drawn,
                             symbol: data.symbol};
  };

  ChartPage.prototype.openLines = function (open) {
    var series = this.series;
    this.priceLines.forEach(function (line) { series.removePriceLine(line); });
    this.priceLines = [];
    var lines = this.priceLines;
    open.forEach(function (t) {
      [['entry', t.entry_price, '#1565c0'], ['stop', t.stop_price, LOSS], ['target', t.take_profit_price, WIN]]
        .forEach(function (line) {
          if (line[1] === null) { return; }
          lines.push(series.createPriceLine({price: num(line[1]), color: line[2], lineWidth: 1,
                                             lineStyle: LC.LineStyle.Dashed, axisLabelVisible: true,
                                             title: line[0] + ' #' + t.id}));
        });
    });
  };

  ChartPage.prototype.say = function (text, problem) {
    if (!this.status) { return; }
    this.status.textContent = text;
    this.status.classList.toggle('problem', problem);
  };

  function start() {
    var root = document.getElementById('chart');
    if (!root || !LC) { return; }
    var page = new ChartPage(root);
    ['interval', 'limit'].forEach(function (name) {   // a new interval or length: the page again, with it in the URL
      var picker = document.getElementById(name + '-picker');
      if (!picker) { return; }
      picker.addEventListener('change', function () {
        var query = new URLSearchParams(window.location.search);
        query.set(name, picker.value);
        window.location.search = query.toString();
      });
    });
    var url = root.getAttribute('data-api');
    window.Dashboard.poll(url, POLL_MS, function (data) { page.render(data); },
                          function (error) { page.say(error.message, true); });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
