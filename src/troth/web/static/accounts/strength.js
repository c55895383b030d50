// The password strength meter of the hosted account forms. The estimate comes from the
// same origin (POST /accounts/password-strength), asked at most once per pause in typing.
(function () {
  "use strict";
  var LABELS = ["Very weak", "Weak", "Fair", "Strong", "Very strong"];
  var PAUSE_MS = 250;

  function start(input) {
    var box = document.getElementById(input.getAttribute("data-strength-meter"));
    if (!box) return;
    var meter = box.querySelector("meter");
    var text = box.querySelector("[aria-live]");
    var list = box.querySelector("ul");
    var emailInput = document.getElementById(input.getAttribute("data-strength-email") || "");
    var timer = null;
    var asked = 0;

    function show(result) {
      meter.value = result.score;
      text.setAttribute("data-score", String(result.score));
      var parts = [LABELS[result.score] || ""];
      if (result.problem) parts.push("Not accepted: " + result.problem + ".");
      if (result.warning) parts.push(result.warning);
      text.textContent = parts.join(" ");
      list.textContent = "";
      (result.suggestions || []).forEach(function (tip) {
        var item = document.createElement("li");
        item.textContent = tip;
        list.appendChild(item);
      });
    }

    function ask() {
      var password = input.value;
      var mine = ++asked;
      if (!password) {
        meter.value = 0;
        text.setAttribute("data-score", "");
        text.textContent = "Type a password to see how strong it is.";
        list.textContent = "";
        return;
      }
      fetch("/accounts/password-strength", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ password: password, email: emailInput ? emailInput.value : "" })
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) { if (result && mine === asked) show(result); })
        .catch(function () { /* the form still works without the meter */ });
    }

    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(ask, PAUSE_MS);
    });
  }

  document.querySelectorAll("input[data-strength-meter]").forEach(start);
})();
