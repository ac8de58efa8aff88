// HTML of the development IdP: plain Swedish pages, no JavaScript, no third-party requests.
import { CLAIM_PROFILES } from '../../config.ts';
import { LOA } from '../../identity/claims.ts';
import type { TestPeople, TestPerson } from '../people.ts';
import { escapeHtml, htmlDocument } from '../../http/auth/pages.ts';

/** `acr` values the tester can choose: the two Swedish levels of assurance and two broker-style methods. */
export const DEV_ACR_CHOICES: readonly { value: string; label: string }[] = [
  { value: LOA.loa3, label: 'LoA 3 – e-legitimation på BankID-nivå' },
  { value: LOA.loa2, label: 'LoA 2 – lägre tillitsnivå' },
  { value: 'urn:grn:authn:se:bankid:same-device', label: 'Mäklarstil: BankID på samma enhet' },
  { value: 'urn:grn:authn:se:bankid:another-device:qr', label: 'Mäklarstil: BankID med QR-kod' },
];

export const DEV_COUNTRIES = ['SE', 'NO', 'DK', 'FI', 'DE'] as const;

/** Content-Security-Policy for every page: nothing but our own inline style. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

const PROFILE_LABELS: Record<(typeof CLAIM_PROFILES)[number], string> = {
  'swedish-oidc': 'swedish-oidc – svensk OIDC-profil (id.oidc.se-anspråk)',
  ssn: 'ssn – mäklare med anspråket ssn',
  nin: 'nin – mäklare med nin och nin_issuing_country',
};

export { escapeHtml };

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f4f2;color:#1d1d1b;line-height:1.45}
main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 3rem;background:#fff;min-height:100vh}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
.warning{background:#fff3cd;border:2px solid #8a6d00;padding:.6rem .8rem;border-radius:4px}
.error{background:#fde8e8;border:2px solid #a4161a;padding:.6rem .8rem;border-radius:4px}
fieldset{border:1px solid #bbb;border-radius:4px;margin:1rem 0;padding:.5rem 1rem 1rem}
legend{font-weight:600;padding:0 .3rem}
h2{font-size:1.05rem;margin:1rem 0 .3rem}
label{display:block;margin:.35rem 0}
.person small{color:#555}
input[type=text],select{font:inherit;padding:.35rem;border:1px solid #767676;border-radius:3px;max-width:100%}
button{font:inherit;padding:.55rem 1.2rem;margin:.5rem .5rem 0 0;border-radius:4px;border:2px solid #1d1d1b;background:#1d1d1b;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d1d1b}
:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}
`;

export function page(title: string, body: string): string {
  return htmlDocument(
    title,
    'utvecklings-IdP',
    STYLE,
    `<p class="warning"><strong>Endast för utveckling och test.</strong> Det här är ingen riktig e-legitimation.
Alla personer och nummer på sidan är påhittade.</p>
${body}`,
  );
}

export interface LoginForm {
  person: string;
  number: string;
  name: string;
  profile: string;
  country: string;
  acr: string;
  delivery: string;
  omitNumber: boolean;
  unchecked: boolean;
  stale: boolean;
}

export const DEFAULT_FORM: LoginForm = {
  person: '',
  number: '',
  name: '',
  profile: 'swedish-oidc',
  country: 'SE',
  acr: LOA.loa3,
  delivery: 'id_token',
  omitNumber: false,
  unchecked: false,
  stale: false,
};

export interface LoginPageOptions {
  action: string;
  clientName: string;
  fresh: boolean;
  people: TestPeople;
  form: LoginForm;
  error?: string;
}

function option(value: string, label: string, selected: string): string {
  return `<option value="${escapeHtml(value)}"${value === selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
}

function checkbox(name: keyof LoginForm, label: string, checked: boolean): string {
  return `<label><input type="checkbox" name="${name}" value="1"${checked ? ' checked' : ''}> ${escapeHtml(label)}</label>`;
}

function personRadio(person: TestPerson, selected: string): string {
  const checked = person.key === selected ? ' checked' : '';
  return `<label class="person"><input type="radio" name="person" value="${escapeHtml(person.key)}"${checked}>
 ${escapeHtml(person.name)} <small>– ${escapeHtml(person.description)}, ${escapeHtml(person.personalNumber)}</small></label>`;
}

export function loginPage(o: LoginPageOptions): string {
  const { people, form } = o;
  const byKey = new Map(people.people.map((p) => [p.key, p]));
  const households = people.households
    .map((h) => {
      const members = [...h.guardians, ...h.children].map((k) => byKey.get(k)).filter((p) => p !== undefined);
      const heading = h.soleGuardian ? 'ensam vårdnadshavare' : 'två vårdnadshavare';
      const family = members[0]?.familyName ?? h.key;
      return `<h2>Familjen ${escapeHtml(family)} (${heading})</h2>\n${members.map((p) => personRadio(p, form.person)).join('\n')}`;
    })
    .join('\n');
  const staff = people.people.filter((p) => p.role === 'staff');
  const other = `<label class="person"><input type="radio" name="person" value=""${form.person === '' ? ' checked' : ''}>
 Annan person (skriv nedan)</label>
<label>Personnummer (12 siffror) <input type="text" name="number" inputmode="numeric" autocomplete="off" value="${escapeHtml(form.number)}"></label>
<label>Namn <input type="text" name="name" autocomplete="off" value="${escapeHtml(form.name)}"></label>`;

  return page(
    'Logga in',
    `<h1>Logga in med test-e-legitimation</h1>
<p><strong>${escapeHtml(o.clientName)}</strong> vill att du legitimerar dig.${
      o.fresh ? ' <strong>En ny legitimering krävs för den här åtgärden.</strong>' : ''
    }</p>
${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="${escapeHtml(o.action)}">
<fieldset>
<legend>Vem loggar in?</legend>
${households}
<h2>Personal</h2>
${staff.map((p) => personRadio(p, form.person)).join('\n')}
<h2>Annan</h2>
${other}
</fieldset>
<fieldset>
<legend>Vad identitetsleverantören skickar</legend>
<label>Anspråksprofil <select name="profile">${CLAIM_PROFILES.map((p) => option(p, PROFILE_LABELS[p], form.profile)).join('')}</select></label>
<label>Utfärdande land (bara för nin) <select name="country">${DEV_COUNTRIES.map((c) => option(c, c, form.country)).join('')}</select></label>
<label>Legitimeringsmetod (acr) <select name="acr">${DEV_ACR_CHOICES.map((a) => option(a.value, a.label, form.acr)).join('')}</select></label>
<label>Namn och nummer skickas i <select name="delivery">${option('id_token', 'ID-token (och userinfo)', form.delivery)}${option('userinfo', 'endast userinfo', form.delivery)}</select></label>
</fieldset>
<fieldset>
<legend>Felfall att prova</legend>
${checkbox('omitNumber', 'Skicka inget personnummer', form.omitNumber)}
${checkbox('unchecked', 'Skicka det inskrivna numret okontrollerat, även om det är ogiltigt', form.unchecked)}
${checkbox('stale', 'Låtsas att legitimeringen gjordes för 10 minuter sedan (auth_time)', form.stale)}
</fieldset>
<button type="submit" name="action" value="login">Logga in</button>
<button type="submit" name="action" value="abort" class="secondary">Avbryt</button>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>\n<p class="error" role="alert">${escapeHtml(message)}</p>`,
  );
}

/** RP-initiated logout confirmation; `form` is oidc-provider's hidden form (id `op.logoutForm`). */
export function logoutPage(form: string): string {
  return page(
    'Logga ut',
    `<h1>Vill du logga ut från test-e-legitimationen?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, logga ut</button>
<button type="submit" form="op.logoutForm" class="secondary">Nej, förbli inloggad</button>`,
  );
}

export function loggedOutPage(): string {
  return page('Utloggad', '<h1>Du är utloggad</h1>\n<p>Du är utloggad från test-e-legitimationen.</p>');
}
