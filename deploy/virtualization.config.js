'use strict';
/**
 * The built-in configuration for replicas: the same sources and mappings, with the per-client query
 * budgets and the shared cache tier in the Redis that REDIS_URL names, so that every replica
 * charges one budget per client and sees every other replica's fills and invalidations. Sources
 * registered at run time are shared through PostgreSQL when DATABASE_URL is set (the built-in
 * configuration already does that). Paths resolve against the image's /app (the working directory).
 */
const { env } = require('../dist/src/config/define-config');
const builtIn = require('../dist/virtualization.config').default;

module.exports = {
  ...builtIn,
  guard: { ...builtIn.guard, budget: { ...builtIn.guard.budget, store: { kind: 'redis', url: env('REDIS_URL') } } },
  cache: { ...builtIn.cache, shared: { kind: 'redis', url: env('REDIS_URL') } },
};
