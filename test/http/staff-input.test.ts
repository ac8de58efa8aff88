// Regression (issue 15): the staff pages' forms passed a NUL (U+0000) in a name or a note to PostgreSQL (a
// 500), and a list filter date like 9999-12-31 or a crafted page cursor was a 500 (a RangeError; PostgreSQL
// 22008). Now each is the form's own 400 with the message at the field, or the list's message, never a 500.
import tap from 'tap';
import { csrfOf } from '../fixtures/app.ts';
import { staffPages } from './fixtures/staff.ts';

const NUL = '\u0000';

tap.test('forms: a control character in a name or a note is a message at the field', async (t) => {
  const s = await staffPages(t);
  const b = await s.loggedIn();
  const form = await b.get('/samtycken/ny');
  const csrf = csrfOf(form.body);

  for (const [field, id] of [
    ['child.name', 'child-name'],
    ['child.school', 'child-school'],
    ['guardians.0.name', 'guardians-0-name'],
  ] as const) {
    const answer = await b.post('/samtycken/ny', { ...s.requestForm(), _csrf: csrf, [field]: `Saga${NUL}` });
    t.equal(answer.status, 400, `${field}: the form again, not a 500`);
    t.match(answer.body, 'class="error-summary"');
    t.match(answer.body, `href="#${id}"`, 'the summary links to the field');
    t.match(answer.body, 'tecken som inte är tillåtna');
  }

  const pending = await s.lindqvist('saga');
  const withdraw = await b.get(`/samtycken/${pending.id}/aterkalla`);
  const today = /id="withdraw-date" name="date" value="([^"]+)"/.exec(withdraw.body)![1]!;
  const withdrawn = await b.post(`/samtycken/${pending.id}/aterkalla`, {
    _csrf: csrf,
    role: 'guardian1',
    channel: 'phone',
    date: today,
    note: `Ringde${NUL}`,
  });
  t.equal(withdrawn.status, 400, 'withdrawal: the form again, not a 500');
  t.match(withdrawn.body, 'tecken som inte är tillåtna');

  const active = await s.active('elsa');
  const ended = await b.post(`/samtycken/${active.id}/avsluta`, {
    _csrf: csrf,
    date: today,
    note: `Klart${NUL}`,
  });
  t.equal(ended.status, 400, 'end: the form again, not a 500');
  t.match(ended.body, 'tecken som inte är tillåtna');
  const farAway = await b.post(`/samtycken/${active.id}/avsluta`, { _csrf: csrf, date: '9999-12-31' });
  t.equal(farAway.status, 400, 'a date far out: the form again');

  const search = await b.post('/personal/sok', { _csrf: csrf, personalNumber: `20120315${NUL}2384` });
  t.ok(search.status < 500, `search: ${search.status}`);
});

tap.test('the list: filter dates out of range and crafted cursors are messages, not 500', async (t) => {
  const s = await staffPages(t);
  const b = await s.loggedIn();
  for (const query of ['to=9999-12-31', 'from=0001-01-01', 'from=1899-12-31&to=2200-01-01']) {
    const page = await b.get(`/personal?${query}`);
    t.equal(page.status, 200, `${query}: the list with a message`);
    t.match(page.body, 'Ange ett datum från 1900-01-01 till 2199-12-31.');
  }
  for (const at of [
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
  ]) {
    const cursor = Buffer.from(JSON.stringify([at, '0b9e5c1e-6a43-4d2f-9c1a-2f1e8d1b7a10'])).toString(
      'base64url',
    );
    const page = await b.get(`/personal?cursor=${cursor}`);
    t.equal(page.status, 200, `cursor at ${at}: the list with a message`);
    t.match(page.body, 'Ogiltig cursor.');
  }
});
