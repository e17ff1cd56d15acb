// Builders of every error, warning and progress string of the runner. Tests assert against
// these same functions.

function list(values: readonly string[]): string {
  return values.join(', ');
}

export function invalidConfig(source: string, problems: readonly string[]): string {
  return `Invalid configuration from ${source}:\n  - ${problems.join('\n  - ')}\nSee packages/runner/src/config-schema.json for every key, its type and its default.`;
}

export function configFileUnreadable(path: string, reason: string): string {
  return `Cannot read config file '${path}': ${reason}. Pass a JSON (.json) or YAML (.yaml, .yml) file.`;
}

export function unknownPreset(preset: string, accepted: readonly string[]): string {
  return `Unknown preset '${preset}'. Accepted presets: ${list(accepted)}.`;
}

export function unknownDataset(dataset: string, accepted: readonly string[]): string {
  return `Unknown dataset '${dataset}'. Accepted datasets: ${list(accepted)}.`;
}

export function unknownModel(model: string, accepted: readonly string[]): string {
  return `Unknown model '${model}'. Accepted models: ${list(accepted)}.`;
}

export function unknownStrategy(strategy: string, accepted: readonly string[]): string {
  return `Unknown strategy '${strategy}'. Accepted strategies: ${list(accepted)}. Run 'malloc methods' for their descriptions.`;
}

export function invalidRatio(value: number | string): string {
  return `Invalid compression ratio ${String(value)}: expected a number in [0, 1) (the fraction of history tokens removed), for example 0.5, 0.75 or 0.875.`;
}

export function invalidOption(option: string, value: string, expected: string): string {
  return `Invalid value '${value}' for ${option}: expected ${expected}.`;
}

export function unknownCommand(command: string, accepted: readonly string[]): string {
  return `Unknown command '${command}'. Accepted commands: ${list(accepted)}. Run 'malloc --help' for usage.`;
}

export function invalidResultRow(problems: readonly string[]): string {
  return `Refusing to write a results row that does not match results-schema.json:\n  - ${problems.join('\n  - ')}`;
}

export function malformedResultsLine(path: string, line: number, reason: string): string {
  return `Malformed line ${line} in '${path}': ${reason}. The file is append-only JSON Lines; fix or remove that line, nothing else is touched.`;
}

export function progressLine(label: string, done: number, total: number, elapsedSeconds: number): string {
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const left = rate > 0 ? (total - done) / rate : Number.NaN;
  const leftText = Number.isFinite(left) ? `, ~${formatSeconds(left)} left` : '';
  return `${label}: ${done}/${total} (${rate.toFixed(1)}/s${leftText})`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) {
    return `${seconds.toFixed(0)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function cellFailed(cellKey: string, message: string): string {
  return `Cell ${cellKey} failed: ${message}. The other cells continue; the run exits with status 1 at the end.`;
}

export function cellSkipped(cellKey: string): string {
  return `Skipping ${cellKey}: an ok row with the same configuration is already in results.jsonl.`;
}

export function refusingOverwrite(path: string): string {
  return `Refusing to overwrite '${path}': result files are never replaced. Choose another --out folder or remove the file yourself.`;
}

export function warningsSuppressed(strategy: string, setting: string, count: number): string {
  return `${strategy}${setting === '' ? '' : ` (${setting})`}: ${count} more warnings like the one above for other users were not shown.`;
}

export function noUserEvaluated(usersSkipped: number): string {
  return `No test user was evaluated (${usersSkipped} skipped because their input is not longer than the request). Lower evaluation.requestLength or use a dataset with longer histories.`;
}
