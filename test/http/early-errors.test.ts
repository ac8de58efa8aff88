// Regression (issue 15): Fastify's own early answers — 414 for a path parameter over maxParamLength, 400 for
// a URL it cannot decode, Node's 431 for headers too large and 400 for a request it cannot parse — bypassed
// the error handler: plain JSON, no request id, no log line, and the 414 and 400 quoted the raw path (a
// personal number in a URL came back in the body). Now they are problem+json with a request id and one log
// line with a sanitised URL, like every other error; a browser gets a page. The errors Fastify raises while
// reading a body (media type, JSON, size) keep going through the error handler: asserted here too.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import t from 'tap';
import { z } from 'zod';
import { build } from '../helper.ts';

const PNR = '19850615-2340';

/** The request's log lines (JSON), found by its request id. */
function linesOf(logs: string[], reqId: string) {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === reqId);
}

function isProblem(
  t: Test,
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
) {
  t.equal(res.statusCode, status, `${code}: ${status}`);
  t.match(res.headers['content-type'], /^application\/problem\+json/, 'problem+json');
  const body = JSON.parse(res.body);
  t.equal(body.code, code);
  t.equal(body.status, status);
  t.ok(res.headers['x-request-id'], 'the request id');
  t.notMatch(res.body, /19850615|2340|FST_ERR|\/api\//, 'no path, number or Fastify code in the answer');
}

t.test('a path parameter over maxParamLength: 414 problem+json, id, log line, no path', async (t) => {
  const { app, logs } = await build(t, { captureLogs: true });
  const url = `/api/v1/consents/${PNR}${'x'.repeat(120)}`;
  const res = await app.inject({ url, headers: { 'x-request-id': 'lang-adress-1' } });
  isProblem(t, res, 414, 'uri_too_long');
  t.equal(res.headers['x-request-id'], 'lang-adress-1', "the caller's request id");
  const lines = linesOf(logs, 'lang-adress-1');
  t.equal(lines.filter((l) => l.msg === 'request').length, 1, 'one request log line');
  const line = lines.find((l) => l.msg === 'request')!;
  t.equal(line.status, 414);
  t.equal(line.method, 'GET');
  t.match(line.url, /^\/api\/v1\/consents\//);
  t.notMatch(JSON.stringify(lines), /19850615-2340/, 'the number is not logged');
});

t.test('a URL that cannot be decoded: 400 problem+json, id, log line, no path', async (t) => {
  const { app, logs } = await build(t, { captureLogs: true });
  const res = await app.inject({
    url: `/api/v1/consents/${PNR}%E0%A4%A`,
    headers: { 'x-request-id': 'trasig-1' },
  });
  isProblem(t, res, 400, 'bad_request');
  const lines = linesOf(logs, 'trasig-1').filter((l) => l.msg === 'request');
  t.equal(lines.length, 1, 'one request log line');
  t.equal(lines[0]?.status, 400);
  t.notMatch(JSON.stringify(lines), /19850615-2340/, 'the number is not logged');
});

t.test('a browser gets a page for these, without the address in it', async (t) => {
  const { app } = await build(t);
  for (const url of [`/mina-samtycken/${PNR}${'x'.repeat(120)}/granska`, `/samtycken/${PNR}%E0%A4%A`]) {
    const res = await app.inject({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
    t.ok([400, 414].includes(res.statusCode), `${res.statusCode}`);
    t.match(res.headers['content-type'], /^text\/html/);
    t.match(res.body, /<html lang="sv">/);
    t.match(res.body, /Sidan finns inte/);
    t.ok(res.headers['x-request-id']);
    t.notMatch(res.body, /19850615|2340/, 'no address in the page');
  }
});

/** Raw bytes to a listening app; the whole answer as text. */
async function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

function parseRaw(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
  );
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body };
}

t.test("Node's answers to requests it cannot parse: 431 and 400 as problem+json, id, log line", async (t) => {
  const { app, logs } = await build(t, { captureLogs: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const big = `GET /api/v1/consents/${PNR} HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
  const tooLarge = parseRaw(await raw(port, big));
  isProblem(t, tooLarge, 431, 'headers_too_large');
  const id = tooLarge.headers['x-request-id']!;
  const lines = linesOf(logs, id);
  t.equal(lines.length, 1, 'one log line');
  t.equal(lines[0]?.status, 431);
  t.notMatch(JSON.stringify(lines), /19850615-2340|aaaaaaaa/, 'no number, no header value logged');

  const garbage = parseRaw(await raw(port, `G\u0000T /${PNR} HTTP/1.1\r\n\r\n`));
  isProblem(t, garbage, 400, 'bad_request');
  t.equal(linesOf(logs, garbage.headers['x-request-id']!).length, 1, 'one log line');
});

t.test('errors while reading a body: problem+json with the request id and a log line', async (t) => {
  const { app, logs } = await build(t, { captureLogs: true, env: { BODY_LIMIT_BYTES: '2048' } });
  app.post(
    '/echo',
    { config: { auth: false }, schema: { body: z.object({ a: z.string() }) } },
    async (r) => r.body,
  );
  const post = (id: string, type: string | undefined, payload: string) =>
    app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'x-request-id': id, ...(type === undefined ? {} : { 'content-type': type }) },
      payload,
    });
  const cases: [string, string | undefined, string, number, string][] = [
    ['json', 'application/json', `{"child":{"name":"${PNR}"`, 400, 'bad_request'],
    ['empty', 'application/json', '', 400, 'bad_request'],
    ['media', 'application/xml', PNR, 415, 'unsupported_media_type'],
    ['no-type', undefined, PNR, 415, 'unsupported_media_type'],
    ['text', 'text/plain', PNR, 400, 'validation_failed'],
    ['odd-type', `application/${PNR}`, PNR, 415, 'unsupported_media_type'],
    ['big', 'application/json', `{"a":"${PNR}${'x'.repeat(4000)}"}`, 413, 'payload_too_large'],
  ];
  for (const [id, type, payload, status, code] of cases) {
    const res = await post(id, type, payload);
    isProblem(t, res, status, code);
    t.equal(linesOf(logs, id).filter((l) => l.msg === 'request').length, 1, `${id}: one request log line`);
  }
});
