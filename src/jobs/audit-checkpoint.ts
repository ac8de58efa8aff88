// Seals a checkpoint of the audit chains every quarter of an hour (issue 16 §2): the heads of the chains
// that grew since the last one, signed with the service's key and time-stamped (consents/audit-chain-seal.ts).
import { z } from 'zod';
import { checkpointSealer, makeAuditCheckpoint } from '../consents/audit-chain-seal.ts';
import { defineJob } from './define.ts';

export const auditCheckpoint = defineJob({
  name: 'audit-checkpoint',
  payload: z.object({}).strict(),
  schedule: { cron: '*/15 * * * *', data: {} },
  async handler(_payload, { db, config, clock, signing }) {
    return makeAuditCheckpoint(db, {
      sealer: await checkpointSealer(config.signing),
      timestamper: signing?.timestamper,
      clock,
    });
  },
});
