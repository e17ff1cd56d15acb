import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listMethods } from './strategies/index';

/** Ids in the first column of the README's methods table, with `int8`, `int4`, `int2` split. */
function readmeMethodIds(): string[] {
  const text = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## Methods'));
  const rows = section.split('\n').filter((line) => /^\| `/.test(line));
  return rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([^`]+)`/g)].map((match) => match[1]));
}

describe('README methods table', () => {
  it('lists every registry id in registry order', () => {
    expect(readmeMethodIds()).toEqual(listMethods().map((method) => method.id));
  });
});
