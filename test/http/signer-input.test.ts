// Regression (issue 15): a NUL (U+0000) in the signing place went into the login attempt's jsonb (and the
// signature) and one in a decline reason into the signer row: PostgreSQL refused both, a 500. Now each is
// the page's own 400 with the message at the field, and nothing is stored or started.
import t from 'tap';
import { getConsent } from '../../src/consents/index.ts';
import { csrfOf, hiddenValue } from '../fixtures/app.ts';
import { loggedIn, requestConsent, startSignerApp } from './fixtures/signer.ts';

const NUL = '\u0000';

t.test('the signing place and the decline reason: a control character is a message, not a 500', async (t) => {
  const s = await startSignerApp(t);
  const { consentId } = await requestConsent(s, 'lindqvist');
  const review = `/mina-samtycken/${consentId}/granska`;
  const b = await loggedIn(s, 'anna-lindqvist', review);
  const page = await b.get(review);
  const form = { _csrf: csrfOf(page.body), version: hiddenValue(page.body, 'version')! };

  for (const ort of [`Norrby${NUL}`, 'Norr\u0001by', 'Norrby\u009b']) {
    const answer = await b.post(`/mina-samtycken/${consentId}/signera`, { ...form, ort });
    t.equal(answer.status, 400, 'the page again, not a 500');
    t.equal(answer.location, null, 'no identification started');
    t.match(answer.body, /<a href="#ort">Texten innehåller tecken som inte är tillåtna/);
  }

  const decline = await b.get(`/mina-samtycken/${consentId}/avboj`);
  const declined = await b.post(`/mina-samtycken/${consentId}/avboj`, {
    _csrf: csrfOf(decline.body),
    anledning: `Jag vill vänta${NUL}`,
  });
  t.equal(declined.status, 400, 'the page again, not a 500');
  t.match(declined.body, 'tecken som inte är tillåtna');
  t.equal((await getConsent(s.app, consentId)).status, 'pending', 'nothing was stored');

  const lines = await b.post(`/mina-samtycken/${consentId}/avboj`, {
    _csrf: csrfOf(decline.body),
    anledning: 'Jag vill vänta.\r\nVi pratar först.',
  });
  t.equal(lines.status, 200, 'a reason over two lines is fine');
  t.equal((await getConsent(s.app, consentId)).status, 'declined');
});
