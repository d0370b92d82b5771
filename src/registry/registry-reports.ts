import { CODES, VirtualizeError } from '../errors';
import type { AuditEntry } from './registry-store';
import type { Problem, SampleCall } from './dry-run';

/** Everything a dry run found, and what the schema would gain and lose. */
export interface ValidationReport {
  ok: boolean;
  problems: Problem[];
  warnings: Problem[];
  samples: SampleCall[];
  /** `Type.field` the unified schema would gain; empty when it was not compiled. */
  fieldsAdded: string[];
  fieldsRemoved: string[];
}

export interface ChangeResult {
  ok: boolean;
  /** The schema version live after the change (unchanged when it was refused). */
  schemaVersion: number;
  report: ValidationReport;
  audit?: AuditEntry;
}

export interface ImportReport {
  mapping: string;
  /** Data rows read. */
  rows: number;
  accepted: number;
  /** Pairs the store did not hold yet. */
  added: number;
  rejected: number;
  /** The first rejected rows, with their line numbers. */
  rejectedRows: Array<{ line: number; reason: string }>;
  /** False when rows were rejected and partial imports were not asked for: nothing was imported. */
  applied: boolean;
  durationMs: number;
}

export interface ImportProgress {
  mapping: string;
  phase: 'reading' | 'loading' | 'done';
  rows: number;
  rejected: number;
  loaded: number;
}

export interface RegistryStatus {
  schemaVersion: number;
  registryRevision: number;
  store: string;
  lastReload?: { at: string; ok: boolean; revision: number; message?: string };
  sources: Array<{ name: string; origin: 'config' | 'registry'; entities: string[]; state: string; lastErrorCode?: string }>;
  mappings: Array<{ name: string; origin: 'config' | 'registry'; kind: string; from: string; to: string; pairs?: number }>;
  imports: ImportProgress[];
}

/** A registration or import the registry refuses; the code's HTTP status is the admin API's answer. */
export class RegistryError extends VirtualizeError<typeof CODES.NOT_FOUND | typeof CODES.BAD_USER_INPUT | typeof CODES.CONFLICT> {
  constructor(code: typeof CODES.NOT_FOUND | typeof CODES.BAD_USER_INPUT | typeof CODES.CONFLICT, message: string) {
    super(code, message);
    this.name = 'RegistryError';
  }
}
