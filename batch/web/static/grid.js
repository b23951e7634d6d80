/* The Check and Result grid: Tabulator paging from the server, cells edited in place.
   Every cell is put in as text (textContent), never as HTML: a cell holding <script> shows it. */
"use strict";

(function () {
  function textNode(tag, className, text) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    element.textContent = text === null || text === undefined ? "" : String(text);
    return element;
  }

  function cellFormatter(problemKey) {
    return function (cell) {
      var data = cell.getRow().getData();
      var wrap = document.createElement("div");
      wrap.appendChild(textNode("span", "value", cell.getValue()));
      var problem = data[problemKey];
      if (problem) {
        cell.getElement().classList.add("has-problem");
        wrap.appendChild(textNode("span", "problem", problem));
      } else {
        cell.getElement().classList.remove("has-problem");
      }
      return wrap;
    };
  }

  function statusFormatter(cell) {
    var data = cell.getRow().getData();
    return textNode("span", "badge status-" + data.status, data.label);
  }

  function messageFormatter(cell) { return textNode("span", "message", cell.getValue()); }

  function start() {
    var element = document.getElementById("grid");
    if (!element || typeof Tabulator === "undefined") { return; }
    var config = JSON.parse(element.dataset.grid);
    var status = document.getElementById("grid-status");
    var filter = "";
    var columns = [
      { title: config.labels.row, field: "n", width: 70, hozAlign: "right", headerSort: false, frozen: true,
        formatter: function (cell) { return textNode("span", "", cell.getValue()); } },
      { title: config.labels.status, field: "label", width: 110, headerSort: false,
        formatter: statusFormatter, frozen: true },
      { title: config.labels.message, field: "message", width: 220, headerSort: false,
        formatter: messageFormatter },
    ];
    config.columns.forEach(function (column) {
      columns.push({
        title: column.title, field: column.key, headerSort: false, minWidth: 120,
        editor: "input", formatter: cellFormatter("p" + column.key.slice(1)),
        headerTooltip: column.field || "",
      });
    });
    // The page buttons live outside the grid: ARIA lets a grid hold only rows, not buttons.
    var pager = document.createElement("nav");
    pager.className = "grid-pager";
    pager.setAttribute("aria-label", config.labels.pages || "");
    element.insertAdjacentElement("afterend", pager);
    var table = new Tabulator(element, {
      layout: "fitDataStretch",
      maxHeight: "65vh",
      locale: "page",
      langs: {
        page: {
          pagination: {
            page_title: config.labels.page,
            first: config.labels.first, first_title: config.labels.first_title,
            prev: config.labels.prev, prev_title: config.labels.prev_title,
            next: config.labels.next, next_title: config.labels.next_title,
            last: config.labels.last, last_title: config.labels.last_title,
          },
          data: { loading: config.labels.loading, error: config.labels.failed },
        },
      },
      columns: columns,
      index: "n",
      keybindings: false,
      editTriggerEvent: "click",
      pagination: true,
      paginationElement: pager,
      paginationMode: "remote",
      paginationSize: 50,
      ajaxURL: "/uploads/" + config.upload + "/rows",
      ajaxParams: function () { return { status: filter }; },
      ajaxConfig: { method: "GET", credentials: "same-origin" },
      placeholder: config.labels.empty,
    });
    var keys = window.gridKeys(table, element);
    table.on("tableBuilt", function () {
      // Tabulator nests the header's rowgroup in another rowgroup, which ARIA does not allow
      // (axe: aria-required-children/-parent); the outer one is only a wrapper.
      element.querySelectorAll(".tabulator-header").forEach(function (header) {
        header.removeAttribute("role");
      });
      // Nor a focusable scroll box between the grid and its rows: keyboard users move by the
      // cells themselves, each of which can take the focus.
      element.querySelectorAll(".tabulator-tableholder").forEach(function (holder) {
        holder.removeAttribute("tabindex");
      });
    });
    table.on("cellEdited", function (cell) {
      var row = cell.getRow();
      status.textContent = config.labels.saving;
      fetch("/uploads/" + config.upload + "/rows/" + row.getData().n, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf },
        body: JSON.stringify({ column: cell.getField(), value: cell.getValue() }),
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (!answer.ok) { status.textContent = answer.body.error || ""; cell.restoreOldValue(); return; }
        var fresh = answer.body;
        Object.keys(fresh.counts || {}).forEach(function (key) {
          var shown = document.querySelector('[data-count="' + key + '"]');
          if (shown) { shown.textContent = String(fresh.counts[key]); }
        });
        var send = document.getElementById("send");
        if (send && fresh.counts && !send.hasAttribute("data-busy")) {
          send.disabled = !(fresh.counts.ready > 0);
        }
        var ready = document.getElementById("ready-text");
        if (ready && fresh.ready_text) { ready.textContent = fresh.ready_text; }
        delete fresh.counts;
        delete fresh.ready_text;
        config.columns.forEach(function (column) {
          var key = "p" + column.key.slice(1);
          if (!(key in fresh)) { fresh[key] = ""; }
        });
        row.update(fresh).then(function () { row.reformat(); keys.restore(); });
        status.textContent = config.labels.checked + " " + fresh.label;
      }).catch(function () {
        status.textContent = config.labels.unsaved;
        cell.restoreOldValue();
      });
    });
    // On the document, not on each radio: the counts are drawn again when a check ends.
    document.addEventListener("change", function (event) {
      if (event.target.matches("#filter input[name=status]")) {
        filter = event.target.value;
        table.setData();
      }
    });
    document.addEventListener("rows-checked", function () {
      var chosen = document.querySelector("#filter input[name=status][value='" + filter + "']");
      if (chosen) { chosen.checked = true; }
      table.setData();
    });
  }

  document.addEventListener("DOMContentLoaded", start);
}());
