// Public API of @malloc/report: the leaderboard site built from results.jsonl files.
export { buildSite, DEFAULT_SITE_TITLE } from './build-site';
export type { BuildSiteOptions, BuildSiteResult } from './build-site';
export { buildLeaderboardSpec, LEADERBOARD_METRIC, leaderboardData, OKABE_ITO, paretoFront } from './chart';
export type { LeaderboardData, LeaderboardPoint, UnplottedRow, VegaLiteSpec } from './chart';
export { formatCsvCell, toCsv } from './csv';
export type { CsvCell } from './csv';
export { escapeHtml, serializeJsonForHtml } from './escape';
export { silentLogger } from './logger';
export type { Logger } from './logger';
export { renderSvg } from './render-svg';
export type { RenderSvgOptions } from './render-svg';
export { parseResultRow, parseResultsText, readResultsFiles, RESULTS_FILE_NAME, RESULTS_SCHEMA_VERSION } from './results';
export type { ConfidenceInterval, LatencyPhase, ParsedResults, ReadResults, ResultRow, RowProvenance } from './results';
