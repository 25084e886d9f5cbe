// Summaries page: refresh the rows of summaries being built, without reloading the page.
(function () {
  "use strict";
  var table = document.querySelector("table[data-rows-url]");
  if (!table) return;
  var url = table.getAttribute("data-rows-url");
  var INTERVAL = 1500;

  function activeIds() {
    return Array.prototype.map.call(
      table.querySelectorAll('tr[data-active="1"]'),
      function (row) { return row.getAttribute("data-summary-id"); });
  }

  function replace(id, html) {
    var old = document.getElementById("summary-" + id);
    if (!old) return;
    var holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (fresh) old.parentNode.replaceChild(fresh, old);
  }

  function poll() {
    var ids = activeIds();
    if (!ids.length) return;
    fetch(url + "?ids=" + ids.join(","), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.rows) {
          Object.keys(data.rows).forEach(function (id) { replace(id, data.rows[id]); });
        }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { setTimeout(poll, INTERVAL); });
  }

  setTimeout(poll, INTERVAL);
})();
