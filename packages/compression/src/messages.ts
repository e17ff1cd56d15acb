// Builders of every error and warning string of @malloc/compression. Tests assert against
// these same functions, so a message is worded in one place.

/** Formats a shape as `[a, b, c]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function invalidShape(where: string, argument: string, expected: readonly number[], receivedLength: number): string {
  return `${where}: ${argument} must hold ${formatShape(expected)} = ${expected.reduce((a, b) => a * b, 1)} numbers; received ${receivedLength}.`;
}

export function invalidArgument(where: string, argument: string, expected: string, received: string): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${received}.`;
}
