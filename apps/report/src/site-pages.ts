import { accuracyLabel } from './accuracy';
import { escapeHtml } from './escape';
import type { MethodEntry } from './methods';
import { methodPageFile } from './methods';
import { countOf } from './messages';
import { BudgetWinner, OverviewGroup, SettingSummary, summarizeSettings } from './overview';
import { filterAttributes } from './page';
import type { ResultRow } from './results';
import { formatGrouped } from './table';

/** Column names of the CSV behind the overview table, in order. */
export const OVERVIEW_CSV_HEADER: readonly string[] = ['dataset', 'model', 'task', 'metric', 'budget', 'strategy', 'setting', 'protocol', 'seeds', 'accuracy', 'bytesPerUser', 'fullBytesPerUser'];

/** Cells of the CSV behind the overview table: one line per group and budget, with exact means. */
export function overviewCsvRows(groups: readonly OverviewGroup[]): (string | number | null)[][] {
  return groups.flatMap((group) =>
    group.winners.map(({ budget, best }) => [
      group.dataset,
      group.model,
      group.task,
      group.metric,
      budget,
      best?.strategy ?? null,
      best?.setting ?? null,
      best?.protocol ?? null,
      best?.seeds ?? null,
      best?.accuracy ?? null,
      best?.bytesPerUser ?? null,
      best?.fullBytesPerUser ?? null,
    ]),
  );
}

/**
 * Renders the overview table: one line per (dataset, model, task), one column per byte
 * budget, each cell naming the most accurate setting that fits the budget.
 *
 * @param groups - From `bestPerBudget`.
 * @param csvFile - Site-relative path of the table's CSV.
 */
export function renderOverviewTable(groups: readonly OverviewGroup[], csvFile: string): string {
  if (groups.length === 0) {
    return '<section aria-labelledby="overview-heading"><h2 id="overview-heading">Best method per byte budget</h2><p class="note">No successful row records an accuracy, stored bytes and full bytes, so no budget has a winner.</p></section>';
  }
  const budgets = groups[0].winners.map((winner) => winner.budget);
  const header = ['dataset', 'model', 'task', ...budgets.map((budget) => `≤ ${formatPercent(budget)} of the full cache`)]
    .map((text, index) => `<th scope="col" aria-sort="none"><button type="button" data-sort-column="${index}" data-numeric="false">${escapeHtml(text)}</button></th>`)
    .join('');
  const body = groups.map((group) => {
    const cells = [group.dataset, group.model, group.task].map((text) => `<td>${escapeHtml(text)}</td>`);
    cells.push(...group.winners.map((winner) => renderWinner(winner)));
    const attributes = filterAttributes({ dataset: group.dataset, model: group.model, task: group.task, family: '' }).replace(/ data-family="[^"]*"/, '');
    return `<tr${attributes}>${cells.join('')}</tr>`;
  });

  return [
    '<section aria-labelledby="overview-heading">',
    '<h2 id="overview-heading">Best method per byte budget</h2>',
    `<p id="overview-note">For each dataset, model and task, the setting with the highest mean accuracy (NDCG@10 for retrieval, GAUC for CTR, averaged over seeds) whose mean stored bytes per user are at most the given share of its uncompressed cache. Ties go to fewer bytes. Recompute rows keep no cache and are left out. The family filter does not apply to this table. Download it as <a href="${escapeHtml(csvFile)}">CSV</a>.</p>`,
    '<div class="table-scroll" role="region" aria-labelledby="overview-heading" tabindex="0">',
    '<table id="overview" aria-describedby="overview-note">',
    '<caption>Most accurate setting within each byte budget</caption>',
    `<thead><tr>${header}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table>',
    '</div>',
    '</section>',
  ].join('\n');
}

function renderWinner({ best }: BudgetWinner): string {
  if (best === null) {
    return '<td class="empty">no setting fits</td>';
  }
  // A line may break after '=' and ',' of a setting such as compressionRatio=0.875,bits=4; escapeHtml writes neither character.
  const setting = best.setting === '' ? '' : ` <span class="setting">${escapeHtml(best.setting).replace(/[=,]/g, '$&<wbr>')}</span>`;
  const protocol = best.protocol === '' || best.protocol === 'one-shot' ? '' : ` (${escapeHtml(best.protocol)})`;
  const exact = `${best.metric} ${best.accuracy}, ${best.bytesPerUser} bytes per user, ${countOf(best.seeds, 'seed')}`;
  return [
    `<td title="${escapeHtml(exact)}">`,
    `<a href="${escapeHtml(methodPageFile(best.strategy))}">${escapeHtml(best.strategy)}</a>${setting}${protocol}<br>`,
    `<span class="figures">${escapeHtml(accuracyLabel(best.metric))} ${best.accuracy.toFixed(4)} · ${escapeHtml(formatGrouped(best.bytesPerUser))} B · n=${best.seeds}</span>`,
    '</td>',
  ].join('');
}

/**
 * Renders the list of methods: one line per strategy with its family, granularity, paper and
 * number of rows, linked to the method's page.
 */
export function renderMethodList(byStrategy: ReadonlyMap<string, readonly ResultRow[]>, catalogue: ReadonlyMap<string, MethodEntry>): string {
  const lines = [...byStrategy].map(([strategy, rows]) => {
    const entry = catalogue.get(strategy);
    const families = distinct(rows.map((row) => row.family));
    const granularities = distinct(rows.map((row) => row.granularity));
    const row = rows[0];
    return [
      `<tr${filterAttributes({ dataset: row.dataset, model: row.model, task: row.task, family: row.family }).replace(/ data-(dataset|model|task)="[^"]*"/g, '')}>`,
      `<td><a href="${escapeHtml(methodPageFile(strategy))}">${escapeHtml(strategy)}</a></td>`,
      `<td>${escapeHtml(entry?.name ?? '')}</td>`,
      `<td>${escapeHtml(families)}</td>`,
      `<td>${escapeHtml(granularities)}</td>`,
      `<td>${escapeHtml(entry?.paper ?? '')}</td>`,
      `<td class="number" data-sort="${rows.length}">${rows.length}</td>`,
      '</tr>',
    ].join('');
  });
  const header = ['strategy', 'name', 'family', 'granularity', 'paper', 'rows']
    .map((text, index) => `<th scope="col" aria-sort="none"><button type="button" data-sort-column="${index}" data-numeric="${text === 'rows'}">${escapeHtml(text)}</button></th>`)
    .join('');
  return [
    '<section aria-labelledby="methods-heading">',
    '<h2 id="methods-heading">Methods</h2>',
    `<p>${countOf(byStrategy.size, 'method')} in the results. The family and granularity come from the rows; the name and paper come from methods.json beside the results, when present.</p>`,
    '<table id="methods">',
    '<caption>Methods and their taxonomy</caption>',
    `<thead><tr>${header}</tr></thead>`,
    '<tbody>',
    ...lines,
    '</tbody>',
    '</table>',
    '</section>',
  ].join('\n');
}

