// The signers' flows in Chromium at 360×740, as guardians and youths use them on their phones: the
// invitation, the identification, the review, the signature with its own identification, the receipt; in
// two orders, with the development IdP and with a broker-like provider that keeps a single-sign-on
// session; declining; Mina samtycken → withdraw. Every step is checked by the harness (axe WCAG 2.1 A/AA,
// no sideways scroll at 100 % and 200 % text size, nothing outside the site).
import type { Browser, Page, Response } from 'playwright-core';
import type { Test } from 'tap';
import { consentContext, createConsentRequest, getConsent } from '../../src/consents/index.ts';
import type { SignerRole } from '../../src/domain/roles.ts';
import type { App } from '../../src/http/types.ts';
import {
  browserTest,
  launchBrowser,
  loginAtBroker,
  loginAtDevIdp,
  newPhone,
  pathOf,
  type Service,
  startService,
  startServiceWithBroker,
  step,
  trafficOf,
} from './harness.ts';
import { type Family, familyRequest } from '../fixtures/consents.ts';
import { person } from '../fixtures/people.ts';

type Provider = 'dev-idp' | 'broker';

interface Requested {
  consentId: string;
  links: Partial<Record<SignerRole, string>>;
}

async function request(service: Service, family: Family): Promise<Requested> {
  const org = service.org!;
  const created = await createConsentRequest(
    consentContext(service.app),
    org.staff,
    familyRequest(org, family),
  );
  const links: Partial<Record<SignerRole, string>> = {};
  for (const s of created.signers) if (s.invitation) links[s.role] = s.invitation.url;
  return { consentId: created.id, links };
}

/** The status of the last document the page navigated to. */
function documentStatus(page: Page): () => number | undefined {
  let status: number | undefined;
  page.on('response', (r: Response) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  });
  return () => status;
}

const statusOf = async (app: App, id: string) => (await getConsent(app, id)).status;

/** Logs in at whichever provider the service uses. */
async function identify(page: Page, provider: Provider, personKey: string, baseUrl: string) {
  if (provider === 'broker') await loginAtBroker(page, personKey, baseUrl);
  else await loginAtDevIdp(page, personKey, baseUrl);
}

interface SignOptions {
  provider: Provider;
  allowedOrigins?: string[];
  place: string;
  /** The sole guardian's confirmation. */
  sole?: boolean;
  expectComplete?: boolean;
}

/**
 * One signer on their own phone: invitation → identification → review (whole form opened) → sign with
 * its own identification → receipt. Answers the phone's page.
 */
async function signOnPhone(
  t: Test,
  browser: Browser,
  service: Service,
  link: string,
  personKey: string,
  o: SignOptions,
): Promise<Page> {
  const page = await newPhone(browser, service.baseUrl, { allowedOrigins: o.allowedOrigins ?? [] });
  const status = documentStatus(page);
  const who = person(personKey).givenName;
  await step(t, page, `${who}: invitation`, async () => {
    const res = await page.goto(link);
    t.equal(res?.status(), 200);
    await page.getByRole('heading', { name: 'En förfrågan om samtycke väntar på dig' }).waitFor();
  });
  await page.getByRole('link', { name: 'Legitimera dig' }).click();
  await identify(page, o.provider, personKey, service.baseUrl);
  await step(t, page, `${who}: review`, async () => {
    t.match(pathOf(page), /^\/mina-samtycken\/[0-9a-f-]{36}\/granska$/);
    t.equal(status(), 200);
    await page.getByRole('heading', { name: 'Läs och skriv under', level: 1 }).waitFor();
    t.ok(await page.getByText('Vilka ska skriva under').isVisible());
    // Regression: the review page was about seven screens at 360 px, with the consent text twice.
    const screens = await page.evaluate(() => {
      // Runs in the page (the test's tsconfig has no DOM library).
      const g = globalThis as unknown as {
        document: { documentElement: { scrollHeight: number } };
        innerHeight: number;
      };
      return g.document.documentElement.scrollHeight / g.innerHeight;
    });
    t.ok(screens <= 5, `the review page is ${screens.toFixed(1)} screens at 360×740, the form folded`);
    t.equal(
      await page
        .getByText(/trots sekretess/)
        .filter({ visible: true })
        .count(),
      1,
      'the statement shown once (the whole form is folded)',
    );
  });
  await step(t, page, `${who}: the whole form opened`, async () => {
    await page.getByText('Visa hela blanketten').click();
    await page.getByRole('heading', { name: 'Samtycke' }).first().waitFor();
  });
  await step(t, page, `${who}: sign form filled`, async () => {
    await page.getByLabel('Ort').fill(o.place);
    if (o.sole) await page.getByLabel('Jag intygar att jag är ensam vårdnadshavare för barnet.').check();
  });
  const before = trafficOf(page).requests.length;
  await page.getByRole('button', { name: 'Signera med e-legitimation' }).click();
  await identify(page, o.provider, personKey, service.baseUrl);
  await step(t, page, `${who}: receipt`, async () => {
    t.match(pathOf(page), /\/underskrivet$/);
    t.equal(status(), 200);
    await page.getByRole('heading', { name: 'Du har skrivit under' }).waitFor();
    if (o.expectComplete) await page.getByText(/Samtycket gäller från/).waitFor();
    const sent = trafficOf(page).requests.slice(before);
    t.notOk(
      sent.some((u) => u.includes(encodeURIComponent(o.place)) || u.includes(o.place)),
      'the place typed is in no URL',
    );
    const authorization = sent.find((u) => /[?&]prompt=login/.test(u));
    t.ok(authorization, 'the signature started its own authorization request');
    if (authorization) t.equal(new URL(authorization).searchParams.get('max_age'), '0');
  });
  return page;
}

