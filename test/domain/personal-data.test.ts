import t from 'tap';
import { maskPersonalData } from '../../src/domain/personal-data.ts';

const PNR12 = '199001152384';
const PNR10 = '900115-2384';
const COORD = '19900175-2383';
const EMAIL = 'anna.svensson@example.se';

t.test('maskPersonalData', async (t) => {
  t.equal(maskPersonalData(`a ${PNR12} b`), 'a [personnummer] b');
  t.equal(maskPersonalData(`a ${PNR10} b`), 'a [personnummer] b');
  t.equal(maskPersonalData('a 19121212+1212 b'), 'a [personnummer] b');
  t.equal(maskPersonalData(`a ${COORD} b`), 'a [personnummer] b', 'coordination number');
  t.equal(
    maskPersonalData('time 1732363200000 and 12.5 ms'),
    'time 1732363200000 and 12.5 ms',
    'not epoch ms',
  );
  t.equal(maskPersonalData(`mail ${EMAIL}`), 'mail [e-post]');
  t.equal(maskPersonalData('nothing here'), 'nothing here');
});
