// Templates are data: templates/<kind>/<version>/template.json, validated here with zod and cached per
// process. A new wording is a new version folder; old versions stay, so old documents still render.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { templatesDir } from '../paths.ts';

const VERSION_RE = /^v(\d+)$/;

const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour');

/**
 * Template text, with only the `{placeholders}` the renderer fills for that text: a typo in a
 * placeholder is found when the template loads, not when someone's form renders.
 */
const textWith = (...allowed: string[]) =>
  z
    .string()
    .min(1)
    .refine(
      (s) => [...s.matchAll(/\{(\w+)\}/g)].every((m) => allowed.includes(m[1]!)),
      allowed.length > 0
        ? `placeholders allowed here: ${allowed.map((a) => `{${a}}`).join(' ')}`
        : 'no placeholders here',
    );
const text = textWith();

/** Page geometry, type sizes and colours shared by every template kind. */
const layoutSchema = z.strictObject({
  pageSize: z.tuple([z.number().positive(), z.number().positive()]),
  margin: z.strictObject({
    top: z.number().min(0),
    right: z.number().min(0),
    bottom: z.number().min(0),
    left: z.number().min(0),
  }),
  fontSize: z.strictObject({
    /** The document's title above the heading (templates that have a `title`); default: heading. */
    title: z.number().positive().optional(),
    heading: z.number().positive(),
    subheading: z.number().positive(),
    sectionTitle: z.number().positive(),
    label: z.number().positive(),
    value: z.number().positive(),
    valueMin: z.number().positive(),
    body: z.number().positive(),
    footer: z.number().positive(),
  }),
  colour: z.strictObject({
    text: hexColour,
    muted: hexColour,
    rule: hexColour,
    band: hexColour,
    accent: hexColour,
  }),
  /** Gap between sections, points. */
  sectionGap: z.number().min(0),
});
export type TemplateLayout = z.infer<typeof layoutSchema>;

const footerSchema = z.strictObject({
  documentId: text,
  version: text,
  page: textWith('page', 'pages').refine(
    (s) => s.includes('{page}') && s.includes('{pages}'),
    'needs {page} and {pages}',
  ),
});

/** A row of boxed fields; widths are fractions of the content width, adding up to at most 1. */
const rows = <const T extends readonly [string, ...string[]]>(fields: T) =>
  z
    .array(
      z
        .array(z.strictObject({ field: z.enum(fields), label: text, width: z.number().positive().max(1) }))
        .min(1)
        .refine((row) => row.reduce((sum, c) => sum + c.width, 0) <= 1.0001, 'widths add up to more than 1'),
    )
    .min(1);

const guardianFields = ['name', 'personalNumber', 'phone', 'soleGuardian'] as const;
const sectionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('guardian1'), title: text, rows: rows(guardianFields) }),
  z.strictObject({ kind: z.literal('guardian2'), title: text, rows: rows(guardianFields) }),
  z.strictObject({
    kind: z.literal('child'),
    title: text,
    rows: rows(['name', 'personalNumber', 'healthCentre', 'school']),
  }),
  z.strictObject({ kind: z.literal('organisation'), title: text, rows: rows(['name']) }),
  z.strictObject({
    kind: z.literal('statement'),
    title: text,
    intro: text,
    points: z.array(textWith('organisation')).min(4),
  }),
  z.strictObject({
    kind: z.literal('signatures'),
    title: text,
    intro: text,
    roles: z.strictObject({ guardian1: text, guardian2: text, youth: text }),
    nameLabel: text,
    signatureLabel: text,
  }),
  z.strictObject({
    kind: z.literal('obtainedBy'),
    title: text,
    rows: rows(['name', 'title', 'phone', 'email']),
  }),
  z.strictObject({ kind: z.literal('dataProtection'), title: text, paragraphs: z.array(text).min(1) }),
]);
export type FormSection = z.infer<typeof sectionSchema>;

const SECTION_KINDS = sectionSchema.options.map((o) => o.shape.kind.value);

