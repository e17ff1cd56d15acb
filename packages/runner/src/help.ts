import { DATASET_IDS } from '@malloc/data';
import { DEFAULT_CONFIG } from './config';
import { PRESET_IDS } from './presets';

const defaults = DEFAULT_CONFIG;

/** Top-level usage of `malloc`. */
export const HELP = `malloc — benchmark of KV-cache compression in sequential recommenders

Usage:
  malloc bench [options]                      train, compress, evaluate; append rows to <out>/results.jsonl
  malloc merge --into DIR SHARD_DIR...        join the results of shard runs into DIR/results.jsonl
  malloc enqueue --redis URL --queue NAME --shards N --config FILE   add one BullMQ job per shard
  malloc worker --redis URL --queue NAME      run shard jobs from a BullMQ queue
  malloc report --results DIR --site DIR      build the leaderboard site from results
  malloc data stats --dataset ID [--data-dir DIR]   print dataset statistics
  malloc data download ID --data-dir DIR      download, verify and unpack a public dataset
  malloc methods                              list every compression method with its taxonomy
  malloc plan --users N --mean-length L [--model ID] [--method ID] [--ratio R]
                                              total cache size and compute per request of a fleet
  malloc <command> --help                     options of one command

Exit status: 0 success, 1 some benchmark cells failed (recorded in results), 2 invalid usage or input,
130 interrupted by SIGINT or SIGTERM (finished rows are kept; rerun to continue).
`;

const BENCH_HELP = `malloc bench [options]

Runs the grid datasets × models × strategies × compression ratios × seeds. Each cell appends one
row to <out>/results.jsonl (never overwritten; a rerun skips finished cells). Precedence:
defaults < preset < --config file < these options.

Options:
  --preset ID          ${PRESET_IDS.join(' | ')} (default: ${defaults.preset})
  --task NAME          retrieval | ctr (default: ${defaults.task}); ctr scores each user's last
                       impressions with a click head and reports auc, gauc and logloss
  --impressions N      ctr: impressions held out per user (default: 10)
  --config FILE        JSON or YAML run configuration (schema: @malloc/runner/config-schema.json)
  --dataset ID         ${DATASET_IDS.join(' | ')} (default: ${defaults.dataset}; synthetic needs no files)
  --data-dir DIR       folder holding ml-100k/, ml-1m/ (default: $MALLOC_DATA_DIR)
  --models LIST        comma-separated model ids: sasrec, hstu, gru4rec, rwkv (default: ${defaults.models.join(',')})
  --strategies LIST    comma-separated strategy ids, see 'malloc methods' (default: ${defaults.strategies.join(',')})
  --ratios LIST        fractions of history tokens removed, each in [0, 1) (default: ${defaults.compressionRatios.join(',')})
  --out DIR            results folder (default: ${defaults.out})
  --backend NAME       auto | tensorflow | wasm | cpu (default: ${defaults.backend})
  --seed N             one training seed (default: ${defaults.seeds.join(',')})
  --seeds LIST         several training seeds, comma-separated
  --epochs N           maximum training epochs (default: preset's; quick: 12)
  --train-workers N    train with N replicas in N threads, each on a share of every batch
                       (wasm or cpu backend; default: 1)
  --users N            evaluate a fixed seeded sample of N test users (default: all)
  --no-report          do not build the site into <out>/site
  --shard I/N          run only shard I (0-based) of N: the (model, seed) groups numbered g with
                       g mod N = I, in configuration order (models outer, seeds inner)

Ctrl-C (SIGINT) or SIGTERM stops before the next test user, training step or (model, seed) group and
exits with status 130; rows already written are kept and a rerun continues. A second signal stops at
once (training resumes from its last epoch checkpoint).

Set MALLOC_VERBOSE=1 for debug lines.
`;

const MERGE_HELP = `malloc merge --into DIR SHARD_DIR [SHARD_DIR ...]

Joins the results.jsonl of shard runs (their --out folders, or the files themselves) into the new
file DIR/results.jsonl. All rows must have the same configuration hash. Per cell the ok row is
kept; two rows of one cell must agree on everything except run id, provenance, latencies and
training time, otherwise the merge stops and names both files and lines. Nothing is written then.
`;

