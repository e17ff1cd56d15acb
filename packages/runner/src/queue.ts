import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { runBench } from './bench';
import { resolveConfig, validateConfigInput, type RunConfig } from './config';
import type { StopRequest } from './interrupt';
import type { Logger } from './logger';
import { invalidRedisUrl, invalidShardJob, redisUnreachable, shardJobFailed, shardJobFinished } from './messages';
import type { ProgressReporter } from './progress';
import { hashJson } from './provenance';
import { parseShard } from './shard';

/** Payload of a shard job: the resolved configuration and which shard of it to run. */
export interface ShardJob {
  config: RunConfig;
  /** `I/N`, as `malloc bench --shard` takes it. */
  shard: string;
}

/** Result of a finished shard job, returned to the queue. */
export interface ShardJobResult {
  rowsWritten: number;
  cellsFailed: number;
  cellsSkipped: number;
}

/** A Redis connection parsed from a URL, and the same URL with the password hidden for logs. */
export interface RedisTarget {
  connection: ConnectionOptions;
  display: string;
}

/**
 * Parses `redis://[:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://` for TLS). The password comes
 * from the URL, else from `env.REDIS_PASSWORD`; `display` never contains it.
 *
 * @throws RangeError when the URL is not a redis:// or rediss:// URL with a host.
 */
