/* Troth first-party tracker. Generated from the privacy policy declaration. */
(function (w, d, n, l) {
  "use strict";
  var C = __TROTH_CONFIG__;
  var me = d.currentScript || d.querySelector('script[src*="/t.js"]');
  if (!me || w.troth && w.troth.v) return;
  var site = me.getAttribute("data-site") || l.hostname;
  var endpoint = new URL(me.src, l.href).origin + "/api/collect";
  // Undecided visitor with the banner on the page: wait for it to say whether to count.
  var held = !choice() && d.querySelector('script[src*="/consent.js"]') ? [] : 0;
  var last, ref = d.referrer, idt = "";
  var FILES = /\.(pdf|zip|gz|tgz|bz2|7z|rar|dmg|exe|msi|pkg|deb|rpm|apk|iso|csv|xlsx?|docx?|pptx?|odt|ods|txt|epub|mp3|mp4|mov|avi|wav)$/i;

  function cookie(name) {
    var m = name && d.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return m ? m[1] : "";
  }
  function choice() {
    var c = cookie(C.consent);
    try { c = c || w.localStorage.getItem(C.consent) || ""; } catch (x) {}
    return c;
  }
  function put(name, value, days) {
    var h = l.hostname, dom = h == site || h.endsWith("." + site) ? "; domain=" + site : "";
    d.cookie = name + "=" + value + "; path=/; max-age=" + days * 86400 + dom +
      "; SameSite=Lax" + (l.protocol == "https:" ? "; Secure" : "");
  }
  function visitor() {
    var v = cookie(C.vid);
    var no = C.dnt && n.doNotTrack === "1" || C.gpc && n.globalPrivacyControl === true;
    if (no || !/(^|&)analytics=1/.test(choice())) {
      if (v) put(C.vid, "", -1);
      return "";
    }
    if (!/^[0-9a-f]{32}$/.test(v)) {
      v = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
      put(C.vid, v, C.days);
    }
    return v;
  }
  function go(e) {
    var v = C.vid && visitor();
    e.consent = !!v;
    if (v) e.vid = v;
    if (idt) e.idt = idt;
    var body = JSON.stringify(e);
    try {
      if (n.sendBeacon && n.sendBeacon(endpoint, body)) return;
    } catch (x) {}
    fetch(endpoint, { method: "POST", body: body, keepalive: true, credentials: "omit" })
      .catch(function () {});
  }
  function send(kind, extra) {
    var e = Object.assign({ site: site, kind: kind, url: l.href, referrer: ref,
      title: d.title, sw: screen.width }, extra);
    held ? held.push(e) : go(e);
  }
  function page() {
    var here = l.pathname + l.search;
    if (here == last) return;
    if (last) ref = l.origin + last;
    last = here;
    send("pageview");
  }
  function troth(cmd, a, b) {
    if (cmd == "event" && a) send("event", { name: String(a), props: b || {} });
    else if (cmd == "identify") idt = a || "";
    else if (cmd == "consent" && a != null && held) {
      var q = held;
      held = 0;
      q.forEach(go);
    }
  }
  var queued = w.troth && w.troth.q || [];
  troth.v = 1;
  w.troth = troth;
  queued.forEach(function (args) { troth.apply(null, args); });

  ["pushState", "replaceState"].forEach(function (m) {
    var orig = history[m];
    history[m] = function () {
      var r = orig.apply(this, arguments);
      page();
      return r;
    };
  });
  w.addEventListener("popstate", page);
  d.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || !/^https?:/.test(a.href)) return;
    var u = new URL(a.href), h = u.hostname;
    var kind = FILES.test(u.pathname) ? "download" :
      h != site && !h.endsWith("." + site) ? "outbound" : "";
    if (kind) send(kind, { props: { url: u.origin + u.pathname } });
  }, true);
  page();
})(window, document, navigator, location);
