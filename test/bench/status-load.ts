// Status checks for the signing benchmark, from a process of their own (`fork`ed by signing.ts): as
// integrators' systems are, the clients are elsewhere, so their HTTP work does not share the measured
// service's event loop. `{ start: { url, ids, auth, checkers } }` starts `checkers` loops of
// `GET /api/v1/consents/{id}/status` (each one request after the other); `{ stop: true }` stops them and
// answers with the latencies' figures. Says `{ ready: true }` once it listens.
import { ms, percentile } from './figures.ts';

export interface StatusLoadStart {
  url: string;
  ids: string[];
  auth: Record<string, string>;
  checkers: number;
}

export interface StatusLoadFigures {
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
}

const send = process.send?.bind(process);
if (!send) throw new Error('status-load.ts runs as a child of the signing benchmark (fork)');

let running: { stop: () => Promise<StatusLoadFigures> } | undefined;

function start({ url, ids, auth, checkers }: StatusLoadStart) {
  let done = false;
  const latencies: number[] = [];
  let failures = 0;
  let n = 0;
  const loops = Promise.all(
    Array.from({ length: checkers }, async () => {
      while (!done) {
        const started = performance.now();
        try {
          const res = await fetch(`${url}/api/v1/consents/${ids[n++ % ids.length]}/status`, {
            headers: auth,
            redirect: 'manual',
          });
          await res.arrayBuffer();
          if (res.status !== 200) failures++;
        } catch {
          failures++;
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  return {
    async stop(): Promise<StatusLoadFigures> {
      done = true;
      await loops;
      return {
        requests: latencies.length,
        failures,
        p50Ms: ms(percentile(latencies, 50)),
        p99Ms: ms(percentile(latencies, 99)),
      };
    },
  };
}

process.on('message', (message: { start?: StatusLoadStart; stop?: true }) => {
  if (message.start) running = start(message.start);
  else if (message.stop && running) {
    const r = running;
    running = undefined;
    void r.stop().then((figures) => send({ figures }));
  }
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
