// The signing benchmark's time-stamping service, in a process of its own (`fork`ed by signing.ts): a real
// TSA is another machine, so its work (an `openssl ts -reply` per token, spawned from here) must not run
// on the event loop of the service being measured. Tells its parent where it listens; takes `{ delayMs }`.
import { startTsa } from '../pdf/helpers/tsa-server.ts';

export interface TsaProcessReady {
  url: string;
  dir: string;
  crlFile: string;
}

const send = process.send?.bind(process);
if (!send) throw new Error('tsa-process.ts runs as a child of the signing benchmark (fork)');
const tsa = await startTsa();
process.on('message', (message: { delayMs?: number }) => {
  if (typeof message.delayMs === 'number') tsa.delayMs = message.delayMs;
});
// The parent going away (or disconnecting) ends this process and removes the TSA's files.
process.on('disconnect', () => void tsa.close().finally(() => process.exit(0)));
send({ url: tsa.url, dir: tsa.dir, crlFile: tsa.crlFile } satisfies TsaProcessReady);
