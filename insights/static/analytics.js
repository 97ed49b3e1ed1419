// Analytics page of the support team: fetches api/report and draws plain SVG charts.
// No libraries (no CDN is reachable); every text from the server goes through
// textContent, never innerHTML, because unanswered questions are shopper text.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = ["#2457c5", "#e07a1f", "#2a9d5c", "#c23b4e", "#7b52c2", "#1f9bb0", "#8a8f99"];
  var form = document.getElementById("filters");
  var statusLine = document.getElementById("status");

  function el(tag, attrs, text) {
    var node = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function pct(rate) { return rate === null || rate === undefined ? "n/a" : (100 * rate).toFixed(1) + " %"; }

  function query() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    if (data.get("since")) params.set("since", data.get("since"));
    params.set("bucket", data.get("bucket") || "day");
    return params.toString();
  }

  // CSAT: the share of ratings of 4 or 5, with how many and the mean (web/csat.py asks for them).
  function csat(label, s) {
    return [label, pct(s.satisfied), s.rated + " rated" + (s.average === null ? "" : "; mean " + s.average.toFixed(2) + " of 5")];
  }

  function kpis(report) {
    var list = document.getElementById("kpis");
    clear(list);
    var c = report.conversion, f = report.frustration;
    [
      ["Fallback rate", pct(report.fallback.rate), report.fallback.fallbacks + " of " + report.fallback.messages + " messages"],
      ["Hand-off rate", pct(report.handoff.rate), report.handoff.handed_off + " of " + report.handoff.conversations + " conversations"],
      ["Containment", pct(report.containment.rate), report.containment.contained + " finished without a human"],
      ["Cart after recommendation", pct(c.cart_rate), c.added_to_cart + " of " + c.conversations_with_recommendations + " conversations"],
      ["Purchase after recommendation", pct(c.purchase_rate), c.purchased + " of " + c.conversations_with_recommendations + " conversations"],
      ["Frustrated messages", pct(f.rate), f.frustrated_messages + " of " + f.scored_messages + " scored messages; mean score " +
        (f.mean_score === null ? "n/a" : f.mean_score.toFixed(2))],
      ["Frustrated, handed off", pct(f.handoff_rate), f.handed_off + " of " + f.frustrated_conversations + " frustrated conversations"],
      csat("Satisfaction, bot alone", report.satisfaction.bot),
      csat("Satisfaction, with an agent", report.satisfaction.agent)
    ].forEach(function (k) {
      var item = el("li");
      item.appendChild(el("span", { "class": "label" }, k[0]));
      item.appendChild(el("span", { "class": "value" }, k[1]));
      item.appendChild(el("span", { "class": "detail" }, k[2]));
      list.appendChild(item);
    });
  }

  // Stacked bars: one bar per bucket, the six biggest intents and "other".
  function volumeChart(rows) {
    var box = document.getElementById("volume-chart");
    var legend = document.getElementById("volume-legend");
    clear(box); clear(legend);
    if (!rows.length) { box.appendChild(el("p", { "class": "empty" }, "No messages in this period.")); return; }
    var totals = {};
    rows.forEach(function (r) { totals[r.intent] = (totals[r.intent] || 0) + r.count; });
    var top = Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a]; }).slice(0, 6);
    var series = top.concat(Object.keys(totals).length > top.length ? ["other"] : []);
    var buckets = [], byBucket = {};
    rows.forEach(function (r) {
      if (!byBucket[r.bucket]) { byBucket[r.bucket] = {}; buckets.push(r.bucket); }
      var key = top.indexOf(r.intent) >= 0 ? r.intent : "other";
      byBucket[r.bucket][key] = (byBucket[r.bucket][key] || 0) + r.count;
    });
    buckets.sort();
    var max = Math.max.apply(null, buckets.map(function (b) {
      return series.reduce(function (s, k) { return s + (byBucket[b][k] || 0); }, 0);
    }));
    var W = Math.max(300, box.clientWidth || 900), H = W < 500 ? 200 : 260, left = 40, bottom = 40, top_ = 10;
    var plotH = H - bottom - top_, step = (W - left) / buckets.length, barW = Math.max(2, step * 0.7);
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "Messages per " + (buckets[0].length > 10 ? "hour" : "day") + " by intent; the table export has the numbers" });
    [0, 0.5, 1].forEach(function (f) {
      var y = top_ + plotH * (1 - f);
      svg.appendChild(el("svg:line", { x1: left, x2: W, y1: y, y2: y, stroke: "#e3e6ec" }));
      svg.appendChild(el("svg:text", { x: left - 6, y: y + 4, "text-anchor": "end" }, Math.round(max * f)));
    });
    buckets.forEach(function (b, i) {
      var x = left + i * step + (step - barW) / 2, y = top_ + plotH;
      series.forEach(function (k, j) {
        var n = byBucket[b][k] || 0;
        if (!n) return;
        var h = plotH * n / max;
        y -= h;
        var rect = el("svg:rect", { x: x, y: y, width: barW, height: h, fill: COLOURS[j % COLOURS.length] });
        rect.appendChild(el("svg:title", {}, b + " · " + k + ": " + n));
        svg.appendChild(rect);
      });
      var every = Math.ceil(buckets.length / Math.max(3, Math.floor(W / 75)));
      if (i % every === 0) svg.appendChild(el("svg:text", { x: x + barW / 2, y: H - bottom + 16, "text-anchor": "middle" }, b.slice(5)));
    });
    box.appendChild(svg);
    series.forEach(function (k, j) {
      var item = el("li");
      var swatch = el("span", { "aria-hidden": "true" });
      swatch.style.background = COLOURS[j % COLOURS.length];  // CSSOM, not a style attribute: the page's CSP forbids those
      item.appendChild(swatch);
      var n = k === "other"
        ? Object.keys(totals).reduce(function (s, key) { return s + (top.indexOf(key) < 0 ? totals[key] : 0); }, 0)
        : totals[k];
      item.appendChild(document.createTextNode(k + " (" + n + ")"));
      legend.appendChild(item);
    });
  }

  // Horizontal bars of intent totals.
  function intentChart(rows) {
    var box = document.getElementById("intent-chart");
    clear(box);
    if (!rows.length) { box.appendChild(el("p", { "class": "empty" }, "No messages in this period.")); return; }
    rows = rows.slice(0, 15);
    var W = Math.max(300, box.clientWidth || 900), row = 24, left = Math.min(220, Math.round(W * 0.4));
    var H = rows.length * row + 10;
    var max = Math.max.apply(null, rows.map(function (r) { return r.count; }));
    var svg = el("svg:svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Messages per intent" });
    rows.forEach(function (r, i) {
      var y = 5 + i * row, w = (W - left - 110) * r.count / max;
      svg.appendChild(el("svg:text", { x: left - 8, y: y + 15, "text-anchor": "end" }, r.intent));
      var rect = el("svg:rect", { x: left, y: y + 3, width: Math.max(1, w), height: row - 8, fill: COLOURS[0] });
      rect.appendChild(el("svg:title", {}, r.intent + ": " + r.count));
      svg.appendChild(rect);
      var conf = r.mean_confidence === null ? "" : " · conf " + r.mean_confidence.toFixed(2);
      svg.appendChild(el("svg:text", { x: left + w + 6, y: y + 15 }, r.count + conf));
    });
    box.appendChild(svg);
  }

  function unanswered(rows) {
    var body = document.querySelector("#unanswered tbody");
    clear(body);
    if (!rows.length) {
      var tr = el("tr"); tr.appendChild(el("td", { colspan: "3", "class": "empty" }, "Nothing unanswered in this period."));
      body.appendChild(tr); return;
    }
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", {}, r.question));
      tr.appendChild(el("td", {}, r.count));
      tr.appendChild(el("td", {}, r.last_seen.replace("T", " ")));
      body.appendChild(tr);
    });
  }

  function exports(q) {
    var list = document.getElementById("exports");
    clear(list);
    [["report", "Whole report"], ["intents", "Intents"], ["intent_volumes", "Intent volumes"], ["unanswered", "Unanswered questions"], ["ratings", "Ratings (CSAT)"]]
      .forEach(function (t) {
        var item = el("li");
        item.appendChild(el("a", { href: "api/" + t[0] + ".csv?" + q, download: t[0] + ".csv" }, t[1] + " (CSV)"));
        list.appendChild(item);
      });
  }

  // The running A/B test (api/ab, insights/experiments.py): each model's figures, the p-values, the verdict.
  var AB_FIGURES = [["containment", "Containment"], ["handoff_rate", "Hand-off rate"], ["fallback_rate", "Fallback rate"],
                    ["csat_satisfied", "CSAT (rated 4-5)"], ["conversion", "Conversion after recommendations"]];
  function abTest(ab) {
    var table = document.getElementById("ab"), body = table.querySelector("tbody");
    document.getElementById("ab-verdict").textContent = ab.verdict + (ab.winner ? " Winner: version " + ab.winner + "." : "");
    table.hidden = !ab.running;
    clear(body);
    if (!ab.running) return;
    var a = ab.arms[0], b = ab.arms[1];
    document.getElementById("ab-a").textContent = "Version " + a.version + " (serving, " + a.conversations + " conversations)";
    document.getElementById("ab-b").textContent = "Version " + b.version + " (" + pct(ab.share) + " of shoppers, " + b.conversations + " conversations)";
    AB_FIGURES.forEach(function (f) {
      var tr = el("tr"), p = ab.p_values[f[0]];
      tr.appendChild(el("th", { scope: "row" }, f[1]));
      tr.appendChild(el("td", {}, pct(a[f[0]].rate)));
      tr.appendChild(el("td", {}, pct(b[f[0]].rate)));
      tr.appendChild(el("td", {}, p === null || p === undefined ? "n/a" : String(p)));
      body.appendChild(tr);
    });
  }

  function load() {
    var q = query();
    statusLine.textContent = "Loading…";
    fetch("api/report?" + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        if (!res.ok) throw new Error(res.status === 401 || res.status === 403 ? "Please log in as an agent." : "HTTP " + res.status);
        return res.json();
      })
      .then(function (report) {
        kpis(report); volumeChart(report.intent_volumes); intentChart(report.intents);
        unanswered(report.unanswered); exports(q);
        return fetch("api/ab", { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (res) { return res.ok ? res.json() : { running: false, verdict: "" }; }).then(abTest);
      })
      .then(function () {
        statusLine.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
      })
      .catch(function (err) { statusLine.textContent = "Could not load the figures: " + err.message; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
})();
