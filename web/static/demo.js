/* The demo shop: a product grid or one product page, a cart in localStorage, and the chat widget
   told which product is viewed and what is in the cart (page metadata). */
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var productId = params.get("product");
  var CART_KEY = "demo-shop:cart";
  var current = null;
  var catalogue = {};

  function cart() {
    try { return JSON.parse(localStorage.getItem(CART_KEY)) || []; } catch (e) { return []; }
  }
  function saveCart(lines) {
    localStorage.setItem(CART_KEY, JSON.stringify(lines));
    var count = lines.reduce(function (n, l) { return n + l.quantity; }, 0);
    document.getElementById("cart-count").textContent = "Cart: " + count + (count === 1 ? " item" : " items");
  }
  function track(event) {
    if (window.ShopChat && window.ShopChat.instance) window.ShopChat.instance.track(event);
  }
  function addToCart(product) {
    track({ type: "added_to_cart", product_id: String(product.id), price: Number(product.price) || undefined, quantity: 1 });
    var lines = cart();
    var id = String(product.id);
    var line = lines.find(function (l) { return l.product_id === id; });
    if (line) line.quantity += 1; else lines.push({ product_id: id, quantity: 1 });
    saveCart(lines);
  }
  function price(p) {
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: p.currency || "EUR" }).format(Number(p.price)); }
    catch (e) { return p.price + " " + p.currency; }
  }
  function node(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function placeholder(title) {
    var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='300'><rect width='100%' height='100%' fill='#e3e8f0'/>" +
      "<text x='50%' y='55%' font-family='sans-serif' font-size='110' fill='#8a94a6' text-anchor='middle'>" +
      (title || "?").charAt(0).toUpperCase().replace(/[<>&'"]/g, "") + "</text></svg>";
    return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  }
  function image(p) {
    var img = node("img", { src: p.image_url || placeholder(p.title), alt: p.title, loading: "lazy" });
    img.addEventListener("error", function () { img.src = placeholder(p.title); }, { once: true });
    return img;
  }
  function card(p) {
    var li = node("li", { class: "product" });
    li.appendChild(image(p));
    var body = node("div", { class: "body" });
    var h2 = node("h2");
    h2.appendChild(node("a", { href: "demo?product=" + encodeURIComponent(p.id) }, p.title));
    body.appendChild(h2);
    body.appendChild(node("span", { class: "price" }, price(p)));
    if (p.rating !== null && p.rating !== undefined) body.appendChild(node("span", { class: "muted" }, "★ " + Number(p.rating).toFixed(1)));
    var btn = node("button", { class: "btn", type: "button", "aria-label": "Add " + p.title + " to cart" }, "Add to cart");
    btn.addEventListener("click", function () { addToCart(p); });
    body.appendChild(btn);
    li.appendChild(body);
    return li;
  }
  function render(data) {
    var content = document.getElementById("content");
    content.textContent = "";
    (data.products || []).forEach(function (p) { catalogue[String(p.id)] = p; });
    if (data.customer) document.getElementById("who").textContent = "Signed in as " + data.customer.name;
    if (data.product) {
      current = data.product;
      document.title = current.title + " — Larkspur Market";
      var detail = node("article", { class: "detail" });
      detail.appendChild(image(current));
      var info = node("div");
      info.appendChild(node("h2", {}, current.title));
      info.appendChild(node("p", { class: "price" }, price(current)));
      info.appendChild(node("p", { class: "muted" }, (current.brand || "") + " · " + (current.category || "")));
      info.appendChild(node("p", {}, current.description || ""));
      var btn = node("button", { class: "btn", type: "button" }, "Add to cart");
      btn.addEventListener("click", function () { addToCart(current); });
      info.appendChild(btn);
      detail.appendChild(info);
      content.appendChild(detail);
      return;
    }
    if (!data.products || !data.products.length) {
      content.appendChild(node("p", {}, "The catalogue is empty. Build it with: shop build"));
      return;
    }
    content.appendChild(node("h2", {}, "Popular right now"));
    var grid = node("ul", { class: "grid", "aria-label": "Products" });
    data.products.forEach(function (p) { grid.appendChild(card(p)); });
    content.appendChild(grid);
  }

  saveCart(cart());
  // The widget's "Add to cart" buttons land in this page's cart.
  window.addEventListener("shopchat:add-to-cart", function (event) {
    event.preventDefault();
    addToCart(event.detail.product);
  });

  fetch("demo/config" + (productId ? "?product=" + encodeURIComponent(productId) : ""))
    .then(function (r) { return r.json(); })
    .catch(function () { return { products: [] }; })
    .then(function (data) {
      render(data);
      var widget = window.ShopChat.init({
        customerToken: data.customer_token || null,
        getPage: function () {
          return {
            url: location.href,
            product_id: current ? String(current.id) : undefined,
            title: current ? current.title : document.title,
            cart: cart(),
          };
        },
      });
      if (current) widget.track({ type: "product_viewed", product_id: String(current.id), page: location.pathname });
      else widget.track({ type: "page_viewed", page: location.pathname });
    });
})();
