// Renders the HLT consent form (samtyckesblankett) from a template version, as PDF/A-2b, with one empty
// signature field per signer role. The signing code fills those fields in appended revisions; this file
// never signs. Layout and wording come from templates/hlt-consent/<version>/template.json.
import { createHash } from 'node:crypto';
import { PDFHexString, PDFName, type PDFRef, PDFString } from '@cantoo/pdf-lib';
import { z } from 'zod';
import { requiredRoles, SIGNER_ROLES, type SignerRole } from '../domain/roles.ts';
import { AppError } from '../errors.ts';
import { fieldRows, headingBlock, lineHeight, PAD, paragraphBlocks, section, styles } from './blocks.ts';
import { type Block, PdfCanvas, type TextStyle } from './canvas.ts';
import { FONT_RESOURCE_NAME, fontMetrics, normalizeText } from './fonts.ts';
import { consentHeading } from './heading.ts';
import { fillPlaceholders, fitText, formatPersonalNumber } from './layout.ts';
import { applyPdfA2b } from './pdfa.ts';
import { type ConsentTemplate, type FormSection, loadTemplate } from './template.ts';

// The roles are the domain's (src/domain/roles.ts); re-exported here because this file is the contract
// the signing code was written against.
export { SIGNER_ROLES, type SignerRole };

/** Size of each empty signature widget: room for name, "Signerat med e-legitimation", place and time. */
export const SIGNATURE_BOX = { width: 240, height: 60 } as const;

export interface ConsentFormData {
  documentId: string; // uuid; printed in the footer
  templateVersion?: string; // default: latest
  area: string; // HLT area/municipality name for the heading
  soleGuardian: boolean;
  guardian1: FormPerson;
  guardian2?: FormPerson; // absent when soleGuardian
  child: { name: string; personalNumber: string; healthCentre?: string; school?: string };
  requestingOrganisation: { name: string };
  youthSigns: boolean; // the youth signature block + field is present
  obtainedBy: { name: string; title?: string; phone?: string; email?: string };
}

export interface FormPerson {
  name: string;
  personalNumber: string; // 12 digits
  phone?: string;
  /**
   * Skyddade personuppgifter (issue 16 §5): the phone is never printed, whatever `phone` holds; the box
   * shows `missingValue`, as for a phone not given, so the form does not tell the other guardian either.
   */
  protectedIdentity?: boolean;
}

export interface RenderedForm {
  bytes: Uint8Array;
  sha256: string; // hex
  templateVersion: string;
  roles: SignerRole[];
}

const name = z.string().trim().min(1).max(200);
const optional = z.string().trim().max(200).optional();
const personalNumber = z.string().regex(/^\d{12}$/, 'must be 12 digits');
const person = z
  .object({ name, personalNumber, phone: optional, protectedIdentity: z.boolean().optional() })
  // A protected person's contact never reaches the drawing code (nor its font check).
  .transform(({ protectedIdentity, phone, ...p }) => ({
    ...p,
    ...(protectedIdentity || phone === undefined ? {} : { phone }),
  }));
const inputSchema = z
  .object({
    documentId: z.uuid(),
    templateVersion: z.string().optional(),
    area: name,
    soleGuardian: z.boolean(),
    guardian1: person,
    guardian2: person.optional(),
    child: z.object({ name, personalNumber, healthCentre: optional, school: optional }),
    requestingOrganisation: z.object({ name }),
    youthSigns: z.boolean(),
    obtainedBy: z.object({ name, title: optional, phone: optional, email: optional }),
  })
  .refine((d) => d.soleGuardian === !d.guardian2, {
    path: ['guardian2'],
    message: 'guardian2 is required unless soleGuardian, and absent when soleGuardian',
  });

export async function renderConsentForm(data: ConsentFormData): Promise<RenderedForm> {
  const parsed = inputSchema.safeParse(data);
  if (!parsed.success) {
    // Field paths only: the values are personal data and must not reach logs.
    throw new AppError('validation_failed', 'consent form data is not valid', {
      extra: { fields: parsed.error.issues.map((i) => i.path.join('.')) },
    });
  }
  const input = normalizeInput(parsed.data);
  const template = loadTemplate('hlt-consent', input.templateVersion);
  assertPrintable(input);
  const roles = requiredRoles(input);

  const canvas = await PdfCanvas.create(template.layout);
  const widgets: Widget[] = [];
  const ctx: RenderContext = { canvas, template, input, roles, widgets };
  canvas.flow([...headerBlocks(ctx), ...template.sections.flatMap((s) => sectionBlocks(ctx, s))]);
  canvas.footers(`${template.footer.documentId}: ${input.documentId}`, (page, pages) =>
    [
      `${template.footer.version}: ${template.version}`,
      fillPlaceholders(template.footer.page, { page: String(page), pages: String(pages) }),
    ].join('     '),
  );
  addSignatureFields(canvas, widgets);
  applyPdfA2b(canvas.doc, {
    documentId: input.documentId,
    title: `${template.documentTitle} ${input.documentId}`,
    properties: { documentId: input.documentId, template: 'hlt-consent', templateVersion: template.version },
  });
  // objectsPerTick: yielding to the event loop every 50 objects costs more than the whole write.
  const bytes = await canvas.doc.save({
    useObjectStreams: false,
    updateFieldAppearances: false,
    objectsPerTick: Number.POSITIVE_INFINITY,
  });
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    templateVersion: template.version,
    roles,
  };
}

