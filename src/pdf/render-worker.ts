// A worker thread of the render pool (render-pool.ts): renders one consent form per message and answers
// with the form or the error, by the message's id.
import { parentPort } from 'node:worker_threads';
import { describeError, type RenderAnswer, type RenderRequest } from './render-pool.ts';
import { renderConsentForm } from './render.ts';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread of the render pool');

port.on('message', (request: RenderRequest) => {
  renderConsentForm(request.data).then(
    (form) => port.postMessage({ id: request.id, ok: true, form } satisfies RenderAnswer),
    (e: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: describeError(e) } satisfies RenderAnswer),
  );
});
