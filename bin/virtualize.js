#!/usr/bin/env node
'use strict';
// graphql-js runs extra development-time checks unless NODE_ENV says production; set it before
// anything loads graphql, unless the operator chose otherwise.
process.env.NODE_ENV ??= 'production';
// Tracing (when the OTEL_* environment asks for it) starts before the gateway loads undici and
// graphql, so that nothing escapes instrumentation.
require('../dist/src/telemetry/register.js');
// The compiled CLI; `npm install` builds it (prepare), `npm start` rebuilds it first.
require('../dist/src/cli/main.js');
