import type { MethodInfo } from '@malloc/compression';

/** Formats the method registry as a text table for `malloc methods`. */
export function formatMethodsTable(methods: readonly MethodInfo[]): string {
  const header = ['id', 'granularity', 'family', 'training', 'reads', 'paper'];
  const body = methods.map((method) => [method.id, method.granularity, method.family, method.needsTraining ? 'yes' : 'no', method.reads.length === 0 ? '-' : method.reads.join(', '), method.paper]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.slice().map((cells) => (column === 5 ? 0 : cells[column].length))));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === 5 ? cell : cell.padEnd(widths[column]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
