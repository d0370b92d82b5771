import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { EXPLAIN_HEADER } from './explain';

/**
 * The "Fan-out" panel of GraphiQL: a GraphiQL plugin (an icon in the sidebar, a pane beside the
 * editor) that draws the upstream calls of the last answer as a waterfall, one bar per call on a
 * shared time axis, coloured by source, with the answer's provenance below.
 *
 * The page comes from @graphql-yoga/render-graphiql, which inlines its bundle and calls
 * `YogaGraphiQL.renderYogaGraphiQL(root, options)`. Options reach that call as JSON, so a plugin
 * (React components) cannot travel in them: the page is given a small script that defines the
 * plugin with the React the bundle exposes (`window.React`), and the render call is pointed at it.
 * Everything is inline in the page; nothing is fetched from anywhere. The bundle takes one list of
 * plugins, so the panel takes the place of the query-builder Explorer in the sidebar; the
 * documentation explorer is unaffected.
 *
 * The script also wraps `fetch`, which GraphiQL calls for every request: requests to the page's
 * own endpoint carry the explain header, and each answer that carries a fan-out feeds the panel.
 */

const RENDER_CALL = 'YogaGraphiQL.renderYogaGraphiQL(';

const STYLE = `
.virtualize-fanout { font-size: var(--font-size-body, 14px); }
.virtualize-fanout-summary { margin: 0 0 var(--px-8, 8px); }
.virtualize-fanout-legend { display: flex; flex-wrap: wrap; gap: 4px 12px; list-style: none; margin: 0 0 var(--px-12, 12px); padding: 0; }
.virtualize-fanout-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.virtualize-fanout-rows { list-style: none; margin: 0; padding: 0; }
.virtualize-fanout-row { margin-bottom: 5px; }
.virtualize-fanout-label { display: flex; justify-content: space-between; gap: 8px; font-family: var(--font-family-mono, monospace); font-size: 11px; line-height: 14px; }
.virtualize-fanout-route { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.virtualize-fanout-track { position: relative; display: block; height: 8px; background: hsla(var(--color-neutral), var(--alpha-background-light, 0.07)); border-radius: 2px; }
.virtualize-fanout-bar { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px; }
.virtualize-fanout-axis { display: flex; justify-content: space-between; margin: 2px 0 var(--px-16, 16px); font-size: 11px; opacity: 0.7; }
.virtualize-fanout-provenance { width: 100%; border-collapse: collapse; font-size: 12px; }
.virtualize-fanout-provenance td, .virtualize-fanout-provenance th { text-align: left; padding: 2px 4px; }
`;

