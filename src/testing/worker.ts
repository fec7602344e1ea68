// A worker thread of a parallel `remedy test` (parallel.ts): runs the units the main thread hands
// it, one at a time, and posts each case's result as it ends. Runbooks it loaded stay loaded for
// its later units, as they do for the files of an in-process run.
import { parentPort } from 'node:worker_threads';
import { ValidationError } from '../errors.js';
import type { LoadedRunbook } from '../runbook/index.js';
import { loadTestFile, type LoadedTestFile } from './load.js';
import type { FromWorker, ToWorker } from './parallel.js';
import { runFileCases } from './suite.js';

const port = parentPort;
if (port === null) throw new Error('testing/worker.js runs as a worker thread of `remedy test`');

const runbooks = new Map<string, LoadedRunbook>();
const post = (m: FromWorker): void => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'done') {
    port.close();
    return;
  }
  const { unit } = m;
  void (async () => {
    let file: LoadedTestFile;
    try {
      file = loadTestFile(unit.file);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      post({ type: 'invalid', fileIndex: unit.fileIndex, diagnostics: err.diagnostics });
      post({ type: 'idle' });
      return;
    }
    post({ type: 'loaded', fileIndex: unit.fileIndex, cases: file.data.cases.length });
    await runFileCases(file, (result) => post({ type: 'case', fileIndex: unit.fileIndex, result }), runbooks, unit.shard);
    post({ type: 'idle' });
  })().catch((err: unknown) => post({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
