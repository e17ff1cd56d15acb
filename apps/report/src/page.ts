import type { UnplottedRow, VegaLiteSpec } from './chart';
import { Figure, FILTER_FIELDS } from './figures';
import { escapeHtml, serializeJsonForHtml } from './escape';
import { countOf } from './messages';
import type { ResultRow } from './results';
import { methodPageFile } from './methods';
import { sourceLabel, TABLE_COLUMNS } from './table';
import type { VendoredLibrary } from './vendor';

/**
 * Content Security Policy of the page. Scripts and styles come only from the site folder
 * (vega-embed adds inline styles, hence `'unsafe-inline'` for styles only), images from the
 * folder or `data:` URLs, and nothing may be fetched or submitted. No `'unsafe-eval'`,
 * because vega runs with its expression interpreter.
 *
 * NOTE: `file:` is listed beside `'self'` because a page opened from the file system has an
 * opaque origin, and browsers differ on whether `'self'` then matches other files. The page
 * was tested in Chromium only. A page served over HTTP cannot load `file:` URLs in current
 * browsers, so the entry adds nothing online.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' file:",
  "style-src 'self' file: 'unsafe-inline'",
  "img-src 'self' file: data:",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** One chart of the page. */
export interface PageChart {
  /** Element id; also the base name of the chart's SVG and CSV files. */
  id: string;
  /** Heading of the chart's section; the chart draws its own title. */
  heading: string;
  /** Alt text: one sentence that describes what the chart shows. */
  altText: string;
  /** Caption below the chart, in plain text. */
  caption: string;
  spec: VegaLiteSpec;
  /** Site-relative path of the SVG export. */
  svgFile: string;
  /** Site-relative path of the CSV of the chart's data. */
  csvFile: string;
  /** Ok rows that the chart leaves out, with the reason. */
  unplotted: readonly UnplottedRow[];
}

/** One entry of the navigation bar: a page of the site, or a page that was skipped with the reason. */
export interface NavEntry {
  label: string;
  /** Site-relative file of the page; null when the page was skipped. */
  file: string | null;
  /** Reason the page was skipped, shown in place of a link. */
  note?: string;
}

/** Values offered by each filter of the page, by record field. */
export type FilterOptions = Readonly<Record<(typeof FILTER_FIELDS)[number], readonly string[]>>;

/** Everything one page of the site shows. */
export interface PageModel {
  /** Title of the site, shown on every page. */
  title: string;
  /** Heading of this page. */
  heading: string;
  /** Site-relative file of this page, used to mark the current navigation entry. */
  file: string;
  /** Sentence at the top of the page. */
  summary: string;
  nav: readonly NavEntry[];
  filters: FilterOptions;
  /** HTML of the page's sections, already escaped. */
  sections: readonly string[];
  libraries: readonly VendoredLibrary[];
  /** Site-relative paths of the page's own style sheet and script. */
  stylesheet: string;
  script: string;
}

/**
 * Renders one page of the site. Every string that comes from results is escaped, chart specs
 * are embedded as JSON that cannot close their `<script>` element, and every link is relative,
 * so the page works from a web server and from `file://`.
 */
