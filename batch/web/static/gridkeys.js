/* Keyboard use of the grid, as the ARIA grid pattern has it: the grid is one stop of the Tab
   key (a "roving" tabindex: one cell has 0, the others -1), the arrow keys move between the
   editable cells, Enter or F2 edits the cell, Enter saves and Escape cancels, and Tab leaves
   the grid. Tabulator's own keys are turned off (keybindings: false): they made every one of a
   page's hundreds of cells a stop of the Tab key, and opened an editor on each. */
"use strict";

window.gridKeys = function (table, element) {
  var current = null;  // { n, field } of the cell that holds the grid's Tab stop

  function cells() { return element.querySelectorAll(".tabulator-cell.tabulator-editable"); }
  function cellOf(target) {
    var cell = target && target.closest ? target.closest(".tabulator-cell.tabulator-editable") : null;
    return cell && element.contains(cell) ? cell : null;
  }
  function rowNumber(cell) {
    var number = cell.parentElement.querySelector('[tabulator-field="n"]');
    return number ? Number(number.textContent.trim()) : null;
  }
  function stopOn(cell) {
    cells().forEach(function (other) { other.setAttribute("tabindex", other === cell ? "0" : "-1"); });
    current = { n: rowNumber(cell), field: cell.getAttribute("tabulator-field") };
  }
  function holdStop() {
    var all = cells();
    if (!all.length) { return; }
    var keep = null;
    if (current) {
      all.forEach(function (cell) {
        if (rowNumber(cell) === current.n && cell.getAttribute("tabulator-field") === current.field) { keep = cell; }
      });
    }
    stopOn(keep || all[0]);
  }
  function neighbour(cell, key) {
    if (key === "ArrowLeft" || key === "ArrowRight") {
      var step = key === "ArrowLeft" ? "previousElementSibling" : "nextElementSibling";
      var next = cell[step];
      while (next && !next.classList.contains("tabulator-editable")) { next = next[step]; }
      return next;
    }
    var row = cell.parentElement[key === "ArrowUp" ? "previousElementSibling" : "nextElementSibling"];
    while (row && !row.classList.contains("tabulator-row")) {
      row = row[key === "ArrowUp" ? "previousElementSibling" : "nextElementSibling"];
    }
    return row ? row.querySelector('[tabulator-field="' + cell.getAttribute("tabulator-field") + '"]') : null;
  }

  element.addEventListener("keydown", function (event) {
    var cell = cellOf(event.target);
    if (!cell || event.target !== cell) { return; }  // typing in an editor is the editor's
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(event.key) >= 0) {
      var next = neighbour(cell, event.key);
      if (next) { stopOn(next); next.focus(); }
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === "F2") {
      var row = table.getRow(rowNumber(cell));
      if (row) { row.getCell(cell.getAttribute("tabulator-field")).edit(); }
      event.preventDefault();
    }
  });
  element.addEventListener("focusin", function (event) {
    var cell = cellOf(event.target);
    if (cell && event.target === cell) { stopOn(cell); }
  });
  function lost() { return !document.activeElement || document.activeElement === document.body; }
  function restore() {
    // After Enter or Escape the editor is gone and the focus with it, and a row redrawn with
    // the server's answer loses it again: give it back to the cell with the Tab stop, unless
    // Tab already took it elsewhere.
    holdStop();
    var stop = element.querySelector(".tabulator-cell.tabulator-editable[tabindex='0']");
    if (stop && lost()) { stop.focus(); }
  }
  function backToCell() { setTimeout(restore, 0); }
  table.on("renderComplete", holdStop);
  table.on("dataProcessed", holdStop);
  table.on("cellEdited", backToCell);
  table.on("cellEditCancelled", backToCell);
  return { holdStop: holdStop, restore: restore };
};
