/**
 * Who is calling `/graphql`, as authentication decided it before anything else ran, and the
 * stores and verifiers authentication reads. Every later room (guard budgets, authorization,
 * masking, the response tier's partition, logs and audit) reads this one value.
 */
import type { PolicyCaller } from '../config/definition/client-auth';

export type CallerKind = PolicyCaller['kind'];

export interface Caller extends PolicyCaller {
  /**
   * The stable name of the client for budgets, logs and audit: `key:<keyId>` for an API key,
   * `jwt:<issuer>#<subject>` for a token, `anonymous:<address>` for an anonymous caller.
   */
  readonly clientId: string;
  /** The API key's id (never the key itself). */
  readonly keyId: string | undefined;
  /** The JWT's issuer. */
  readonly issuer: string | undefined;
}

/** One API key created at run time: kept as a digest, never in clear. */
export interface ApiKeyRecord {
  /** The public part of the key (`vz_<id>_<secret>`), what lists, logs and revocation name. */
  id: string;
  name: string;
  scopes: string[];
  /** SHA-256 of the secret part, hex. */
  digest: string;
  /** ISO-8601. */
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Where run-time API keys live (the registry store: a file, or PostgreSQL shared by replicas). */
export interface ApiKeyStore {
  create(record: ApiKeyRecord): Promise<void>;
  find(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked; false when there is no such key. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Records a use (written at most once a minute per key by the caller of this). */
  touch(id: string, at: string): Promise<void>;
}

/** One registered operation of the trusted-documents manifest. */
export interface TrustedOperation {
  /** SHA-256 of the document text, hex: what clients send as `extensions.persistedQuery.sha256Hash` or `documentId`. */
  hash: string;
  document: string;
  /** The operation's name, when it has one. */
  name: string | null;
  /** ISO-8601. */
  registeredAt: string;
}

/** Where the trusted-documents manifest lives (the registry store). */
export interface OperationStore {
  /** Adds operations (an operation already registered under its hash is kept as it is). */
  put(operations: readonly TrustedOperation[]): Promise<void>;
  find(hash: string): Promise<TrustedOperation | undefined>;
  /** The latest registered operations, newest first, at most `limit`. */
  list(limit: number): Promise<TrustedOperation[]>;
}

/** Verifies a bearer token (a JWT) and names its caller; refuses with UNAUTHENTICATED. */
export interface BearerVerifier {
  verify(token: string): Promise<Caller>;
  close(): void;
}
