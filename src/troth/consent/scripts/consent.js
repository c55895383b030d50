/* Troth consent banner. Generated from the privacy policy declaration. */
(function (w, d, n, l) {
  "use strict";
  var C = __TROTH_CONFIG__;
  var me = d.currentScript || d.querySelector('script[src*="/consent.js"]');
  if (!me || w.trothConsent) return;
  var site = me.getAttribute("data-site") || l.hostname;
  var api = new URL(me.src, l.href).origin;
  var lang = (d.documentElement.lang || "").slice(0, 2).toLowerCase();
  if (!C.texts[lang]) lang = "en";
  var T = C.texts[lang];
  var gpc = C.gpc && n.globalPrivacyControl === true;
  var signal = gpc || C.dnt && n.doNotTrack === "1";
  var CSS = ":host{all:initial}" +
    ".layer{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.35);display:flex;" +
    "align-items:flex-end;justify-content:center;font:15px/1.45 system-ui,sans-serif;color:#1a1a1a}" +
    ".box{background:#fff;box-sizing:border-box;width:100%;max-width:42rem;max-height:90vh;" +
    "overflow:auto;margin:1rem;padding:1.25rem 1.5rem;border-radius:.5rem;" +
    "box-shadow:0 4px 24px rgba(0,0,0,.25)}" +
    ".box:focus{outline:2px solid #1d4ed8;outline-offset:2px}" +
    "h2{font-size:1.2rem;margin:0 0 .5rem}p{margin:.25rem 0 .75rem}" +
    ".note{background:#fef3c7;padding:.5rem .75rem;border-radius:.25rem}" +
    "fieldset{border:1px solid #d4d4d4;border-radius:.375rem;margin:0 0 .75rem;padding:.5rem .75rem}" +
    "legend{font-weight:600;padding:0 .25rem}label{margin-left:.35rem}" +
    "table{border-collapse:collapse;width:100%;font-size:.85rem}" +
    "th,td{text-align:left;padding:.25rem .5rem .25rem 0;vertical-align:top;border-top:1px solid #eee}" +
    "small{display:block;color:#555}.bar{display:flex;flex-wrap:wrap;gap:.5rem;margin:.75rem 0}" +
    "button{font:inherit;padding:.55rem 1rem;border-radius:.375rem;border:1px solid #1d4ed8;" +
    "background:#1d4ed8;color:#fff;cursor:pointer}a{color:#1d4ed8}" +
    "button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    "[hidden]{display:none!important}";
  var config, policy = 0, host, root, dialog, details, boxes = {}, chooseBtn, saveBtn, before;

  w.troth = w.troth || function () { (w.troth.q = w.troth.q || []).push(arguments); };

  function cookie(name) {
    var m = name && d.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? m[1] : "";
  }
  function put(name, value, days) {
    var h = l.hostname, dom = h == site || h.endsWith("." + site) ? "; domain=" + site : "";
    d.cookie = name + "=" + value + "; path=/; max-age=" + days * 86400 + dom +
      "; SameSite=Lax" + (l.protocol == "https:" ? "; Secure" : "");
  }
  // A refusal is remembered in localStorage, so refusing leaves no cookie of ours at all.
  function local(value) {
    try {
      if (value === undefined) return w.localStorage.getItem(C.consent) || "";
      value ? w.localStorage.setItem(C.consent, value) : w.localStorage.removeItem(C.consent);
    } catch (x) {}
    return "";
  }
  function stored() {
    var c = cookie(C.consent) || local();
    return c && {
      analytics: /(^|&)analytics=1/.test(c),
      marketing: /(^|&)marketing=1/.test(c),
      version: (c.match(/(?:^|&)banner=([0-9a-f]+)/) || [])[1]
    };
  }
  function valid(v) { return /^[0-9a-f]{32}$/.test(v); }
  function random() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }
  function el(tag, attrs, text, parent) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function button(parent, text, action) {
    var b = el("button", { type: "button" }, text, parent);
    b.addEventListener("click", action);
    return b;
  }
  function loadConfig() {
    config = config || fetch(api + "/api/consent/config?site=" + encodeURIComponent(site),
      { credentials: "omit" })
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .catch(function () { return { mode: "opt_in", policy_version: 0 }; })
      .then(function (c) { policy = c.policy_version || 0; return c; });
    return config;
  }
  function days(count) {
    return T[count == 1 ? "day" : "days"].replace("{n}", count);
  }

  function category(c) {
    var f = el("fieldset", {}, "", details), lg = el("legend", {}, "", f), id = "troth-" + c.id;
    var box = el("input", { type: "checkbox", id: id }, "", lg);
    var fixed = c.id == "necessary";
    box.checked = fixed;
    box.disabled = fixed || signal;
    if (!fixed) boxes[c.id] = box;
    el("label", { "for": id }, T[c.id] + (fixed ? " (" + T.always_on + ")" : ""), lg);
    el("p", {}, T[c.id + "_about"], f);
    if (!c.cookies.length) return;
    var t = el("table", {}, "", f), head = el("tr", {}, "", el("thead", {}, "", t));
    [T.cookie, T.purpose, T.lifetime].forEach(function (h) { el("th", { scope: "col" }, h, head); });
    var body = el("tbody", {}, "", t);
    c.cookies.forEach(function (k) {
      var r = el("tr", {}, "", body);
      el("td", {}, k.name, r);
      el("small", {}, k.about, el("td", {}, k.purpose, r));
      el("td", {}, days(k.days), r);
    });
  }
  function build() {
    host = el("div", { "data-troth-banner": "" });
    root = host.attachShadow({ mode: "open" });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (x) {
      el("style", {}, CSS, root);
    }
    dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": "troth-title",
      "aria-describedby": "troth-intro", tabindex: "-1", lang: lang, "class": "box" }, "",
      el("div", { "class": "layer" }, "", root));
    el("h2", { id: "troth-title" }, T.title, dialog);
    el("p", { id: "troth-intro" }, T.intro, dialog);
    if (signal) el("p", { "class": "note" }, T.signal, dialog);
    details = el("div", { hidden: "" }, "", dialog);
    C.categories.forEach(category);
    var bar = el("div", { "class": "bar" }, "", dialog);
    button(bar, T.accept, function () { choose(true, true, "banner_accept_all"); });
    button(bar, T.reject, function () { choose(false, false, "banner_reject_all"); });
    chooseBtn = button(bar, T.choose, function () { expand(true); });
    saveBtn = button(bar, T.save, function () {
      choose(checked("analytics"), checked("marketing"), "banner_choose");
    });
    el("a", { href: api + "/privacy", target: "_blank", rel: "noopener" }, T.policy, dialog);
    dialog.addEventListener("keydown", keys);
    d.body.appendChild(host);
  }
  function checked(id) { return !!boxes[id] && boxes[id].checked; }
  function expand(on) {
    details.hidden = !on;
    saveBtn.hidden = !on;
    chooseBtn.hidden = on;
    if (on) (root.querySelector("input:not([disabled])") || saveBtn).focus();
  }
  function focusable() {
    return Array.prototype.filter.call(root.querySelectorAll("button,input,a[href]"), function (e) {
      return !e.disabled && e.getClientRects().length;
    });
  }
  function keys(e) {
    if (e.key == "Escape") {
      if (stored()) { e.preventDefault(); close(); }
      return;
    }
    if (e.key != "Tab") return;
    var all = focusable(), first = all[0], last = all[all.length - 1], at = root.activeElement;
    if (e.shiftKey ? at == first || at == dialog : at == last) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }
  function preset(mode) {
    var s = stored();
    Object.keys(boxes).forEach(function (id) {
      boxes[id].checked = !signal && (s ? s[id] : id == "analytics" && mode == "opt_out");
    });
  }
  function open() {
    before = d.activeElement;
    if (!host) build();
    expand(false);
    preset("opt_in");
    loadConfig().then(function (c) { preset(c.mode); });
    host.style.display = "";
    dialog.focus();
  }
  function close() {
    host.style.display = "none";
    if (before && before.focus) before.focus();
  }
  function choose(analytics, marketing, method) {
    var prior = stored(), vid = cookie(C.vid), key;
    if (signal && (analytics || marketing)) {
      if (gpc) method = "gpc";
      analytics = marketing = false;
    }
    if (prior && (prior.analytics && !analytics || prior.marketing && !marketing) &&
        method != "gpc") method = "withdrawn";
    if (analytics && C.vid) {
      if (!valid(vid)) put(C.vid, vid = random(), C.days);
      key = vid;
    } else {
      key = valid(vid) ? vid : random();
      if (vid) put(C.vid, "", -1);
    }
    var choice = "analytics=" + +analytics + "&marketing=" + +marketing + "&banner=" +
      C.version + "&policy=" + policy;
    if (analytics || marketing) {
      put(C.consent, choice, C.consentDays);
      local("");
    } else {
      if (cookie(C.consent)) put(C.consent, "", -1);
      local(choice);
    }
    fetch(api + "/api/consent", {
      method: "POST", credentials: "omit", keepalive: true,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site: site, visitor_key: key, method: method,
        choice: { analytics: analytics, marketing: marketing }, banner_version: C.version })
    }).catch(function () {});
    w.troth("consent", analytics);
    d.dispatchEvent(new CustomEvent("troth:consent",
      { detail: { analytics: analytics, marketing: marketing } }));
    close();
  }
  function start() {
    d.addEventListener("click", function (e) {
      var t = e.target.closest && e.target.closest("[data-troth-consent]");
      if (t) { e.preventDefault(); open(); }
    });
    var s = stored();
    if (s && s.version == C.version) return;
    loadConfig().then(function (c) { if (!s && c.mode == "opt_out") w.troth("consent", false); });
    open();
  }
  w.trothConsent = { open: function () { open(); } };
  if (d.readyState == "loading") d.addEventListener("DOMContentLoaded", start); else start();
})(window, document, navigator, location);
