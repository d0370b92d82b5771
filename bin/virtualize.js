#!/usr/bin/env node
'use strict';
// The compiled CLI; `npm install` builds it (prepare), `npm start` rebuilds it first.
require('../dist/src/cli/main.js');