/** Browser JavaScript, served as written: it sits in a template literal, so it uses no backquote or dollar-brace of its own. */
const SCRIPT = `
(function () {
  'use strict';
  var HEADER = ${JSON.stringify(EXPLAIN_HEADER)};
  var COLORS = ['#2b7de9', '#d6336c', '#2f9e44', '#e8590c', '#7048e8', '#0c8599', '#c2255c', '#5c940d'];
  var latest = null;
  var listeners = new Set();

  var originalFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url, location.href);
    if (url.origin !== location.origin || url.pathname !== location.pathname) return originalFetch(input, init);
    var options = Object.assign({}, init);
    var headers = new Headers(options.headers || (input instanceof Request ? input.headers : undefined));
    headers.set(HEADER, '1');
    options.headers = headers;
    return originalFetch(input, options).then(function (response) {
      if ((response.headers.get('content-type') || '').indexOf('json') !== -1) {
        response.clone().json().then(function (body) {
          var extensions = body && body.extensions;
          var introspection = body && body.data && body.data.__schema;
          if (!extensions || !extensions.fanout || introspection) return;
          latest = { fanout: extensions.fanout, provenance: extensions.provenance || [] };
          listeners.forEach(function (listener) { listener(latest); });
        }, function () {});
      }
      return response;
    });
  };

  function h() { return window.React.createElement.apply(null, arguments); }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }
  function ms(n) { return (Math.round(n * 10) / 10) + ' ms'; }

  function Waterfall(props) {
    var calls = props.fanout;
    var sources = [];
    calls.forEach(function (call) { if (sources.indexOf(call.source) === -1) sources.push(call.source); });
    function color(source) { return COLORS[sources.indexOf(source) % COLORS.length]; }
    var end = calls.reduce(function (max, call) { return Math.max(max, call.startMs + call.durationMs); }, 0) || 1;
    var whole = calls.length === 1 && calls[0].route === 'response cache' ? calls[0] : null;
    return h('div', { className: 'virtualize-fanout', 'data-testid': 'fanout-waterfall' },
      h('p', { className: 'virtualize-fanout-summary' }, whole
        ? 'Served whole from the response cache, ' + ms(whole.ageMs) + ' old: no upstream call'
        : plural(calls.length, 'upstream call') + ' to ' + plural(sources.length, 'source') + ' within ' + ms(end) + ' of execution'),
      h('ul', { className: 'virtualize-fanout-legend' }, sources.map(function (source) {
        var count = calls.filter(function (call) { return call.source === source; }).length;
        return h('li', { key: source, 'data-source': source },
          h('span', { className: 'virtualize-fanout-swatch', style: { background: color(source) } }), source + ' (' + count + ')');
      })),
      h('ol', { className: 'virtualize-fanout-rows' }, calls.map(function (call, i) {
        var label = call.source + ' ' + call.route + (call.batchSize > 1 ? ' x' + call.batchSize : '');
        var detail = label + ': status ' + call.status + ', ' + ms(call.durationMs) + ' from ' + ms(call.startMs) +
          (call.attempts > 1 ? ', ' + call.attempts + ' attempts' : '') + (call.cacheHit ? ', cache hit' : '');
        var bar = { left: (call.startMs / end * 100) + '%', width: (call.durationMs / end * 100) + '%', background: color(call.source) };
        return h('li', { key: i, className: 'virtualize-fanout-row', 'data-source': call.source, title: detail },
          h('span', { className: 'virtualize-fanout-label' },
            h('span', { className: 'virtualize-fanout-route' }, label), h('span', null, ms(call.durationMs))),
          h('span', { className: 'virtualize-fanout-track' }, h('span', { className: 'virtualize-fanout-bar', style: bar })));
      })),
      h('div', { className: 'virtualize-fanout-axis' }, h('span', null, '0'), h('span', null, ms(end))),
      props.provenance.length === 0 ? null : h('table', { className: 'virtualize-fanout-provenance' },
        h('thead', null, h('tr', null, h('th', null, 'field'), h('th', null, 'source'), h('th', null, 'cached'))),
        h('tbody', null, props.provenance.map(function (field) {
          return h('tr', { key: field.path, 'data-source': field.source },
            h('td', null, field.path), h('td', null, field.source + (field.keysFrom ? ' (keys from ' + field.keysFrom.source + ' ' + field.keysFrom.entity + ')' : '')), h('td', null, field.cachedAgeMs === null ? 'no' : ms(field.cachedAgeMs) + ' old'));
        }))));
  }

  function FanoutPanel() {
    var state = window.React.useState(latest);
    var setExplained = state[1];
    window.React.useEffect(function () {
      listeners.add(setExplained);
      return function () { listeners.delete(setExplained); };
    }, []);
    return h('div', null,
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Fan-out'),
      state[0] ? h(Waterfall, state[0]) : h('p', null, 'Run an operation: every call it makes to a source shows here, on one timeline.'));
  }

  function FanoutIcon() {
    return h('svg', { viewBox: '0 0 24 24', width: '1em', height: '1em', fill: 'currentColor', 'aria-hidden': 'true' },
      h('rect', { x: 2, y: 4, width: 9, height: 3, rx: 1 }),
      h('rect', { x: 7, y: 10.5, width: 12, height: 3, rx: 1 }),
      h('rect', { x: 13, y: 17, width: 9, height: 3, rx: 1 }));
  }

  var fanoutPlugin = { title: 'Fan-out', icon: FanoutIcon, content: FanoutPanel };
  window.virtualizeGraphiQL = {
    render: function (root, options) {
      window.YogaGraphiQL.renderYogaGraphiQL(root, Object.assign({}, options, { plugins: [fanoutPlugin] }));
    },
  };
})();
`;

/** GraphiQL as @graphql-yoga/render-graphiql renders it, with the fan-out panel. */
export function renderGraphiQLWithFanout(options?: GraphiQLOptions): string {
  const page = renderGraphiQL(options);
  const call = page.lastIndexOf(RENDER_CALL);
  if (call === -1) {
    throw new Error(`@graphql-yoga/render-graphiql no longer renders with "${RENDER_CALL}"; update src/server/graphiql-fanout.ts to attach the fan-out panel`);
  }
  const withCall = `${page.slice(0, call)}virtualizeGraphiQL.render(${page.slice(call + RENDER_CALL.length)}`;
  const head = withCall.indexOf('</head>');
  return `${withCall.slice(0, head)}<style>${STYLE}</style><script>${SCRIPT}</script>${withCall.slice(head)}`;
}
