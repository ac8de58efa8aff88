// A worker thread of the render pool (render-pool.ts): renders one document (a consent form or a receipt)
// per message and answers with it or the error, by the message's id.
import { parentPort } from 'node:worker_threads';
import { describeError, type RenderAnswer, type RenderRequest, renderHere } from './render-pool.ts';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread of the render pool');

port.on('message', ({ id, ...task }: RenderRequest) => {
  renderHere(task).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies RenderAnswer),
    (e: unknown) => port.postMessage({ id, ok: false, error: describeError(e) } satisfies RenderAnswer),
  );
});
