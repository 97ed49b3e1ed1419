/*
 * Shop chat widget: a small, dependency-free chat window for the shop assistant.
 *
 * Embed:
 *   <script src="https://ASSISTANT/webhooks/shop/static/widget.js" defer></script>
 *   <script>
 *     window.addEventListener("DOMContentLoaded", () => ShopChat.init({
 *       customerToken: "...signed by your shop back end...",          // optional: logged-in shopper
 *       getPage: () => ({url: location.href, product_id: "42", title: "...", cart: [...]}),  // optional
 *     }));
 *   </script>
 *
 * Speaks Rasa's socket.io protocol (session_request / session_confirm / user_uttered / bot_uttered)
 * with the vendored socket.io client, falls back to the REST webhook (polling the history) when
 * sockets are unavailable, keeps the session id in localStorage so reloads and other tabs continue
 * the same conversation, and restores the conversation from the server's history endpoint.
 * Host pages may handle "Add to cart" themselves: listen for the cancelable window event
 * "shopchat:add-to-cart" (detail: {product}) and call preventDefault().
 */
(function () {
  "use strict";

  var currentScript = document.currentScript;
  var DEFAULTS = {
    server: currentScript ? new URL(currentScript.src, location.href).origin : location.origin,
    channelPath: "/webhooks/shop",
    socketPath: "/socket.io",
    title: "Shop assistant",
    subtitle: "Usually answers instantly",
    welcome: "Hi! I can help you find products, track an order or start a return. How can I help?",
    placeholder: "Type your message…",
    open: null, // null: remember the last state
    customerToken: null,
    getPage: null,
    storage: window.localStorage,
    transport: "auto", // "auto" (socket.io, REST when sockets fail) or "rest"
    eventsPath: "/insights/events", // site events for shopper insights; null switches them off
  };
  var MAX_CHARS = 4000;
  // What this widget can show (core/capabilities.py): agent/notice lines labelled from their metadata,
  // product cards, and a cart (the host page's, through the "shopchat:add-to-cart" event).
  var CAPABILITIES = ["speakers", "cards", "cart"];
  var RATING_PAYLOAD = "/rate_conversation";  // the rating question's buttons (web/csat.py): drawn as stars

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function placeholderImage(title) {
    var letter = (title || "?").trim().charAt(0).toUpperCase() || "?";
    var svg =
      "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='300'><rect width='100%' height='100%' fill='#e3e8f0'/>" +
      "<text x='50%' y='55%' font-family='sans-serif' font-size='120' fill='#8a94a6' text-anchor='middle'>" +
      letter.replace(/[<>&'"]/g, "") + "</text></svg>";
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  }

  function formatPrice(product) {
    if (!product || product.price === null || product.price === undefined) return "";
    var amount = Number(product.price);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: product.currency || "EUR" }).format(amount);
    } catch (e) {
      return amount.toFixed(2) + " " + (product.currency || "");
    }
  }

  function ShopChatWidget(options) {
    this.o = Object.assign({}, DEFAULTS, options || {});
    this.base = this.o.server.replace(/\/$/, "") + this.o.channelPath;
    this.storageKey = "shopchat:" + this.base;
    this.sessionId = this.read("session");
    this.socket = null;
    this.mode = "socket";
    this.handoff = { status: null };
    this.unread = 0;
    this.pollTimer = null;
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.pendingEvents = [];
    this.pendingMessages = [];  // typed before the server confirmed the conversation: sent right after
    this.loadStyles();
    this.build();
    var open = this.o.open === null ? this.read("open") === "1" : !!this.o.open;
    this.setOpen(open, false);
    if (this.o.transport === "rest") this.useRest("configured");
    else this.connect();
  }

  ShopChatWidget.prototype.read = function (key) {
    try { return this.o.storage.getItem(this.storageKey + ":" + key); } catch (e) { return null; }
  };
  ShopChatWidget.prototype.write = function (key, value) {
    try { this.o.storage.setItem(this.storageKey + ":" + key, value); } catch (e) { /* private mode */ }
  };

  // -- DOM -----------------------------------------------------------------------------
  /* The widget's stylesheet from the assistant, unless the page links it already: one script tag embeds it. */
  ShopChatWidget.prototype.loadStyles = function () {
    var href = this.base + "/static/widget.css";
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) return;
    }
    document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
  };

  ShopChatWidget.prototype.build = function () {
    var self = this;
    var id = "shopchat-" + Math.random().toString(36).slice(2, 8);
    this.badge = el("span", { class: "shopchat-badge", hidden: true, "aria-hidden": "true" });
    this.launcher = el("button", {
      type: "button", class: "shopchat-launcher", "aria-controls": id + "-panel", "aria-expanded": "false",
      "aria-label": "Open chat with the " + this.o.title.toLowerCase(),
      onclick: function () { self.setOpen(true, true); },
    }, [svgIcon("chat"), el("span", { text: "Chat with us" }), this.badge]);
    this.status = el("p", { class: "shopchat-status", id: id + "-status", "aria-live": "polite", text: this.o.subtitle });
    this.titleNode = el("h2", { class: "shopchat-title", id: id + "-title", text: this.o.title });
    this.closeButton = el("button", {
      type: "button", class: "shopchat-close", "aria-label": "Close chat", text: "×",
      onclick: function () { self.setOpen(false, true); },
    });
    this.log = el("div", {
      class: "shopchat-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Conversation", tabindex: "0",
    });
    this.typing = el("div", { class: "shopchat-typing", hidden: true }, [
      el("span", { class: "shopchat-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
      el("span", { class: "shopchat-typing-text", text: "The assistant is typing…" }),
    ]);
    this.quick = el("div", { class: "shopchat-quick", role: "group", "aria-label": "Suggested replies" });
    this.input = el("textarea", {
      id: id + "-input", class: "shopchat-input", rows: "1", maxlength: String(MAX_CHARS),
      placeholder: this.o.placeholder, "aria-label": "Message to the " + this.o.title.toLowerCase(),
      onkeydown: function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.submit();
        }
      },
      oninput: function () { self.sendTyping(); },
    });
    this.sendButton = el("button", { type: "submit", class: "shopchat-send", text: "Send" });
    // A photo of a damaged or wrong item: scaled down here, checked and re-encoded by the server.
    this.fileInput = el("input", {
      type: "file", accept: "image/jpeg,image/png,image/webp", class: "shopchat-sr", tabindex: "-1",
      "aria-hidden": "true",
      onchange: function () {
        var file = self.fileInput.files && self.fileInput.files[0];
        if (file) self.sendPhoto(file);
        self.fileInput.value = "";
      },
    });
    this.attachButton = el("button", {
      type: "button", class: "shopchat-attach", "aria-label": "Attach a photo", title: "Attach a photo",
      onclick: function () { self.fileInput.click(); },
    }, [svgIcon("camera")]);
    this.form = el("form", {
      class: "shopchat-form", onsubmit: function (event) { event.preventDefault(); self.submit(); },
    }, [el("label", { class: "shopchat-sr", for: id + "-input", text: "Message" }), this.input, this.attachButton,
      this.sendButton, this.fileInput]);
    this.panel = el("section", {
      id: id + "-panel", class: "shopchat-panel", role: "dialog", "aria-labelledby": id + "-title",
      "aria-describedby": id + "-status", hidden: true,
      onkeydown: function (event) { if (event.key === "Escape") self.setOpen(false, true); },
    }, [
      el("header", { class: "shopchat-header" }, [
        el("div", { class: "shopchat-header-text" }, [this.titleNode, this.status]), this.closeButton,
      ]),
      this.log, this.typing, this.quick, this.form,
    ]);
    this.root = el("div", { class: "shopchat", "data-open": "false" }, [this.panel, this.launcher]);
    // First in the page's tab order (it is fixed in a corner, so nothing moves): one Tab reaches the launcher.
    document.body.insertBefore(this.root, document.body.firstChild);
  };

  /* The photo as a JPEG data URL of at most 1600 px a side and ~800 KB (the server takes 900 KB). */
  function shrinkPhoto(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        var quality = 0.85, data = canvas.toDataURL("image/jpeg", quality);
        while (data.length > 1100000 && quality > 0.4) { quality -= 0.15; data = canvas.toDataURL("image/jpeg", quality); }
        resolve(data);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    camera: "M9 4 7.5 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2h-3.5L15 4H9zm3 5a4 4 0 1 1 0 8 4 4 0 0 1 0-8z",
  };

  function svgIcon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  ShopChatWidget.prototype.setOpen = function (open, byUser) {
    this.root.setAttribute("data-open", open ? "true" : "false");
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    this.write("open", open ? "1" : "0");
    if (open) {
      this.unread = 0;
      this.updateBadge();
      this.scrollToEnd();
      if (byUser) this.input.focus();
    } else if (byUser) {
      this.launcher.focus();
    }
  };

  ShopChatWidget.prototype.updateBadge = function () {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = String(this.unread);
    this.launcher.setAttribute(
      "aria-label",
      "Open chat with the " + this.o.title.toLowerCase() + (this.unread ? " (" + this.unread + " new)" : "")
    );
  };

  ShopChatWidget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  // -- rendering -----------------------------------------------------------------------
  function timeOf(at) {
    var when = at ? new Date(at) : new Date();
    if (isNaN(when.getTime())) when = new Date();
    return el("time", {
      class: "shopchat-time", datetime: when.toISOString(),
      text: when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
    });
  }

  ShopChatWidget.prototype.addMessage = function (role, text, extra) {
    extra = extra || {};
    var author = null;
    if (role === "agent") author = (extra.agent || "Agent") + " (support agent)";
    var srPrefix = { user: "You said:", bot: "Assistant:", agent: author + ":", system: "Notice:" }[role] || "";
    var node = el("div", { class: "shopchat-msg shopchat-msg--" + role + (extra.error ? " shopchat-msg--error" : ""), "data-role": role });
    if (author) node.appendChild(el("span", { class: "shopchat-msg-author", "aria-hidden": "true", text: author }));
    if (text) {
      node.appendChild(el("div", { class: "shopchat-bubble" }, [el("span", { class: "shopchat-sr", text: srPrefix + " " }), text]));
      node.appendChild(timeOf(extra.at));
    }
    this.log.appendChild(node);
    if (!extra.history) {
      this.scrollToEnd();
      if (role !== "user" && this.panel.hidden) {
        this.unread += 1;
        this.updateBadge();
      }
    }
    return node;
  };

  ShopChatWidget.prototype.renderBot = function (payload, history) {
    var self = this;
    // Live lines carry their speaker in metadata (agent, system); history lines in role/agent.
    var meta = payload.metadata || {};
    var role = payload.role || meta.role || "bot";
    var agent = meta.agent || payload.agent;
    var agentName = agent && typeof agent === "object" ? agent.name : agent;
    if (payload.text) this.addMessage(role, payload.text, { agent: agentName, history: history, at: payload.at });
    var attachment = payload.attachment;
    if (attachment && attachment.type === "template" && attachment.payload &&
        Array.isArray(attachment.payload.elements)) {
      this.renderCards(attachment.payload.elements, history);
    } else if (attachment && attachment.type === "image" && attachment.payload && attachment.payload.src) {
      this.renderImage(attachment.payload.src, history);
    }
    if (payload.image) this.renderImage(payload.image, history);
    if (payload.custom && payload.custom.handoff) this.setHandoff(payload.custom.handoff);
    if (payload.custom && payload.custom.delivered) this.markDelivered();
    this.setQuickReplies(payload.quick_replies || payload.buttons || []);
    if (!history) self.setTyping(false);
  };

  /* The support team has the shopper's latest line (queued or with an agent): a receipt under it. */
  ShopChatWidget.prototype.markDelivered = function () {
    var lines = this.log.querySelectorAll(".shopchat-msg--user");
    var last = lines[lines.length - 1];
    if (!last || last.querySelector(".shopchat-receipt")) return;
    last.appendChild(el("span", { class: "shopchat-receipt", text: "Delivered to our team" }));
  };

  ShopChatWidget.prototype.renderImage = function (src, history) {
    var node = this.addMessage("bot", "", { history: history });
    node.appendChild(el("img", { class: "shopchat-image", src: src, alt: "Image from the assistant" }));
  };

  ShopChatWidget.prototype.renderCards = function (elements, history) {
    var self = this;
    var wrap = this.addMessage("bot", "", { history: history });
    wrap.classList.add("shopchat-msg--wide");
    var list = el("ul", {
      class: "shopchat-carousel" + (elements.length === 1 ? " shopchat-carousel--single" : ""),
      role: "list", "aria-label": elements.length === 1 ? "Product" : elements.length + " products",
    });
    elements.forEach(function (item, index) {
      var product = item.product || {};
      var title = item.title || "Product";
      var img = el("img", {
        class: "shopchat-card-img", src: item.image_url || placeholderImage(title), alt: title, loading: "lazy",
      });
      img.addEventListener("error", function () {
        if (img.dataset.fallback) return;
        img.dataset.fallback = "1";
        img.src = placeholderImage(title);
      });
      var rating = product.rating !== null && product.rating !== undefined ? Number(product.rating) : null;
      var meta = el("div", { class: "shopchat-card-meta" }, [
        el("span", { class: "shopchat-price", text: formatPrice(product) || item.subtitle || "" }),
        rating !== null ? el("span", {
          class: "shopchat-rating", role: "img", text: "★ " + rating.toFixed(1),
          "aria-label": "Rated " + rating.toFixed(1) + " out of 5",
        }) : null,
      ]);
      var actions = el("div", { class: "shopchat-card-actions" });
      (item.buttons || []).forEach(function (button) {
        if (button.type === "web_url" && button.url) {
          actions.appendChild(el("a", { href: button.url, text: button.title || "View", "aria-label": (button.title || "View") + ": " + title }));
        } else {
          actions.appendChild(el("button", {
            type: "button", text: button.title, "aria-label": button.title + ": " + title,
            class: button.action === "add_to_cart" ? "shopchat-cart-btn" : null,
            onclick: function () { self.cardAction(button, item); },
          }));
        }
      });
      list.appendChild(el("li", {
        class: "shopchat-card", "aria-label": title + " (" + (index + 1) + " of " + elements.length + ")",
        "data-product-id": product.id || null,
      }, [img, el("div", { class: "shopchat-card-body" }, [
        el("h3", { class: "shopchat-card-title", text: title }), meta, actions,
      ])]));
    });
    var box = el("div", { class: "shopchat-carousel-wrap" }, [list]);
    if (elements.length > 1) {
      var step = function (direction) { list.scrollBy({ left: direction * 210, behavior: "smooth" }); };
      box.appendChild(el("button", { type: "button", class: "shopchat-carousel-nav shopchat-carousel-nav--prev",
        "aria-label": "Previous products", text: "‹", onclick: function () { step(-1); } }));
      box.appendChild(el("button", { type: "button", class: "shopchat-carousel-nav shopchat-carousel-nav--next",
        "aria-label": "Next products", text: "›", onclick: function () { step(1); } }));
    }
    wrap.appendChild(box);
    if (!history) this.scrollToEnd();
  };

  /* "Add to cart" belongs to the shop page: it handles the cancelable "shopchat:add-to-cart" event
     (and calls preventDefault); then the bot is told, so it can confirm and suggest what goes with it.
     A page without a handler gets the product page opened instead of a false "added". */
  ShopChatWidget.prototype.cardAction = function (button, item) {
    if (button.action === "add_to_cart") {
      var event = new CustomEvent("shopchat:add-to-cart", {
        cancelable: true, detail: { product: Object.assign({ title: item.title, image_url: item.image_url }, item.product || {}) },
      });
      if (window.dispatchEvent(event)) {
        var url = item.product && item.product.url;
        if (url) window.location.assign(url);
        return;
      }
      if (button.payload) this.send(button.payload, "Add to cart: " + item.title);
      return;
    }
    if (button.payload) this.send(button.payload, button.title + ": " + item.title);  // "Details: Trail runner"
  };

  function ratingOf(reply) {
    if (!reply || typeof reply.payload !== "string" || reply.payload.indexOf(RATING_PAYLOAD + "{") !== 0) return null;
    try { return parseInt(JSON.parse(reply.payload.slice(RATING_PAYLOAD.length)).rating, 10) || null; } catch (e) { return null; }
  }

  /* The rating question: five stars, an optional comment, then one message (the chosen button's payload). */
  ShopChatWidget.prototype.renderRating = function (replies) {
    var self = this;
    var chosen = null;
    var stars = el("div", { class: "shopchat-stars", role: "radiogroup", "aria-label": "Your rating, 1 to 5 stars" });
    var comment = el("textarea", {
      class: "shopchat-csat-comment", rows: "2", maxlength: "1000", placeholder: "Anything to add? (optional)",
      "aria-label": "Comment on your rating (optional)",
    });
    var send = el("button", {
      type: "button", class: "shopchat-csat-send", text: "Send rating", disabled: true,
      onclick: function () {
        if (!chosen) return;
        var value = ratingOf(chosen);
        var shown = new Array(value + 1).join("★") + new Array(6 - value).join("☆") + " (" + value + " of 5)";
        self.send(chosen.payload, shown, { rating_comment: comment.value.trim() || undefined });
      },
    });
    replies.forEach(function (reply, index) {
      var value = ratingOf(reply);
      stars.appendChild(el("button", {
        type: "button", role: "radio", class: "shopchat-star", "aria-checked": "false", text: "★",
        "aria-label": value + (value === 1 ? " star" : " stars"),
        onclick: function () {
          chosen = reply;
          send.disabled = false;
          Array.prototype.forEach.call(stars.children, function (star, i) {
            star.setAttribute("aria-checked", i === index ? "true" : "false");
            star.classList.toggle("shopchat-star--on", i <= index);
          });
        },
      }));
    });
    this.quick.appendChild(el("div", { class: "shopchat-csat" }, [stars, comment, send]));
  };

  ShopChatWidget.prototype.setQuickReplies = function (replies) {
    var self = this;
    this.quick.textContent = "";
    if (replies && replies.length && replies.every(function (r) { return ratingOf(r) !== null; })) {
      this.renderRating(replies);
      this.scrollToEnd();
      return;
    }
    (replies || []).forEach(function (reply) {
      if (!reply || !reply.title) return;
      self.quick.appendChild(el("button", {
        type: "button", text: reply.title,
        onclick: function () { self.send(reply.payload || reply.title, reply.title); },
      }));
    });
    this.scrollToEnd();  // the suggestions take room from the log: keep its newest line in view
  };

  ShopChatWidget.prototype.setTyping = function (on, who, name) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    if (!on) return;
    this.typing.lastChild.textContent = who === "agent" ? (name || "The agent") + " is typing…" : "The assistant is typing…";
    this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, who === "agent" ? 4000 : 15000);
  };

  ShopChatWidget.prototype.setHandoff = function (state) {
    state = state || { status: null };
    var previous = this.handoff.status;
    this.handoff = state;
    var withAgent = state.status === "assigned";
    this.root.classList.toggle("shopchat--agent", withAgent);
    this.root.setAttribute("data-handoff", state.status || "none");
    if (state.status === "waiting") {
      this.titleNode.textContent = "Waiting for an agent";
      this.status.textContent = state.position ? "You are number " + state.position + " in the queue" : "An agent will join shortly";
    } else if (withAgent) {
      this.titleNode.textContent = "Connected to " + (state.agent || "an agent");
      this.status.textContent = "You are chatting with a member of our support team";
    } else {
      this.titleNode.textContent = this.o.title;
      this.status.textContent = this.o.subtitle;
    }
    if (previous !== state.status && (state.status === "waiting" || withAgent)) this.setQuickReplies([]);
    if (this.mode === "rest") this.schedulePoll();
  };

  ShopChatWidget.prototype.renderHistory = function (data) {
    var self = this;
    this.log.textContent = "";
    this.quick.textContent = "";
    var messages = (data && data.messages) || [];
    if (this.o.welcome) this.addMessage("bot", this.o.welcome, { history: true });  // always the first line
    messages.forEach(function (message, index) {
      if (message.role === "event") return;
      if (message.role === "user") self.addMessage("user", message.text, { history: true, at: message.at });
      else self.renderBot(message, true);
      if (index !== messages.length - 1) self.quick.textContent = "";
    });
    this.setHandoff(data && data.handoff);
    this.scrollToEnd();
  };

  // -- transport -----------------------------------------------------------------------
  ShopChatWidget.prototype.metadata = function (displayText, extra) {
    var metadata = Object.assign({}, extra || {});
    try {
      if (typeof this.o.getPage === "function") metadata.page = this.o.getPage() || undefined;
    } catch (e) { /* the host page's problem, not the message's */ }
    if (this.o.customerToken) metadata.customer_token = this.o.customerToken;
    if (displayText) metadata.display_text = displayText;
    metadata.capabilities = CAPABILITIES;
    return metadata;
  };

  ShopChatWidget.prototype.loadHistory = function () {
    var self = this;
    if (!this.sessionId) return Promise.resolve(false);
    return fetch(this.base + "/history/" + encodeURIComponent(this.sessionId), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) self.renderHistory(data); return Boolean(data); })
      .catch(function () { return false; /* offline: keep what is shown */ });
  };

  ShopChatWidget.prototype.loadSocketClient = function () {
    if (window.io) return Promise.resolve(window.io);
    var src = this.base + "/static/vendor/socket.io.min.js";
    return new Promise(function (resolve, reject) {
      var script = el("script", { src: src, async: true });
      script.onload = function () { window.io ? resolve(window.io) : reject(new Error("no io")); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  };

  ShopChatWidget.prototype.connect = function () {
    var self = this;
    this.loadSocketClient().then(function (io) {
      var socket = self.socket = io(self.o.server, { path: self.o.socketPath, reconnectionDelayMax: 5000 });
      var failures = 0, everConnected = false;
      socket.on("connect", function () {
        failures = 0;
        everConnected = true;
        self.mode = "socket";
        self.root.setAttribute("data-transport", "socket");
        socket.emit("session_request", { session_id: self.sessionId, capabilities: CAPABILITIES });
      });
      socket.on("connect_error", function () {
        failures += 1;
        self.status.textContent = "Reconnecting…";
        // Never connected (a proxy without WebSockets or long-polling?) or down for a while: REST
        // meanwhile; socket.io keeps retrying and "connect" switches back.
        if ((!everConnected || failures >= 3) && self.mode !== "rest") self.useRest("socket unavailable");
      });
      socket.on("disconnect", function () { self.status.textContent = "Reconnecting…"; });
      socket.on("session_confirm", function (sessionId) {
        var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
        if (!id) return;
        self.sessionId = id;
        self.write("session", id);
        self.flushEvents();
        self.stopPolling();
        // The history first: drawn after the lines typed while connecting went out, it would not hold them
        // yet and would wipe them from the log. They are sent, and shown again, once it is drawn.
        var pending = self.pendingMessages.splice(0);
        self.loadHistory().then(function (redrawn) {
          pending.forEach(function (m) {
            if (redrawn) self.addMessage("user", m.display);
            socket.emit("user_uttered", { message: m.message, session_id: id, metadata: m.metadata });
          });
        });
      });
      socket.on("bot_uttered", function (payload) { self.renderBot(payload || {}, false); });
      socket.on("user_echo", function (payload) { if (payload && payload.text) self.addMessage("user", payload.text); });
      socket.on("typing", function (data) { self.setTyping(!!(data && data.on), data && data.who, data && data.name); });
      socket.on("handoff", function (state) { self.setHandoff(state); });
      socket.on("delivered", function () { self.markDelivered(); });
      socket.on("shop_error", function (data) {
        self.setTyping(false);
        self.addMessage("system", (data && data.error) || "Something went wrong.", { error: true });
      });
    }).catch(function () { self.useRest("socket client unavailable"); });
  };

  /* The conversation id: only ids the server issued continue a conversation (they unlock its
     history), so without a socket one is asked for over REST. */
  ShopChatWidget.prototype.ensureSession = function () {
    var self = this;
    if (this.sessionId) return Promise.resolve(this.sessionId);
    if (!this.sessionRequest) {
      this.sessionRequest = fetch(this.base + "/session", {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit", body: "{}",
      }).then(function (r) { return r.json(); }).then(function (data) {
        self.sessionRequest = null;
        if (!self.sessionId && data && data.session_id) {
          self.sessionId = data.session_id;
          self.write("session", self.sessionId);
        }
        return self.sessionId;
      }, function (error) { self.sessionRequest = null; throw error; });
    }
    return this.sessionRequest;
  };

  ShopChatWidget.prototype.useRest = function (reason) {
    var self = this;
    this.mode = "rest";
    this.root.setAttribute("data-transport", "rest");
    this.ensureSession().then(function () {
      self.flushEvents();
      self.loadHistory();
    }).catch(function () { self.status.textContent = "Reconnecting…"; });
  };

  ShopChatWidget.prototype.schedulePoll = function () {
    var self = this;
    var waiting = this.handoff.status === "waiting" || this.handoff.status === "assigned";
    if (this.mode !== "rest" || !waiting || this.pollTimer) return;
    this.pollTimer = setTimeout(function () {
      self.pollTimer = null;
      self.loadHistory().then(function () { self.schedulePoll(); });
    }, 3000);
  };

  ShopChatWidget.prototype.stopPolling = function () {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  };

  ShopChatWidget.prototype.sendTyping = function () {
    var now = Date.now();
    if (this.mode !== "socket" || !this.socket || now - this.lastTypingSent < 2000) return;
    if (this.handoff.status !== "assigned") return;
    this.lastTypingSent = now;
    this.socket.emit("typing", { session_id: this.sessionId });
  };

  /* POST a JSON body to one of the channel's endpoints: {ok, body} (the server's answer or its error). */
  ShopChatWidget.prototype.postJson = function (path, body) {
    return fetch(this.base + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit", body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (answer) { return { ok: r.ok, body: answer }; });
    });
  };

  ShopChatWidget.prototype.sendPhoto = function (file) {
    var self = this;
    shrinkPhoto(file).then(function (data) {
      var line = self.addMessage("user", "Photo");
      line.querySelector(".shopchat-bubble").appendChild(el("img", {
        class: "shopchat-photo", src: data, alt: "Your photo", onload: function () { self.scrollToEnd(); },
      }));
      self.scrollToEnd();
      return self.ensureSession().then(function (sessionId) {
        return self.postJson("/photos", { session_id: sessionId, image: data });
      });
    }).then(function (result) {
      if (!result.ok) {
        self.addMessage("system", result.body.error || "The photo could not be sent.", { error: true });
        return;
      }
      if (result.body.delivered) self.markDelivered();
      (result.body.messages || []).forEach(function (m) { self.renderBot(m, false); });
    }).catch(function () {
      self.addMessage("system", "The photo could not be sent. Please try a JPEG or PNG photo.", { error: true });
    });
  };

  ShopChatWidget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) {
      this.addMessage("system", "Messages can be at most " + MAX_CHARS + " characters.", { error: true });
      return;
    }
    this.input.value = "";
    this.send(text, null);
  };

  ShopChatWidget.prototype.send = function (message, displayText, extraMetadata) {
    var self = this;
    this.setQuickReplies([]);
    this.addMessage("user", displayText || message);
    var metadata = this.metadata(displayText && displayText !== message ? displayText : null, extraMetadata);
    if (this.mode === "socket" && this.socket && this.socket.connected) {
      if (!this.sessionId) {  // without the conversation id the line would start a conversation of its own
        this.pendingMessages.push({ message: message, metadata: metadata, display: displayText || message });
        return;
      }
      this.socket.emit("user_uttered", { message: message, session_id: this.sessionId, metadata: metadata });
      return;
    }
    if (this.mode !== "rest") this.useRest("socket disconnected");
    this.setTyping(true, "bot");
    this.ensureSession().then(function (sessionId) {
      return self.postJson("/webhook", { sender: sessionId, message: message, metadata: metadata });
    }).then(function (result) {
      self.setTyping(false);
      if (!result.ok) {
        self.addMessage("system", result.body.error || "The message could not be sent.", { error: true });
        return;
      }
      result.body.forEach(function (payload) {
        var normalised = Object.assign({}, payload);
        if (payload.buttons) normalised.quick_replies = payload.buttons;
        self.renderBot(normalised, false);
      });
      self.schedulePoll();
    }).catch(function () {
      self.setTyping(false);
      self.addMessage("system", "You seem to be offline. Please try again.", { error: true });
    });
  };

  /* A site event (page_viewed, product_viewed, searched, added_to_cart, purchased) for the shop's
     insights, tied to this chat session and, when signed, to the customer. Failures are ignored. */
  ShopChatWidget.prototype.track = function (event) {
    if (!this.o.eventsPath || !event || !event.type) return Promise.resolve(false);
    if (!this.sessionId) {  // sent once the server confirmed the session
      this.pendingEvents.push(event);
      return Promise.resolve(true);
    }
    var headers = { "Content-Type": "application/json" };
    if (this.sessionId) headers["X-Shop-Session"] = this.sessionId;
    if (this.o.customerToken) headers["X-Shop-Customer-Token"] = this.o.customerToken;
    var body = Object.assign({ sender_id: this.sessionId || undefined }, event);
    return fetch(this.o.server.replace(/\/$/, "") + this.o.eventsPath, {
      method: "POST", headers: headers, credentials: "omit", body: JSON.stringify(body), keepalive: true,
    }).then(function (r) { return r.ok; }).catch(function () { return false; });
  };

  ShopChatWidget.prototype.flushEvents = function () {
    var self = this;
    this.pendingEvents.splice(0).forEach(function (event) { self.track(event); });
  };

  var instance = null;
  window.ShopChat = {
    init: function (options) {
      if (!instance) instance = new ShopChatWidget(options);
      return instance;
    },
    get instance() { return instance; },
  };
})();
