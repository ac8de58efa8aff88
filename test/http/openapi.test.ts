import { readFileSync } from 'node:fs';
import t from 'tap';
import { generateOpenApiYaml, openApiFile } from '../../src/cli/openapi.ts';
import { build } from '../helper.ts';

t.test(
  'openapi.yaml is what the running app generates (run `npm run openapi` after changing routes)',
  async (t) => {
    const generated = await generateOpenApiYaml();
    t.equal(readFileSync(openApiFile, 'utf8'), generated);
  },
);

t.test('the document is served at /openapi.json and the UI at /docs', async (t) => {
  const { app } = await build(t);
  const doc = (await app.inject('/openapi.json')).json();
  t.equal(doc.openapi, '3.1.0');
  t.ok(doc.paths['/health/ready'], 'routes documented');
  t.notOk(doc.paths['/openapi.json'], 'the document itself is hidden');
  const ui = await app.inject('/docs/');
  t.equal(ui.statusCode, 200);
  t.match(ui.body, /swagger/i);
  t.notMatch(ui.body, /https?:\/\/(?!localhost)[a-z0-9.-]+\.(com|org|net|io)\//i, 'no third-party assets');
});
