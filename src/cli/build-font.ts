// One-off: builds the pre-subset fonts in templates/fonts/ from Debian's DejaVu Sans (fonts-dejavu-core).
// Run again only to change the character set:  node --import tsx src/cli/build-font.ts [SOURCE_DIR]
// Needs `pyftsubset` (Debian package `fonttools`). The output is committed, so neither the service nor CI
// needs fonttools or the Debian font package.
//
// Why pre-subset: the whole font file is embedded (not subset again per document), so a name typed at
// signing time can use any glyph in it, and glyph ids in the PDF equal fontkit's glyph ids on this file.
// Why no GSUB/GPOS/kern: pdf-lib places glyphs by the PDF /W widths only; dropping layout tables keeps
// fontkit's measured widths equal to what is drawn and every glyph reachable from the cmap.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FONT_UNICODE_RANGES, fontFilePath } from '../pdf/fonts.ts';

const sourceDir = process.argv[2] ?? '/usr/share/fonts/truetype/dejavu';
const sources = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;

for (const weight of ['regular', 'bold'] as const) {
  const input = path.join(sourceDir, sources[weight]);
  const output = fontFilePath[weight];
  execFileSync(
    'pyftsubset',
    [
      input,
      `--unicodes=${FONT_UNICODE_RANGES.join(',')}`,
      '--no-hinting',
      '--layout-features=',
      '--drop-tables+=kern,GSUB,GPOS,GDEF,FFTM,MATH',
      // Keep every name record: the copyright and licence notice must travel with the font.
      '--name-IDs=*',
      '--name-languages=*',
      '--notdef-outline',
      `--output-file=${output}`,
    ],
    { stdio: 'inherit' },
  );
  const sha256 = createHash('sha256').update(readFileSync(output)).digest('hex');
  console.log(`${path.relative(process.cwd(), output)}: ${statSync(output).size} bytes, sha256 ${sha256}`);
}
