// The public verification page (issue 16 §7): anyone, without logging in, uploads a signed PDF and reads in
// plain Swedish what its signatures say and whether this exact file is one the service issued.
//
//   GET  /verifiera[?dokument=<id>&sha256=<hex>]   the form; with a receipt's link, the document it expects
//   POST /verifiera[?dokument=…&sha256=…]          multipart/form-data with one PDF: the answer page
//
// The upload is read into memory, verified and dropped: never stored, never logged (the request's log line
// has method, path without query values, status and time; nothing of the file or the names in it). Uploads
// are limited per address (RATE_LIMIT_VERIFY_PER_ADDRESS); 429, 413 and every refusal are Swedish pages.
// No CSRF token: the post changes nothing and needs no session (the page is for anyone).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { verifyUploadedDocument } from '../../consents/verify-document.ts';
import { ERROR_CODES } from '../../errors.ts';
import { expectedDocument, VERIFY_PARAMS, VERIFY_PATH } from '../../pdf/verification-link.ts';
import { toAppError } from '../errors.ts';
import type { App } from '../types.ts';
import { resultView } from './presenter.ts';

/** The largest upload (a signed form is well under 1 MB; a scan someone saved as PDF may be more). */
export const MAX_UPLOAD_BYTES = 15 * 1024 * 1024;

const TITLE = 'Kontrollera ett underskrivet dokument';
const page = { schema: { hide: true }, config: { auth: false as const } };

/** The link's expected document, when both of its query values are well-formed. */
function expectedOf(request: FastifyRequest) {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const value = (name: string) => {
    const v = query[name];
    return typeof v === 'string' ? v.trim() : undefined;
  };
  return expectedDocument(value(VERIFY_PARAMS.documentId), value(VERIFY_PARAMS.sha256));
}

/** Where the form posts: the page's own address with the link's values, so the answer can compare. */
function formAction(expected: ReturnType<typeof expectedOf>): string {
  if (!expected) return VERIFY_PATH;
  const query = new URLSearchParams({
    [VERIFY_PARAMS.documentId]: expected.documentId,
    [VERIFY_PARAMS.sha256]: expected.sha256,
  });
  return `${VERIFY_PATH}?${query.toString()}`;
}

/** The form again, with a Swedish explanation of what was wrong with the upload. */
function refuse(reply: FastifyReply, request: FastifyRequest, status: number, problem: string) {
  request.log.info({ status, verification: 'refused' }, 'verification upload refused');
  const expected = expectedOf(request);
  return reply.page(
    'verify/verify',
    { title: TITLE, expected, action: formAction(expected), problem, maxMb: MAX_UPLOAD_BYTES / 1024 / 1024 },
    status,
  );
}

type Upload = { bytes: Buffer } | { problem: string; status: number };

/** The one uploaded file, in memory; a second file, or one over the cap, is refused. */
async function readUpload(request: FastifyRequest): Promise<Upload> {
  if (!request.isMultipart()) return { status: 400, problem: 'Välj en PDF-fil och tryck på Kontrollera.' };
  let bytes: Buffer | undefined;
  try {
    const parts = request.parts({
      limits: { files: 1, fileSize: MAX_UPLOAD_BYTES, fields: 10, fieldSize: 1024, parts: 11 },
    });
    for await (const part of parts) {
      // Every part is read to its end (else the stream stalls); only the first file is kept.
      if (part.type === 'file') bytes = await part.toBuffer();
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      return {
        status: 413,
        problem: `Filen är för stor. Den får vara högst ${MAX_UPLOAD_BYTES / 1024 / 1024} MB. En underskriven blankett från tjänsten är mycket mindre än så.`,
      };
    if (code === 'FST_FILES_LIMIT') return { status: 400, problem: 'Ladda upp en fil i taget.' };
    return { status: 400, problem: 'Filen kom inte fram hela. Försök igen.' };
  }
  if (!bytes || bytes.length === 0)
    return { status: 400, problem: 'Du har inte valt någon fil. Välj PDF-filen och tryck på Kontrollera.' };
  return { bytes };
}

async function verifyPages(app: App) {
  // multipart/form-data for these routes only: every other route still refuses it (415).
  await app.register(import('@fastify/multipart'), {
    limits: { files: 1, fileSize: MAX_UPLOAD_BYTES },
  });

  // 429 (the rate limit) and anything unforeseen: a Swedish page, never JSON and never details.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = toAppError(error);
    if (e.status >= 500) request.log.error({ err: error, errorCode: e.code }, 'request failed');
    else request.log.info({ errorCode: e.code, status: e.status }, 'request rejected');
    return reply.page(
      'verify/error',
      { title: ERROR_CODES[e.code].title, message: e.expose ? e.message : ERROR_CODES[e.code].title },
      e.status,
    );
  });

  app.get(VERIFY_PATH, page, async (request, reply) => {
    const expected = expectedOf(request);
    return reply.page('verify/verify', {
      title: TITLE,
      expected,
      action: formAction(expected),
      maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
    });
  });

  app.post(
    VERIFY_PATH,
    // Counted before the body is read. (A multipart body streams under the cap above, not under bodyLimit.)
    { ...page, onRequest: app.limits.verifyPerAddress.hook },
    async (request, reply) => {
      const expected = expectedOf(request);
      const upload = await readUpload(request);
      if ('problem' in upload) return refuse(reply, request, upload.status, upload.problem);
      const result = await verifyUploadedDocument(
        {
          db: app.db,
          clock: app.clock,
          config: app.config,
          trust: app.signing.trust,
          tsaTrust: app.signing.tsaTrust,
        },
        new Uint8Array(upload.bytes.buffer, upload.bytes.byteOffset, upload.bytes.byteLength),
        expected,
      );
      if (!result.readable)
        return refuse(
          reply,
          request,
          415,
          'Filen är ingen PDF som går att läsa. Välj den underskrivna blanketten (en PDF-fil) och försök igen.',
        );
      // What was found, without anything of the file: no names, no hash.
      request.log.info(
        { verdict: result.verdict, signatures: result.signatures.length, issued: result.issued },
        'document verified',
      );
      return reply.page('verify/result', {
        title: 'Resultat av kontrollen',
        ...resultView(result, expected),
        expected,
        action: formAction(expected),
        maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
      });
    },
  );
}

export default fp(verifyPages, {
  name: 'verify-pages',
  encapsulate: true,
  dependencies: ['views', 'signing', 'rate-limit'],
});
