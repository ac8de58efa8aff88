import t from 'tap';
import { areaWithoutModelName, consentHeading } from '../../src/pdf/heading.ts';
import { loadTemplate } from '../../src/pdf/template.ts';

const NAMES = ['Hälsa, Lärande, Trygghet', 'HLT'];

t.test('the model name is taken out of the area, however the area is written', async (t) => {
  const cases: [string, string][] = [
    ['Exempelby', 'Exempelby'],
    ['HLT Exempelby', 'Exempelby'],
    ['HLT i Exempelby', 'Exempelby'],
    ['Exempelby HLT', 'Exempelby'],
    ['HLT-Exempelby', 'Exempelby'],
    ['Exempelby-HLT', 'Exempelby'],
    ['HLT – Exempelby', 'Exempelby'],
    ['Exempelby (HLT)', 'Exempelby'],
    ['hlt exempelby', 'exempelby'],
    ['Hälsa, Lärande, Trygghet i Exempelby', 'Exempelby'],
    ['Hälsa, lärande och trygghet Exempelby', 'Exempelby'],
    ['Umeå kranskommuner', 'Umeå kranskommuner'],
    ['Skellefteå/Norsjö', 'Skellefteå/Norsjö'],
    // Whole words only: a place that merely contains the letters keeps them.
    ['HLTby', 'HLTby'],
    ['Ihltorp', 'Ihltorp'],
    ['HLT', ''],
  ];
  for (const [area, expected] of cases) t.equal(areaWithoutModelName(area, NAMES), expected, area);
});

t.test('the heading per template version', async (t) => {
  const v3 = loadTemplate('hlt-consent', 'v3');
  t.same(consentHeading(v3, 'HLT Exempelby'), {
    title: 'Samtyckesblankett',
    heading: 'Hälsa, Lärande, Trygghet (HLT) i Exempelby',
  });
  t.same(consentHeading(v3, 'HLT'), {
    title: 'Samtyckesblankett',
    heading: 'Hälsa, Lärande, Trygghet (HLT)',
  });
  // Older versions print what they always printed.
  for (const v of ['v1', 'v2']) {
    t.same(consentHeading(loadTemplate('hlt-consent', v), 'HLT Exempelby'), {
      heading: 'Hälsa, Lärande, Trygghet i HLT Exempelby',
    });
  }
});
