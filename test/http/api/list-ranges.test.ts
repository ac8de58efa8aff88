// Regression (issue 15): `GET /api/v1/consents?requestedTo=9999-12-31` was a 500 (a RangeError: the day
// after it is none), `requestedFrom=0000-01-01` was taken as a date, and a crafted `cursor` with an
// instant PostgreSQL cannot hold was a 500 (22008). Dates are now checked against the service's window
// (1900–2199) and a cursor must be exactly what the service wrote: a 400 naming the parameter.
import t from 'tap';
import { apiSetup } from '../../fixtures/api.ts';

const ID = '0b9e5c1e-6a43-4d2f-9c1a-2f1e8d1b7a10';
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

t.test('filter dates outside 1900–2199 are a 400 naming the parameter', async (t) => {
  const s = await apiSetup(t);
  for (const [query, field] of [
    ['requestedTo=9999-12-31', 'querystring.requestedTo'],
    ['requestedFrom=0000-01-01', 'querystring.requestedFrom'],
    ['requestedFrom=1899-12-31', 'querystring.requestedFrom'],
    ['requestedTo=2200-01-01', 'querystring.requestedTo'],
  ] as const) {
    for (const who of ['ownClient', 'ownStaff'] as const) {
      const res = await s.call(who, 'GET', `/api/v1/consents?${query}`);
      t.equal(res.statusCode, 400, `${query}: 400, not 500`);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      t.same(
        res.json().errors.map((e: { field: string }) => e.field),
        [field],
      );
    }
  }
  const edges = await s.call(
    'ownClient',
    'GET',
    '/api/v1/consents?requestedFrom=1900-01-01&requestedTo=2199-12-31',
  );
  t.equal(edges.statusCode, 200, 'the first and the last day of the window are taken');
});

t.test('a cursor must be one the service wrote', async (t) => {
  const s = await apiSetup(t);
  await s.createConsent();
  await s.createConsent();
  const first = await s.call('ownClient', 'GET', '/api/v1/consents?limit=1');
  t.equal(first.statusCode, 200);
  const next = first.json().nextCursor as string;
  t.ok(next, 'a next page');
  const second = await s.call('ownClient', 'GET', `/api/v1/consents?limit=1&cursor=${next}`);
  t.equal(second.statusCode, 200, 'its own cursor is taken');

  for (const cursor of [
    cursorOf(['+275760-09-13T00:00:00.000Z', ID]),
    cursorOf(['-271821-04-20T00:00:00.000Z', ID]),
    cursorOf(['0000-01-01T00:00:00.000Z', ID]),
    cursorOf(['9999-12-31T23:59:59.999Z', ID]),
    cursorOf(['2026-11-23', ID]),
    cursorOf(['2026-11-23T10:00:00.000Z', ID, 'x']),
    cursorOf(['2026-11-23T10:00:00.000Z', 'inte-ett-id']),
    cursorOf({ at: '2026-11-23T10:00:00.000Z', id: ID }),
    cursorOf(null),
    'inte%20base64',
    '!!!',
  ]) {
    const res = await s.call('ownClient', 'GET', `/api/v1/consents?cursor=${cursor}`);
    t.equal(res.statusCode, 400, `${cursor.slice(0, 30)}: 400, not 500`);
    t.same(
      res.json().errors.map((e: { field: string }) => e.field),
      ['cursor'],
    );
  }
});
