// The openapi.yaml contract: every /api/v1 route the app registers is documented with the same method
// (and nothing documented is missing from the app), and real answers validate against the documented
// response schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses) under the media type they are served with
// (errors: application/problem+json).
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import { parse } from 'yaml';
import { openApiFile } from '../../../src/cli/openapi.ts';
import { localDateOf } from '../../../src/domain/dates.ts';
import { familyRequest } from '../../fixtures/consents.ts';
import { apiSetup } from '../../fixtures/api.ts';

interface Operation {
  summary?: string;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: object } };

const doc = parse(readFileSync(openApiFile, 'utf8')) as Doc;

/** Method + path of every route, from Fastify's route tree (`printRoutes`), with `{param}` paths. */
function registeredRoutes(tree: string): [string, string][] {
  const stack: string[] = [];
  const out: [string, string][] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push([method, path.replace(/:(\w+)/g, '{$1}')]);
  }
  return out;
}

t.test('every /api/v1 route is in openapi.yaml with the same method, and only those', async (t) => {
  const s = await apiSetup(t);
  await s.app.ready();
  const routes = registeredRoutes(s.app.printRoutes({ commonPrefix: false })).filter(([, p]) =>
    p.startsWith('/api/v1/'),
  );
  t.ok(routes.length >= 14, `found ${routes.length} /api/v1 routes`);
  for (const [method, path] of routes) {
    const op = doc.paths[path]?.[method.toLowerCase()];
    t.ok(op, `${method} ${path} is documented`);
    if (op) t.ok(op.summary, `${method} ${path} has a summary`);
  }
  const registered = new Set(routes.map(([m, p]) => `${m} ${p}`));
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const method of Object.keys(ops))
      t.ok(registered.has(`${method.toUpperCase()} ${path}`), `${method} ${path} is served`);
  }
  for (const path of Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/consent'))) {
    for (const [method, op] of Object.entries(doc.paths[path]!)) {
      for (const code of ['400', '401', '403', '404'])
        t.ok(op.responses[code], `${method} ${path} documents ${code}`);
    }
  }
});

t.test(
  'every operation that takes a body and answers problems documents 413 and 415 as problems',
  async (t) => {
    let operations = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const problem = (code: string) => op.responses[code]?.content?.['application/problem+json']?.schema;
        for (const [code, response] of Object.entries(op.responses)) {
          if (Number(code) >= 400 && response.content?.['application/json'])
            t.notOk(
              JSON.stringify(response.content['application/json']).includes('#/components/schemas/Problem"'),
              `${method} ${path} ${code}: a problem is not documented as application/json`,
            );
        }
        if (!op.requestBody || !problem('400')) continue;
        operations++;
        for (const code of ['413', '415']) t.ok(problem(code), `${method} ${path} documents ${code}`);
      }
    }
    t.ok(operations >= 8, `${operations} operations take a body`);
  },
);

