import { DEFAULT_CONFIG } from './config';
import { PRESET_IDS } from './presets';

const defaults = DEFAULT_CONFIG;

/** Top-level usage of `malloc`. */
export const HELP = `malloc — benchmark of KV-cache compression in sequential recommenders

Usage:
  malloc bench [options]                      train, compress, evaluate; append rows to <out>/results.jsonl
  malloc report --results DIR --site DIR      build the leaderboard site from results
  malloc data stats --dataset ID [--data-dir DIR]   print dataset statistics
  malloc methods                              list every compression method with its taxonomy
  malloc <command> --help                     options of one command

Exit status: 0 success, 1 some benchmark cells failed (recorded in results), 2 invalid usage or input.
`;

const BENCH_HELP = `malloc bench [options]

Runs the grid datasets × models × strategies × compression ratios × seeds. Each cell appends one
row to <out>/results.jsonl (never overwritten; a rerun skips finished cells). Precedence:
defaults < preset < --config file < these options.

Options:
  --preset ID          ${PRESET_IDS.join(' | ')} (default: ${defaults.preset})
  --config FILE        JSON or YAML run configuration (schema: packages/runner/src/config-schema.json)
  --dataset ID         synthetic | ml-100k | ml-1m (default: ${defaults.dataset}; synthetic needs no files)
  --data-dir DIR       folder holding ml-100k/, ml-1m/ (default: $MALLOC_DATA_DIR)
  --models LIST        comma-separated model ids (default: ${defaults.models.join(',')})
  --strategies LIST    comma-separated strategy ids, see 'malloc methods' (default: ${defaults.strategies.join(',')})
  --ratios LIST        fractions of history tokens removed, each in [0, 1) (default: ${defaults.compressionRatios.join(',')})
  --out DIR            results folder (default: ${defaults.out})
  --backend NAME       auto | tensorflow | wasm | cpu (default: ${defaults.backend})
  --seed N             one training seed (default: ${defaults.seeds.join(',')})
  --seeds LIST         several training seeds, comma-separated
  --epochs N           maximum training epochs (default: preset's; quick: 12)
  --users N            evaluate a fixed seeded sample of N test users (default: all)
  --no-report          do not build the site into <out>/site

Set MALLOC_VERBOSE=1 for debug lines.
`;

const REPORT_HELP = `malloc report --results DIR [--results DIR ...] --site DIR

Builds the static leaderboard site (HTML, Vega-Lite charts, SVG and CSV exports) from one or more
results folders or results.jsonl files. The site uses relative paths only and needs no server.
`;

const DATA_STATS_HELP = `malloc data stats --dataset ID [--data-dir DIR]

Prints users, items, interactions, sequence length (min, mean, median, p90, max; in items) and
item popularity concentration, then the preprocessing steps with their counts.
  --dataset ID     synthetic | ml-100k | ml-1m (default: synthetic)
  --data-dir DIR   folder holding ml-100k/, ml-1m/ (default: $MALLOC_DATA_DIR)
`;

const METHODS_HELP = `malloc methods

Lists every registered method: id, granularity, family, whether it needs training, the statistics
it reads and its paper.
`;

/** Usage of one command; falls back to the top-level usage for an unknown name. */
export function commandHelp(command: string): string {
  const pages: Record<string, string> = { bench: BENCH_HELP, report: REPORT_HELP, 'data stats': DATA_STATS_HELP, methods: METHODS_HELP };
  return pages[command] ?? HELP;
}
