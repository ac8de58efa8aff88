// Loaded into the soak's service process (`node --import tsx --import soak-probe.ts src/server.ts`, see
// soak.ts): answers the bench's questions over the IPC channel — memory figures, event-loop delay, open
// handles, and a heap snapshot on demand. The service itself runs unchanged.
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';

export interface ProbeQuestion {
  id: number;
  kind: 'sample' | 'snapshot' | 'allocations';
  /** For a snapshot: where to write it. */
  file?: string;
  /** For allocations: how long to sample. */
  seconds?: number;
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/**
 * What allocates, garbage included: V8's sampling heap profiler for `seconds`, counting objects that GC
 * has collected since, summed by function (with its file and line) and by file. What churns the heap
 * makes V8 grow it between collections, which is most of the RSS under load.
 */
async function allocations(seconds: number): Promise<{ where: string; kB: number }[]> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  try {
    await post('HeapProfiler.startSampling', {
      samplingInterval: 32 * 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
    const sums = new Map<string, number>();
    const add = (key: string, size: number) => sums.set(key, (sums.get(key) ?? 0) + size);
    const walk = (n: ProfileNode) => {
      if (n.selfSize) {
        const file = n.callFrame.url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*\/work\/[^/]+\//, '');
        add(`${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}`, n.selfSize);
        add(`file ${file.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1')}`, n.selfSize);
      }
      n.children.forEach(walk);
    };
    walk(profile.head);
    return [...sums]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40)
      .map(([where, bytes]) => ({ where, kB: Math.round(bytes / 1024) }));
  } finally {
    session.disconnect();
  }
}

export interface ProbeSample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Event-loop delay since the last sample, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Handles and requests keeping the loop alive (sockets, timers, …): grows when something leaks them. */
  activeResources: number;
  /** Linux: resident anonymous memory (heap, malloc) and file-backed memory (code, mapped files), bytes. */
  rssAnon?: number;
  rssFile?: number;
}

/** RssAnon and RssFile from /proc/self/status (Linux), in bytes; nothing elsewhere. */
function rssParts(): { rssAnon?: number; rssFile?: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kB = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rssAnon: kB('RssAnon'), rssFile: kB('RssFile') };
  } catch {
    return {};
  }
}

if (process.send) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const answer = (message: unknown) => process.send?.(message);
  process.on('message', (q: ProbeQuestion) => {
    if (q.kind === 'sample') {
      const m = process.memoryUsage();
      const sample: ProbeSample = {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        loopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
        loopDelayMaxMs: Math.round(loop.max / 1e4) / 100,
        activeResources: process.getActiveResourcesInfo().length,
        ...rssParts(),
      };
      loop.reset();
      answer({ id: q.id, sample });
    } else if (q.kind === 'snapshot') {
      answer({ id: q.id, file: writeHeapSnapshot(q.file) });
    } else if (q.kind === 'allocations') {
      allocations(q.seconds ?? 10).then(
        (top) => answer({ id: q.id, top }),
        (e: unknown) => answer({ id: q.id, top: [{ where: `failed: ${String(e)}`, kB: 0 }] }),
      );
    }
  });
  // The channel must not keep the service alive once it shuts down.
  process.channel?.unref();
}