export function renderPage(model: PageModel): string {
  const scripts = [...model.libraries.map((library) => library.script), model.script];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(model.heading === model.title ? model.title : `${model.heading} · ${model.title}`)}</title>`,
    `<link rel="stylesheet" href="${escapeHtml(model.stylesheet)}">`,
    // An empty icon, so that browsers do not request /favicon.ico from the host.
    '<link rel="icon" href="data:,">',
    '</head>',
    '<body>',
    '<header>',
    model.heading === model.title ? '' : `<p class="site-title">${escapeHtml(model.title)}</p>`,
    renderNav(model.nav, model.file),
    `<h1>${escapeHtml(model.heading)}</h1>`,
    `<p class="summary">${escapeHtml(model.summary)}</p>`,
    renderFilters(model.filters),
    '</header>',
    '<main>',
    ...model.sections,
    '</main>',
    renderFooter(model.libraries),
    ...scripts.map((script) => `<script src="${escapeHtml(script)}"></script>`),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderNav(entries: readonly NavEntry[], current: string): string {
  const items = entries.map((entry) => {
    if (entry.file === null) {
      return `<li><span class="skipped" title="${escapeHtml(entry.note ?? '')}">${escapeHtml(entry.label)} (skipped)</span></li>`;
    }
    const here = entry.file === current ? ' aria-current="page"' : '';
    return `<li><a href="${escapeHtml(entry.file)}"${here}>${escapeHtml(entry.label)}</a></li>`;
  });
  return `<nav aria-label="Pages"><ul>${items.join('')}</ul></nav>`;
}

function renderFilters(filters: FilterOptions): string {
  const controls = FILTER_FIELDS.map((field) => {
    const options = [`<option value="">all</option>`, ...filters[field].map((value) => `<option value="${escapeHtml(value)}">${escapeHtml(value)}</option>`)];
    return `<label>${escapeHtml(field)} <select data-filter="${field}">${options.join('')}</select></label>`;
  });
  return `<form class="filters" aria-label="Filters that apply to every chart and table of the site">${controls.join(' ')} <span class="filter-status" role="status"></span></form>`;
}

/**
 * Renders one figure: a container that the page script fills with the chart, a `<noscript>`
 * SVG image, a caption with links to the SVG and CSV, and the spec as inline JSON.
 */
export function renderFigure(figure: Figure, svgFile: string, csvFile: string, emptyNote: string): string {
  const id = escapeHtml(figure.id);
  if (figure.records.length === 0) {
    return [`<section aria-labelledby="${id}-heading">`, `<h2 id="${id}-heading">${escapeHtml(figure.heading)}</h2>`, `<p class="note">${escapeHtml(emptyNote)}</p>`, '</section>'].join('\n');
  }
  return [
    `<section aria-labelledby="${id}-heading">`,
    `<h2 id="${id}-heading">${escapeHtml(figure.heading)}</h2>`,
    `<figure class="chart" aria-labelledby="${id}-caption">`,
    `<div id="${id}" class="chart-view" role="group" aria-label="${escapeHtml(figure.altText)}" data-state="pending" data-marks="${figure.records.length}"></div>`,
    `<noscript><img src="${escapeHtml(svgFile)}" alt="${escapeHtml(figure.altText)}"></noscript>`,
    `<figcaption id="${id}-caption">${escapeHtml(figure.caption)} Download the chart as <a href="${escapeHtml(svgFile)}">SVG</a> and its data as <a href="${escapeHtml(csvFile)}">CSV</a>.</figcaption>`,
    '</figure>',
    `<script type="application/json" data-chart-for="${id}">${serializeJsonForHtml(figure.spec)}</script>`,
    '</section>',
  ].join('\n');
}

/** Renders the leaderboard chart of the overview page with the ok rows it leaves out. */
export function renderChart(chart: PageChart): string {
  const id = escapeHtml(chart.id);
  const leftOut =
    chart.unplotted.length === 0
      ? ''
      : [
          `<p class="left-out">${countOf(chart.unplotted.length, 'successful row is', 'successful rows are')} not plotted:</p>`,
          '<ul class="left-out">',
          ...chart.unplotted.map(
            ({ row, reason }) =>
              `<li>${escapeHtml(`${row.strategy} ${row.setting}`.trim())} on ${escapeHtml(row.model)}, ${escapeHtml(row.dataset)} (${escapeHtml(sourceLabel(row))}): ${escapeHtml(reason)}</li>`,
          ),
          '</ul>',
        ].join('\n');

  return [
    `<section aria-labelledby="${id}-heading">`,
    `<h2 id="${id}-heading">${escapeHtml(chart.heading)}</h2>`,
    `<figure class="chart" aria-labelledby="${id}-caption">`,
    `<div id="${id}" class="chart-view" role="group" aria-label="${escapeHtml(chart.altText)}" data-state="pending"></div>`,
    `<noscript><img src="${escapeHtml(chart.svgFile)}" alt="${escapeHtml(chart.altText)}"></noscript>`,
    `<figcaption id="${id}-caption">${escapeHtml(chart.caption)} Download the chart as <a href="${escapeHtml(chart.svgFile)}">SVG</a> and its data as <a href="${escapeHtml(chart.csvFile)}">CSV</a>.</figcaption>`,
    '</figure>',
    leftOut,
    `<script type="application/json" data-chart-for="${id}">${serializeJsonForHtml(chart.spec)}</script>`,
    '</section>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * Renders the table of every row. Each header is a button that sorts the table, each row
 * carries its filter fields as `data-*` attributes, and each numeric cell carries its exact
 * value in `data-sort` and `title`. A column chooser shows the compact default set of columns
 * first, so the table does not scroll sideways on a laptop screen.
 */
export function renderTable(rows: readonly ResultRow[], csvFile: string): string {
  const columnClass = (index: number): string => `c${index}`;
  const hidden = TABLE_COLUMNS.flatMap((column, index) => (column.shownByDefault ? [] : [`hide-${columnClass(index)}`]));
  const header = TABLE_COLUMNS.map(
    (column, index) =>
      `<th scope="col" class="${columnClass(index)}" aria-sort="none"><button type="button" data-sort-column="${index}" data-numeric="${column.numeric}">${escapeHtml(column.header)}</button></th>`,
  ).join('');
  const body = rows.map((row) => {
    const cells = TABLE_COLUMNS.map((column, index) => {
      const text = escapeHtml(column.text(row));
      const className = columnClass(index);
      if (column.csvHeader === 'status' && !row.ok && row.error !== '') {
        return `<td class="${className}">${text}<span class="error">${escapeHtml(row.error)}</span></td>`;
      }
      if (column.csvHeader === 'strategy') {
        return `<td class="${className}"><a href="${escapeHtml(methodPageFile(row.strategy))}">${text}</a></td>`;
      }
      if (!column.numeric) {
        const exact = column.value(row);
        const title = typeof exact === 'string' && exact !== column.text(row) ? ` title="${escapeHtml(exact)}"` : '';
        return `<td class="${className}"${title}>${text}</td>`;
      }
      const exact = column.value(row);
      const known = exact !== null && exact !== undefined;
      const title = known ? ` title="${escapeHtml(String(exact))}"` : '';
      const sort = known ? ` data-sort="${escapeHtml(String(exact))}"` : '';
      return `<td class="number ${className}"${title}${sort}>${text}</td>`;
    });
    return `<tr class="${row.ok ? 'ok' : 'failed'}"${filterAttributes(row)}>${cells.join('')}</tr>`;
  });
  const chooser = TABLE_COLUMNS.map(
    (column, index) => `<label><input type="checkbox" data-column-toggle="${columnClass(index)}"${column.shownByDefault ? ' checked' : ''}> ${escapeHtml(column.header)}</label>`,
  );

  return [
    '<section aria-labelledby="results-heading">',
    '<h2 id="results-heading">All results</h2>',
    `<p id="results-note">Every row of the results files, sorted by dataset, then NDCG@10. Failed rows are kept and show their error. Metrics are rounded to 4 decimals. Accuracy is NDCG@10 for retrieval and GAUC for CTR, with its confidence interval where the row records one. Select a column heading to sort by it, and select it again to reverse the order. Hover a number for its exact value, or download the table as <a href="${escapeHtml(csvFile)}">CSV</a>.</p>`,
    `<details class="column-chooser"><summary>Columns (${TABLE_COLUMNS.filter((column) => column.shownByDefault).length} of ${TABLE_COLUMNS.length} shown)</summary><div>${chooser.join(' ')}</div></details>`,
    '<div class="table-scroll" role="region" aria-labelledby="results-heading" tabindex="0">',
    `<table id="results" class="${hidden.join(' ')}" aria-describedby="results-note">`,
    '<caption>Results of every run</caption>',
    `<thead><tr>${header}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table>',
    '</div>',
    '</section>',
  ].join('\n');
}

/** Returns the `data-*` attributes that the page's filters match a table row on, escaped. */
export function filterAttributes(row: { dataset: string; model: string; task: string; family: string }): string {
  return FILTER_FIELDS.map((field) => ` data-${field}="${escapeHtml(row[field])}"`).join('');
}

function renderFooter(libraries: readonly VendoredLibrary[]): string {
  const credits = libraries.map(
    (library) => `${escapeHtml(library.name)} ${escapeHtml(library.version)} (${escapeHtml(library.license)}, <a href="${escapeHtml(library.licenseFile)}">licence</a>)`,
  );
  return `<footer><p>Charts drawn with ${credits.join(', ')}, copied into this folder so the page needs no network.</p></footer>`;
}
