import { TABLE_COLUMNS } from './table';

/**
 * Script that every page runs in the browser, written to `site.js`.
 *
 * It draws every chart whose Vega-Lite spec sits in a
 * `<script type="application/json" data-chart-for="ID">` element, into the element with that
 * id, with vega-embed's SVG renderer. vega runs with its expression interpreter
 * (`ast: true`), so the page needs no `eval` and its Content Security Policy can forbid it.
 * Text from the specs reaches the page only through vega, which escapes it, and through
 * `textContent`.
 *
 * The filters (`select[data-filter]`) keep the records of each chart's `data.values` and the
 * table rows (`tr` with `data-dataset` or `data-family`) whose fields equal every chosen value, and redraw the charts.
 * The chosen values travel to the other pages in the query string of the navigation links.
 * A column heading button sorts its table, and the column chooser hides or shows columns.
 *
 * Each chart element gets `data-state` (`rendered`, `empty` or `failed`) and `data-marks`
 * (the records drawn) when done, and `document.body` gets `data-charts="done"` after the last
 * one, so tests know when to look.
 */
export const SITE_SCRIPT = `'use strict';
(function () {
  var FILTER_FIELDS = ['dataset', 'model', 'task', 'family'];
  var charts = [];
  var selects = Array.prototype.slice.call(document.querySelectorAll('select[data-filter]'));
  var filterRows = Array.prototype.slice.call(document.querySelectorAll('tr[data-dataset], tr[data-family]'));
  var navLinks = Array.prototype.slice.call(document.querySelectorAll('nav a[href]'));

  function fail(target, message) {
    target.setAttribute('data-state', 'failed');
    target.textContent = 'The chart could not be drawn: ' + message + ' The SVG and CSV links below still work.';
    console.error('Chart ' + target.id + ' failed: ' + message);
  }

  function currentFilters() {
    var filters = {};
    selects.forEach(function (select) {
      if (select.value !== '') {
        filters[select.getAttribute('data-filter')] = select.value;
      }
    });
    return filters;
  }

  function matches(record, filters) {
    for (var field in filters) {
      var value = record[field] === undefined || record[field] === null ? '' : String(record[field]);
      if (value !== filters[field]) {
        return false;
      }
    }
    return true;
  }

  function draw(chart, filters) {
    var target = chart.target;
    var values = chart.values.filter(function (record) {
      return matches(record, filters);
    });
    if (chart.view) {
      chart.view.finalize();
      chart.view = null;
    }
    target.setAttribute('data-state', 'pending');
    if (values.length === 0) {
      target.textContent = 'No run matches the filters.';
      target.setAttribute('data-state', 'empty');
      target.setAttribute('data-marks', '0');
      return Promise.resolve();
    }
    var spec = Object.assign({}, chart.spec, { data: { values: values } });
    var options = { renderer: 'svg', actions: false, ast: true, tooltip: { theme: 'light' } };
    return window.vegaEmbed(target, spec, options).then(
      function (result) {
        chart.view = result.view;
        target.setAttribute('data-state', 'rendered');
        target.setAttribute('data-marks', String(values.length));
      },
      function (error) {
        fail(target, String(error && error.message ? error.message : error));
      }
    );
  }

  function load(block) {
    var target = document.getElementById(block.getAttribute('data-chart-for'));
    if (target === null) {
      console.error('No element for chart ' + block.getAttribute('data-chart-for'));
      return;
    }
    if (typeof window.vegaEmbed !== 'function') {
      fail(target, 'the vendored scripts in vendor/ did not load.');
      return;
    }
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (error) {
      fail(target, 'its data is not valid JSON (' + error.message + ').');
      return;
    }
    charts.push({ target: target, spec: spec, values: (spec.data && spec.data.values) || [], view: null });
  }

  function applyFilters() {
    var filters = currentFilters();
    document.body.setAttribute('data-charts', 'pending');

    // Hide table rows that do not match; a row without a field's attribute ignores that filter.
    filterRows.forEach(function (row) {
      var record = {};
      var rowFilters = {};
      FILTER_FIELDS.forEach(function (field) {
        if (row.hasAttribute('data-' + field) && filters[field] !== undefined) {
          record[field] = row.getAttribute('data-' + field);
          rowFilters[field] = filters[field];
        }
      });
      row.hidden = !matches(record, rowFilters);
    });

    // Carry the filters to the other pages.
    var query = new URLSearchParams(filters).toString();
    navLinks.forEach(function (link) {
      link.setAttribute('href', link.getAttribute('data-page') + (query === '' ? '' : '?' + query));
    });
    var status = document.querySelector('.filter-status');
    if (status !== null) {
      var shown = filterRows.filter(function (row) {
        return !row.hidden;
      }).length;
      status.textContent = query === '' ? '' : 'Filtered: ' + shown + ' of ' + filterRows.length + ' table rows shown.';
    }

    return Promise.all(
      charts.map(function (chart) {
        return draw(chart, filters);
      })
    ).then(function () {
      document.body.setAttribute('data-charts', 'done');
    });
  }

  function sortTable(table, button) {
    var header = button.parentElement;
    var column = Number(button.getAttribute('data-sort-column'));
    var numeric = button.getAttribute('data-numeric') === 'true';
    var direction = header.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    var sign = direction === 'ascending' ? 1 : -1;
    Array.prototype.forEach.call(table.querySelectorAll('th[aria-sort]'), function (other) {
      other.setAttribute('aria-sort', 'none');
    });
    header.setAttribute('aria-sort', direction);

    // Sort by the exact value; cells without one go last in both directions; ties keep their order.
    var body = table.tBodies[0];
    var keyed = Array.prototype.map.call(body.rows, function (row, index) {
      var cell = row.cells[column];
      var key = cell.textContent;
      if (numeric) {
        key = cell.hasAttribute('data-sort') ? Number(cell.getAttribute('data-sort')) : null;
      }
      return { row: row, key: key === '' ? null : key, index: index };
    });
    keyed.sort(function (a, b) {
      if (a.key === null && b.key === null) {
        return a.index - b.index;
      }
      if (a.key === null || b.key === null) {
        return a.key === null ? 1 : -1;
      }
      if (a.key === b.key) {
        return a.index - b.index;
      }
      return (a.key < b.key ? -1 : 1) * sign;
    });
    keyed.forEach(function (entry) {
      body.appendChild(entry.row);
    });
  }

  function setUpTables() {
    Array.prototype.forEach.call(document.querySelectorAll('table'), function (table) {
      Array.prototype.forEach.call(table.querySelectorAll('th button[data-sort-column]'), function (button) {
        button.addEventListener('click', function () {
          sortTable(table, button);
        });
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll('input[data-column-toggle]'), function (box) {
      box.addEventListener('change', function () {
        var table = document.getElementById('results');
        table.classList.toggle('hide-' + box.getAttribute('data-column-toggle'), !box.checked);
        var summary = document.querySelector('.column-chooser summary');
        var boxes = document.querySelectorAll('input[data-column-toggle]');
        var checked = document.querySelectorAll('input[data-column-toggle]:checked');
        summary.textContent = 'Columns (' + checked.length + ' of ' + boxes.length + ' shown)';
      });
    });
  }

  // Start: remember each link's page, take the filters from the query string, draw.
  navLinks.forEach(function (link) {
    link.setAttribute('data-page', link.getAttribute('href'));
  });
  var query = new URLSearchParams(window.location.search);
  selects.forEach(function (select) {
    var value = query.get(select.getAttribute('data-filter'));
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === value;
    });
    if (value !== null && known) {
      select.value = value;
    }
    select.addEventListener('change', applyFilters);
  });
  Array.prototype.slice.call(document.querySelectorAll('script[type="application/json"][data-chart-for]')).forEach(load);
  setUpTables();
  applyFilters();
})();
`;