type Input = z.infer<typeof inputSchema>;

interface Widget {
  role: SignerRole;
  page: number;
  /** PDF user-space rectangle [x1 y1 x2 y2]. */
  rect: [number, number, number, number];
  label: string;
}

interface RenderContext {
  canvas: PdfCanvas;
  template: ConsentTemplate;
  input: Input;
  roles: SignerRole[];
  widgets: Widget[];
}

/** NFC and single spaces everywhere, so what we measure is what we draw. */
function normalizeInput(input: Input): Input {
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? normalizeText(v)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
        : v;
  return walk(input) as Input;
}

/** Refuse text the font cannot draw, rather than print empty boxes in a signed document. */
function assertPrintable(input: Input): void {
  const regular = fontMetrics('regular');
  const bad: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (regular.missing(v).length > 0) bad.push(path);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(input, '');
  if (bad.length > 0) {
    throw new AppError('validation_failed', 'text has characters the form font cannot print', {
      extra: { fields: bad },
    });
  }
}

// --- Blocks ---

function headerBlocks({ canvas, template, input }: RenderContext): Block[] {
  const { title, heading } = consentHeading(template, input.area);
  return [
    headingBlock(canvas, heading, template.subheading, template.intro, title),
    PdfCanvas.gap(template.layout.sectionGap),
  ];
}

function sectionBlocks(ctx: RenderContext, s: FormSection): Block[] {
  const { canvas, input, template } = ctx;
  const rows = <F extends string>(
    r: { field: F; label: string; width: number }[][],
    value: (f: F) => string | boolean,
  ) =>
    fieldRows(
      canvas,
      r.map((row) => row.map((cell) => ({ label: cell.label, width: cell.width, value: value(cell.field) }))),
    );
  const or = (v: string | undefined): string => v || template.missingValue;
  switch (s.kind) {
    case 'guardian1':
      return section(
        canvas,
        s.title,
        rows(s.rows, (f) => (f === 'soleGuardian' ? input.soleGuardian : personValue(input.guardian1, f))),
      );
    case 'guardian2': {
      const g2 = input.guardian2;
      // Sole guardian: the section is left out (the spec: "absent if sole guardian").
      if (!g2) return [];
      return section(
        canvas,
        s.title,
        rows(s.rows, (f) => (f === 'soleGuardian' ? false : personValue(g2, f))),
      );
    }
    case 'child':
      return section(
        canvas,
        s.title,
        rows(s.rows, (f) => personValue(input.child, f)),
      );
    case 'organisation':
      return section(
        canvas,
        s.title,
        rows(s.rows, () => input.requestingOrganisation.name),
      );
    case 'obtainedBy':
      return section(
        canvas,
        s.title,
        rows(s.rows, (f) => or(input.obtainedBy[f])),
      );
    case 'statement':
      return section(canvas, s.title, statementBlocks(ctx, s));
    case 'signatures':
      return section(canvas, s.title, signatureBlocks(ctx, s));
    case 'dataProtection':
      return section(canvas, s.title, paragraphBlocks(canvas, s.paragraphs));
  }

  function personValue(
    p: { personalNumber: string } & Record<string, string | undefined>,
    field: string,
  ): string {
    return field === 'personalNumber' ? formatPersonalNumber(p.personalNumber) : or(p[field]);
  }
}

function statementBlocks(
  { canvas, input }: RenderContext,
  s: Extract<FormSection, { kind: 'statement' }>,
): Block[] {
  const body = styles(canvas).body;
  const bold: TextStyle = { ...body, weight: 'bold' };
  const indent = 22;
  const intro = canvas.wrap(s.intro, canvas.contentWidth - 10, bold);
  const blocks: Block[] = [
    {
      height: intro.length * lineHeight(bold) + 10,
      draw: (c, top) => void c.lines(intro, c.left + 10, top + 6, bold),
    },
  ];
  s.points.forEach((point, i) => {
    const text = fillPlaceholders(point, { organisation: input.requestingOrganisation.name });
    const lines = canvas.wrap(text, canvas.contentWidth - 10 - indent, body);
    blocks.push({
      height: lines.length * lineHeight(body) + 5,
      draw(c, top) {
        c.lines([`${i + 1}.`], c.left + 12, top, { ...bold, colour: c.colours.accent });
        c.lines(lines, c.left + 10 + indent, top, body);
      },
    });
  });
  return blocks;
}

