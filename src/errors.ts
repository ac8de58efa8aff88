// One application error class and one table from machine code to HTTP status and a Swedish title.
// Routes throw AppError; the one error handler (src/http/errors.ts) turns it into RFC 9457 problem+json.
// Messages (`detail`) must never contain personal data: they are shown to callers and logged.

export const ERROR_CODES = {
  // Generic HTTP
  bad_request: { status: 400, title: 'Felaktig begäran' },
  validation_failed: { status: 400, title: 'Uppgifterna är inte giltiga' },
  unauthorized: { status: 401, title: 'Du behöver logga in' },
  forbidden: { status: 403, title: 'Åtkomst nekad' },
  insufficient_scope: { status: 403, title: 'Behörighet saknas för detta' },
  csrf_failed: { status: 403, title: 'Formuläret har gått ut, försök igen' },
  not_found: { status: 404, title: 'Finns inte' },
  method_not_allowed: { status: 405, title: 'Metoden stöds inte' },
  request_timeout: { status: 408, title: 'Begäran tog för lång tid' },
  conflict: { status: 409, title: 'Konflikt' },
  idempotency_conflict: { status: 409, title: 'Idempotency-Key används redan för en annan begäran' },
  payload_too_large: { status: 413, title: 'För stor begäran' },
  uri_too_long: { status: 414, title: 'Adressen är för lång' },
  unsupported_media_type: { status: 415, title: 'Formatet stöds inte' },
  too_many_requests: { status: 429, title: 'För många försök' },
  headers_too_large: { status: 431, title: 'Begärans huvuden är för stora' },
  internal_error: { status: 500, title: 'Något gick fel hos oss' },
  service_unavailable: { status: 503, title: 'Tjänsten är inte tillgänglig just nu' },

  // Consent lifecycle
  consent_state_conflict: { status: 409, title: 'Samtycket är inte i ett läge där detta går' },
  invalid_personal_number: { status: 400, title: 'Ogiltigt personnummer' },
  invitation_not_found: { status: 404, title: 'Länken finns inte' },
  invitation_used: { status: 410, title: 'Länken är redan använd' },
  invitation_expired: { status: 410, title: 'Länken gäller inte längre' },

  // PDF signing
  role_already_signed: { status: 409, title: 'Rollen har redan signerat' },
  role_not_in_document: { status: 409, title: 'Dokumentet har ingen sådan underskriftsroll' },
  document_signatures_invalid: { status: 409, title: 'Dokumentets underskrifter går inte att verifiera' },
  document_mismatch: { status: 409, title: 'Dokumentet är inte tjänstens senaste version' },
  document_changed: { status: 409, title: 'Blanketten har ändrats sedan du läste den' },
  template_not_found: { status: 500, title: 'Blankettmallen saknas' },
  signing_failed: { status: 500, title: 'Underskriften kunde inte skapas' },
  timestamp_failed: { status: 502, title: 'Tidsstämpeln kunde inte hämtas' },

  // Identity
  login_failed: { status: 400, title: 'Inloggningen misslyckades' },
  login_state_invalid: { status: 400, title: 'Inloggningen har gått ut eller är ogiltig' },
  identity_invalid: { status: 400, title: 'Legitimeringen saknar giltigt svenskt personnummer' },
  acr_not_accepted: { status: 403, title: 'Legitimeringsmetoden räcker inte för detta' },
  fresh_auth_required: { status: 401, title: 'Legitimera dig på nytt för att fortsätta' },
  session_expired: { status: 401, title: 'Sessionen har gått ut' },
  wrong_person: { status: 403, title: 'Förfrågan gäller någon annan' },
  staff_unknown: { status: 403, title: 'Du har inget konto i tjänsten' },
  staff_disabled: { status: 403, title: 'Ditt konto är avstängt' },
  invalid_client: { status: 401, title: 'Okänd eller ogiltig klient' },
  invalid_grant: { status: 400, title: 'Ogiltigt beviljande' },
  invalid_scope: { status: 400, title: 'Ogiltig behörighet' },
  unsupported_grant_type: { status: 400, title: 'Beviljandetypen stöds inte' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether `message` may be shown to the caller. 5xx details are logged, never shown. */
  readonly expose: boolean;
  /** Extra machine-readable fields for the problem answer (e.g. the list of invalid fields). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    const entry = ERROR_CODES[code];
    super(message ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = entry.status;
    this.expose = entry.status < 500;
    this.extra = options.extra;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
