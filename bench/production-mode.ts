/**
 * Loaded first by the benchmark's gateway processes: NODE_ENV=production unless the environment
 * chose otherwise, as `bin/virtualize.js` sets it for `npm start`. graphql-js reads it once, when
 * it loads, and otherwise checks every type test for a second copy of itself.
 */
process.env.NODE_ENV ??= 'production';

export {};
