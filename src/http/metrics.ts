// Counters of this process, for an operator's monitoring: GET /metrics in the Prometheus text format
// (version 0.0.4), for a scraper holding METRICS_TOKEN (`Authorization: Bearer …`). Without that setting
// there is no /metrics (404): what is counted says how the service is used, so it is not public, and a
// scraper has no staff session to show. Each instance counts its own; the monitoring adds them up.
//
// Counted so far: the searches by child, by outcome, and the times a caller reached its quota (issue 15 §2:
// an enumeration shows as a burst of misses, then refusals). Labels never carry ids or personal data.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.ts';

type Labels = Readonly<Record<string, string>>;

export class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(Object.entries(labels).sort());
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  /** The value for exactly these labels (0 when never counted). */
  value(labels: Labels = {}): number {
    return this.#values.get(JSON.stringify(Object.entries(labels).sort()))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#values.values()) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
        .join(',');
      lines.push(`${this.name}${text ? `{${text}}` : ''} ${value}`);
    }
    return lines.join('\n');
  }
}

export interface Metrics {
  /** Searches by child: `via` api | staff_page, `outcome` hit | miss | refused. */
  childLookups: Counter;
  /** Searches that brought a caller to its quota (CHILD_LOOKUP_QUOTA): `via`, `caller` staff | api_client. */
  childLookupQuotaReached: Counter;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

async function metricsPlugin(app: FastifyInstance) {
  const metrics: Metrics = {
    childLookups: new Counter('samtycke_child_lookups_total', 'Searches by child, by outcome.'),
    childLookupQuotaReached: new Counter(
      'samtycke_child_lookup_quota_reached_total',
      'Searches by child that brought the caller to its quota.',
    ),
  };
  app.decorate('metrics', metrics);

  const expected = app.config.metricsToken ? sha256(app.config.metricsToken) : undefined;
  app.get('/metrics', { schema: { hide: true }, config: { auth: false } }, async (request, reply) => {
    if (!expected) throw new AppError('not_found');
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    // Compared as hashes: equal lengths for timingSafeEqual, whatever was sent.
    if (!match || !timingSafeEqual(sha256(match[1]!), expected)) {
      reply.header('www-authenticate', 'Bearer realm="samtycke-metrics"');
      throw new AppError('unauthorized');
    }
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(
      `${Object.values(metrics)
        .map((c: Counter) => c.render())
        .join('\n\n')}\n`,
    );
  });
}

export default fp(metricsPlugin, { name: 'metrics' });
