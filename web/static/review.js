/* The review queue of the learning loop (web/review.py), for reviewers and admins: shoppers' messages
   the bot may have misread. For each: confirm the bot's reading, pick the right intent, mark entity
   spans (select words in the message, pick the entity, "Mark"), call it a new request type, or discard;
   "Similar" lists pending messages close to it (sentence embeddings) to give them the same decision. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var ctx = null;  // {api, node, me} from console.js
  var state = { items: [], entities: [], spans: {} };

  window.addEventListener("console-ready", function (event) {
    ctx = event.detail;
    var allowed = ctx.me && (ctx.me.can_review || ctx.me.role === "admin");
    $("review-toggle").hidden = !allowed;
  });

  $("review-toggle").addEventListener("click", function () {
    var main = $("conversation"), on = !main.classList.contains("reviewing");
    main.classList.toggle("reviewing", on);
    $("review-toggle").setAttribute("aria-pressed", on ? "true" : "false");
    if (on) load();
  });
  // Opening a conversation from the queue leaves the review queue.
  $("queue-list").addEventListener("click", function () {
    $("conversation").classList.remove("reviewing");
    $("review-toggle").setAttribute("aria-pressed", "false");
  });
  $("review-source").addEventListener("change", load);
  $("review-collect").addEventListener("click", function () {
    ctx.api("POST", "agent/review/collect", {}).then(load).catch(showError);
  });

  function showError(e) { $("review-error").textContent = e.message || String(e); }

  function load() {
    var source = $("review-source").value;
    return ctx.api("GET", "agent/review" + (source ? "?source=" + encodeURIComponent(source) : "")).then(function (data) {
      $("review-error").textContent = "";
      state.items = data.items;
      state.entities = data.entities;
      var list = $("review-intents");
      list.textContent = "";
      data.intents.forEach(function (name) { list.appendChild(ctx.node("option", { value: name })); });
      var counts = data.counts || {};
      $("review-counts").textContent = (counts.pending || 0) + " waiting · " +
        ((counts.confirmed || 0) + (counts.relabelled || 0)) + " labelled · " + (counts.discarded || 0) + " discarded";
      render();
    }).catch(showError);
  }

  function textWithSpans(item) {
    var p = ctx.node("p", { class: "text", "data-role": "text" }), spans = state.spans[item.id] || [], at = 0;
    spans.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (s) {
      p.appendChild(document.createTextNode(item.text.slice(at, s.start)));
      var mark = ctx.node("mark", { title: s.entity }, item.text.slice(s.start, s.end));
      p.appendChild(mark);
      at = s.end;
    });
    p.appendChild(document.createTextNode(item.text.slice(at)));
    return p;
  }

  function selectionIn(item, textNode) {
    var sel = window.getSelection(), text = sel ? sel.toString() : "";
    if (!text || !textNode.contains(sel.anchorNode)) return null;
    var start = item.text.indexOf(text);
    return start < 0 ? null : { start: start, end: start + text.length };
  }

  function decide(item, action, intent, li) {
    var body = { action: action, intent: intent || null, entities: state.spans[item.id] || [] };
    return ctx.api("POST", "agent/review/" + item.id, body).then(function (data) {
      li.classList.add("done");
      li.querySelector(".reading").textContent = "Decided: " + data.item.status.replace("_", " ") + (data.item.intent ? " → " + data.item.intent : "");
      return data.item;
    }).catch(showError);
  }

  function itemView(item) {
    var li = ctx.node("li", { class: "review-item", "data-item": item.id });
    var textNode = textWithSpans(item);
    li.appendChild(textNode);
    var ranking = (item.ranking || []).map(function (r) { return r.name + " " + r.confidence.toFixed(2); }).join(", ");
    li.appendChild(ctx.node("p", { class: "reading" },
      (item.repeats > 1 ? "Said in " + item.repeats + " conversations · " : "") +
      "The bot read: " + (item.predicted_intent || "?") + " · " + (item.sources || []).join(", ").replace(/_/g, " ") +
      (ranking ? " · top intents: " + ranking : "")));
    var controls = ctx.node("div", { class: "controls", role: "group", "aria-label": "Decision on message " + item.id });
    var intent = ctx.node("input", { list: "review-intents", "aria-label": "Right intent for message " + item.id, placeholder: "intent…", value: item.predicted_intent || "" });
    var entity = ctx.node("select", { "aria-label": "Entity of the selected words" });
    entity.appendChild(ctx.node("option", { value: "" }, "entity…"));
    state.entities.forEach(function (name) { entity.appendChild(ctx.node("option", { value: name }, name)); });
    var mark = ctx.node("button", { type: "button" }, "Mark");
    mark.addEventListener("click", function () {
      var span = selectionIn(item, textNode);
      if (!span || !entity.value) { showError("Select words in the message and pick an entity first."); return; }
      span.entity = entity.value;
      (state.spans[item.id] = state.spans[item.id] || []).push(span);
      li.replaceChild(textNode = textWithSpans(item), li.firstChild);
    });
    var buttons = [["Confirm", "confirm"], ["Relabel", "relabel"], ["New request type", "new_request"], ["Discard", "discard"]];
    controls.appendChild(intent);
    controls.appendChild(entity);
    controls.appendChild(mark);
    buttons.forEach(function (b) {
      var button = ctx.node("button", { type: "button", class: b[1] === "relabel" ? "primary" : "" }, b[0]);
      button.addEventListener("click", function () {
        decide(item, b[1], b[1] === "relabel" || b[1] === "new_request" ? intent.value.trim() : null, li)
          .then(function (done) { if (done) li.dataset.decision = JSON.stringify({ action: b[1], intent: done.intent }); });
      });
      controls.appendChild(button);
    });
    var similarButton = ctx.node("button", { type: "button", class: "ghost" }, "Similar");
    similarButton.addEventListener("click", function () { showSimilar(item, li); });
    controls.appendChild(similarButton);
    li.appendChild(controls);
    return li;
  }

  function showSimilar(item, li) {
    ctx.api("GET", "agent/review/" + item.id + "/similar").then(function (data) {
      var old = li.querySelector(".similar-box");
      if (old) old.remove();
      var box = ctx.node("div", { class: "similar-box" });
      if (!data.items.length) { box.appendChild(ctx.node("p", { class: "muted small" }, "No similar message waits.")); li.appendChild(box); return; }
      var list = ctx.node("ul", { class: "similar" });
      data.items.forEach(function (other) {
        var row = ctx.node("li");
        var check = ctx.node("input", { type: "checkbox", value: String(other.id), "aria-label": "Same decision for: " + other.text });
        check.checked = true;
        row.appendChild(check);
        row.appendChild(document.createTextNode(" " + other.text + " (" + other.score.toFixed(2) + ")"));
        list.appendChild(row);
      });
      var apply = ctx.node("button", { type: "button", class: "primary" }, "Same decision for the checked");
      apply.addEventListener("click", function () {
        var decision = li.dataset.decision ? JSON.parse(li.dataset.decision) : null;
        if (!decision) { showError("Decide on this message first, then apply it to the similar ones."); return; }
        var ids = Array.prototype.map.call(list.querySelectorAll("input:checked"), function (c) { return Number(c.value); });
        ctx.api("POST", "agent/review/bulk", { ids: ids, action: decision.action, intent: decision.intent || null })
          .then(load).catch(showError);
      });
      box.appendChild(list);
      box.appendChild(apply);
      li.appendChild(box);
    }).catch(showError);
  }

  function render() {
    var list = $("review-list");
    list.textContent = "";
    if (!state.items.length) list.appendChild(ctx.node("li", { class: "muted small" }, "Nothing waits for a review."));
    state.items.forEach(function (item) { list.appendChild(itemView(item)); });
  }
})();
