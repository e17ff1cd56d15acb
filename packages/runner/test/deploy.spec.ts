import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseShard } from '../src/shard';

interface IndexedJob {
  spec: { completionMode: string; completions: number; parallelism: number; template: { spec: { containers: { command: string[]; args: string[] }[] } } };
}

describe('Kubernetes Indexed Job manifest', () => {
  const job = parse(readFileSync(join(__dirname, '..', 'deploy', 'indexed-job.yaml'), 'utf8')) as IndexedJob;
  const container = job.spec.template.spec.containers[0];

  it('runs malloc bench with the completion index as shard', () => {
    const shard = container.args[container.args.indexOf('--shard') + 1];

    expect(job.spec.completionMode).toBe('Indexed');
    expect(container.command).toEqual(['npx', 'malloc', 'bench']);
    expect(shard).toBe(`$(JOB_COMPLETION_INDEX)/${job.spec.completions}`);
  });

  it('gives every index a valid shard and its own results folder', () => {
    const shard = container.args[container.args.indexOf('--shard') + 1];
    const out = container.args[container.args.indexOf('--out') + 1];

    for (let index = 0; index < job.spec.completions; index++) {
      expect(parseShard(shard.replace('$(JOB_COMPLETION_INDEX)', String(index)))).toEqual({ index, count: job.spec.completions });
    }
    expect(out).toContain('$(JOB_COMPLETION_INDEX)');
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions);
  });
});