const consentTemplateSchema = z
  .strictObject({
    kind: z.literal('hlt-consent'),
    version: z.string().regex(VERSION_RE),
    /** Document title in the PDF metadata; the document id is appended. Never personal data. */
    documentTitle: text,
    /** What the document is ("Samtyckesblankett"), printed above the heading. From v3 on. */
    title: text.optional(),
    heading: textWith('area').refine((s) => s.includes('{area}'), 'the heading names the area: needs {area}'),
    /**
     * The model's own names ("Hälsa, Lärande, Trygghet", "HLT"). When given, they are taken out of the area
     * before it fills {area}, so an area called "HLT Exempelby" does not make the heading name the model
     * twice; `headingWithoutArea` is used when nothing of the area is left. From v3 on; v1 and v2 print
     * the area as it is.
     */
    modelNames: z.array(z.string().trim().min(1)).min(1).optional(),
    headingWithoutArea: text.optional(),
    subheading: text,
    intro: text,
    missingValue: text,
    sections: z
      .array(sectionSchema)
      .refine(
        (sections) => SECTION_KINDS.every((k) => sections.filter((s) => s.kind === k).length === 1),
        `every section kind (${SECTION_KINDS.join(', ')}) exactly once`,
      ),
    footer: footerSchema,
    layout: layoutSchema,
  })
  .refine((t) => !t.modelNames === !t.headingWithoutArea, {
    path: ['headingWithoutArea'],
    message: 'modelNames and headingWithoutArea come together',
  });
export type ConsentTemplate = z.infer<typeof consentTemplateSchema>;

const receiptTemplateSchema = z.strictObject({
  kind: z.literal('receipt'),
  version: z.string().regex(VERSION_RE),
  documentTitle: text,
  heading: text,
  intro: text,
  labels: z.strictObject({
    documentId: text,
    templateVersion: text,
    completedAt: text,
    documentSha256: text,
    sha256Help: text,
    signaturesTitle: text,
    role: text,
    name: text,
    signedAt: text,
    method: text,
    level: text,
    issuer: text,
  }),
  roles: z.strictObject({ guardian1: text, guardian2: text, youth: text }),
  /** Swedish names for known `acr` values; an unknown value is printed as it is. */
  acrNames: z.record(z.string(), text),
  noLevel: text,
  note: text,
  /** v2 on: the public verification page's QR code and link (issue 16 §7). */
  verification: z.strictObject({ title: text, text: text, linkLabel: text }).optional(),
  footer: footerSchema,
  layout: layoutSchema,
});
export type ReceiptTemplate = z.infer<typeof receiptTemplateSchema>;

const schemas = { 'hlt-consent': consentTemplateSchema, receipt: receiptTemplateSchema } as const;
type TemplateKind = keyof typeof schemas;
type TemplateOf<K extends TemplateKind> = z.infer<(typeof schemas)[K]>;

const versionsCache = new Map<TemplateKind, string[]>();
const templateCache = new Map<string, unknown>();

/** The versions of a template kind on disk, oldest first (v1, v2, …, v10). */
export function templateVersions(kind: TemplateKind): string[] {
  let versions = versionsCache.get(kind);
  if (!versions) {
    const dir = path.join(templatesDir, kind);
    versions = existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => VERSION_RE.test(name) && existsSync(path.join(dir, name, 'template.json')))
          .sort((a, b) => versionNumber(a) - versionNumber(b))
      : [];
    versionsCache.set(kind, versions);
  }
  return versions;
}

const versionNumber = (v: string): number => Number(VERSION_RE.exec(v)?.[1]);

export function latestTemplateVersion(kind: TemplateKind): string {
  const latest = templateVersions(kind).at(-1);
  if (!latest) throw new AppError('template_not_found', `no template versions for ${kind}`);
  return latest;
}

/**
 * Load and validate one template version (default: the latest), once per process.
 * An unknown version, or one whose file does not validate, is `template_not_found`.
 */
export function loadTemplate<K extends TemplateKind>(kind: K, version?: string): TemplateOf<K> {
  const v = version ?? latestTemplateVersion(kind);
  const key = `${kind}/${v}`;
  const cached = templateCache.get(key);
  if (cached) return cached as TemplateOf<K>;
  // Checking against the listing (not just the pattern) also keeps path tricks like "../x" out.
  if (!templateVersions(kind).includes(v)) {
    throw new AppError('template_not_found', `template ${kind} version ${JSON.stringify(v)} does not exist`);
  }
  const file = path.join(templatesDir, kind, v, 'template.json');
  let parsed: TemplateOf<K>;
  try {
    parsed = parseTemplate(kind, JSON.parse(readFileSync(file, 'utf8')));
  } catch (cause) {
    throw new AppError('template_not_found', `template ${key} is not valid`, { cause });
  }
  if (parsed.version !== v)
    throw new AppError('template_not_found', `template ${key} says it is ${parsed.version}`);
  templateCache.set(key, parsed);
  return parsed;
}

/** Validate template data (what loadTemplate does with a file's JSON); throws a ZodError when invalid. */
export function parseTemplate<K extends TemplateKind>(kind: K, data: unknown): TemplateOf<K> {
  return schemas[kind].parse(data) as TemplateOf<K>;
}