browserTest(
  'three signers in Chromium with the development IdP: youth, guardian 1, guardian 2',
  async (t) => {
    const service = await startService(t, { seed: true });
    const browser = await launchBrowser(t);
    const { consentId, links } = await request(service, 'lindqvist');
    const order: [SignerRole, string, string][] = [
      ['youth', 'saga-lindqvist', 'Norrby'],
      ['guardian1', 'anna-lindqvist', 'Norrby'],
      ['guardian2', 'erik-lindqvist', 'Umeå'],
    ];
    for (const [i, [role, key, place]] of order.entries()) {
      await signOnPhone(t, browser, service, links[role]!, key, {
        provider: 'dev-idp',
        place,
        expectComplete: i === order.length - 1,
      });
      t.equal(await statusOf(service.app, consentId), i === order.length - 1 ? 'active' : 'pending');
    }
  },
);

browserTest(
  'three signers with a broker that keeps a single-sign-on session, in another order; every act asked prompt=login and max_age=0',
  async (t) => {
    const service = await startServiceWithBroker(t, { seed: true, broker: { userMessageSupport: true } });
    const browser = await launchBrowser(t);
    const allowedOrigins = [service.broker.origin];
    const { consentId, links } = await request(service, 'lindqvist');
    const order: [SignerRole, string, string][] = [
      ['guardian2', 'erik-lindqvist', 'Umeå'],
      ['youth', 'saga-lindqvist', 'Norrby'],
      ['guardian1', 'anna-lindqvist', 'Norrby'],
    ];
    for (const [i, [role, key, place]] of order.entries()) {
      await signOnPhone(t, browser, service, links[role]!, key, {
        provider: 'broker',
        allowedOrigins,
        place,
        expectComplete: i === order.length - 1,
      });
    }
    t.equal(await statusOf(service.app, consentId), 'active');

    // Erik withdraws later, from Mina samtycken: the login made to open it does not withdraw.
    const phone = await newPhone(browser, service.baseUrl, { allowedOrigins });
    await phone.goto('/mina-samtycken');
    await loginAtBroker(phone, 'erik-lindqvist', service.baseUrl);
    await step(t, phone, 'Erik: withdraw, confirmation', async () => {
      await phone.getByRole('link', { name: 'Återkalla' }).click();
      await phone.getByRole('heading', { name: 'Återkalla samtycket' }).waitFor();
    });
    await phone.getByRole('button', { name: 'Återkalla med e-legitimation' }).click();
    await loginAtBroker(phone, 'erik-lindqvist', service.baseUrl);
    await step(t, phone, 'Erik: withdrawn', async () => {
      await phone.getByRole('heading', { name: 'Samtycket är återkallat' }).waitFor();
    });
    t.equal(await statusOf(service.app, consentId), 'withdrawn');

    const acts = service.broker.log.filter((r) => r.prompt === 'login');
    t.equal(acts.length, 4, 'one identification per signature and one for the withdrawal');
    for (const act of acts) {
      t.equal(act.maxAge, '0');
      t.notOk(act.answeredFromSso, 'never answered from the session');
      t.match(act.userMessage?.messages, { sv: /(skriver under|återkallar) ett samtycke/ }, 'the act named');
    }
  },
);

