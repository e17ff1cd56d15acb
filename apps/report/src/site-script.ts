/**
 * Script that the page runs in the browser, written to `site.js`. It draws every chart whose
 * Vega-Lite spec sits in a `<script type="application/json" data-chart-for="ID">` element,
 * into the element with that id, with vega-embed's SVG renderer. vega runs with its
 * expression interpreter (`ast: true`), so the page needs no `eval` and its Content Security
 * Policy can forbid it. Text from the specs reaches the page only through vega, which
 * escapes it, and through `textContent`.
 *
 * Each chart element gets `data-state="rendered"` or `data-state="failed"` when done, and
 * `document.body` gets `data-charts="done"` after the last one, so tests know when to look.
 */
export const SITE_SCRIPT = `'use strict';
(function () {
  function fail(target, message) {
    target.setAttribute('data-state', 'failed');
    target.textContent = 'The chart could not be drawn: ' + message + ' The SVG and CSV links below still work.';
    console.error('Chart ' + target.id + ' failed: ' + message);
  }

  function draw(block) {
    var target = document.getElementById(block.getAttribute('data-chart-for'));
    if (target === null) {
      console.error('No element for chart ' + block.getAttribute('data-chart-for'));
      return Promise.resolve();
    }
    if (typeof window.vegaEmbed !== 'function') {
      fail(target, 'the vendored scripts in vendor/ did not load.');
      return Promise.resolve();
    }
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (error) {
      fail(target, 'its data is not valid JSON (' + error.message + ').');
      return Promise.resolve();
    }
    var options = { renderer: 'svg', actions: false, ast: true, tooltip: { theme: 'light' } };
    return window.vegaEmbed(target, spec, options).then(
      function () {
        target.setAttribute('data-state', 'rendered');
      },
      function (error) {
        fail(target, String(error && error.message ? error.message : error));
      }
    );
  }

  var blocks = Array.prototype.slice.call(document.querySelectorAll('script[type="application/json"][data-chart-for]'));
  Promise.all(blocks.map(draw)).then(function () {
    document.body.setAttribute('data-charts', 'done');
  });
})();
`;

/** Style sheet of the page, written to `site.css`. */
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
th { background: #f3f3f3; position: sticky; top: 0; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fff3f3; }
td .error { display: block; white-space: normal; max-width: 40ch; color: #a40000; }
.left-out { font-size: 0.9rem; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #444444; }
`;
