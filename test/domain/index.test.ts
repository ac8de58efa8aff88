import t from 'tap';
import * as consent from '../../src/domain/consent.ts';
import * as dates from '../../src/domain/dates.ts';
import * as domain from '../../src/domain/index.ts';
import * as identification from '../../src/domain/identification.ts';
import * as personalData from '../../src/domain/personal-data.ts';
import * as personalNumber from '../../src/domain/personal-number.ts';
import * as roles from '../../src/domain/roles.ts';
import * as text from '../../src/domain/text.ts';

t.test('the index re-exports every value of the domain modules, and nothing else', async (t) => {
  const modules = { consent, dates, identification, personalData, personalNumber, roles, text };
  const expected = new Map<string, unknown>();
  for (const mod of Object.values(modules))
    for (const [name, value] of Object.entries(mod)) expected.set(name, value);
  t.same(Object.keys(domain).sort(), [...expected.keys()].sort());
  for (const [name, value] of Object.entries(domain)) t.equal(value, expected.get(name), name);
});
