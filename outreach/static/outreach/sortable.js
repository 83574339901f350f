// Sortable report tables: click a heading to sort by it, click again to reverse.
// Cells carry data-sort (raw numbers for numeric columns), so "1,234" sorts as a number.
(function () {
  "use strict";
  function key(row, index, numeric) {
    var value = row.cells[index].getAttribute("data-sort") || "";
    if (!numeric) return value;
    return value === "" ? -Infinity : parseFloat(value);
  }
  function sort(table, index, numeric, th) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") !== "descending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, index, numeric), y = key(b, index, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sort(table, index, th.classList.contains("num"), th); });
    });
  });
})();
