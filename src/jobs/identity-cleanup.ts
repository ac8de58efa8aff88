// Daily clean-up of identity records that can no longer be used: expired login attempts, and sessions
// that ended or passed their absolute expiry. Bounded batches (the identity module's delete functions take
// a batch size), so one statement never locks a whole table.
import { z } from 'zod';
import { deleteExpiredLoginAttempts } from '../identity/login-attempts.ts';
import { deleteExpiredSessions } from '../identity/sessions.ts';
import { defineJob } from './define.ts';

export const identityCleanup = defineJob({
  name: 'identity-cleanup',
  payload: z.object({ batchSize: z.number().int().min(1).max(100_000).default(5_000) }).strict(),
  schedule: { cron: '25 3 * * *', data: { batchSize: 5_000 } },
  async handler({ batchSize }, { db, clock }) {
    const now = clock.now();
    let loginAttempts = 0;
    let sessions = 0;
    for (;;) {
      const n = await deleteExpiredLoginAttempts(db, now, batchSize);
      loginAttempts += n;
      if (n < batchSize) break;
    }
    for (;;) {
      const n = await deleteExpiredSessions(db, now, batchSize);
      sessions += n;
      if (n < batchSize) break;
    }
    return { loginAttempts, sessions };
  },
});