/** Style sheet of the pages, written to `site.css`; it ends with one rule per table column that hides the column. */
export const SITE_STYLE = `:root { color-scheme: light; font-family: system-ui, sans-serif; line-height: 1.45; color: #1a1a1a; background: #ffffff; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
a { color: #0b57a4; }
.summary { color: #333333; }
figure.chart { margin: 1rem 0; }
.chart-view { min-height: 320px; overflow-x: auto; }
.chart-view[data-state="failed"] { min-height: 0; color: #a40000; }
figcaption { font-size: 0.95rem; color: #333333; max-width: 70ch; }
.table-scroll { overflow-x: auto; border: 1px solid #d0d0d0; }
table { border-collapse: collapse; font-size: 0.85rem; white-space: nowrap; }
caption { text-align: left; padding: 0.5rem; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.55rem; border-bottom: 1px solid #e2e2e2; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; white-space: normal; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
#results td { white-space: normal; overflow-wrap: anywhere; min-width: 4ch; }
#results td.number { white-space: nowrap; overflow-wrap: normal; }
tr.failed td { background: #fff3f3; }
td .error { display: block; white-space: normal; max-width: 24ch; color: #a40000; }
.left-out { font-size: 0.9rem; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #444444; }
#overview { white-space: normal; }
#overview td { min-width: 7rem; overflow-wrap: break-word; }
.site-title { margin: 0; font-weight: 600; color: #333333; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0; margin: 0.5rem 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: #1a1a1a; }
nav .skipped { color: #595959; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: center; padding: 0.5rem 0; border-top: 1px solid #e2e2e2; border-bottom: 1px solid #e2e2e2; }
form.filters select { font: inherit; max-width: 16rem; }
.note { color: #333333; background: #f6f6f6; padding: 0.5rem 0.75rem; max-width: 80ch; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer; color: inherit; text-align: left; white-space: normal; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
.column-chooser { margin: 0.5rem 0; font-size: 0.9rem; }
.column-chooser div { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 0; }
dl.taxonomy { display: grid; grid-template-columns: max-content auto; gap: 0.25rem 1rem; }
dl.taxonomy dt { font-weight: 600; }
dl.taxonomy dd { margin: 0; }
${TABLE_COLUMNS.map((_, index) => `table.hide-c${index} .c${index} { display: none; }`).join('\n')}
`;
