/**
 * The refusal to start a gateway that anyone could call: outside sandbox mode, `virtualize start`
 * needs at least one way for clients to authenticate (an active static key, a JWT issuer, or
 * managed keys that an admin credential with registry:write can create), unless anonymous access
 * is declared on purpose (`auth.anonymous`).
 */
import type { VirtualizationConfig } from '../config/definition';
import { CODES, VirtualizeError } from '../errors';
import { inactiveStaticKeyVariables, staticKeys } from './static-keys';

/** Whether any client could authenticate, or anonymous access is declared. */
export function hasClientAuthentication(config: VirtualizationConfig, env: NodeJS.ProcessEnv): boolean {
  const { auth } = config;
  if (auth.anonymous) return true;
  if (staticKeys(auth.apiKeys.static, env).length > 0) return true;
  if (auth.jwt.issuers.length > 0) return true;
  // Managed keys count only when someone can create one.
  return auth.apiKeys.managed && Object.values(config.registry.credentials).some((credential) => credential.scopes.includes('registry:write') && Boolean(env[credential.token.env]));
}

/** Throws, saying how to fix it, when no client could authenticate and anonymous access is not declared. */
export function requireClientAuthentication(config: VirtualizationConfig, env: NodeJS.ProcessEnv): void {
  if (hasClientAuthentication(config, env)) return;
  const unset = inactiveStaticKeyVariables(config.auth.apiKeys.static, env);
  const writers = Object.values(config.registry.credentials).filter((credential) => credential.scopes.includes('registry:write')).map((credential) => credential.token.env);
  const fixes = [
    unset.length > 0 ? `set ${unset.join(' or ')} (a static key of auth.apiKeys.static)` : 'declare a static key in auth.apiKeys.static and set its variable',
    'declare a JWT issuer in auth.jwt.issuers',
    config.auth.apiKeys.managed ? `set ${writers.length > 0 ? writers.join(' or ') : 'the token variable of a registry.credentials entry with registry:write'} so that managed keys can be created (virtualize keys create)` : undefined,
    'or declare auth: { anonymous: { scopes: [...] } } to let callers in without a credential on purpose',
  ].filter((fix): fix is string => fix !== undefined);
  throw new VirtualizeError(CODES.NO_CLIENT_AUTHENTICATION, `Refusing to start: no client could authenticate to /graphql and anonymous access is not declared. To fix it, ${fixes.join('; ')}. (virtualize start --sandbox sets the demo keys.)`);
}
