// The form's heading: the document's title ("Samtyckesblankett"), then the model's name and the area
// (../shared/spec/hlt-consent.md, "The consent form", 1). Shared by the PDF and the signer pages, so both
// say the same. Areas are named by each organisation, often after the model itself ("HLT Exempelby"):
// the model's name is taken out of the area so that the heading names the model once.
import { fillPlaceholders } from './layout.ts';
import type { ConsentTemplate } from './template.ts';

export interface ConsentHeading {
  /** Absent in templates before v3. */
  title?: string;
  heading: string;
}

export function consentHeading(template: ConsentTemplate, area: string): ConsentHeading {
  const title = template.title ? { title: template.title } : {};
  if (!template.modelNames || !template.headingWithoutArea) {
    // v1 and v2: the area as it is, exactly as those versions always printed it.
    return { ...title, heading: fillPlaceholders(template.heading, { area }) };
  }
  const place = areaWithoutModelName(area, template.modelNames);
  return {
    ...title,
    heading: place ? fillPlaceholders(template.heading, { area: place }) : template.headingWithoutArea,
  };
}

/**
 * The area with the model's names removed: "HLT Exempelby", "HLT i Exempelby", "HLT-Exempelby",
 * "Exempelby (HLT)" and "Hälsa, lärande och trygghet i Exempelby" all give "Exempelby". A name counts only
 * as a whole word ("HLTX" stays), in any letter case. An area without the names is returned unchanged.
 */
export function areaWithoutModelName(area: string, modelNames: readonly string[]): string {
  let out = area;
  let removed = false;
  for (const name of modelNames) {
    // The words of the name, joined by a space, a comma or "och", so the usual spellings all match.
    const words = name
      .split(/[\s,]+/)
      .filter((w) => w.length > 0)
      .map(escapeRegExp);
    const body = words.join('(?:\\s*,\\s*|\\s+och\\s+|\\s+)');
    const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:[-–]\\s*)?${body}(?:\\s*[-–])?(?![\\p{L}\\p{N}])`, 'giu');
    out = out.replace(re, () => {
      removed = true;
      return ' ';
    });
  }
  if (!removed) return area;
  return (
    out
      .replace(/\(\s*\)/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      // What joined the name to the place: "HLT i Exempelby", "HLT – Exempelby", "Exempelby, HLT".
      .replace(/^(?:[-–—:,.]\s*|i\s+)+/u, '')
      .replace(/(?:\s*[-–—:,(])+$/u, '')
      .trim()
  );
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