/**
 * One framed block per signing role: role and printed name on the left, on the right the box where the
 * signature appears, which is where the role's signature widget goes.
 */
function signatureBlocks(
  { canvas, input, roles, widgets }: RenderContext,
  s: Extract<FormSection, { kind: 'signatures' }>,
): Block[] {
  const st = styles(canvas);
  const intro = paragraphBlocks(canvas, [s.intro], { colour: canvas.colours.muted });
  const boxX = canvas.left + canvas.contentWidth - PAD - 4 - SIGNATURE_BOX.width;
  const leftWidth = boxX - canvas.left - 3 * PAD - 8;
  const labelH = lineHeight(st.label);
  const roleStyle: TextStyle = { ...st.value, weight: 'bold' };
  const names: Record<SignerRole, string> = {
    guardian1: input.guardian1.name,
    guardian2: input.guardian2?.name ?? '',
    youth: input.child.name,
  };
  const blocks = roles.map((role, i): Block => {
    const roleName = s.roles[role];
    const name = fitText(names[role], canvas.metrics.regular, {
      size: st.value.size,
      minSize: canvas.layout.fontSize.valueMin,
      maxWidth: leftWidth,
    });
    const leftH = lineHeight(roleStyle) + 6 + labelH + 1 + name.height;
    const rightH = labelH + 2 + SIGNATURE_BOX.height;
    const frameH = 2 * PAD + 2 + Math.max(leftH, rightH);
    return {
      height: frameH + (i < roles.length - 1 ? 6 : 0),
      draw(c, top) {
        c.rect(c.left, top, c.contentWidth, frameH, { stroke: c.colours.rule, lineWidth: 0.6 });
        const x = c.left + PAD + 2;
        let y = top + PAD + 1;
        y += c.lines([roleName], x, y, { ...roleStyle, colour: c.colours.accent }) + 6;
        y += c.lines([s.nameLabel], x, y, { ...st.label, colour: c.colours.muted }) + 1;
        c.lines(name.lines, x, y, { size: name.size });

        c.lines([s.signatureLabel], boxX, top + PAD + 1, { ...st.label, colour: c.colours.muted });
        const boxTop = top + PAD + 1 + labelH + 2;
        c.rect(boxX, boxTop, SIGNATURE_BOX.width, SIGNATURE_BOX.height, {
          stroke: c.colours.text,
          lineWidth: 0.8,
        });
        // The widget rect in PDF user space (origin bottom left), on the page being drawn.
        const y2 = c.pageHeight - boxTop;
        widgets.push({
          role,
          page: c.pages.length - 1,
          rect: [boxX, y2 - SIGNATURE_BOX.height, boxX + SIGNATURE_BOX.width, y2],
          label: `${s.title}: ${roleName}`,
        });
      },
    };
  });
  return [...intro, ...blocks];
}

// --- AcroForm ---

/**
 * One unsigned signature field per role; field and widget merged in one dictionary, placed on the box
 * drawn in the role's block. The empty /AP /N keeps the unsigned file PDF/A-valid (ISO 19005-2 §6.3.3:
 * annotations need an appearance); the signing code replaces /V and /AP in an appended revision.
 */
function addSignatureFields(canvas: PdfCanvas, widgets: Widget[]): void {
  const { doc } = canvas;
  const context = doc.context;
  const blank = context.register(
    context.formXObject([], { BBox: [0, 0, SIGNATURE_BOX.width, SIGNATURE_BOX.height], Resources: {} }),
  );
  const fieldRefs: PDFRef[] = [];
  for (const w of widgets) {
    const page = canvas.pages[w.page]!;
    const ref = context.register(
      context.obj({
        Type: 'Annot',
        Subtype: 'Widget',
        FT: 'Sig',
        T: PDFString.of(w.role),
        TU: PDFHexString.fromText(w.label),
        Rect: w.rect.map((n) => Math.round(n * 100) / 100),
        P: page.ref,
        F: 4, // Print: required by PDF/A, and a signature should print.
        AP: { N: blank },
      }),
    );
    page.node.addAnnot(ref);
    fieldRefs.push(ref);
  }
  const acroForm = context.obj({
    Fields: fieldRefs,
    DR: {
      Font: {
        [FONT_RESOURCE_NAME.regular]: canvas.fonts.regular,
        [FONT_RESOURCE_NAME.bold]: canvas.fonts.bold,
      },
    },
    DA: PDFString.of(`/${FONT_RESOURCE_NAME.regular} 0 Tf 0 g`),
  });
  doc.catalog.set(PDFName.of('AcroForm'), context.register(acroForm));
}
