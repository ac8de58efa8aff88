// The completion receipt (kvittens): a separate one-page PDF/A-2b made after the last signature. It lists
// who signed, when (Swedish time), how they identified themselves and at what level, and the SHA-256 of
// the signed form. It never changes the signed form and carries no personal identity numbers.
// From receipt template v2 on it also carries a QR code and the link of the public verification page
// (issue 16 §7) with the document's id and the form's SHA-256 only (verification-link.ts).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SIGNER_ROLES, type SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { type FieldCell, fieldRows, headingBlock, paragraphBlocks, section } from './blocks.ts';
import { type Block, PdfCanvas, type TextStyle } from './canvas.ts';
import { formatStockholmDateTime } from './datetime.ts';
import { fontMetrics, normalizeText } from './fonts.ts';
import { fillPlaceholders, LINE_HEIGHT } from './layout.ts';
import { applyPdfA2b } from './pdfa.ts';
import { drawQr, type QrMatrix, qrMatrix } from './qr.ts';
import { loadTemplate, type ReceiptTemplate } from './template.ts';
import { verificationLink } from './verification-link.ts';

export interface ReceiptSignature {
  role: SignerRole;
  name: string;
  signedAt: Date;
  /** How the signer identified, e.g. 'BankID via OpenID Connect'. */
  method: string;
  /** The identity provider (OpenID Connect issuer). */
  issuer: string;
  /** Authentication context class (level of assurance), when the provider gave one. */
  acr?: string;
}

export interface ReceiptData {
  documentId: string;
  /** The version of the consent form's template (not of the receipt's). */
  templateVersion: string;
  /** SHA-256 (hex) of the signed form, as delivered. */
  documentSha256: string;
  completedAt: Date;
  signatures: ReceiptSignature[];
  /** Receipt template version; default the latest. */
  receiptTemplateVersion?: string;
}

const text = z.string().trim().min(1).max(500);
const schema = z.object({
  documentId: z.uuid(),
  templateVersion: z.string().regex(/^v\d+$/),
  documentSha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
  completedAt: z.date(),
  signatures: z
    .array(
      z.object({
        role: z.enum(SIGNER_ROLES),
        name: text,
        signedAt: z.date(),
        method: text,
        issuer: text,
        acr: text.optional(),
      }),
    )
    .min(1),
  receiptTemplateVersion: z.string().optional(),
});

export interface ReceiptOptions {
  /**
   * PUBLIC_BASE_URL: the receipt then carries the verification page's QR code and link (templates that
   * have `verification`, v2 on). Without it, none (tools that render a receipt outside the service).
   */
  publicBaseUrl?: string | undefined;
}

export async function renderReceipt(data: ReceiptData, options: ReceiptOptions = {}): Promise<Uint8Array> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'receipt data is not valid', {
      extra: { fields: parsed.error.issues.map((i) => i.path.join('.')) },
    });
  }
  const input = parsed.data;
  const t = loadTemplate('receipt', input.receiptTemplateVersion);
  const signatures = input.signatures.map((s) => ({
    ...s,
    name: normalizeText(s.name),
    method: normalizeText(s.method),
    issuer: normalizeText(s.issuer),
    acr: s.acr === undefined ? undefined : normalizeText(s.acr),
  }));
  const printable = fontMetrics('regular');
  const bad = signatures.flatMap((s, i) =>
    (['name', 'method', 'issuer', 'acr'] as const)
      .filter((k) => printable.missing(s[k] ?? '').length > 0)
      .map((k) => `signatures.${i}.${k}`),
  );
  if (bad.length > 0) {
    throw new AppError('validation_failed', 'text has characters the receipt font cannot print', {
      extra: { fields: bad },
    });
  }

  const canvas = await PdfCanvas.create(t.layout);
  const sha = input.documentSha256.toLowerCase();
  const blocks: Block[] = [
    headingBlock(canvas, t.heading, undefined, t.intro),
    PdfCanvas.gap(t.layout.sectionGap),
    ...fieldRows(canvas, [
      [
        { label: t.labels.documentId, width: 0.5, value: input.documentId },
        { label: t.labels.templateVersion, width: 0.18, value: input.templateVersion },
        { label: t.labels.completedAt, width: 0.32, value: formatStockholmDateTime(input.completedAt) },
      ],
      [{ label: t.labels.documentSha256, width: 1, value: sha }],
    ]),
    ...paragraphBlocks(canvas, [t.labels.sha256Help], {
      colour: canvas.colours.muted,
      size: t.layout.fontSize.label + 1,
    }),
    PdfCanvas.gap(t.layout.sectionGap),
    ...section(canvas, t.labels.signaturesTitle, signatureRows(canvas, t, signatures)),
    ...(t.verification && options.publicBaseUrl
      ? await verificationBlocks(
          canvas,
          t.verification,
          verificationLink(options.publicBaseUrl, input.documentId, sha),
        )
      : []),
    ...paragraphBlocks(canvas, [t.note], { colour: canvas.colours.muted }),
  ];
  canvas.flow(blocks);
  canvas.footers(`${t.footer.documentId}: ${input.documentId}`, (page, pages) =>
    [
      `${t.footer.version}: ${t.version}`,
      fillPlaceholders(t.footer.page, { page: String(page), pages: String(pages) }),
    ].join('     '),
  );
  applyPdfA2b(canvas.doc, {
    documentId: input.documentId,
    title: `${t.documentTitle} ${input.documentId}`,
    // A file of its own: its /ID must differ from the form's, yet follow from what it describes.
    fileId: createHash('sha256').update(`receipt\0${input.documentId}\0${sha}`).digest().subarray(0, 16),
    properties: {
      documentId: input.documentId,
      template: 'receipt',
      templateVersion: t.version,
      formTemplateVersion: input.templateVersion,
      signedDocumentSha256: sha,
    },
  });
  return canvas.doc.save({
    useObjectStreams: false,
    updateFieldAppearances: false,
    objectsPerTick: Number.POSITIVE_INFINITY,
  });
}

