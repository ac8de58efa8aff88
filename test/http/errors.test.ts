import t from 'tap';
import { z } from 'zod';
import { AppError, ERROR_CODES, type ErrorCode } from '../../src/errors.ts';
import { build } from '../helper.ts';

t.test('every code in the table answers its status as problem+json', async (t) => {
  const { app } = await build(t);
  app.get('/throw/:code', async (req) => {
    throw new AppError((req.params as { code: ErrorCode }).code, 'Detalj för testet');
  });
  for (const [code, { status, title }] of Object.entries(ERROR_CODES)) {
    const res = await app.inject(`/throw/${code}`);
    t.equal(res.statusCode, status, code);
    t.match(res.headers['content-type'], /^application\/problem\+json/, code);
    const body = res.json();
    t.equal(body.code, code);
    t.equal(body.status, status);
    t.equal(body.title, title);
    t.equal(body.type, `urn:samtycke:problem:${code}`);
    // 5xx never expose the thrown detail
    t.equal(body.detail, status < 500 ? 'Detalj för testet' : title, `${code} detail`);
  }
});

t.test('unknown route → 404 problem', async (t) => {
  const { app } = await build(t);
  const res = await app.inject('/no/such/thing');
  t.equal(res.statusCode, 404);
  t.equal(res.json().code, 'not_found');
});

t.test('validation errors list fields without echoing values', async (t) => {
  const { app } = await build(t);
  app.post(
    '/v',
    { schema: { body: z.object({ personalNumber: z.string().regex(/^\d{12}$/), name: z.string().min(2) }) } },
    async () => ({ ok: true }),
  );
  const res = await app.inject({
    method: 'POST',
    url: '/v',
    payload: { personalNumber: '19121212-121X', name: 'Å' },
  });
  t.equal(res.statusCode, 400);
  const body = res.json();
  t.equal(body.code, 'validation_failed');
  t.same(body.errors.map((e: { field: string }) => e.field).sort(), ['body.name', 'body.personalNumber']);
  t.notMatch(res.body, /19121212|121X/);
});

t.test('malformed JSON, wrong media type, too large: 4xx problems, never 500', async (t) => {
  const { app } = await build(t, { env: { BODY_LIMIT_BYTES: '2048' } });
  app.post('/echo', { schema: { body: z.object({ a: z.string() }) } }, async (req) => req.body);
  const bad = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"a":',
  });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'bad_request');
  const media = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/x-unknown' },
    payload: 'x',
  });
  t.equal(media.statusCode, 415);
  t.equal(media.json().code, 'unsupported_media_type');
  const large = await app.inject({ method: 'POST', url: '/echo', payload: { a: 'x'.repeat(5000) } });
  t.equal(large.statusCode, 413);
  t.equal(large.json().code, 'payload_too_large');
});

t.test('an unexpected error → 500 without details, logged with its cause', async (t) => {
  const { app, logs } = await build(t, { captureLogs: true });
  app.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  const res = await app.inject('/boom');
  t.equal(res.statusCode, 500);
  t.equal(res.json().code, 'internal_error');
  t.notMatch(res.body, /hunter2/);
  t.ok(
    logs.some((l) => l.includes('"level":"error"') && l.includes('hunter2')),
    'logged for operators',
  );
});

t.test('JSON bodies are UTF-8: another charset → 415, bytes that are not UTF-8 → 400', async (t) => {
  const { app } = await build(t);
  app.post('/echo', { schema: { body: z.object({ a: z.string() }) } }, async (req) => req.body);
  const send = (contentType: string, payload: Buffer) =>
    app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload });
  const utf8 = Buffer.from('{"a":"Åsa Öberg"}', 'utf8');
  for (const contentType of [
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'application/json; charset="utf8"',
  ]) {
    const ok = await send(contentType, utf8);
    t.equal(ok.statusCode, 200, `${contentType}: read`);
    t.same(ok.json(), { a: 'Åsa Öberg' }, `${contentType}: å and ö as sent`);
  }
  for (const contentType of ['application/json; charset=iso-8859-1', 'application/json; charset=utf-16']) {
    const refused = await send(contentType, Buffer.from('{"a":"Åsa"}', 'latin1'));
    t.equal(refused.statusCode, 415, `${contentType}: refused`);
    t.equal(refused.json().code, 'unsupported_media_type');
  }
  const latin1 = await send('application/json', Buffer.from('{"a":"Åsa Qvarnström"}', 'latin1'));
  t.equal(latin1.statusCode, 400, 'ISO-8859-1 bytes sent as UTF-8: refused, not read with U+FFFD');
  t.equal(latin1.json().code, 'bad_request');
  t.notMatch(latin1.body, /Qvarnstr/, 'the answer quotes nothing of the body');
  const poisoned = await send('application/json', Buffer.from('{"a":"x","__proto__":{"admin":true}}'));
  t.equal(poisoned.statusCode, 400, 'prototype poisoning still refused');
});
