// Authentication comes before validation: a caller without valid credentials learns nothing about what a
// route accepts. Every operation of openapi.yaml that needs a caller is sent input its schema refuses (a
// body of the wrong shape, a path parameter that is no id, a query value out of range), first without
// credentials and then as a caller who may use it: the stranger is told 401, the caller 400.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { openApiFile } from '../../../src/cli/openapi.ts';
import { apiSetup } from '../../fixtures/api.ts';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
}
const doc = parse(readFileSync(openApiFile, 'utf8')) as { paths: Record<string, Record<string, Operation>> };

/** Input each operation's schema refuses: path ids that are no ids, a malformed query value, a bad body. */
function malformed(path: string, op: Operation) {
  const url = path.replace(/\{(\w+)\}/g, 'not-an-id');
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const query = queryParams.length > 0 ? `?${queryParams[0]}=${encodeURIComponent('9999-99-99\u0000')}` : '';
  return { url: `${url}${query}`, payload: op.requestBody ? { unexpected: ['\u0000'] } : undefined };
}

t.test(
  'without credentials every operation that needs a caller answers 401 before it looks at the input',
  async (t) => {
    const s = await apiSetup(t);
    // The caller who may use the admin routes too.
    await s.db
      .updateTable('staff_memberships')
      .set({ role: 'admin' })
      .where('staff_id', '=', s.staffId)
      .execute();
    let checked = 0;
    // (The token endpoint is how a client authenticates: it answers as RFC 6749 §5.2 says.)
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path.startsWith('/oauth/')) continue;
      for (const [method, op] of Object.entries(methods)) {
        if (
          !op.security?.length ||
          (!op.parameters?.some((p) => p.in === 'path') && !op.requestBody && !op.parameters?.length)
        )
          continue;
        const { url, payload } = malformed(path, op);
        const upper = method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
        const anonymous = await s.call('anonymous', upper, url, payload);
        t.equal(anonymous.statusCode, 401, `${upper} ${path} without credentials: 401`);
        t.equal(anonymous.json().code, 'unauthorized', `${upper} ${path}: the problem says so`);
        const who =
          op.security.some((r) => 'oauth2' in r) && !op.security.some((r) => 'session' in r)
            ? 'ownClient'
            : 'ownStaff';
        const known = await s.call(who, upper, url, payload);
        t.equal(
          known.statusCode,
          400,
          `${upper} ${path} as ${who}: 400 (${known.statusCode} ${known.json().code})`,
        );
        checked++;
      }
    }
    t.ok(checked >= 10, `operations checked: ${checked}`);
  },
);