/** One group of boxed rows per signature, in signing order; each group stays on one page. */
function signatureRows(
  canvas: PdfCanvas,
  t: ReceiptTemplate,
  signatures: Array<Omit<ReceiptSignature, 'acr'> & { acr: string | undefined }>,
): Block[] {
  const ordered = [...signatures].sort((a, b) => a.signedAt.getTime() - b.signedAt.getTime());
  return ordered.flatMap((s, i) => {
    const level = s.acr === undefined ? t.noLevel : (t.acrNames[s.acr] ?? s.acr);
    const rows: FieldCell[][] = [
      [
        { label: t.labels.role, width: 0.3, value: t.roles[s.role] },
        { label: t.labels.name, width: 0.7, value: s.name },
      ],
      [
        { label: t.labels.signedAt, width: 0.3, value: formatStockholmDateTime(s.signedAt) },
        { label: t.labels.method, width: 0.4, value: s.method },
        { label: t.labels.level, width: 0.3, value: level },
      ],
      [{ label: t.labels.issuer, width: 1, value: s.issuer }],
    ];
    const group = fieldRows(canvas, rows);
    // Rows of one signature stay together; a small gap separates signatures.
    return i < ordered.length - 1 ? [...group, PdfCanvas.gap(8)] : group;
  });
}

/** Side of the printed QR code in points: about 34 mm, easy for a phone camera. */
const QR_SIDE = 96;
const QR_GAP = 14;

/** The verification section: the QR code on the left; title, what to do, and the link as text beside it. */
async function verificationBlocks(
  canvas: PdfCanvas,
  v: NonNullable<ReceiptTemplate['verification']>,
  link: string,
): Promise<Block[]> {
  const qr: QrMatrix = await qrMatrix(link);
  const { fontSize } = canvas.layout;
  const title: TextStyle = { size: fontSize.sectionTitle, weight: 'bold', colour: canvas.colours.accent };
  const body: TextStyle = { size: fontSize.body };
  const label: TextStyle = { size: fontSize.label, colour: canvas.colours.muted };
  const linkStyle: TextStyle = { size: fontSize.label + 0.5 };
  const width = canvas.contentWidth - QR_SIDE - QR_GAP;
  const titleLines = canvas.wrap(v.title, width, title);
  const bodyLines = canvas.wrap(v.text, width, body);
  const linkLines = breakLink(canvas, link, width, linkStyle);
  const lh = (s: TextStyle) => s.size * LINE_HEIGHT;
  const textHeight =
    titleLines.length * lh(title) +
    4 +
    bodyLines.length * lh(body) +
    6 +
    lh(label) +
    linkLines.length * lh(linkStyle);
  const block: Block = {
    height: Math.max(QR_SIDE, textHeight) + 4,
    draw: (c, top) => {
      drawQr(c, qr, c.left, top, QR_SIDE, c.colours.text);
      const x = c.left + QR_SIDE + QR_GAP;
      let y = top + 4;
      y += c.lines(titleLines, x, y, title) + 4;
      y += c.lines(bodyLines, x, y, body) + 6;
      y += c.lines([v.linkLabel], x, y, label);
      c.lines(linkLines, x, y, linkStyle);
    },
  };
  return [PdfCanvas.gap(canvas.layout.sectionGap / 2), block, PdfCanvas.gap(canvas.layout.sectionGap)];
}

/**
 * A URL has no spaces to wrap at: break it before `?` and `&` where it must, and within a part only if that
 * part alone is wider than the line. pdftotext then reads it back as lines that join to the link.
 */
function breakLink(canvas: PdfCanvas, link: string, width: number, style: TextStyle): string[] {
  const parts = link.split(/(?=[?&])/);
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    if (canvas.width(line + part, style) <= width) {
      line += part;
      continue;
    }
    if (line) lines.push(line);
    line = '';
    for (const ch of part) {
      if (line && canvas.width(line + ch, style) > width) {
        lines.push(line);
        line = '';
      }
      line += ch;
    }
  }
  if (line) lines.push(line);
  return lines;
}