export function parseRedisUrl(url: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(invalidRedisUrl(hidePassword(url)));
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new RangeError(invalidRedisUrl(hidePassword(url)));
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new RangeError(invalidRedisUrl(hidePassword(url)));
  }
  const password = parsed.password !== '' ? decodeURIComponent(parsed.password) : env.REDIS_PASSWORD;
  const connection: ConnectionOptions = {
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db,
    // BullMQ workers block on Redis; ioredis must not give up on those commands.
    maxRetriesPerRequest: null,
    ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(password !== undefined && password !== '' ? { password } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  parsed.password = '';
  parsed.username = '';
  return { connection, display: parsed.toString() };
}

/** Seconds to wait for the first Redis connection before giving up. */
export const REDIS_CONNECT_TIMEOUT_SECONDS = 15;

/**
 * Waits until a BullMQ queue or worker has connected, and throws with the last connection error
 * (for example a wrong password) when that takes longer than the timeout: ioredis itself keeps
 * retrying forever.
 */
async function waitForRedis(client: { waitUntilReady(): Promise<unknown>; on(event: 'error', listener: (error: Error) => void): unknown }, target: RedisTarget, timeoutSeconds: number): Promise<void> {
  let lastError = 'no response from the server';
  client.on('error', (error) => {
    lastError = error.message;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(redisUnreachable(target.display, timeoutSeconds, lastError))), timeoutSeconds * 1000);
  });
  try {
    await Promise.race([client.waitUntilReady(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function hidePassword(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Adds one job per shard of `config` to a BullMQ queue. Job ids are derived from the
 * configuration and the shard, so enqueuing the same configuration twice adds nothing new
 * while the first jobs are still kept by the queue. Returns the job ids.
 */
export async function enqueueShards(options: { redis: string; queue: string; shards: number; config: RunConfig; logger: Logger; env?: NodeJS.ProcessEnv; connectTimeoutSeconds?: number }): Promise<string[]> {
  const target = parseRedisUrl(options.redis, options.env);
  const queue = new Queue<ShardJob, ShardJobResult>(options.queue, { connection: target.connection });
  try {
    await waitForRedis(queue, target, options.connectTimeoutSeconds ?? REDIS_CONNECT_TIMEOUT_SECONDS);
    const prefix = hashJson(options.config).slice(0, 16);
    const ids: string[] = [];
    for (let index = 0; index < options.shards; index++) {
      const shard = `${index}/${options.shards}`;
      parseShard(shard);
      const jobId = `${prefix}-shard-${index}-of-${options.shards}`;
      await queue.add('shard', { config: options.config, shard }, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 5_000 }, removeOnComplete: false, removeOnFail: false });
      ids.push(jobId);
    }
    options.logger.info(`Enqueued ${ids.length} shard jobs on queue '${options.queue}' at ${target.display}`);
    return ids;
  } finally {
    await queue.close();
  }
}

/** Settings of {@link runWorker}. */
export interface WorkerSettings {
  redis: string;
  queue: string;
  logger: Logger;
  /** Replaces the `out` folder of every job, so that each worker writes its own results. */
  out?: string;
  /** Stops taking jobs and stops the current one cleanly when set. */
  stop?: StopRequest;
  /** Returns once the queue has no waiting job left instead of waiting for more. */
  untilDrained?: boolean;
  progress?: ProgressReporter;
  env?: NodeJS.ProcessEnv;
  /** Default: {@link REDIS_CONNECT_TIMEOUT_SECONDS}. */
  connectTimeoutSeconds?: number;
}

/**
 * Takes shard jobs from a BullMQ queue one at a time and runs each with `runBench`. A job whose
 * cells fail still completes, because the failures are rows of results.jsonl. A job that throws
 * is marked failed, and BullMQ retries it up to its attempts. Returns the number of jobs processed when
 * the stop request is set or, with `untilDrained`, when the queue is empty.
 */
export async function runWorker(settings: WorkerSettings): Promise<number> {
  const { logger } = settings;
  const target = parseRedisUrl(settings.redis, settings.env);
  let processed = 0;

  const worker = new Worker<ShardJob, ShardJobResult>(
    settings.queue,
    async (job) => {
      const { config, shard } = readShardJob(job);
      const outcome = await runBench(settings.out === undefined ? config : { ...config, out: settings.out }, logger, { shard: parseShard(shard), stop: settings.stop, progress: settings.progress });
      logger.info(shardJobFinished(String(job.id), shard, outcome.rowsWritten.length, outcome.cellsFailed));
      return { rowsWritten: outcome.rowsWritten.length, cellsFailed: outcome.cellsFailed, cellsSkipped: outcome.cellsSkipped };
    },
    { connection: target.connection, concurrency: 1, autorun: false },
  );
  worker.on('completed', () => {
    processed++;
  });
  worker.on('failed', (job, error) => {
    processed++;
    logger.warn(shardJobFailed(String(job?.id ?? '?'), String(job?.data?.shard ?? '?'), error.message));
  });
  try {
    await waitForRedis(worker, target, settings.connectTimeoutSeconds ?? REDIS_CONNECT_TIMEOUT_SECONDS);
  } catch (error) {
    await worker.close(true);
    throw error;
  }
  worker.on('error', (error) => logger.warn(`Queue worker error on '${settings.queue}' at ${target.display}: ${error.message}`));
  logger.info(`Worker waiting for shard jobs on queue '${settings.queue}' at ${target.display}`);

  // Stop on the stop request, or when the queue has run dry.
  const finished = new Promise<void>((resolveFinished) => {
    const poll = setInterval(() => {
      if (settings.stop?.stopped === true) {
        clearInterval(poll);
        resolveFinished();
      }
    }, 200);
    if (settings.untilDrained === true) {
      worker.on('drained', () => {
        clearInterval(poll);
        resolveFinished();
      });
    }
  });
  const running = worker.run();
  await finished;
  await worker.close();
  await running;
  logger.info(`Worker stopped after ${processed} jobs`);
  return processed;
}

/** Checks a job's payload; the configuration is validated like a config file. */
function readShardJob(job: Job<ShardJob>): ShardJob {
  const data = job.data as unknown;
  if (typeof data !== 'object' || data === null || typeof (data as ShardJob).shard !== 'string') {
    throw new TypeError(invalidShardJob(String(job.id), 'missing the shard string'));
  }
  const input = validateConfigInput((data as ShardJob).config, `queue job ${String(job.id)}`);
  return { config: resolveConfig(input, {}), shard: (data as ShardJob).shard };
}
