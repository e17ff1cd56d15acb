// Prints one closing line, `Tests: N passed, N failed[, N skipped]`, on stdout after jest's own
// summary (which goes to stderr), so that a log reader finds the counts on the last line.
class CountReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failedSuites = results.numFailedTestSuites;
    const failed = results.numFailedTests + (results.numFailedTests === 0 ? failedSuites : 0);
    const line = `Tests: ${results.numPassedTests} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : '');
    process.stdout.write(`\n${line}\n`);
  }
}

module.exports = CountReporter;
