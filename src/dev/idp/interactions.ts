// The dev IdP's own interaction (login) step: the login page, its form, and the choices that become an
// account. oidc-provider leaves this to the application ("User flows" in its docs).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import type { Clock } from '../../clock.ts';
import { CLAIM_PROFILES, type ClaimProfile } from '../../config.ts';
import { localDateOf } from '../../domain/dates.ts';
import { PersonalNumber, PROBLEM_MESSAGES } from '../../domain/personal-number.ts';
import type { ClaimDelivery, DevAccount, DevAccounts } from './accounts.ts';
import {
  DEFAULT_FORM,
  DEV_ACR_CHOICES,
  DEV_COUNTRIES,
  errorPage,
  type LoginForm,
  loginPage,
  PAGE_CSP,
} from './pages.ts';
import type { TestPeople } from '../people.ts';

/** How far back "authenticated 10 minutes ago" puts auth_time. */
const STALE_AUTH_SECONDS = 600;
const MAX_FORM_BYTES = 16 * 1024;

export interface InteractionContext {
  provider: Provider;
  mountPath: string;
  people: TestPeople;
  accounts: DevAccounts;
  clientNames: Map<string, string>;
  clock: Clock;
}

class FormError extends Error {}

/** Handles GET /interaction/:uid (the login page) and POST /interaction/:uid/login. */
export function interactionHandler(c: InteractionContext) {
  return async (req: IncomingMessage, res: ServerResponse, uid: string, isLogin: boolean): Promise<void> => {
    const expected = isLogin ? 'POST' : 'GET';
    if (req.method !== expected) {
      res.setHeader('allow', expected);
      send(res, 405, errorPage('Fel metod', 'Metoden stöds inte här.'));
      return;
    }
    const details = await c.provider.interactionDetails(req, res);
    if (details.uid !== uid)
      throw new FormError('Inloggningen hör till en annan begäran. Börja om från tjänsten.');
    const params = details.params;
    const clientName = c.clientNames.get(String(params.client_id)) ?? String(params.client_id);
    const fresh =
      String(params.prompt ?? '')
        .split(' ')
        .includes('login') || String(params.max_age) === '0';
    const action = `${c.mountPath}/interaction/${uid}/login`;

    // Consent never comes up (loadExistingGrant grants it); login is the only step we handle.
    if (details.prompt.name !== 'login') throw new FormError('Okänt steg i inloggningen.');

    if (!isLogin) {
      const form = { ...DEFAULT_FORM, person: c.people.people[0]?.key ?? '' };
      send(res, 200, loginPage({ action, clientName, fresh, people: c.people, form }));
      return;
    }

    const form = parseForm(await readBody(req));
    if (form.action === 'abort') {
      await c.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'Inloggningen avbröts.' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    let account: DevAccount;
    try {
      account = accountFrom(form, c);
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      send(res, 400, loginPage({ action, clientName, fresh, people: c.people, form, error: error.message }));
      return;
    }
    const accountId = c.accounts.add(account);
    const now = Math.floor(Date.now() / 1000);
    await c.provider.interactionFinished(
      req,
      res,
      {
        login: { accountId, acr: form.acr, ts: form.stale ? now - STALE_AUTH_SECONDS : now, remember: true },
      },
      { mergeWithLastSubmission: false },
    );
  };
}

function accountFrom(form: LoginForm, c: InteractionContext): DevAccount {
  const choices = {
    profile: form.profile as ClaimProfile,
    country: form.country,
    delivery: form.delivery as ClaimDelivery,
    omitNumber: form.omitNumber,
  };
  if (form.person !== '') {
    const person = c.people.people.find((p) => p.key === form.person);
    if (!person) throw new FormError('Välj en testperson i listan.');
    const account: DevAccount = {
      ...choices,
      number: person.personalNumber,
      givenName: person.givenName,
      familyName: person.familyName,
      name: person.name,
    };
    if (person.email) account.email = person.email;
    return account;
  }
  const typed = form.number.trim();
  let number = typed;
  if (typed === '' && !form.omitNumber)
    throw new FormError('Välj en testperson eller skriv ett personnummer.');
  if (typed !== '' && !form.unchecked) {
    const parsed = PersonalNumber.parse(typed, { referenceDate: localDateOf(c.clock.now()) });
    if (!parsed.ok) throw new FormError(PROBLEM_MESSAGES[parsed.reason]);
    number = parsed.value.digits;
  }
  const name = form.name.trim() || 'Testperson Testsson';
  const space = name.lastIndexOf(' ');
  return {
    ...choices,
    number,
    name,
    ...(space > 0 ? { givenName: name.slice(0, space), familyName: name.slice(space + 1) } : {}),
  };
}

function parseForm(body: string): LoginForm & { action: string } {
  const p = new URLSearchParams(body);
  const get = (k: string) => (p.get(k) ?? '').slice(0, 200);
  const oneOf = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
    (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
  return {
    action: get('action') === 'abort' ? 'abort' : 'login',
    person: get('person'),
    number: get('number'),
    name: get('name'),
    profile: oneOf(get('profile'), CLAIM_PROFILES, 'swedish-oidc'),
    country: oneOf(get('country'), DEV_COUNTRIES, 'SE'),
    acr: oneOf(
      get('acr'),
      DEV_ACR_CHOICES.map((a) => a.value),
      DEFAULT_FORM.acr,
    ),
    delivery: oneOf(get('delivery'), ['id_token', 'userinfo'] as const, 'id_token'),
    omitNumber: p.get('omitNumber') === '1',
    unchecked: p.get('unchecked') === '1',
    stale: p.get('stale') === '1',
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new FormError('Formuläret är för stort.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('cache-control', 'no-store');
  res.end(body);
}

export function interactionError(res: ServerResponse, error: unknown): void {
  if (error instanceof FormError) {
    send(res, 400, errorPage('Inloggningen gick inte', error.message));
    return;
  }
  // oidc-provider's SessionNotFound: the interaction cookie is missing or the interaction expired.
  if (error instanceof Error && error.name === 'SessionNotFound') {
    send(
      res,
      400,
      errorPage('Inloggningen har gått ut', 'Inloggningen har gått ut. Börja om från tjänsten.'),
    );
    return;
  }
  send(res, 500, errorPage('Något gick fel', 'Något gick fel i utvecklings-IdP:n.'));
}
