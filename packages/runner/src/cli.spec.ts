import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, main } from './cli';
import { createMemoryLogger } from './logger';
import { duplicateListEntry, invalidOption, invalidRatio, invalidShard, unknownCommand } from './messages';

async function runCli(args: string[]): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const status = await main(args, (text) => (stdout += text), createMemoryLogger());
  return { status, stdout };
}

describe('malloc command line', () => {
  jest.setTimeout(60_000);
  const out = mkdtempSync(join(tmpdir(), 'malloc-cli-'));

  it('prints usage with the commands', async () => {
    const { status, stdout } = await runCli(['--help']);

    expect(status).toBe(0);
    expect(stdout).toContain('malloc bench');
    expect(stdout).toContain('malloc data stats');
  });

  it('prints bench options with units and defaults', async () => {
    const { stdout } = await runCli(['bench', '--help']);

    expect(stdout).toContain('--ratios LIST');
    expect(stdout).toContain('[0, 1)');
    expect(stdout).toContain('(default: 0.5,0.75,0.875)');
  });

  it('rejects an unknown command naming the accepted ones', async () => {
    await expect(runCli(['benchmark'])).rejects.toThrow(unknownCommand('benchmark', COMMANDS));
  });

  it('rejects an invalid --shard before training', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--shard', '2/2'])).rejects.toThrow(invalidShard('2/2'));
  });

  it('rejects merge without --into', async () => {
    await expect(runCli(['merge', out])).rejects.toThrow(invalidOption('--into', '', 'the new folder that receives the merged results.jsonl'));
  });

  it('rejects a ratio outside [0, 1) before training', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--ratios', '0.5,1.5'])).rejects.toThrow(invalidRatio(1.5));
  });

  it('runs an empty shard to a mergeable results file', async () => {
    const shardOut = mkdtempSync(join(tmpdir(), 'malloc-empty-shard-'));

    const { status, stdout } = await runCli(['bench', '--preset', 'smoke', '--backend', 'cpu', '--out', shardOut, '--shard', '1/2']);

    expect(status).toBe(0);
    expect(existsSync(join(shardOut, 'results.jsonl'))).toBe(true);
    expect(readFileSync(join(shardOut, 'results.jsonl'), 'utf8')).toBe('');
    expect(stdout).toContain('No new rows');
  });

  it('rejects a strategy listed twice', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--strategies', 'full,window,full'])).rejects.toThrow(duplicateListEntry('--strategies', 'full'));
  });

  it('rejects a ratio listed twice', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--ratios', '0.5,0.5'])).rejects.toThrow(duplicateListEntry('--ratios', '0.5'));
  });

  it('rejects an unknown strategy naming the accepted ones', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--strategies', 'full,snapkvv'])).rejects.toThrow(/Unknown strategy 'snapkvv'\. Accepted strategies: .*window.*recompute/);
  });

  it('rejects an unknown dataset naming the accepted ones', async () => {
    await expect(runCli(['bench', '--preset', 'smoke', '--out', out, '--dataset', 'ml-2m'])).rejects.toThrow(/Unknown dataset 'ml-2m'\. Accepted datasets: .*ml-1m/);
  });

  it('reports a missing data file with its path', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'malloc-empty-data-'));

    await expect(runCli(['data', 'stats', '--dataset', 'ml-1m', '--data-dir', empty])).rejects.toThrow(new RegExp(`${empty}.*ml-1m`));
  });

  it('rejects an unknown option', async () => {
    await expect(runCli(['bench', '--ratio', '0.5'])).rejects.toThrow(/Unknown option '--ratio'/);
  });

  it('lists the methods with their taxonomy', async () => {
    const { stdout } = await runCli(['methods']);

    expect(stdout).toMatch(/^streaming-llm\s+token\s+token-pruning\s+no/m);
    expect(stdout).toMatch(/^recompute\s+reference/m);
  });
});
