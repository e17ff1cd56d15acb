import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli';
import { createStopRequest } from '../src/interrupt';
import { createMemoryLogger } from '../src/logger';
import { resolveConfig } from '../src/config';
import { enqueueShards, parseRedisUrl } from '../src/queue';
import { readResults } from '../src/results-store';

const REDIS_SERVER = '/usr/bin/redis-server';

describe('parseRedisUrl', () => {
  it('reads host, port, database and password', () => {
    const target = parseRedisUrl('redis://:s3cret@127.0.0.1:6380/2', {});

    expect(target.connection).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2, password: 's3cret' });
    expect(target.display).not.toContain('s3cret');
  });

  it('takes the password from REDIS_PASSWORD when the URL has none', () => {
    expect(parseRedisUrl('redis://localhost', { REDIS_PASSWORD: 'from-env' }).connection).toMatchObject({ host: 'localhost', port: 6379, db: 0, password: 'from-env' });
  });

  it.each(['http://localhost', 'localhost:6379', 'redis://', 'redis://host/x'])('rejects %p', (url) => {
    expect(() => parseRedisUrl(url, {})).toThrow(RangeError);
  });

  it('hides the password of a rejected URL', () => {
    expect(() => parseRedisUrl('redis://:s3cret@host/x', {})).toThrow(/redis:\/\/\*\*\*@host\/x/);
  });
});

/** A free TCP port on 127.0.0.1, released before redis-server takes it. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function startRedis(port: number, password: string): Promise<ChildProcess> {
  return new Promise((resolveRedis, reject) => {
    const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        resolveRedis(child);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
}

const describeWithRedis = existsSync(REDIS_SERVER) ? describe : describe.skip;
if (!existsSync(REDIS_SERVER)) {
  process.stderr.write(`Skipping the queue tests: ${REDIS_SERVER} is not installed.\n`);
}

describeWithRedis('malloc enqueue and worker against redis-server', () => {
  jest.setTimeout(90_000);
  const password = randomBytes(12).toString('hex');
  const root = mkdtempSync(join(tmpdir(), 'malloc-queue-'));
  let redis: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port, password);
    url = `redis://:${password}@127.0.0.1:${port}`;
  });

  afterAll(() => {
    redis.kill('SIGTERM');
  });

  it('runs every shard job once', async () => {
    const configPath = join(root, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        preset: 'smoke',
        backend: 'cpu',
        seeds: [1, 2],
        strategies: ['full', 'window'],
        compressionRatios: [0.5],
        report: false,
        training: { epochs: 1 },
        evaluation: { maxUsers: 30 },
        synthetic: { users: 40, items: 30, meanLength: 16, maxLength: 30, seed: 7 },
        out: join(root, 'unused'),
      }),
    );
    const logger = createMemoryLogger();
    const out = join(root, 'worker');

    const enqueued = await main(['enqueue', '--redis', url, '--queue', 'grid', '--shards', '2', '--config', configPath], () => undefined, logger);
    // Enqueuing again adds no job: the ids are the same.
    await main(['enqueue', '--redis', url, '--queue', 'grid', '--shards', '2', '--config', configPath], () => undefined, logger);
    const status = await main(['worker', '--redis', url, '--queue', 'grid', '--out', out, '--until-drained'], () => undefined, logger, { stop: createStopRequest() });

    expect(enqueued).toBe(0);
    expect(status).toBe(0);
    const rows = readResults(join(out, 'results.jsonl')).rows;
    // 2 seeds × (full + window at 0.5) = 4 cells, each written once.
    expect(rows.map((row) => row.cellKey).sort()).toEqual([
      'synthetic__sasrec__full__default__seed1',
      'synthetic__sasrec__full__default__seed2',
      'synthetic__sasrec__window__compressionRatio=0.5__seed1',
      'synthetic__sasrec__window__compressionRatio=0.5__seed2',
    ]);
    expect(logger.lines.filter((line) => line.includes('Shard job'))).toHaveLength(2);
    expect(logger.lines.some((line) => line.includes(password))).toBe(false);
    expect(existsSync(join(root, 'unused'))).toBe(false);
  });

  it('rejects a wrong password without printing it', async () => {
    const wrong = url.replace(password, 'wrong-password');
    const config = resolveConfig(null, { preset: 'smoke' });

    const attempt = enqueueShards({ redis: wrong, queue: 'grid', shards: 1, config, logger: createMemoryLogger(), connectTimeoutSeconds: 2 });

    await expect(attempt).rejects.toThrow(/Cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+ within 2 s: WRONGPASS/);
    await expect(attempt).rejects.not.toThrow(/wrong-password/);
  });
});
