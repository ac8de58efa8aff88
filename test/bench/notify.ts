// Message latency benchmark (issue 13 "Messages go out at once"; `npm run bench notify`): a burst of 50
// consent requests made at once against a real database, with the job workers running and the development
// mail capture as the transport. For every message: the time from its request's commit to the moment the
// notify job hands it to the transport (the mailer's or the SMS sender's `send`). Reports p50/p95/max and
// checks that every message was handed over exactly once (and that the send ledger agrees). Prints
// figures; asserts nothing. Target: p95 ≤ 2 s.
// Database: the server at DATABASE_URL (a fresh database on it, dropped after), else an embedded one.
import { cpus, loadavg } from 'node:os';
import { buildApp } from '../../src/app.ts';
import { fixedClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { consentContext } from '../../src/consents/context.ts';
import { createConsentRequest } from '../../src/consents/create-consent-request.ts';
import { familyRequest, seedOrganisations } from '../fixtures/consents.ts';
import { peopleAt } from '../fixtures/people.ts';
import { benchDatabase } from './database.ts';

const REQUESTS = Number(process.env.BENCH_NOTIFY_REQUESTS ?? 50);
/** Per request: e-mail to both guardians and the youth, and an SMS to guardian 1. */
const MESSAGES_PER_REQUEST = 4;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const digits = (phone: string): string => phone.replace(/\D/g, '').slice(-8);

export async function benchNotify(): Promise<Record<string, unknown>> {
  const { databaseUrl, drop } = await benchDatabase(`samtycke_bench_notify_${process.pid}`);
  const clock = fixedClock(new Date());
  const config = loadConfig({
    SAMTYCKE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    RUN_JOBS: 'true',
    PUBLIC_BASE_URL: 'http://localhost:3000',
  });
  const app = await buildApp({ config, databaseUrl, clock, jobs: true });
  try {
    await app.ready();
    const org = await seedOrganisations(app.db);
    const { person } = peopleAt(clock);

    // Hand-offs to the transport, by request: each request has addresses of its own.
    const handedOff = new Map<string, number[]>();
    const record = (key: string) => {
      const at = performance.now();
      handedOff.set(key, [...(handedOff.get(key) ?? []), at]);
    };
    const mailer = app.notify.mailer;
    app.notify.mailer = {
      description: mailer.description,
      capturing: mailer.capturing,
      send: (m) => {
        record(`mail ${m.to}`);
        return mailer.send(m);
      },
      close: () => mailer.close(),
    };
    const sms = app.notify.sms;
    if (sms) {
      app.notify.sms = {
        description: sms.description,
        send: (m) => {
          record(`sms ${digits(m.to)}`);
          return sms.send(m);
        },
      };
    }

    const ctx = consentContext(app);
    const expected = new Map<string, number>(); // message key → request index
    const inputs = Array.from({ length: REQUESTS }, (_, i) => {
      const base = familyRequest({ teamId: org.teamId, person });
      const phone = `070-${String(1_000_000 + i).slice(1, 4)} ${String(1_000_000 + i).slice(4)}`;
      const emails = [`g1-${i}@bench.example`, `g2-${i}@bench.example`, `y-${i}@bench.example`];
      for (const e of emails) expected.set(`mail ${e}`, i);
      expected.set(`sms ${digits(phone)}`, i);
      return {
        ...base,
        guardians: base.guardians.map((g, k) => ({ ...g, email: emails[k]!, ...(k === 0 ? { phone } : {}) })),
        youth: { email: emails[2]! },
      };
    });

    // The burst: all requests at once, each commit time taken as its use case returns.
    const committedAt: number[] = [];
    const burstStart = performance.now();
    await Promise.all(
      inputs.map(async (input, i) => {
        await createConsentRequest(ctx, org.staff, input);
        committedAt[i] = performance.now();
      }),
    );
    const burstMs = performance.now() - burstStart;

    const total = REQUESTS * MESSAGES_PER_REQUEST;
    const deadline = Date.now() + 120_000;
    while (handedOff.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // A little longer, so that a duplicate hand-off would be seen.
    await new Promise((r) => setTimeout(r, 1500));

    const latencies: number[] = [];
    let duplicates = 0;
    let unexpected = 0;
    for (const [key, times] of handedOff) {
      const i = expected.get(key);
      if (i === undefined) {
        unexpected++;
        continue;
      }
      duplicates += times.length - 1;
      latencies.push(times[0]! - committedAt[i]!);
    }
    latencies.sort((a, b) => a - b);
    const ledger = await app.db
      .selectFrom('notifications_sent')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const round = (ms: number) => Math.round(ms);
    return {
      requests: REQUESTS,
      burstMs: round(burstMs),
      messagesExpected: total,
      messagesHandedOff: latencies.length,
      duplicates,
      unexpected,
      ledgerRows: Number(ledger.n),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        max: round(latencies.at(-1) ?? Number.NaN),
      },
      target: 'p95 ≤ 2000 ms, each message exactly once',
      machine: { cpus: cpus().length, loadavg1: Number(loadavg()[0]!.toFixed(2)) },
    };
  } finally {
    await app.close();
    await drop();
  }
}
