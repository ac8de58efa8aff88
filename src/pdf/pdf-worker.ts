// A worker thread of the PDF worker pool (pdf-workers.ts): runs one task (render a consent form or a
// receipt, verify a signed PDF) per message and answers with its result or the error, by the message's id.
import { parentPort } from 'node:worker_threads';
import { describeError, type PdfAnswer, type PdfRequest, runHere } from './pdf-workers.ts';

const port = parentPort;
if (!port) throw new Error('pdf-worker.ts runs as a worker thread of the PDF worker pool');

port.on('message', ({ id, ...task }: PdfRequest) => {
  runHere(task).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies PdfAnswer),
    (e: unknown) => port.postMessage({ id, ok: false, error: describeError(e) } satisfies PdfAnswer),
  );
});