t.test('real answers validate against the documented response schemas', async (t) => {
  const s = await apiSetup(t);
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  /** The answer's body against the schema documented for its status and the media type it came as. */
  const validate = (
    method: string,
    path: string,
    res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  ) => {
    const { statusCode: status } = res;
    const mediaType = String(res.headers['content-type']).split(';')[0]!.trim();
    const content = doc.paths[path]?.[method]?.responses[String(status)]?.content;
    const schema = content?.[mediaType]?.schema;
    if (!schema) {
      t.fail(`${method} ${path} ${status}: no schema documented for ${mediaType}`, {
        documented: Object.keys(content ?? {}),
      });
      return;
    }
    const check = ajv.compile({ ...schema, components: doc.components });
    t.ok(check(res.json()), `${method} ${path} ${status} matches: ${JSON.stringify(check.errors ?? [])}`);
  };

  const created = await s.call('ownClient', 'POST', '/api/v1/consent-requests', familyRequest(s));
  validate('post', '/api/v1/consent-requests', created);
  const id = created.json().id as string;
  const samples: [string, 'GET' | 'POST', string, string, unknown?][] = [
    ['get', 'GET', '/api/v1/consents', '/api/v1/consents'],
    ['get', 'GET', `/api/v1/consents/${id}`, '/api/v1/consents/{id}'],
    ['get', 'GET', `/api/v1/consents/${id}/events`, '/api/v1/consents/{id}/events'],
    ['post', 'POST', `/api/v1/consents/${id}/remind`, '/api/v1/consents/{id}/remind'],
    ['get', 'GET', `/api/v1/consents/${id}/status`, '/api/v1/consents/{id}/status'],
    [
      'post',
      'POST',
      '/api/v1/consent-status/search',
      '/api/v1/consent-status/search',
      { childPersonalNumber: s.person('saga-lindqvist').personalNumber },
    ],
    ['post', 'POST', `/api/v1/consents/${id}/cancel`, '/api/v1/consents/{id}/cancel'],
    ['post', 'POST', `/api/v1/consents/${id}/cancel`, '/api/v1/consents/{id}/cancel'], // 409
    ['get', 'GET', '/api/v1/consents/not-a-uuid', '/api/v1/consents/{id}'], // 400
    ['get', 'GET', `/api/v1/consents/${id}/document/receipt`, '/api/v1/consents/{id}/document/receipt'], // 404
  ];
  for (const [method, verb, url, path, body] of samples) {
    const res = await s.call('ownClient', verb, url, body);
    validate(method, path, res);
  }
  const active = await s.createConsent();
  await s.signAll(active);
  const details = await s.call('teamClient', 'GET', `/api/v1/consents/${active}`);
  validate('get', '/api/v1/consents/{id}', details);
  const ended = await s.call('ownStaff', 'POST', `/api/v1/consents/${active}/end`, {
    date: localDateOf(s.clock.now()),
  });
  validate('post', '/api/v1/consents/{id}/end', ended);
  const renewed = await s.call('ownStaff', 'POST', `/api/v1/consents/${active}/renew`, {});
  validate('post', '/api/v1/consents/{id}/renew', renewed);
  // A withdrawal registered by staff, then every act that conflicts with a withdrawn consent (409).
  const withdrawn = await s.createConsent();
  await s.signAll(withdrawn);
  const today = localDateOf(s.clock.now());
  const withdrawal = await s.call('ownStaff', 'POST', `/api/v1/consents/${withdrawn}/withdrawals`, {
    role: 'guardian2',
    channel: 'phone',
    date: today,
  });
  validate('post', '/api/v1/consents/{id}/withdrawals', withdrawal);
  const conflicts: [string, unknown][] = [
    ['withdrawals', { role: 'guardian1', channel: 'letter', date: today }],
    ['end', { date: today }],
    ['remind', undefined],
    ['cancel', undefined],
    ['renew', {}],
  ];
  for (const [act, body] of conflicts) {
    const res = await s.call('ownStaff', 'POST', `/api/v1/consents/${withdrawn}/${act}`, body);
    t.equal(res.statusCode, 409, `${act} on a withdrawn consent`);
    validate('post', `/api/v1/consents/{id}/${act}`, res);
  }
  const unauthorized = await s.call('anonymous', 'GET', `/api/v1/consents/${active}/status`);
  validate('get', '/api/v1/consents/{id}/status', unauthorized);

  // Refused before the route runs: a body of another media type, and one over the limit (BODY_LIMIT_BYTES).
  const wrongType = await s.call('ownClient', 'POST', '/api/v1/consent-requests', '<teamId/>', {
    'content-type': 'application/xml',
  });
  t.equal(wrongType.statusCode, 415, 'an XML body: 415');
  validate('post', '/api/v1/consent-requests', wrongType);
  const tooLarge = await s.call(
    'ownStaff',
    'POST',
    `/api/v1/consents/${withdrawn}/withdrawals`,
    JSON.stringify({
      role: 'guardian1',
      channel: 'letter',
      date: today,
      note: 'x'.repeat(s.app.config.bodyLimit),
    }),
    { 'content-type': 'application/json' },
  );
  t.equal(tooLarge.statusCode, 413, 'a body over the limit: 413');
  validate('post', '/api/v1/consents/{id}/withdrawals', tooLarge);

  const pdf = doc.paths['/api/v1/consents/{id}/document']!.get!.responses['200']!.content!;
  t.ok(pdf['application/pdf'], 'the document is documented as application/pdf');
});