browserTest('declining on the phone; the others’ links then say what happened', async (t) => {
  const service = await startService(t, { seed: true });
  const browser = await launchBrowser(t);
  const { consentId, links } = await request(service, 'lindqvist');
  const page = await newPhone(browser, service.baseUrl);
  await page.goto(links.youth!);
  await page.getByRole('link', { name: 'Legitimera dig' }).click();
  await loginAtDevIdp(page, 'saga-lindqvist', service.baseUrl);
  await step(t, page, 'decline page', async () => {
    await page.getByRole('link', { name: 'Avböj' }).click();
    await page.getByRole('heading', { name: 'Avböj förfrågan' }).waitFor();
    await page.getByLabel('Vill du berätta varför? (frivilligt)').fill('Jag vill prata med mamma först.');
  });
  await step(t, page, 'declined', async () => {
    await page.getByRole('button', { name: 'Avböj' }).click();
    await page.getByRole('heading', { name: 'Du har avböjt' }).waitFor();
  });
  t.equal(await statusOf(service.app, consentId), 'declined');

  const other = await newPhone(browser, service.baseUrl);
  await step(t, other, 'guardian 1’s link after the decline', async () => {
    const res = await other.goto(links.guardian1!);
    t.equal(res?.status(), 410);
    // Said truthfully, and without the case's details to whoever holds the link (it may be forwarded).
    await other.getByText('Förfrågan är avslutad och kan inte längre besvaras.').waitFor();
    t.equal(await other.getByText('ersatts av en nyare').count(), 0, 'not "replaced by a newer link"');
    t.equal(await other.getByText('avböj').count(), 0, 'nothing of what happened before identification');
  });
  await other.getByRole('link', { name: 'Mina samtycken' }).click();
  await loginAtDevIdp(other, 'anna-lindqvist', service.baseUrl);
  await step(t, other, 'guardian 1 sees what happened, after identifying', async () => {
    await other.getByRole('heading', { name: 'Mina samtycken' }).waitFor();
    await other.getByText('avböjt', { exact: true }).waitFor();
  });
});

browserTest(
  'Mina samtycken: sign a pending request without the link, then withdraw with its own identification',
  async (t) => {
    const service = await startService(t, { seed: true });
    const browser = await launchBrowser(t);
    const { consentId } = await request(service, 'lindqvist-sole');
    const page = await newPhone(browser, service.baseUrl);
    const status = documentStatus(page);
    await page.goto('/mina-samtycken');
    await loginAtDevIdp(page, 'anna-lindqvist', service.baseUrl);
    await step(t, page, 'Mina samtycken with a pending request', async () => {
      await page.getByRole('heading', { name: 'Mina samtycken' }).waitFor();
      await page.getByText('Väntar på ditt svar.').waitFor();
    });
    await step(t, page, 'review from Mina samtycken', async () => {
      await page.getByRole('link', { name: 'Läs och svara' }).click();
      await page.getByRole('heading', { name: 'Läs och skriv under', level: 1 }).waitFor();
    });
    await step(t, page, 'every problem at once', async () => {
      await page.getByRole('button', { name: 'Signera med e-legitimation' }).click();
      await page.getByRole('heading', { name: 'Något behöver rättas' }).waitFor();
      t.equal(status(), 400);
      await page.getByRole('link', { name: 'Ange ort.' }).waitFor();
      await page.getByRole('link', { name: 'Bekräfta att du är ensam vårdnadshavare.' }).waitFor();
    });
    await page.getByLabel('Ort').fill('Norrby');
    await page.getByLabel('Jag intygar att jag är ensam vårdnadshavare för barnet.').check();
    await page.getByRole('button', { name: 'Signera med e-legitimation' }).click();
    await loginAtDevIdp(page, 'anna-lindqvist', service.baseUrl);
    await step(t, page, 'signed, in force', async () => {
      await page.getByRole('heading', { name: 'Du har skrivit under' }).waitFor();
      await page.getByText(/Samtycket gäller från/).waitFor();
    });
    t.equal(await statusOf(service.app, consentId), 'active');

    await step(t, page, 'withdraw: confirmation', async () => {
      await page.getByRole('link', { name: 'Mina samtycken' }).first().click();
      await page.getByRole('link', { name: 'Återkalla' }).click();
      await page.getByRole('heading', { name: 'Återkalla samtycket' }).waitFor();
    });
    await page.getByRole('button', { name: 'Återkalla med e-legitimation' }).click();
    await loginAtDevIdp(page, 'anna-lindqvist', service.baseUrl);
    await step(t, page, 'withdrawn', async () => {
      await page.getByRole('heading', { name: 'Samtycket är återkallat' }).waitFor();
      t.equal(status(), 200);
    });
    t.equal(await statusOf(service.app, consentId), 'withdrawn');
    const acts = trafficOf(page).requests.filter(
      (u) => u.includes('/dev-idp/auth?') && /[?&]prompt=login/.test(u),
    );
    t.equal(acts.length, 2, 'the signature and the withdrawal each asked for their own identification');
    for (const u of acts) t.equal(new URL(u).searchParams.get('max_age'), '0');

    await step(
      t,
      page,
      'logged out',
      async () => {
        await page.getByRole('button', { name: 'Logga ut' }).click();
        await page.waitForURL((u) => u.pathname.startsWith('/dev-idp') || u.pathname === '/auth/logged-out');
      },
      { check: false },
    );
  },
);

