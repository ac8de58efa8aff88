// Regression (issue 13): a request with a malformed e-mail and a bad personal-number checksum was answered
// in two rounds (the route's schema first, the use case's rules after). Now one answer holds both.
import t from 'tap';
import { familyRequest } from '../../fixtures/consents.ts';
import { apiSetup } from '../../fixtures/api.ts';

t.test('POST /api/v1/consent-requests gives every field problem in one answer', async (t) => {
  const s = await apiSetup(t);
  const body = familyRequest(s);
  const [g1, g2] = body.guardians;
  const res = await s.call('ownClient', 'POST', '/api/v1/consent-requests', {
    ...body,
    child: { ...body.child, personalNumber: '201203152385' },
    guardians: [{ ...g1, email: 'inte-en-adress' }, g2],
  });
  t.equal(res.statusCode, 400, res.body);
  const problem = res.json();
  t.equal(problem.code, 'validation_failed');
  const fields = problem.errors.map((e: { field: string }) => e.field).sort();
  t.same(fields, ['child.personalNumber', 'guardians.0.email'], 'the schema’s and the rules’ problems');
  t.notMatch(res.body, /201203152385/, 'no number in the answer');

  const fine = await s.call('ownClient', 'POST', '/api/v1/consent-requests', body);
  t.equal(fine.statusCode, 201, fine.body);
});
