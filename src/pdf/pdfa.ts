// PDF/A-2b structure for our documents: XMP with pdfaid part 2 / conformance B, an sRGB output intent
// with an embedded ICC profile, a file identifier, and our own properties declared as a PDF/A extension
// schema (ISO 19005-2 §6.6.2.3: custom XMP properties must be described in the packet itself).
//
// Note for code that appends revisions (signatures): load with `updateMetadata: false`. pdf-lib's default
// rewrites /Producer and /ModDate in the Info dictionary, which would then disagree with the XMP packet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PDFDict, PDFDocument, PDFHexString, PDFName, PDFString } from '@cantoo/pdf-lib';
import { templatesDir } from '../paths.ts';

export const ICC_PROFILE_PATH = path.join(templatesDir, 'icc', 'sRGB.icc');

/** Namespace of our XMP properties (samtycke:templateVersion …). */
export const SAMTYCKE_XMP_NS = 'urn:samtycke:pdf:1.0#';
export const PRODUCER = 'Samtycke (@cantoo/pdf-lib)';

let iccCache: Uint8Array | undefined;
function iccProfile(): Uint8Array {
  iccCache ??= new Uint8Array(readFileSync(ICC_PROFILE_PATH));
  return iccCache;
}

export interface DocumentProperties {
  /** uuid; also the first half of the trailer /ID and xmpMM:DocumentID. */
  documentId: string;
  /** Info /Title and dc:title. Never personal data. */
  title: string;
  /**
   * Our properties, written both to the Info dictionary (as /Samtycke<Name>) and to XMP
   * (samtycke:<name>). Values must not be personal data.
   */
  properties: Readonly<Record<string, string>>;
  createdAt?: Date;
  /** The trailer /ID (16 bytes). Default: the document id's bytes, for the form itself. */
  fileId?: Uint8Array;
}

/** Turn a freshly built document into PDF/A-2b. Call once, after the content is drawn, before `save()`. */
export function applyPdfA2b(doc: PDFDocument, props: DocumentProperties): void {
  const now = props.createdAt ?? new Date();
  const idBytes = props.fileId ?? uuidBytes(props.documentId);
  // First /ID element is the permanent identifier: the document id itself. The second identifies this
  // revision; at creation both are the same (ISO 32000-1 §14.4).
  doc.context.trailerInfo.ID = doc.context.obj([
    PDFHexString.fromBytes(idBytes),
    PDFHexString.fromBytes(idBytes),
  ]);

  doc.setTitle(props.title, { showInWindowTitleBar: true });
  doc.setCreator('Samtycke');
  doc.setProducer(PRODUCER);
  doc.setCreationDate(now);
  doc.setModificationDate(now);
  doc.setLanguage('sv-SE');

  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  for (const [name, value] of Object.entries(props.properties)) {
    info.set(PDFName.of(infoKey(name)), PDFHexString.fromText(value));
  }

  doc.convertToPDFA({
    conformance: '2B',
    iccProfile: iccProfile(),
    outputConditionIdentifier: 'sRGB',
    colorComponents: 3,
    extensions: xmpExtensions(props),
  });
}

const infoKey = (name: string): string => `Samtycke${name[0]!.toUpperCase()}${name.slice(1)}`;

/**
 * Our properties as recorded in a document's Info dictionary (e.g. `{ documentId, template,
 * templateVersion }`), for verifiers and tests. Reads the newest Info dictionary, so appended revisions
 * that keep it (as signing does) do not hide it.
 */
export async function readDocumentProperties(bytes: Uint8Array): Promise<Record<string, string>> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true });
  const info = doc.context.lookupMaybe(doc.context.trailerInfo.Info, PDFDict);
  const out: Record<string, string> = {};
  for (const [key, value] of info?.entries() ?? []) {
    const k = key.decodeText();
    if (!k.startsWith('Samtycke') || k.length === 'Samtycke'.length) continue;
    if (value instanceof PDFHexString || value instanceof PDFString) {
      out[k[8]!.toLowerCase() + k.slice(9)] = value.decodeText();
    }
  }
  return out;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function xmpExtensions(props: DocumentProperties): string[] {
  const names = Object.keys(props.properties);
  for (const name of names)
    if (!/^[a-z][A-Za-z0-9]*$/.test(name)) throw new Error(`bad XMP property ${name}`);
  const propertyDecls = names
    .map(
      (name) =>
        '<rdf:li rdf:parseType="Resource">' +
        `<pdfaProperty:name>${name}</pdfaProperty:name>` +
        '<pdfaProperty:valueType>Text</pdfaProperty:valueType>' +
        '<pdfaProperty:category>internal</pdfaProperty:category>' +
        `<pdfaProperty:description>Samtycke ${name}</pdfaProperty:description>` +
        '</rdf:li>',
    )
    .join('');
  const schema =
    '<rdf:Description rdf:about="" ' +
    'xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" ' +
    'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" ' +
    'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">' +
    '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">' +
    '<pdfaSchema:schema>Samtycke document properties</pdfaSchema:schema>' +
    `<pdfaSchema:namespaceURI>${SAMTYCKE_XMP_NS}</pdfaSchema:namespaceURI>` +
    '<pdfaSchema:prefix>samtycke</pdfaSchema:prefix>' +
    `<pdfaSchema:property><rdf:Seq>${propertyDecls}</rdf:Seq></pdfaSchema:property>` +
    '</rdf:li></rdf:Bag></pdfaExtension:schemas>' +
    '</rdf:Description>';
  const values =
    `<rdf:Description rdf:about="" xmlns:samtycke="${SAMTYCKE_XMP_NS}">` +
    names
      .map((name) => `<samtycke:${name}>${xmlEscape(props.properties[name]!)}</samtycke:${name}>`)
      .join('') +
    '</rdf:Description>';
  // xmpMM is a predefined PDF/A schema: no extension declaration needed.
  const mm =
    '<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">' +
    `<xmpMM:DocumentID>uuid:${props.documentId}</xmpMM:DocumentID>` +
    `<xmpMM:InstanceID>uuid:${props.documentId}</xmpMM:InstanceID>` +
    '</rdf:Description>';
  return [schema, values, mm];
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error('documentId must be a uuid');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
