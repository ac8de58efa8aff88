import type { JobDefinition } from './define.ts';
import { housekeeping } from './housekeeping.ts';

/** Every job the service knows. Workers run them all; any instance may queue them. */
export const jobs: JobDefinition[] = [housekeeping as unknown as JobDefinition];