/**
 * Renders the taxonomy section of a method's page: the family and granularity recorded in its
 * rows, and the name, paper, inputs and parameters from `methods.json` when it has an entry.
 */
export function renderTaxonomy(strategy: string, rows: readonly ResultRow[], entry: MethodEntry | undefined): string {
  const items: [string, string][] = [
    ['id', strategy],
    ['name', entry?.name ?? ''],
    ['family', distinct(rows.map((row) => row.family)) || entry?.family || ''],
    ['granularity', distinct(rows.map((row) => row.granularity)) || entry?.granularity || ''],
    ['paper', entry?.paper ?? ''],
    ['reads', entry === undefined ? '' : entry.reads.join(', ') || 'nothing besides the budget'],
    ['datasets', distinct(rows.map((row) => row.dataset))],
    ['models', distinct(rows.map((row) => row.model))],
    ['rows', `${rows.length} (${rows.filter((row) => row.ok).length} ok)`],
  ];
  const parameters = entry === undefined || entry.parameters.length === 0 ? '' : `<h3>Parameters</h3><dl class="taxonomy">${entry.parameters.map((parameter) => `<dt>${escapeHtml(parameter.name)}</dt><dd>${escapeHtml(parameter.description)}</dd>`).join('')}</dl>`;
  const missing =
    entry === undefined ? '<p class="note">No methods.json beside the results describes this method, so its name, paper and inputs are not shown. Write the method registry there to add them.</p>' : '';
  return [
    '<section aria-labelledby="taxonomy-heading">',
    '<h2 id="taxonomy-heading">Taxonomy</h2>',
    `<dl class="taxonomy">${items.filter(([, value]) => value !== '').map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`,
    parameters,
    missing,
    '</section>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Renders the settings of one method, averaged over seeds, sorted by dataset, model and accuracy. */
export function renderSettingsTable(rows: readonly ResultRow[]): string {
  const summaries = summarizeSettings(rows).sort(
    (a, b) => compareStrings(a.dataset, b.dataset) || compareStrings(a.model, b.model) || b.accuracy - a.accuracy || compareStrings(a.setting, b.setting),
  );
  if (summaries.length === 0) {
    return '<section aria-labelledby="settings-heading"><h2 id="settings-heading">Settings</h2><p class="note">No successful row of this method records an accuracy, stored bytes and full bytes.</p></section>';
  }
  const header = ['dataset', 'model', 'task', 'setting', 'protocol', 'seeds', 'mean accuracy', 'mean bytes/user', 'share of full cache']
    .map((text, index) => `<th scope="col" aria-sort="none"><button type="button" data-sort-column="${index}" data-numeric="${index >= 5}">${escapeHtml(text)}</button></th>`)
    .join('');
  const body = summaries.map((summary: SettingSummary) => {
    const share = summary.bytesPerUser / summary.fullBytesPerUser;
    const text = [summary.dataset, summary.model, summary.task, summary.setting, summary.protocol].map((value) => `<td>${escapeHtml(value)}</td>`);
    const numbers = [
      [summary.seeds, String(summary.seeds)],
      [summary.accuracy, `${accuracyLabel(summary.metric)} ${summary.accuracy.toFixed(4)}`],
      [summary.bytesPerUser, formatGrouped(summary.bytesPerUser)],
      [share, formatPercent(share)],
    ].map(([value, shown]) => `<td class="number" title="${value}" data-sort="${value}">${escapeHtml(String(shown))}</td>`);
    return `<tr${filterAttributes({ ...summary })}>${[...text, ...numbers].join('')}</tr>`;
  });
  return [
    '<section aria-labelledby="settings-heading">',
    '<h2 id="settings-heading">Settings</h2>',
    '<p>Each line averages the successful rows of one setting over its seeds. Recompute rows keep no cache and are left out.</p>',
    '<table id="settings">',
    '<caption>Settings of this method, averaged over seeds</caption>',
    `<thead><tr>${header}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody>',
    '</table>',
    '</section>',
  ].join('\n');
}

function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 10000) / 100}%`;
}

function distinct(values: readonly string[]): string {
  return [...new Set(values.filter((value) => value !== ''))].sort(compareStrings).join(', ');
}

function compareStrings(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}
