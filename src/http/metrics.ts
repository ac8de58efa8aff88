// Counters of this process, for an operator's monitoring: GET /metrics in the Prometheus text format
// (version 0.0.4), for a scraper holding METRICS_TOKEN (`Authorization: Bearer …`). Without that setting
// there is no /metrics (404): what is counted says how the service is used, so it is not public, and a
// scraper has no staff session to show. Each instance counts its own; the monitoring adds them up.
//
// Counted so far: the searches by child, by outcome, and the times a caller reached its quota (issue 15 §2:
// an enumeration shows as a burst of misses, then refusals). Read at each scrape (gauges): the database
// pool's connections and the requests waiting for one, and the audit rows written behind their answers and
// not yet committed (db/write-behind.ts: past its bound, status checks are refused with 503, so a rising
// figure is the warning before that). Labels never carry ids or personal data.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { poolOf } from '../db/index.ts';
import { writeBehindUncommitted } from '../db/write-behind.ts';
import { AppError } from '../errors.ts';

type Labels = Readonly<Record<string, string>>;

const labelText = (labels: Labels): string => {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
    .join(',');
  return text ? `{${text}}` : '';
};

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
    for (const { labels, value } of this.#values.values())
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A value read when scraped. */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => readonly { labels?: Labels; value: number }[],
  ) {}

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of this.read())
      lines.push(`${this.name}${labelText(labels ?? {})} ${value}`);
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
  const pool = () => poolOf(app.db);
  const gauges = [
    new Gauge('samtycke_db_pool_connections', "The database pool's connections, open and idle.", () => {
      const p = pool();
      return p
        ? [
            { labels: { state: 'open' }, value: p.totalCount },
            { labels: { state: 'idle' }, value: p.idleCount },
          ]
        : [];
    }),
    new Gauge('samtycke_db_pool_waiting', 'Requests waiting for a database connection.', () => {
      const p = pool();
      return p ? [{ value: p.waitingCount }] : [];
    }),
    new Gauge(
      'samtycke_write_behind_uncommitted_rows',
      'Rows written behind their answer (audit rows of status checks) and not yet committed.',
      () => writeBehindUncommitted(app.db).map(({ writer, rows }) => ({ labels: { writer }, value: rows })),
    ),
  ];

  const expected = app.config.metricsToken ? sha256(app.config.metricsToken) : undefined;
  app.get('/metrics', { schema: { hide: true }, config: { auth: false } }, async (request, reply) => {
    if (!expected) throw new AppError('not_found');
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    // Compared as hashes: equal lengths for timingSafeEqual, whatever was sent.
    if (!match || !timingSafeEqual(sha256(match[1]!), expected)) {
      reply.header('www-authenticate', 'Bearer realm="samtycke-metrics"');
      throw new AppError('unauthorized');
    }
    return reply
      .header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
      .send(
        `${[...Object.values(metrics), ...gauges].map((m: Counter | Gauge) => m.render()).join('\n\n')}\n`,
      );
  });
}

export default fp(metricsPlugin, { name: 'metrics' });
