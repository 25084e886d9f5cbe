// Review mode from the keyboard. Keys are read as KeyboardEvent.code (the physical key), so
// Q is the same key on the Kazakh, Russian and English layouts (Й on Russian). Single-key
// shortcuts never fire while the person types in a text field; Ctrl+Enter always submits.
// The server checks everything again: this only moves focus, ticks radios and clicks links.
(function () {
  "use strict";

  var live = document.getElementById("review-live");
  // Announce what the last action did ("Saved — next: CODE") after the page has settled, so
  // screen readers read it as a change rather than as part of the new page.
  if (live && live.dataset.announce) {
    setTimeout(function () { live.textContent = live.dataset.announce; }, 150);
  }
  function say(text) {
    if (!live) return;
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 30);
  }

  var proposal = document.getElementById("proposal-form");
  var decision = document.getElementById("decision-form");
  var help = document.getElementById("keys-help");
  var justification = document.getElementById("justification");
  var templateUsed = document.getElementById("template-used");

  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    if (tag !== "input") return false;
    return ["radio", "checkbox", "button", "submit", "reset", "hidden"].indexOf(el.type) === -1;
  }

  // The decision follows what the tests suggest until the person picks one themselves.
  var decisionChosenByHand = Boolean(proposal && proposal.querySelector('input[name="decision"]:checked'));

  function answer(name) {
    var checked = proposal.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : null;
  }
  function suggested() {
    var legal = answer("legal"), necessary = answer("necessary"), friendly = answer("business_friendly");
    if (legal === null || necessary === null || friendly === null) return null;
    if (legal === "no" || necessary === "no") return "cancel";
    if (friendly === "no") return "revise";
    return "keep";
  }
  function check(input) {
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function follow() {
    if (decisionChosenByHand) return;
    var s = suggested();
    var input = s && proposal.querySelector('input[name="decision"][value="' + s + '"]');
    if (input && !input.checked) check(input);
  }
  if (proposal) {
    proposal.addEventListener("change", function (e) {
      if (e.isTrusted && e.target.name === "decision") decisionChosenByHand = true;
      if (e.target.name !== "decision") follow();
    });
  }

  function insertTemplate(button) {
    if (!justification) return;
    var text = button.dataset.text;
    var current = justification.value.trim();
    justification.value = current ? current + "\n" + text : text;
    justification.dispatchEvent(new Event("input", { bubbles: true }));
    if (templateUsed) templateUsed.value = button.dataset.template;
    say(button.textContent.trim());
  }
  document.querySelectorAll("button[data-template]").forEach(function (button) {
    button.addEventListener("click", function () { insertTemplate(button); });
  });

  var pendingAction = null;
  function chooseAction(value) {
    var button = decision && decision.querySelector('button[name="action"][value="' + value + '"]');
    if (!button || button.disabled) return;
    pendingAction = button;
    decision.querySelectorAll('button[name="action"]').forEach(function (b) {
      b.classList.toggle("chosen", b === button);
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
    if (value === "return") {
      document.getElementById("comment").focus();
    } else {
      button.focus();
    }
    say(button.textContent.trim());
  }

  function submit() {
    var form = proposal || decision;
    if (!form) return;
    if (form === decision) {
      if (!pendingAction) { say(decision.dataset.chooseFirst || ""); return; }
      form.requestSubmit(pendingAction);
      return;
    }
    form.requestSubmit();
  }

  function go(name) {
    var link = document.querySelector('a[data-key="' + name + '"]');
    if (link) window.location.assign(link.href);
  }

  function openHelp() {
    if (help && !help.open) help.showModal();
  }
  document.querySelectorAll("[data-open-keys]").forEach(function (b) {
    b.addEventListener("click", openHelp);
  });

  var radios = {};
  document.querySelectorAll("input[data-code]").forEach(function (input) { radios[input.dataset.code] = input; });
  var templates = {};
  document.querySelectorAll("button[data-template]").forEach(function (b) { templates[b.dataset.code] = b; });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
      return;
    }
    if (help && help.open) return; // the dialog closes itself on Esc
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.code === "Slash" && e.shiftKey || e.key === "?") { e.preventDefault(); openHelp(); return; }
    if (e.shiftKey) return;
    var code = e.code;
    if (radios[code] && proposal) {
      e.preventDefault();
      if (radios[code].name === "decision") decisionChosenByHand = true;
      check(radios[code]);
      return;
    }
    if (templates[code]) { e.preventDefault(); insertTemplate(templates[code]); return; }
    switch (code) {
      case "KeyT": {
        var first = document.querySelector("button[data-template]");
        if (first) { e.preventDefault(); first.focus(); }
        return;
      }
      case "KeyJ":
        if (justification) { e.preventDefault(); justification.focus(); }
        return;
      case "KeyY": e.preventDefault(); chooseAction("approve"); return;
      case "KeyU": e.preventDefault(); chooseAction("return"); return;
      case "KeyN": e.preventDefault(); go("next"); return;
      case "KeyP": e.preventDefault(); go("previous"); return;
      case "KeyX": e.preventDefault(); go("skip"); return;
      default:
    }
  });
  // The keys work from now on (browser tests and bench/keyboard_triage.py wait for this: a key
  // pressed before this deferred script ran would be lost).
  document.documentElement.dataset.keys = "ready";
})();