browserTest('an unknown page answers a browser with a Swedish page', async (t) => {
  const service = await startService(t, { seed: true });
  const browser = await launchBrowser(t);
  const page = await newPhone(browser, service.baseUrl);
  await step(t, page, 'not found', async () => {
    const res = await page.goto('/finns-inte');
    t.equal(res?.status(), 404);
    await page.getByRole('heading', { name: 'Sidan finns inte' }).waitFor();
  });
  const api = await fetch(`${service.baseUrl}/api/v1/finns-inte`, {
    headers: { accept: 'application/json' },
  });
  t.equal(api.status, 404);
  t.match(api.headers.get('content-type'), /application\/problem\+json/);
});

browserTest(
  'regression: a broker that answers the act from its single-sign-on session (old auth_time) is refused with a clear page',
  async (t) => {
    const service = await startServiceWithBroker(t, { seed: true, broker: { ignoresForcedLogin: true } });
    const browser = await launchBrowser(t);
    const { consentId, links } = await request(service, 'lindqvist');
    const page = await newPhone(browser, service.baseUrl, { allowedOrigins: [service.broker.origin] });
    const status = documentStatus(page);
    await page.goto(links.guardian1!);
    await page.getByRole('link', { name: 'Legitimera dig' }).click();
    await loginAtBroker(page, 'anna-lindqvist', service.baseUrl);
    await page.getByRole('heading', { name: 'Läs och skriv under', level: 1 }).waitFor();
    // auth_time has whole seconds: let the login made to open the link be clearly before the act.
    await page.waitForTimeout(2100);
    await page.getByLabel('Ort').fill('Norrby');
    await step(t, page, 'refused: the identification was not made for the signature', async () => {
      await page.getByRole('button', { name: 'Signera med e-legitimation' }).click();
      await page.getByText('svarade med en tidigare inloggning').waitFor();
      t.equal(status(), 401);
      t.equal(pathOf(page).split('?')[0], '/auth/callback');
      await page.getByRole('link', { name: 'Tillbaka' }).waitFor();
    });
    t.equal((await getConsent(service.app, consentId)).signers[0]!.state, 'pending', 'nothing was signed');
    const act = service.broker.log.at(-1)!;
    t.equal(act.prompt, 'login');
    t.equal(act.maxAge, '0');
    t.ok(act.answeredFromSso, 'the broker answered from its session');
    await step(t, page, 'back to the form', async () => {
      await page.getByRole('link', { name: 'Tillbaka' }).click();
      await page.getByRole('heading', { name: 'Läs och skriv under', level: 1 }).waitFor();
    });
  },
);
