/* Agent console: login, the live queue, one conversation at a time, take/release/resolve, replies,
   and the follow-ups the bot recorded: complaints and messages left outside opening hours (the
   shopper keeps talking to the bot; an agent answers, in the chat and by e-mail, or follows up
   and marks them dealt with). State changes go through the JSON API with the session's CSRF token;
   the /agents socket.io namespace only pushes news (queue_changed, ticket_message, shopper_typing).
   Complaints are recorded by the action server, which cannot push: the lists are also reloaded
   every COMPLAINT_POLL_MS. */
(function () {
  "use strict";
  var followupKinds = { complaint: "complaint", message: "message" };
  var state = { me: null, csrf: null, tickets: [], followups: [], selected: null, detail: null, socket: null, unread: {}, team: [], resolving: null };
  var COMPLAINT_POLL_MS = 15000;
  var TITLE = document.title;
  var $ = function (id) { return document.getElementById(id); };

  // -- telling the agent: title badge, a short tone, a desktop notification -------------------
  // The badge counts what arrived since the agent last looked (new conversations and shopper lines in
  // conversations not open); it clears when the tab is visible again. Tone and desktop notification
  // only when the page is hidden or the line is for another conversation.
  var alerts = { count: 0, seen: null, mine: {}, audio: null };

  function updateTitle() {
    document.title = (alerts.count ? "(" + alerts.count + ") " : "") + TITLE;
    $("alert-count").textContent = alerts.count ? alerts.count + " new" : "";
  }

  function tone() {
    try {
      alerts.audio = alerts.audio || new (window.AudioContext || window.webkitAudioContext)();
      var ctx = alerts.audio, osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.35);
    } catch (e) { /* no audio on this machine */ }
  }

  function notify(title, body) {
    alerts.count += 1;
    updateTitle();
    if (!document.hidden && document.hasFocus()) return;
    tone();
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification(title, { body: body || "", tag: "shop-console" }); } catch (e) { /* not allowed here */ }
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { alerts.count = 0; updateTitle(); }
  });
  window.addEventListener("focus", function () { alerts.count = 0; updateTitle(); });

  function node(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] !== null && attrs[k] !== undefined) n.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
    }
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401 && path !== "agent/login") showLogin();
        if (!r.ok) { var e = new Error(data.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return data;
      });
    });
  }

  function waited(iso) {
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m >= 60) return Math.floor(m / 60) + " h " + (m % 60) + " min";
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  // -- login -----------------------------------------------------------------------------
  function showLogin() {
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    state.me = null;
    $("app-view").hidden = true;
    $("login-view").hidden = false;
    $("username").focus();
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("login-error").textContent = "";
    var username = $("username").value.trim(), password = $("password").value;
    if (!username || !password) { $("login-error").textContent = "Enter your username and password."; return; }
    api("POST", "agent/login", { username: username, password: password })
      .then(function (data) {
        $("password").value = "";
        state.csrf = data.csrf;
        // Asked on the agent's own click (browsers only allow it then); a refusal changes nothing else.
        if (window.Notification && Notification.permission === "default") Notification.requestPermission();
        return start();
      })
      .catch(function (e) {
        $("login-error").textContent = e.status === 401 ? "Wrong username or password." : e.message;
        $("password").select();
      });
  });

  $("logout").addEventListener("click", function () {
    api("POST", "agent/logout", {}).finally(showLogin);
  });

  // -- app -------------------------------------------------------------------------------
  function start() {
    return api("GET", "agent/me").then(function (me) {
      state.me = me.agent;
      state.csrf = me.csrf;
      $("agent-name").textContent = "Signed in as " + me.agent.display_name;
      $("analytics-link").hidden = me.agent.role !== "admin";
      var canned = $("canned");
      canned.length = 1;
      (me.canned_replies || []).forEach(function (text) { canned.appendChild(node("option", { value: text }, text)); });
      $("login-view").hidden = true;
      $("app-view").hidden = false;
      connect();
      refreshTeam();
      // The review queue (review.js) uses the same API helper and session.
      window.dispatchEvent(new CustomEvent("console-ready", { detail: { api: api, node: node, me: state.me } }));
      return refreshQueue().then(function () {
        var fromUrl = /^#ticket-(\d+)$/.exec(location.hash);  // the conversation open before a reload
        if (fromUrl && !state.selected) openTicket(Number(fromUrl[1]), true);
      });
    });
  }

  function connect() {
    if (state.socket || !window.io) return;
    var socket = state.socket = window.io("/agents", { path: "/socket.io" });
    socket.on("connect", function () {
      $("live-state").textContent = "Live";
      $("live-state").classList.add("live");
      refreshQueue();
      if (state.selected) openTicket(state.selected, true);
    });
    socket.on("disconnect", function () {
      $("live-state").textContent = "Reconnecting…";
      $("live-state").classList.remove("live");
    });
    socket.on("connect_error", function () {
      $("live-state").textContent = "Offline";
      $("live-state").classList.remove("live");
    });
    socket.on("team_changed", function () { refreshTeam(); });
    socket.on("queue_changed", function (data) {
      refreshQueue();
      if (data && data.ticket && data.ticket.id === state.selected) openTicket(state.selected, true);
    });
    socket.on("ticket_message", function (data) {
      if (!data) return;
      if (data.ticket_id === state.selected && state.detail) {
        if (!state.detail.messages.some(function (m) { return m.id === data.message.id; })) {
          state.detail.messages.push(data.message);
          appendMessage(data.message);
        }
      } else {
        state.unread[data.ticket_id] = (state.unread[data.ticket_id] || 0) + 1;
        renderQueue();
      }
      if (data.message && data.message.author === "shopper" && (data.ticket_id !== state.selected || document.hidden)) {
        notify("New message in conversation #" + data.ticket_id, data.message.text);
      }
      if (data.message && data.message.author === "shopper") $("shopper-typing").hidden = true;
    });
    var typingTimer = null;
    socket.on("shopper_typing", function (data) {
      if (!data || data.ticket_id !== state.selected) return;
      $("shopper-typing").hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { $("shopper-typing").hidden = true; }, 4000);
    });
  }

  // -- the team: presence, and whom a conversation can be passed to ------------------------------
  function refreshTeam() {
    return api("GET", "agent/team").then(function (data) { state.team = data.agents || []; renderTeam(); }).catch(function () {});
  }

  function renderTeam() {
    var list = $("team-list"), select = $("transfer-to"), chosen = select.value;
    list.textContent = "";
    state.team.forEach(function (a) {
      var you = state.me && a.id === state.me.id;
      var load = a.load !== undefined ? " · " + a.load + "/" + a.capacity : "";
      var item = node("li", { class: a.online ? "online" : "away", "data-agent": a.id },
        a.display_name + (you ? " (you)" : "") + " — " + (a.online ? "online" : "away") + load);
      if (a.skills) item.title = "answers: " + a.skills.join(", ");
      list.appendChild(item);
      if (you) $("presence").value = a.presence;
    });
    select.length = 1;
    state.team.filter(function (a) { return a.online && (!state.me || a.id !== state.me.id); }).forEach(function (a) {
      select.appendChild(node("option", { value: String(a.id) }, a.display_name));
    });
    select.value = chosen;
    updateTransfer();
  }

  function updateTransfer() {
    var t = state.detail && state.detail.ticket;
    var mine = t && state.me && t.agent_id === state.me.id && t.status === "assigned";
    $("transfer-to").disabled = !mine;
    $("transfer").disabled = !mine || !$("transfer-to").value;
  }

  $("presence").addEventListener("change", function (event) {
    api("POST", "agent/presence", { presence: event.target.value })
      .then(function (data) { state.team = data.agents || []; renderTeam(); })
      .catch(function (e) { $("action-error").textContent = e.message; });
  });
  $("transfer-to").addEventListener("change", updateTransfer);
  $("transfer").addEventListener("click", function () {
    var to = Number($("transfer-to").value);
    if (to) act("transfer", { agent_id: to }).then(function () { $("transfer-to").value = ""; updateTransfer(); });
  });

  // Routing (SHOP_HANDOFF_ROUTING=auto) gives a conversation to an agent: it is announced as theirs and
  // opened when they have none open; the queue lists their own and those waiting for their skills.
  function isMine(t) { return t.status === "assigned" && state.me && t.agent_id === state.me.id; }

  function refreshQueue() {
    return api("GET", "agent/queue").then(function (data) {
      var waiting = data.tickets.filter(function (t) { return t.status === "waiting"; });
      var mine = data.tickets.filter(isMine);
      if (alerts.seen !== null) {
        waiting.filter(function (t) { return !alerts.seen[t.id]; }).forEach(function (t) {
          notify("New conversation #" + t.id + " waiting", (t.summary || "").split("\n")[0]);
        });
        mine.filter(function (t) { return !alerts.mine[t.id]; }).forEach(function (t) {
          notify("Conversation #" + t.id + " is yours", (t.summary || "").split("\n")[0]);
          // The one being resolved is over already: the routing news can arrive before the answer to "Close".
          var open = state.detail && state.detail.ticket && state.resolving !== state.selected &&
            ["waiting", "assigned"].indexOf(state.detail.ticket.status) >= 0;
          if (!state.selected || !open) openTicket(t.id);  // nothing open, or the open one is over
        });
      }
      alerts.seen = {};
      alerts.mine = {};
      data.tickets.concat(data.followups || []).forEach(function (t) { alerts.seen[t.id] = true; });
      mine.forEach(function (t) { alerts.mine[t.id] = true; });
      state.tickets = data.tickets;
      state.followups = data.followups || [];
      state.resolved = data.resolved;
      state.overview = data.overview || null;
      renderQueue();
    }).catch(function () {});
  }

  function renderOverview() {
    var list = $("skill-overview");
    list.textContent = "";
    ((state.overview && state.overview.skills) || []).forEach(function (row) {
      list.appendChild(node("li", { "data-skill": row.skill },
        row.skill + ": " + row.waiting + " waiting · " + row.agents_online + " online · " + row.free_places + " free"));
    });
  }

  // Frustration as words and a number (never colour alone); the signals for screen readers too.
  function frustrationBadge(f, peak) {
    var score = f.score.toFixed(2);
    var label = f.frustrated ? "frustrated " + (peak ? "(peak " + score + ")" : score) : "frustration " + (peak ? "peak " : "") + score;
    var badge = node("span", { class: "badge" + (f.frustrated ? " frustrated" : "") }, label);
    if (f.signals && f.signals.length) {
      badge.title = "signals: " + f.signals.join(", ");
      badge.appendChild(node("span", { class: "sr" }, " (" + badge.title + ")"));
    }
    return badge;
  }

  function queueButton(ticket) {
    var button = node("button", {
      type: "button", class: "queue-item", "data-ticket": ticket.id,
      "aria-current": ticket.id === state.selected ? "true" : "false",
    });
    var first = node("span", { class: "row" });
    first.appendChild(node("strong", {}, "#" + ticket.id + (ticket.customer_id ? " · " + ticket.customer_id : "")));
    if (ticket.kind === "handoff" && ticket.skill) first.appendChild(node("span", { class: "skill" }, ticket.skill));
    if (isMine(ticket)) first.appendChild(node("span", { class: "yours" }, "yours"));
    first.appendChild(node("span", { class: "status " + ticket.status },
      ticket.status === "assigned" ? "with " + ticket.agent_name :
      followupKinds[ticket.kind] ? (ticket.status === "recorded" ? followupKinds[ticket.kind] : followupKinds[ticket.kind] + " " + ticket.status) :
      ticket.status.replace("_", " ")));
    button.appendChild(first);
    var second = node("span", { class: "row" });
    // Waiting counts until someone takes the conversation; then the time with the agent counts instead.
    var taken = ticket.status === "assigned" && ticket.assigned_at;
    var counting = ticket.status === "waiting" || ticket.status === "recorded" || taken;
    var timer = node("span", {
      class: "wait", "data-since": counting ? (taken ? ticket.assigned_at : ticket.created_at) : null,
      "data-label": taken ? "taken " : "waiting ",
    });
    timer.textContent = counting ? timer.getAttribute("data-label") + waited(timer.getAttribute("data-since")) : "";
    second.appendChild(timer);
    if (ticket.peak_frustration && ticket.peak_frustration.score > 0) second.appendChild(frustrationBadge(ticket.peak_frustration, true));
    if (state.unread[ticket.id]) second.appendChild(node("span", { class: "unread", "aria-label": state.unread[ticket.id] + " new messages" }, String(state.unread[ticket.id])));
    button.appendChild(second);
    button.appendChild(node("span", { class: "snippet" }, (ticket.summary || "").split("\n")[0]));
    button.addEventListener("click", function () { openTicket(ticket.id); });
    return button;
  }

  function renderQueue() {
    var list = $("queue-list"), followups = $("followup-list"), resolved = $("resolved-list");
    list.textContent = "";
    followups.textContent = "";
    resolved.textContent = "";
    $("queue-count").textContent = String(state.tickets.length);
    renderOverview();
    if (!state.tickets.length) list.appendChild(node("li", { class: "muted small" }, "Nobody is waiting."));
    state.tickets.forEach(function (t) { var li = node("li"); li.appendChild(queueButton(t)); list.appendChild(li); });
    $("followups-count").textContent = String(state.followups.length);
    if (!state.followups.length) followups.appendChild(node("li", { class: "muted small" }, "No complaints or messages to answer."));
    state.followups.forEach(function (t) { var li = node("li"); li.appendChild(queueButton(t)); followups.appendChild(li); });
    (state.resolved || []).forEach(function (t) { var li = node("li"); li.appendChild(queueButton(t)); resolved.appendChild(li); });
  }

  setInterval(function () {
    document.querySelectorAll(".queue-list:not(.resolved) .wait[data-since]").forEach(function (el) {
      el.textContent = el.getAttribute("data-label") + waited(el.getAttribute("data-since"));
    });
  }, 1000);
  setInterval(function () { if (state.me) { refreshQueue(); refreshTeam(); } }, COMPLAINT_POLL_MS);

  // -- one ticket ------------------------------------------------------------------------
  function openTicket(id, keepFocus) {
    state.selected = id;
    if (!keepFocus) { alerts.count = 0; updateTitle(); }  // the agent is looking: the news is seen
    if (location.hash !== "#ticket-" + id) history.replaceState(null, "", "#ticket-" + id);  // kept across a reload
    delete state.unread[id];
    renderQueue();
    return api("GET", "agent/tickets/" + id).then(function (data) {
      state.detail = data;
      renderTicket(data);
      if (!keepFocus) $("conversation").focus();
    }).catch(function (e) { $("action-error").textContent = e.message; });
  }

  function bubble(cls, who, text, title) {
    var li = node("li", { class: "msg " + cls });
    if (who) li.appendChild(node("span", { class: "who" }, who));
    li.appendChild(node("span", { class: "bubble", title: title || null }, text));
    return li;
  }

  // A photo the shopper sent (shopdb/photos.py), served to logged-in agents only.
  function withPhoto(li, photo) {
    if (!photo) return li;
    var link = node("a", { href: "agent/photos/" + encodeURIComponent(photo), target: "_blank", rel: "noopener" });
    link.appendChild(node("img", { class: "photo", src: "agent/photos/" + encodeURIComponent(photo), alt: "Photo from the shopper" }));
    li.querySelector(".bubble").appendChild(link);
    return li;
  }

  function appendMessage(m) {
    var who = m.author === "shopper" ? "Shopper" : m.author === "agent" ? (m.agent_name || "Agent") : null;
    var cls = m.author === "shopper" ? "shopper" : m.author;
    var li = withPhoto(bubble(cls, who, m.text, new Date(m.created_at).toLocaleString()), m.meta && m.meta.photo);
    $("thread").appendChild(li);
    $("thread").scrollTop = $("thread").scrollHeight;
  }

  function renderTicket(data) {
    var t = data.ticket, mine = state.me && t.agent_id === state.me.id, open = t.status === "waiting" || t.status === "assigned";
    var followup = followupKinds[t.kind], recorded = t.status === "recorded";
    $("empty").hidden = true;
    $("ticket").hidden = false;
    $("action-error").textContent = "";
    $("ticket-title").textContent = "Conversation #" + t.id + (t.customer_id ? " — customer " + t.customer_id : " — guest");
    $("ticket-status").textContent =
      t.status === "waiting" ? "Waiting since " + new Date(t.created_at).toLocaleTimeString() + " — take it to reply" :
      t.status === "assigned" ? (mine ? "You are talking to this shopper" : "Taken by " + t.agent_name) :
      recorded ? (t.kind === "message" ? "Message left " : "Complaint recorded ") + new Date(t.created_at).toLocaleString() + " — the shopper is still with the bot; answer here (chat and e-mail) or follow up and mark it dealt with" :
      t.status === "handed_back" ? "Handed back to the bot" :
      followup ? followup.charAt(0).toUpperCase() + followup.slice(1) + " dealt with" + (t.agent_name ? " by " + t.agent_name : "") : "Closed";
    ["take", "release", "hand-back", "close", "transfer", "transfer-to"].forEach(function (id) { $(id).hidden = !!followup; });
    $("close-followup").hidden = !followup;
    $("close-followup").disabled = !recorded;
    $("reply-form").hidden = !!followup && !recorded;
    $("take").disabled = !(t.status === "waiting");
    $("release").disabled = !(open && mine);
    $("hand-back").disabled = !(open && mine);
    $("close").disabled = !(open && mine);
    var canWrite = (open && mine) || (!!followup && recorded);
    $("reply").disabled = !canWrite;
    $("send").disabled = !canWrite;
    $("canned").disabled = !canWrite;
    updateTransfer();

    var thread = $("thread");
    thread.textContent = "";
    // A complaint's words are its first message (after the divider): not again in the transcript above it.
    var filed = {};
    if (followup) data.messages.forEach(function (m) { if (m.author === "shopper") filed[m.text] = true; });
    (t.transcript || []).forEach(function (m) {
      if (m.role === "event" || (m.role === "user" && filed[m.text])) return;
      var who = m.role === "user" ? "Shopper" : m.role === "bot" ? "Bot" : m.role === "agent" ? m.agent : null;
      var elements = m.attachment && m.attachment.payload && m.attachment.payload.elements;
      var cards = elements ? "[cards: " + elements.map(function (e) { return e.title; }).join("; ") + "]" : "";
      var text = [m.text, cards].filter(Boolean).join("\n");
      if (!text) return;
      var li = withPhoto(bubble(m.role === "user" ? "user" : m.role, who, text, m.intent ? "intent: " + m.intent : null), m.photo);
      if (m.frustration && m.frustration.score > 0) li.appendChild(frustrationBadge(m.frustration, false));
      thread.appendChild(li);
    });
    thread.appendChild(node("li", { class: "divider" },
      t.kind === "complaint" ? "Complaint (the shopper's words)" : t.kind === "message" ? "Message left for the team" : "Handed over to a person"));
    data.messages.forEach(appendMessage);

    $("summary").textContent = t.summary || "—";
    var intents = $("intents");
    intents.textContent = "";
    (t.intents || []).forEach(function (i) {
      intents.appendChild(node("li", { title: "confidence " + i.confidence }, i.name + (i.count > 1 ? " ×" + i.count : "")));
    });
    renderContext(data.context || {});
  }

  function renderContext(ctx) {
    var product = $("product");
    product.textContent = "";
    if (ctx.product) {
      product.appendChild(node("strong", {}, ctx.product.title));
      product.appendChild(node("div", { class: "muted small" }, ctx.product.sku + " · " + ctx.product.price + " " + ctx.product.currency + " · stock " + ctx.product.stock));
    } else product.appendChild(node("span", { class: "muted" }, ctx.page_url ? ctx.page_url : "No product page"));
    var cart = $("cart");
    cart.textContent = "";
    if (!ctx.cart || !ctx.cart.length) cart.appendChild(node("li", { class: "muted" }, "Empty"));
    (ctx.cart || []).forEach(function (line) { cart.appendChild(node("li", {}, line.quantity + " × " + line.title + " (" + line.price + " " + line.currency + ")")); });
    var customer = $("customer");
    customer.textContent = "";
    if (!ctx.customer) { customer.appendChild(node("span", { class: "muted" }, "Guest (not signed in)")); return; }
    customer.appendChild(node("strong", {}, ctx.customer.name));
    customer.appendChild(node("div", { class: "muted small" }, ctx.customer.customer_id + " · " + ctx.customer.email));
    var table = node("table", { class: "orders" });
    var head = node("tr");
    ["Order", "Status", "Total"].forEach(function (h) { head.appendChild(node("th", { scope: "col" }, h)); });
    table.appendChild(head);
    (ctx.customer.orders || []).forEach(function (o) {
      var row = node("tr");
      row.appendChild(node("td", {}, o.order_number));
      row.appendChild(node("td", {}, o.status));
      row.appendChild(node("td", {}, o.total + " " + o.currency));
      table.appendChild(row);
    });
    customer.appendChild(table);
  }

  function act(verb, body) {
    $("action-error").textContent = "";
    var ticket = state.selected;
    if (verb === "resolve") state.resolving = ticket;
    return api("POST", "agent/tickets/" + ticket + "/" + verb, body || {})
      .then(function () { return state.selected === ticket ? openTicket(ticket, true) : null; })
      .then(refreshQueue)
      .catch(function (e) { $("action-error").textContent = e.message; })
      .then(function () { if (state.resolving === ticket) state.resolving = null; });
  }

  $("take").addEventListener("click", function () { act("take").then(function () { $("reply").focus(); }); });
  $("release").addEventListener("click", function () { act("release"); });
  $("hand-back").addEventListener("click", function () { act("resolve", { outcome: "handed_back" }); });
  $("close").addEventListener("click", function () { act("resolve", { outcome: "closed" }); });
  $("close-followup").addEventListener("click", function () { act("close_followup"); });
  $("canned").addEventListener("change", function (event) {
    if (!event.target.value) return;
    $("reply").value = event.target.value;
    event.target.value = "";
    $("reply").focus();
  });

  var lastTyping = 0;
  $("reply").addEventListener("input", function () {
    if (!state.socket || Date.now() - lastTyping < 2000) return;
    lastTyping = Date.now();
    state.socket.emit("typing", { ticket_id: state.selected });
  });
  $("reply").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("reply").value.trim();
    if (!text) return;
    $("send").disabled = true;
    api("POST", "agent/tickets/" + state.selected + "/messages", { text: text })
      .then(function (data) {
        $("reply").value = "";
        if (state.detail && !state.detail.messages.some(function (m) { return m.id === data.message.id; })) {
          state.detail.messages.push(data.message);
          appendMessage(data.message);
        }
        if (data.delivered_by) {  // a follow-up's answer: say where it went, then show it closed
          $("action-error").textContent = "";
          $("ticket-status").textContent = "Answer sent by " + data.delivered_by + ".";
          refreshQueue();
        }
      })
      .catch(function (e) { $("action-error").textContent = e.message; })
      .finally(function () { $("send").disabled = false; $("reply").focus(); });
  });

  api("GET", "agent/me").then(function () { return start(); }).catch(showLogin);
})();
