import type { MethodInfo } from '@malloc/compression';

/** Formats the method registry as a text table for `malloc methods`. */
export function formatMethodsTable(methods: readonly MethodInfo[]): string {
  const header = ['id', 'granularity', 'family', 'training', 'reads', 'paper'];
  const body = methods.map((method) => [method.id, method.granularity, method.family, trainingLabel(method), method.reads.length === 0 ? '-' : method.reads.join(', '), method.paper]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.slice().map((cells) => (column === 5 ? 0 : cells[column].length))));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === 5 ? cell : cell.padEnd(widths[column]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** `yes` for a trained variant, `calibration` for a method fitted once on training users' caches, else `no`. */
function trainingLabel(method: MethodInfo): string {
  if (method.needsTraining) {
    return 'yes';
  }
  return method.calibration === true ? 'calibration' : 'no';
}