const ENQUEUE_HELP = `malloc enqueue --redis URL --queue NAME --shards N [--config FILE] [--preset ID]

Resolves the configuration (defaults < preset < config file) and adds N jobs { config, shard: 'I/N' }
to the BullMQ queue NAME. Job ids come from the configuration and the shard, so enqueuing the same
configuration again adds no duplicate while the queue keeps the first jobs. Each job is tried up to
3 times.
  --redis URL    redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss:// (TLS); the password may instead
                 come from REDIS_PASSWORD and is never logged
`;

const WORKER_HELP = `malloc worker --redis URL --queue NAME [--out DIR] [--until-drained]

Takes shard jobs from the BullMQ queue NAME one at a time and runs each as 'malloc bench --shard I/N'
would. Failed cells are recorded as rows and the job still completes; a job that throws is retried.
  --redis URL       as for 'malloc enqueue'
  --out DIR         results folder of this worker, replacing the jobs' out (default: the jobs' out)
  --until-drained   exit when the queue has no waiting job instead of waiting for more
Ctrl-C or SIGTERM stops the current job cleanly (it is retried later) and exits with status 130.
`;

const REPORT_HELP = `malloc report --results DIR [--results DIR ...] --site DIR

Builds the static leaderboard site (HTML, Vega-Lite charts, SVG and CSV exports) from one or more
results folders or results.jsonl files. The site uses relative paths only and needs no server.
`;

const DATA_STATS_HELP = `malloc data stats --dataset ID [--data-dir DIR]

Prints users, items, interactions, sequence length (min, mean, median, p90, max; in items) and
item popularity concentration, then the preprocessing steps with their counts.
  --dataset ID     ${DATASET_IDS.join(' | ')} (default: synthetic)
  --data-dir DIR   folder holding ml-100k/, ml-1m/ (default: $MALLOC_DATA_DIR)
`;

const DATA_DOWNLOAD_HELP = `malloc data download ID --data-dir DIR [--force]

Downloads a MovieLens archive from GroupLens, verifies its checksum, and unpacks it into
DIR/<ID>/. No partial file is left behind; an archive entry that would land outside DIR is
rejected. Offline, the error names the URL and the folder to unpack into by hand.
  ID             ml-100k | ml-1m | ml-10m | ml-20m | ml-25m | ml-32m
  --data-dir DIR folder of the datasets (default: $MALLOC_DATA_DIR)
  --force        download again when the ratings file already exists
`;

const PLAN_HELP = `malloc plan --users N --mean-length L [--model ID] [--method ID] [--ratio R] [--group G]

Sizes the KV cache of a fleet of users and the compute of one request, from the analytical
bytes and MACs models (one MAC = one multiply-add of a matrix product).
  --users N          number of users whose caches are kept (1e9 is accepted)
  --mean-length L    mean history length in items, rounded to an integer
  --model ID         sasrec-ml1m | hstu-ml1m | hstu-large (default: sasrec-ml1m)
  --method ID        full (default), int8 | int4 | int2 (integer codes, fp16 scale and zero point
                     per group), or a token method of 'malloc methods' with --ratio
  --ratio R          fraction of history tokens a token method removes, in [0, 1)
  --group G          group size of integer codes (default: 32)
`;

const METHODS_HELP = `malloc methods

Lists every registered method: id, granularity, family, whether it needs training, the statistics
it reads and its paper.
`;

/** Usage of one command; falls back to the top-level usage for an unknown name. */
export function commandHelp(command: string): string {
  const pages: Record<string, string> = { bench: BENCH_HELP, merge: MERGE_HELP, enqueue: ENQUEUE_HELP, worker: WORKER_HELP, report: REPORT_HELP, 'data stats': DATA_STATS_HELP, 'data download': DATA_DOWNLOAD_HELP, methods: METHODS_HELP, plan: PLAN_HELP };
  return pages[command] ?? HELP;
}
