// Small enhancements for the proposal form; the server checks everything again.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  if (!form) return;

  function answer(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : null;
  }

  function suggested() {
    var legal = answer("legal"), necessary = answer("necessary"), friendly = answer("business_friendly");
    if (legal === null || necessary === null || friendly === null) return null;
    if (legal === "no" || necessary === "no") return "cancel";
    if (friendly === "no") return "revise";
    return "keep";
  }

  var hint = document.getElementById("suggestion");
  var reason = document.getElementById("deviation_reason");
  var note = document.getElementById("deviation-note");
  var deviation = document.getElementById("deviation");
  var wording = document.getElementById("wording");

  function update() {
    var s = suggested(), chosen = answer("decision");
    if (s) {
      hint.textContent = hint.dataset.text.replace("__D__", hint.dataset[s]);
      hint.hidden = false;
    } else {
      hint.hidden = true;
    }
    var differs = Boolean(s && chosen && s !== chosen);
    note.hidden = !differs;
    deviation.classList.toggle("attention", differs);
    // The reason is only asked for when the decision goes against the tests.
    deviation.hidden = !differs && !reason.value.trim() && !deviation.querySelector(".field-error");
    wording.hidden = chosen !== "revise";
    preview();
  }

  // Word-level diff (longest common subsequence), enough for a requirement's wording.
  function tokens(text) { return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || []; }

  function diff(a, b) {
    var n = a.length, m = b.length;
    if (n * m > 4000000) return null;
    var dp = [];
    for (var i = 0; i <= n; i++) { dp.push(new Uint16Array(m + 1)); }
    for (i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
      }
    }
    var out = [], x = 0, y = 0;
    while (x < n && y < m) {
      if (a[x] === b[y]) { out.push(["=", a[x]]); x++; y++; }
      else if (dp[x + 1][y] >= dp[x][y + 1]) { out.push(["-", a[x]]); x++; }
      else { out.push(["+", b[y]]); y++; }
    }
    while (x < n) out.push(["-", a[x++]]);
    while (y < m) out.push(["+", b[y++]]);
    return out;
  }

  // Merge neighbouring changes into one deletion and one insertion, as the server's diff
  // shows them, so a changed phrase reads as a phrase rather than word-by-word.
  function group(ops) {
    if (!ops) return ops;
    var out = [], removed = "", added = "";
    function flush() {
      if (removed) out.push(["-", removed]);
      if (added) out.push(["+", added]);
      removed = added = "";
    }
    ops.forEach(function (op, k) {
      var next = ops[k + 1];
      var bridge = op[0] === "=" && /^\s+$/.test(op[1]) && (removed || added) && next && next[0] !== "=";
      if (op[0] === "-" || bridge) removed += op[1];
      if (op[0] === "+" || bridge) added += op[1];
      if (op[0] === "=" && !bridge) { flush(); out.push(op); }
    });
    flush();
    return out;
  }

  var current = document.getElementById("current-text");
  var newWording = document.getElementById("new_wording");
  var target = document.getElementById("wording-preview");

  function preview() {
    // One proposal for several requirements has a wording per item and no preview.
    if (!newWording || !target || !current) return;
    if (wording.hidden || !newWording.value.trim()) { target.textContent = ""; return; }
    var ops = group(diff(tokens(current.textContent), tokens(newWording.value)));
    target.textContent = "";
    if (!ops) { target.textContent = newWording.value; return; }
    ops.forEach(function (op) {
      var node = op[0] === "=" ? document.createTextNode(op[1])
        : document.createElement(op[0] === "+" ? "ins" : "del");
      if (op[0] !== "=") node.textContent = op[1];
      target.appendChild(node);
    });
  }

  form.addEventListener("change", update);
  var timer;
  if (newWording) newWording.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(preview, 200); });
  update();
})();

// Bulk forms: tick every row on the page, count the selection, and when "all matching" is
// chosen say so instead of counting ticks.
(function () {
  "use strict";
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    function items() {
      return Array.prototype.slice.call(document.querySelectorAll(
        'input[name="item"]:not([disabled])')).filter(function (box) {
        return box.form === form;
      });
    }
    var all = form.querySelector("[data-select-all]");
    var scope = form.querySelector("[data-scope-filter]");
    var counter = form.querySelector("[data-selected-count]");
    // "Propose one decision for the ticked (N)": only ever the ticked rows, never "all matching".
    var propose = form.querySelector("[data-propose-ticked]");
    function count() {
      var ticked = items().filter(function (b) { return b.checked; }).length;
      if (propose) {
        propose.querySelector("[data-ticked-count]").textContent = ticked ? " (" + ticked + ")" : "";
        propose.disabled = Boolean(scope && scope.checked);
      }
      if (!counter) return;
      var text = counter.dataset.text ? counter.dataset.text.replace("__N__", ticked) : "✓ " + ticked;
      counter.textContent = scope && scope.checked ? "" : ticked ? text : "";
    }
    if (all) all.addEventListener("change", function () {
      items().forEach(function (box) { box.checked = all.checked; });
      count();
    });
    if (scope) scope.addEventListener("change", count);
    document.addEventListener("change", function (e) { if (e.target.name === "item") count(); });
    count();  // ticks the browser kept on "back" count too
  });
})();
