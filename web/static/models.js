/* The model registry of the learning loop (web/models.py), for admins: every trained model with its
   held-out accuracy and the promotion gate's decision; train a candidate, promote one that passed,
   roll back one step, start or stop an A/B test, and read the test's comparison. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var ctx = null;  // {api, node, me} from console.js
  var FIGURES = { containment: "Containment", handoff_rate: "Hand-off rate", fallback_rate: "Fallback rate",
                  csat_satisfied: "CSAT (4-5 stars)", conversion: "Conversion after recommendations" };

  window.addEventListener("console-ready", function (event) {
    ctx = event.detail;
    $("models-toggle").hidden = !(ctx.me && ctx.me.role === "admin");
  });

  function setOpen(on) {
    $("conversation").classList.toggle("modelling", on);
    $("models-toggle").setAttribute("aria-pressed", on ? "true" : "false");
  }
  $("models-toggle").addEventListener("click", function () {
    var on = !$("conversation").classList.contains("modelling");
    setOpen(on);
    if (on) load();
  });
  $("queue-list").addEventListener("click", function () { setOpen(false); });
  $("review-toggle").addEventListener("click", function () { setOpen(false); });

  function showError(e) { $("models-error").textContent = e.message || String(e); }
  function act(method, path, body) {
    $("models-error").textContent = "";
    return ctx.api(method, path, body || {}).then(load).catch(showError);
  }
  $("models-retrain").addEventListener("click", function () { act("POST", "agent/models/retrain"); });
  $("models-rollback").addEventListener("click", function () { act("POST", "agent/models/rollback"); });

  function percent(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %"; }

  function row(model) {
    var tr = ctx.node("tr", { "data-version": model.version, class: model.status });
    tr.appendChild(ctx.node("td", {}, "v" + model.version + (model.model ? " · " + model.model : "")));
    var status = model.status + (model.ab_share ? " · A/B " + percent(model.ab_share) : "");
    tr.appendChild(ctx.node("td", { "data-role": "status" }, status));
    var figures = Object.keys(model.metrics || {}).map(function (k) { return k + " " + percent(model.metrics[k]); });
    tr.appendChild(ctx.node("td", {}, figures.join(" · ") || "–"));
    var gate = model.gate || {};
    var gateCell = ctx.node("td", { "data-role": "gate", class: gate.passed === false ? "refused" : "" },
      gate.passed === null || gate.passed === undefined ? "–" : gate.passed ? "passed" : "refused: " + (gate.reasons || []).join("; "));
    tr.appendChild(gateCell);
    tr.appendChild(ctx.node("td", { class: "small" }, (model.trained_at || "") + (model.trained_by ? " by " + model.trained_by : "") +
      (model.promoted_by ? " · promoted by " + model.promoted_by : "")));
    var actions = ctx.node("td", {});
    if (model.status === "candidate" && gate.passed) {
      var promote = ctx.node("button", { type: "button" }, "Promote");
      promote.addEventListener("click", function () { act("POST", "agent/models/" + model.version + "/promote"); });
      actions.appendChild(promote);
      if (!model.ab_share) {
        var ab = ctx.node("button", { type: "button", class: "ghost" }, "A/B test 20 %");
        ab.addEventListener("click", function () { act("POST", "agent/models/" + model.version + "/ab", { share: 0.2 }); });
        actions.appendChild(ab);
      } else {
        var stop = ctx.node("button", { type: "button", class: "ghost" }, "Stop A/B test");
        stop.addEventListener("click", function () { act("POST", "agent/models/ab/stop"); });
        actions.appendChild(stop);
      }
    }
    tr.appendChild(actions);
    return tr;
  }

  function renderAb(ab) {
    $("ab-verdict").textContent = ab.verdict + (ab.winner ? " Winner: version " + ab.winner + "." : "");
    $("ab-table").hidden = !ab.running;
    if (!ab.running) return;
    var a = ab.arms[0], b = ab.arms[1], rows = $("ab-rows");
    $("ab-a").textContent = "v" + a.version + " (serving, " + a.conversations + " conversations)";
    $("ab-b").textContent = "v" + b.version + " (" + percent(ab.share) + ", " + b.conversations + " conversations)";
    rows.textContent = "";
    Object.keys(FIGURES).forEach(function (name) {
      var tr = ctx.node("tr", {});
      tr.appendChild(ctx.node("th", { scope: "row" }, FIGURES[name]));
      tr.appendChild(ctx.node("td", {}, percent(a[name].rate)));
      tr.appendChild(ctx.node("td", {}, percent(b[name].rate)));
      var p = ab.p_values[name];
      tr.appendChild(ctx.node("td", {}, p === null || p === undefined ? "–" : String(p)));
      rows.appendChild(tr);
    });
  }

  function load() {
    return ctx.api("GET", "agent/models").then(function (data) {
      var here = data.this_server || {};
      $("models-serving").textContent = "This server answers with " + (here.model || "–") +
        (here.challenger ? " and, for " + percent(here.challenger.share) + " of shoppers, " + here.challenger.model : "") + ".";
      var list = $("models-list");
      list.textContent = "";
      data.models.forEach(function (m) { list.appendChild(row(m)); });
      renderAb(data.ab || { verdict: "" });
    }).catch(showError);
  }
})();
