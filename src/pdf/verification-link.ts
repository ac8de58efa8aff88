// The public verification page's address (issue 16 §7), as the receipt prints it and the page reads it: the
// document's id and the SHA-256 of the signed form, nothing else. Both are already on the receipt and in
// the PDF's metadata; neither says anything about a person or the consent's state.

/** The page: anyone may upload a signed PDF there (no login). */
export const VERIFY_PATH = '/verifiera';

/** The query parameters the receipt's link carries. */
export const VERIFY_PARAMS = { documentId: 'dokument', sha256: 'sha256' } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256 = /^[0-9a-f]{64}$/i;

/** What a link names: the document it was made for and the SHA-256 of its signed form (lowercase hex). */
export interface ExpectedDocument {
  documentId: string;
  sha256: string;
}

/** `<base>/verifiera?dokument=<id>&sha256=<hex>`; `base` is PUBLIC_BASE_URL (no trailing slash needed). */
export function verificationLink(publicBaseUrl: string, documentId: string, sha256: string): string {
  const query = new URLSearchParams({
    [VERIFY_PARAMS.documentId]: documentId.toLowerCase(),
    [VERIFY_PARAMS.sha256]: sha256.toLowerCase(),
  });
  return `${publicBaseUrl.replace(/\/+$/, '')}${VERIFY_PATH}?${query.toString()}`;
}

/** The expected document from a link's query values; undefined unless both are well-formed. */
export function expectedDocument(
  documentId: string | undefined,
  sha256: string | undefined,
): ExpectedDocument | undefined {
  if (!documentId || !sha256 || !UUID.test(documentId) || !SHA256.test(sha256)) return undefined;
  return { documentId: documentId.toLowerCase(), sha256: sha256.toLowerCase() };
}
