// A worker thread of the PDF worker pool (pdf-workers.ts): runs one task (render a consent form or a
// receipt, verify a signed PDF, a signature's PDF steps) per message and answers with its result or the
// error, by the message's id.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import {
  describeError,
  type PdfAnswer,
  type PdfRequest,
  PDF_WORKER_NICENESS,
  runHere,
} from './pdf-workers.ts';

const port = parentPort;
if (!port) throw new Error('pdf-worker.ts runs as a worker thread of the PDF worker pool');

// Below the event loop (issue 14): when the machine's cores are all busy, the scheduler runs the thread
// that answers requests, and PostgreSQL, before this one. PDF work is what can wait a few milliseconds:
// twenty signatures on two cores otherwise took the CPU from status checks. On Linux a thread has its own
// nice value: setpriority on the thread's id, which /proc/thread-self names. Elsewhere, or if refused,
// the worker keeps the process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0)
    setPriority(tid, Math.min(19, getPriority(tid) + PDF_WORKER_NICENESS));
} catch {
  // Not Linux, or no /proc: the process's priority.
}

port.on('message', ({ id, ...task }: PdfRequest) => {
  runHere(task).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies PdfAnswer),
    (e: unknown) => port.postMessage({ id, ok: false, error: describeError(e) } satisfies PdfAnswer),
  );
});
