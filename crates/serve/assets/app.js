/* portplan serve: the pages. Plain ES2020, no framework, no build step, no
 * external resources. Every text that comes from the catalog, a deployment,
 * an upload or the user is put in the page with textContent / createElement
 * (the helper `h` below), never as HTML.
 *
 * Routes (hash): #/catalog[?q=TEXT]  #/products/ID[?role=R&req=ID]
 *   #/ports[/PORT]  #/deployments  #/new[?products=ID,ID]
 *   #/deployments/NAME  #/deployments/NAME/audit[/ID]
 *   #/deployments/NAME/reports  #/reports/ID  #/audits/ID
 *
 * data-test ids (stable, for browser tests):
 *   header:      home, nav-catalog, nav-ports, nav-deployments, user-name,
 *                logout, who, banner, server-info
 *   sign-in:     signin-form, signin-token, signin-submit
 *   any page:    error (an API error box: error, where, diagnostics), loading
 *   catalog:     search-input, search-results, search-hit, port-link,
 *                product-table, product-link
 *   product:     product-title, product-roles, product-features,
 *                product-choices, product-parameters, product-notes,
 *                filter-role, filter-protocol, filter-required, filter-text,
 *                requirements, req-group, req-row, req-count,
 *                export-csv, export-json, export-server, corrections,
 *                new-from-product
 *   port lookup: port-input, port-submit, port-results, port-iana, port-uses
 *   deployments: deployment-list, deployment-link, new-deployment
 *   new:         deployment-name, product-filter, product-picker,
 *                pick-product, pick-feature, skeleton, yaml-editor,
 *                check-status, diagnostics, diagnostic, gutter,
 *                save-message, save
 *   deployment:  deployment-title, version (data-version=N), tab-edit,
 *                tab-audit, tab-reports, yaml-editor, gutter, check-status
 *                (data-ok=true|false once checked), diagnostics, diagnostic
 *                (data-line=N; a button that moves the cursor there),
 *                save-message, save, save-status, conflict,
 *                conflict-overwrite, conflict-reload, history, history-view,
 *                version-view, delete, delete-confirm, plan, plan-filter,
 *                plan-table, plan-row, plan-export-csv, legend, diagram,
 *                diagram-svg, diagram-node (data-id), diagram-fit,
 *                diagram-download, download-format, for-host, download,
 *                download-show, download-status, download-preview
 *   audit:       audit-upload (file input), audit-paste, audit-format,
 *                audit-as, audit-submit, audit-result, audit-summary,
 *                verdict-filter, verdicts, verdict-row (data-verdict),
 *                reader-issues, beyond-plan, open-policies, shadowed,
 *                unused, audit-history, audit-link
 *   reports:     report-upload (file input), report-source, report-submit,
 *                report-result, changes, change-row, report-history,
 *                report-link, report-summary, results-filter,
 *                report-results, report-gaps
 *   also:        error-where (inside error), port-ranges
 *
 * Exports on the product page (CSV and JSON) are built here, client-side,
 * from the rows the filters show; "Server export" links the export
 * endpoint with the chosen role.
 */
'use strict';

/* ------------------------------------------------------------------ */
/* DOM helpers                                                         */
/* ------------------------------------------------------------------ */

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'readOnly', 'multiple', 'required', 'open']);

/** h('tag', {attrs}, children...): attributes set one by one, children as text nodes. */
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, kids);
  return e;
}

function setAttrs(e, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false && !PROPS.has(k)) continue;
    if (k === 'class') e.className = v;
    else if (k === 'test') e.setAttribute('data-test', v);
    else if (k === 'for') e.htmlFor = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(e, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

const SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'test') e.setAttribute('data-test', v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
function replace(e, ...kids) { clear(e); return append(e, kids); }
function link(href, text, attrs) { return h('a', Object.assign({ href }, attrs || {}), text); }
function enc(x) { return encodeURIComponent(x); }
function toList(v) { return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]; }
function plural(n, one, many) { return `${n} ${n === 1 ? one : (many || one + 's')}`; }
function debounce(fn, ms) {
  let t = null;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}
function badge(text, kind, attrs) { return h('span', Object.assign({ class: `badge ${kind || ''}` }, attrs || {}), text); }
function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const t = h('time', { datetime: iso, title: iso }, d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
  return t;
}
function field(labelText, control, hint) {
  const id = control.id || (control.id = 'f' + Math.random().toString(36).slice(2, 9));
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hint ? h('small', { class: 'hint' }, hint) : null);
}
function saveBlob(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type: type || 'text/plain' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 1000);
}
function csvOf(rows) {
  const q = (v) => {
    const t = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  };
  return rows.map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
}
function readFile(file) {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(String(r.result));
    r.onerror = () => fail(r.error);
    r.readAsText(file);
  });
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

const S = {
  session: null,
  csrf: '',
  formats: null,
  catalog: null,
  products: new Map(),
  drafts: new Map(),
  cleanup: [],
};

class ApiError extends Error {
  constructor(status, body, path) {
    const b = body && typeof body === 'object' ? body : { error: body ? String(body).slice(0, 500) : `HTTP ${status}` };
    super(b.error || `HTTP ${status}`);
    this.status = status;
    this.body = b;
    this.path = path;
  }
}

const USER_KEY = 'portplan.user';
function userName() {
  try { return (localStorage.getItem(USER_KEY) || '').trim(); } catch (_) { return ''; }
}
/** A header value is visible ASCII: accents are dropped, anything else becomes `?`. */
function headerSafe(v) {
  return v.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

async function api(method, path, opts) {
  const o = opts || {};
  const headers = { Accept: 'application/json' };
  let body;
  if (o.json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(o.json); }
  else if (o.text !== undefined) { headers['Content-Type'] = o.type || 'text/plain; charset=utf-8'; body = o.text; }
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe) {
    if (S.csrf) headers['X-CSRF-Token'] = S.csrf;
    const n = userName();
    if (n && !(S.session && S.session.signed_in)) headers['X-Portplan-User'] = headerSafe(n);
  }
  let r;
  try {
    r = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: `cannot reach the server (${e.message})` }, path);
  }
  if (r.status === 403 && unsafe && !o.retried && /csrf/i.test(await r.clone().text())) {
    await loadSession();
    return api(method, path, Object.assign({}, o, { retried: true }));
  }
  if (o.raw) {
    if (!r.ok) throw new ApiError(r.status, await bodyOf(r), path);
    return r;
  }
  if (r.status === 204) return null;
  const data = await bodyOf(r);
  if (!r.ok) {
    if (r.status === 401 && path !== '/api/login' && S.session && S.session.auth && S.session.signed_in) {
      S.session.signed_in = false;
      drawWho();
      showSignIn('Your session ended: sign in again.');
    }
    throw new ApiError(r.status, data, path);
  }
  return data;
}
async function bodyOf(r) {
  const ct = r.headers.get('content-type') || '';
  const t = await r.text();
  if (ct.includes('json')) { try { return JSON.parse(t); } catch (_) { return t; } }
  return t;
}

async function loadSession() {
  S.session = await api('GET', '/api/session');
  S.csrf = S.session.csrf || '';
  drawWho();
  return S.session;
}
async function formats() {
  if (!S.formats) S.formats = await api('GET', '/api/formats');
  return S.formats;
}
async function catalogList() {
  if (!S.catalog) S.catalog = (await api('GET', '/api/catalog')).products || [];
  return S.catalog;
}
async function product(id) {
  if (!S.products.has(id)) S.products.set(id, await api('GET', `/api/catalog/products/${enc(id)}`));
  return S.products.get(id);
}

/** A visible error box: what went wrong, where, and the located diagnostics. */
function errorBox(err, onDiag) {
  const b = err && err.body ? err.body : { error: String(err && err.message || err) };
  const box = h('div', { class: 'error-box', role: 'alert', test: 'error' },
    h('strong', null, b.error || 'Something went wrong'),
    err && err.status ? h('span', { class: 'muted' }, ` (HTTP ${err.status})`) : null,
    b.where ? h('div', { class: 'where' }, 'Where: ', h('code', { test: 'error-where' }, b.where)) : null);
  const ds = toList(b.diagnostics);
  if (ds.length) box.append(diagList(ds, onDiag));
  return box;
}
function diagText(d) {
  const at = d.line ? `${d.file ? d.file + ':' : ''}${d.line}${d.column ? ':' + d.column : ''}` : (d.file || '');
  return { at, msg: d.message, hint: d.hint };
}
function diagList(ds, onClick) {
  return h('ul', { class: 'diag-list', test: 'diagnostics' }, ds.map((d) => {
    const t = diagText(d);
    const inner = [badge(d.severity || 'error', d.severity === 'warning' ? 'warn' : 'bad'), ' ',
      t.at ? h('code', { class: 'at' }, t.at) : null, ' ', h('span', null, t.msg),
      t.hint ? h('div', { class: 'hint' }, t.hint) : null];
    if (onClick && d.line) {
      return h('li', null, h('button', { type: 'button', class: `diag ${d.severity}`, test: 'diagnostic', 'data-line': d.line, onclick: () => onClick(d) }, inner));
    }
    return h('li', { class: `diag ${d.severity}`, test: 'diagnostic', 'data-line': d.line || '' }, inner);
  }));
}
function loading(text) { return h('p', { class: 'muted loading', test: 'loading' }, text || 'Loading…'); }

/* ------------------------------------------------------------------ */
/* Header: who is making changes, sign-in                              */
/* ------------------------------------------------------------------ */

function drawWho() {
  const ss = S.session || {};
  const signed = document.getElementById('who-signed');
  const out = document.getElementById('logout');
  const wrap = document.getElementById('user-name-wrap');
  const input = document.getElementById('user-name');
  if (ss.signed_in) {
    signed.hidden = false;
    signed.textContent = `Signed in as ${ss.user}`;
    out.hidden = false;
    wrap.hidden = true;
  } else {
    signed.hidden = true;
    out.hidden = true;
    wrap.hidden = !!ss.auth;
    if (document.activeElement !== input) input.value = userName();
    input.title = ss.user ? `Changes are recorded under this name; without one, as "${ss.user}" (the server's user)` : 'Changes are recorded under this name';
  }
}

function setupHeader() {
  const input = document.getElementById('user-name');
  input.addEventListener('change', () => {
    const v = input.value.trim();
    try { v ? localStorage.setItem(USER_KEY, v) : localStorage.removeItem(USER_KEY); } catch (_) { /* private mode */ }
    if (v && headerSafe(v) !== v) banner(`Your name is sent as "${headerSafe(v)}" (plain letters only).`, 'info');
  });
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout'); } catch (e) { banner(e.message); }
    await loadSession();
    route();
  });
  api('GET', '/api/health').then((x) => {
    document.getElementById('server-info').textContent = `portplan ${x.version || ''} · ${x.database || ''} database${x.products ? ' · ' + x.products + ' products' : ''}`;
  }).catch(() => {});
}

function banner(text, kind, action) {
  const b = document.getElementById('banner');
  if (!text) { b.hidden = true; return; }
  replace(b, h('span', null, text), ' ',
    action ? [h('button', { type: 'button', class: 'link', onclick: () => { b.hidden = true; action.run(); } }, action.label), ' · '] : null,
    h('button', { type: 'button', class: 'link', onclick: () => { b.hidden = true; } }, 'Dismiss'));
  b.className = `banner ${kind || ''}`;
  b.hidden = false;
}

function showSignIn(message) {
  const main = mainEl();
  const token = h('input', { type: 'password', id: 'signin-token', test: 'signin-token', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'err-slot' });
  const form = h('form', { class: 'card narrow', test: 'signin-form', onsubmit: async (ev) => {
    ev.preventDefault();
    clear(err);
    try {
      await api('POST', '/api/login', { json: { token: token.value.trim() } });
      await loadSession();
      route();
    } catch (e) { err.append(errorBox(e)); token.focus(); }
  } },
  h('h1', null, 'Sign in'),
  h('p', null, message || 'This server asks for an access token (its administrator gives one; `portplan serve --token` makes them).'),
  field('Access token', token),
  h('button', { type: 'submit', class: 'primary', test: 'signin-submit' }, 'Sign in'),
  err);
  replace(main, form);
  token.focus();
}

/* ------------------------------------------------------------------ */
/* Router                                                              */
/* ------------------------------------------------------------------ */

function mainEl() { return document.getElementById('main'); }

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const parts = path.split('/').filter((x) => x !== '').map((x) => { try { return decodeURIComponent(x); } catch (_) { return x; } });
  return { parts, query };
}

/** Replace the query of the current hash without a new history entry or a re-render. */
function setHashQuery(params) {
  const { parts } = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  history.replaceState(null, '', '#/' + parts.map(enc).join('/') + (qs ? '?' + qs : ''));
}

function route() {
  for (const f of S.cleanup.splice(0)) { try { f(); } catch (_) { /* ignore */ } }
  const ss = S.session;
  if (ss && ss.auth && !ss.signed_in) { showSignIn(); return; }
  const { parts, query } = parseHash();
  const [a, b, c, d] = parts;
  const top = a || 'catalog';
  for (const n of document.querySelectorAll('.mainnav a')) {
    const on = n.dataset.nav === (top === 'products' ? 'catalog' : top === 'new' || top === 'reports' || top === 'audits' ? 'deployments' : top);
    if (on) n.setAttribute('aria-current', 'page'); else n.removeAttribute('aria-current');
  }
  const main = clear(mainEl());
  banner('');
  let page;
  if (top === 'catalog') page = catalogPage(query);
  else if (top === 'products' && b) page = productPage(b, query);
  else if (top === 'ports') page = portsPage(b);
  else if (top === 'deployments' && !b) page = deploymentsPage();
  else if (top === 'new') page = newPage(query);
  else if (top === 'deployments' && c === 'audit') page = auditPage(b, d);
  else if (top === 'deployments' && c === 'reports') page = reportsPage(b);
  else if (top === 'deployments' && b && !c) page = deploymentPage(b);
  else if (top === 'reports' && b) page = reportPage(b);
  else if (top === 'audits' && b) page = auditById(b);
  else page = h('section', null, h('h1', null, 'Not found'), h('p', null, 'No page here. '), link('#/catalog', 'Go to the catalog'));
  main.append(page);
  const t = main.querySelector('h1');
  document.title = (t ? t.textContent + ' · ' : '') + 'portplan';
}

/* ------------------------------------------------------------------ */
/* Catalog: products and search                                        */
/* ------------------------------------------------------------------ */

const PORT_RE = /^\s*\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp|icmp))?\s*$/i;

function catalogPage(query) {
  const q0 = query.get('q') || '';
  const input = h('input', { type: 'search', id: 'search-input', test: 'search-input', value: q0, placeholder: 'radius, 1812/udp, gateway, ldaps…', autocomplete: 'off', spellcheck: 'false' });
  const results = h('div', { test: 'search-results', 'aria-live': 'polite', class: 'search-results' });
  const table = h('div', null, loading());
  const page = h('section', null,
    h('h1', null, 'Catalog'),
    h('p', { class: 'lead' }, 'Vendor port requirements, reviewed against the vendors\' pages. Search by words, ids or ports to find which products use a port; open a product to read its requirements.'),
    h('form', { class: 'searchbar', role: 'search', onsubmit: (e) => { e.preventDefault(); run.cancel(); search(); } },
      h('label', { for: 'search-input' }, 'Search the catalog'), input,
      h('button', { type: 'submit' }, 'Search')),
    results,
    h('h2', null, 'Products'),
    table);

  let seq = 0;
  async function search() {
    const q = input.value.trim();
    setHashQuery({ q });
    const my = ++seq;
    if (!q) { clear(results); return; }
    replace(results, loading('Searching…'));
    try {
      const r = await api('GET', `/api/catalog/search?q=${enc(q)}`);
      if (my !== seq) return;
      drawHits(r, q);
    } catch (e) {
      if (my === seq) replace(results, errorBox(e));
    }
  }
  const run = debounce(search, 250);
  input.addEventListener('input', run);

  function drawHits(r, q) {
    const hits = toList(r.hits);
    const names = new Map((S.catalog || []).map((p) => [p.id, p.name]));
    const portLine = PORT_RE.test(q)
      ? h('p', { class: 'portline' }, 'This looks like a port: ', link(`#/ports/${enc(q.trim())}`, `see every product that uses ${q.trim()}, with its IANA name`, { test: 'port-link' }), '.')
      : null;
    if (!hits.length) { replace(results, portLine, h('p', { class: 'muted' }, `Nothing matches “${q}”.`)); return; }
    const byProduct = new Map();
    for (const x of hits) {
      if (!byProduct.has(x.product)) byProduct.set(x.product, []);
      byProduct.get(x.product).push(x);
    }
    replace(results, portLine,
      h('p', { class: 'muted' }, `${plural(hits.length, 'hit')} in ${plural(byProduct.size, 'product')}`),
      h('ul', { class: 'hits' }, [...byProduct.entries()].map(([pid, xs]) => h('li', { class: 'hit-group' },
        h('div', { class: 'hit-product' }, link(`#/products/${enc(pid)}`, names.get(pid) || pid, { test: 'product-link' }), ' ', h('code', { class: 'muted' }, pid)),
        h('ul', null, xs.map((x) => {
          let href = `#/products/${enc(pid)}`;
          if (x.kind === 'role') href += `?role=${enc(x.id)}`;
          if (x.kind === 'requirement') href += `?req=${enc(x.id)}`;
          return h('li', { test: 'search-hit', 'data-kind': x.kind },
            badge(x.kind, 'kind'), ' ', link(href, x.title || x.id), ' ', h('code', { class: 'muted' }, x.id),
            x.detail ? h('div', { class: 'detail' }, x.detail.length > 300 ? x.detail.slice(0, 300) + '…' : x.detail) : null,
            toList(x.matched).length ? h('div', { class: 'matched muted' }, 'matched: ', toList(x.matched).join('; ')) : null);
        }))))));
  }

  catalogList().then((ps) => {
    replace(table, h('table', { class: 'grid', test: 'product-table' },
      h('caption', { class: 'sr-only' }, 'Products in the catalog'),
      h('thead', null, h('tr', null, ['Product', 'Vendor', 'Roles', 'Requirements', 'Features', 'Page errors corrected'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, ps.map((p) => h('tr', null,
        h('td', null, link(`#/products/${enc(p.id)}`, p.name || p.id, { test: 'product-link' }), ' ', h('code', { class: 'muted' }, p.id)),
        h('td', null, p.vendor || ''),
        h('td', { class: 'num' }, p.roles), h('td', { class: 'num' }, p.requirements),
        h('td', { class: 'num' }, p.features), h('td', { class: 'num' }, p.corrections))))));
    if (q0) search();
  }).catch((e) => replace(table, errorBox(e)));
  setTimeout(() => input.focus(), 0);
  return page;
}

/* ------------------------------------------------------------------ */
/* Product page                                                        */
/* ------------------------------------------------------------------ */

function portText(p, params) {
  if (p && typeof p === 'object') {
    const par = params.get(p.param);
    const def = par && par.default !== undefined ? String(par.default) : null;
    return def ? `${def} (${p.param})` : `${p.param} (set in the deployment)`;
  }
  return String(p);
}

function conditionParts(r, features, choices) {
  const out = [];
  if (r.required === false) out.push('optional');
  if (r.feature) {
    const f = features.get(r.feature);
    out.push(`with feature ${r.feature}${f ? ` (${f.default ? 'on' : 'off'} by default)` : ''}`);
  }
  const w = r.when || {};
  if (w.choice) {
    for (const [k, v] of Object.entries(w.choice)) {
      const c = choices.get(k);
      const vs = toList(v).map((x) => {
        const o = c && toList(c.options).find((oo) => oo.id === x);
        return o ? `${x}` : x;
      });
      out.push(`when ${k} = ${vs.join(' or ')}`);
    }
  }
  if (w.separate) out.push(`when ${toList(w.separate).join(' and ')} run on separate hosts`);
  if (w.colocated) out.push(`when ${toList(w.colocated).join(' and ')} share a host`);
  if (r.scope) out.push(`scope: ${r.scope}`);
  if (r.interface) out.push(`interface: ${r.interface}`);
  if (r.per_target) out.push('port set per target (overrides)');
  if (r.alternatives) out.push('one of several alternatives');
  return out;
}

function citation(src, sources) {
  if (!src) return null;
  const doc = sources.get(src.doc);
  const file = doc && doc.file ? doc.file : src.doc;
  const lines = src.end_line && src.end_line !== src.line ? `${src.line}-${src.end_line}` : `${src.line}`;
  const title = doc ? doc.title : src.doc;
  return h('span', { class: 'cite' },
    doc && doc.url ? h('a', { href: doc.url, target: '_blank', rel: 'noopener noreferrer' }, title) : h('span', null, title),
    src.section ? h('span', { class: 'muted' }, ` § ${src.section}`) : null,
    ' ', h('code', { class: 'fileline' }, `${file}:${lines}`));
}
function citationText(src, sources) {
  if (!src) return '';
  const doc = sources.get(src.doc);
  const file = doc && doc.file ? doc.file : src.doc;
  const lines = src.end_line && src.end_line !== src.line ? `${src.line}-${src.end_line}` : `${src.line}`;
  return `${doc ? doc.title : src.doc}${src.section ? ' § ' + src.section : ''} (${file}:${lines})`;
}

function productPage(id, query) {
  const body = h('div', null, loading());
  const page = h('article', { class: 'product' }, h('p', { class: 'crumbs' }, link('#/catalog', 'Catalog'), ' › ', id), body);
  product(id).then((p) => drawProduct(body, p, query)).catch((e) => replace(body, h('h1', null, id), errorBox(e)));
  return page;
}

function drawProduct(body, p, query) {
  const pid = p.product || p.id;
  const roles = toList(p.roles);
  const roleMap = new Map(roles.map((r) => [r.id, r]));
  const features = new Map(toList(p.features).map((f) => [f.id, f]));
  const choices = new Map(toList(p.choices).map((c) => [c.id, c]));
  const params = new Map(toList(p.parameters).map((x) => [x.id, x]));
  const sources = new Map(toList(p.sources).map((x) => [x.id, x]));
  const reqs = toList(p.requirements);
  const said = reqs.filter((r) => r.page_said);
  const errata = toList(p.errata || p.corrections || p.anomalies);
  const roleName = (rid) => (roleMap.get(rid) ? roleMap.get(rid).name : rid);
  const roleRef = (rid) => h('span', { class: 'role', title: roleName(rid) }, rid);

  const toc = h('nav', { class: 'toc', 'aria-label': 'On this page' }, h('ul', null,
    h('li', null, h('a', { href: '#', onclick: jump('sec-reqs') }, `Requirements (${reqs.length})`)),
    h('li', null, h('a', { href: '#', onclick: jump('sec-roles') }, `Roles (${roles.length})`)),
    features.size ? h('li', null, h('a', { href: '#', onclick: jump('sec-features') }, `Features (${features.size})`)) : null,
    choices.size ? h('li', null, h('a', { href: '#', onclick: jump('sec-choices') }, `Choices (${choices.size})`)) : null,
    params.size ? h('li', null, h('a', { href: '#', onclick: jump('sec-params') }, `Parameters (${params.size})`)) : null,
    toList(p.notes).length ? h('li', null, h('a', { href: '#', onclick: jump('sec-notes') }, 'Notes')) : null,
    said.length + errata.length ? h('li', null, h('a', { href: '#', onclick: jump('sec-corrections') }, `Page errors corrected (${said.length + errata.length})`)) : null,
    h('li', null, h('a', { href: '#', onclick: jump('sec-sources') }, 'Sources'))));

  // Filters
  const fRole = h('select', { id: 'filter-role', test: 'filter-role' }, h('option', { value: '' }, 'All roles'),
    roles.map((r) => h('option', { value: r.id }, `${r.id}: ${r.name}`)));
  const protos = [...new Set(reqs.map((r) => r.protocol).filter(Boolean))].sort();
  const fProto = h('select', { id: 'filter-protocol', test: 'filter-protocol' }, h('option', { value: '' }, 'All'), protos.map((x) => h('option', { value: x }, x)));
  const fReq = h('select', { id: 'filter-required', test: 'filter-required' },
    h('option', { value: '' }, 'Required and optional'), h('option', { value: 'required' }, 'Required only'), h('option', { value: 'optional' }, 'Optional only'));
  const fText = h('input', { type: 'search', id: 'filter-text', test: 'filter-text', placeholder: 'port, service, word…', spellcheck: 'false' });
  if (query.get('role') && roleMap.has(query.get('role'))) fRole.value = query.get('role');
  if (query.get('q')) fText.value = query.get('q');
  const count = h('p', { class: 'muted', test: 'req-count', 'aria-live': 'polite' });
  const groups = h('div', { test: 'requirements' });
  const exportNote = h('small', { class: 'hint' }, 'CSV and JSON hold the rows shown, built in this page from the filters above; “Server export” is the catalog\'s own file for the chosen role.');
  const serverExport = h('a', { test: 'export-server', class: 'button' }, 'Server export (CSV)');

  function reqMatches(r) {
    if (fProto.value && r.protocol !== fProto.value) return false;
    const optional = r.required === false;
    if (fReq.value === 'required' && optional) return false;
    if (fReq.value === 'optional' && !optional) return false;
    const t = fText.value.trim().toLowerCase();
    if (t) {
      const hay = [r.id, r.service, r.description, r.protocol, toList(r.from).join(' '), toList(r.to).join(' '),
        toList(r.ports).map((x) => portText(x, params)).join(' '), toList(r.notes).join(' '), r.feature,
        conditionParts(r, features, choices).join(' '), r.page_said ? r.page_said.text + ' ' + r.page_said.correction : ''].join(' ').toLowerCase();
      for (const w of t.split(/\s+/)) {
        if (/^\d+$/.test(w) && portMatch(r, Number(w), params)) continue;
        if (!hay.includes(w)) return false;
      }
    }
    return true;
  }

  let shown = [];
  function draw() {
    setHashQuery({ role: fRole.value, q: fText.value.trim() });
    const rolesShown = fRole.value ? roles.filter((r) => r.id === fRole.value) : roles;
    const matching = reqs.filter(reqMatches);
    shown = [];
    clear(groups);
    const placed = new Set();
    for (const role of rolesShown) {
      const inb = matching.filter((r) => toList(r.to).includes(role.id));
      const outb = matching.filter((r) => toList(r.from).includes(role.id));
      if (!inb.length && !outb.length) continue;
      const sec = h('section', { class: 'req-group', test: 'req-group', 'data-role': role.id },
        h('h3', null, role.name, ' ', h('code', { class: 'muted' }, role.id), ' ', badge(role.kind || '', 'kind')),
        role.description ? h('p', { class: 'role-desc' }, role.description) : null);
      if (inb.length) {
        sec.append(h('h4', null, `Inbound to ${role.id}`, h('span', { class: 'muted' }, ` (${inb.length}: what must reach it)`)), reqTable(inb, 'in', role.id));
        for (const r of inb) { shown.push(['inbound', role.id, r]); placed.add(r.id); }
      }
      if (outb.length) {
        sec.append(h('h4', null, `Outbound from ${role.id}`, h('span', { class: 'muted' }, ` (${outb.length}: what it must reach)`)), reqTable(outb, 'out', role.id));
        for (const r of outb) { shown.push(['outbound', role.id, r]); placed.add(r.id); }
      }
      groups.append(sec);
    }
    if (!fRole.value) {
      const rest = matching.filter((r) => !placed.has(r.id));
      if (rest.length) {
        groups.append(h('section', { class: 'req-group', test: 'req-group' }, h('h3', null, 'Between other parties'), reqTable(rest, 'any', '')));
        for (const r of rest) shown.push(['', '', r]);
      }
    }
    const uniq = new Set(shown.map((x) => x[2].id)).size;
    count.textContent = `Showing ${uniq} of ${reqs.length} requirements` + (fRole.value ? ` for role ${fRole.value}` : ', each under the roles at both ends');
    if (!matching.length) groups.append(h('p', { class: 'muted' }, 'No requirement matches these filters.'));
    serverExport.href = `/api/catalog/products/${enc(pid)}/export?format=csv${fRole.value ? '&role=' + enc(fRole.value) : ''}`;
    serverExport.textContent = fRole.value ? `Server export (CSV, role ${fRole.value})` : 'Server export (CSV, all)';
    const hl = query.get('req');
    if (hl) {
      const row = groups.querySelector(`tr[data-req="${CSS.escape(hl)}"]`);
      if (row) { for (const r of groups.querySelectorAll(`tr[data-req="${CSS.escape(hl)}"]`)) r.classList.add('highlight'); }
    }
  }

  function reqTable(list, dir, rid) {
    const other = dir === 'in' ? 'From' : dir === 'out' ? 'To' : 'From → To';
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid reqs' },
      h('thead', null, h('tr', null, [other, 'Service', 'Protocol', 'Ports', 'Condition', 'Notes', 'Source'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, list.map((r) => {
        const cond = conditionParts(r, features, choices);
        const peers = dir === 'in' ? toList(r.from) : dir === 'out' ? toList(r.to) : null;
        const self = (dir === 'in' ? toList(r.from) : toList(r.to)).includes(rid);
        return h('tr', { test: 'req-row', 'data-req': r.id, id: `req-${dir}-${rid}-${r.id}`, class: r.required === false ? 'optional' : '' },
          h('td', null, peers ? peers.map((x, i) => [i ? ', ' : '', roleRef(x)]) : [toList(r.from).map((x, i) => [i ? ', ' : '', roleRef(x)]), ' → ', toList(r.to).map((x, i) => [i ? ', ' : '', roleRef(x)])],
            self ? h('div', { class: 'muted small' }, 'between its own nodes') : null),
          h('td', null, h('strong', null, r.service || r.id), h('div', null, h('code', { class: 'muted small' }, r.id)),
            r.description ? h('div', { class: 'small' }, r.description) : null),
          h('td', null, r.protocol || '', r.icmp_type ? h('div', { class: 'small' }, r.icmp_type) : null),
          h('td', { class: 'ports' }, toList(r.ports).map((x) => portText(x, params)).join(', ') || (r.protocol === 'icmp' ? '—' : '')),
          h('td', null, cond.length ? h('ul', { class: 'plain' }, cond.map((c) => h('li', null, c === 'optional' ? badge('optional', 'warn') : c))) : badge('required', 'ok')),
          h('td', { class: 'notes' }, toList(r.notes).map((n) => h('p', null, n)),
            r.page_said ? h('div', { class: 'said' }, h('strong', null, 'The page said: '), h('q', null, r.page_said.text),
              h('div', null, h('strong', null, 'Corrected: '), r.page_said.correction)) : null),
          h('td', null, citation(r.source, sources)));
      }))));
  }

  function exportRows() {
    const head = ['direction', 'role', 'requirement', 'service', 'from', 'to', 'protocol', 'ports', 'required', 'condition', 'description', 'notes', 'page_said', 'correction', 'source'];
    return [head].concat(shown.map(([dir, rid, r]) => [dir, rid, r.id, r.service, toList(r.from).join(' '), toList(r.to).join(' '), r.protocol,
      toList(r.ports).map((x) => portText(x, params)).join(' '), r.required === false ? 'optional' : 'required',
      conditionParts(r, features, choices).filter((c) => c !== 'optional').join('; '), r.description || '',
      toList(r.notes).join(' '), r.page_said ? r.page_said.text : '', r.page_said ? r.page_said.correction : '', citationText(r.source, sources)]));
  }
  const exportCsv = h('button', { type: 'button', test: 'export-csv', onclick: () => saveBlob(`${pid}${fRole.value ? '-' + fRole.value : ''}-requirements.csv`, csvOf(exportRows()), 'text/csv') }, 'Export CSV (shown rows)');
  const exportJson = h('button', { type: 'button', test: 'export-json', onclick: () => {
    const out = shown.map(([dir, rid, r]) => Object.assign({ direction: dir || null, role: rid || null }, r));
    saveBlob(`${pid}${fRole.value ? '-' + fRole.value : ''}-requirements.json`, JSON.stringify({ product: pid, filters: { role: fRole.value || null, protocol: fProto.value || null, required: fReq.value || null, text: fText.value.trim() || null }, requirements: out }, null, 2) + '\n', 'application/json');
  } }, 'Export JSON (shown rows)');

  for (const c of [fRole, fProto, fReq]) c.addEventListener('change', draw);
  fText.addEventListener('input', debounce(draw, 150));

  const filterBar = h('div', { class: 'filters', role: 'group', 'aria-label': 'Filter requirements' },
    field('Role', fRole), field('Protocol', fProto), field('Required', fReq), field('Text or port', fText));

  replace(body,
    h('header', { class: 'product-head' },
      h('h1', { test: 'product-title' }, p.name || pid),
      h('p', { class: 'lead' }, p.vendor ? `by ${p.vendor} · ` : '', h('code', null, pid), p.version ? ` · version ${p.version}` : '',
        ` · ${plural(roles.length, 'role')}, ${plural(reqs.length, 'requirement')}, read from ${plural(sources.size, 'vendor page')}`),
      h('p', null, link(`#/new?products=${enc(pid)}`, 'Start a deployment with this product', { class: 'button primary', test: 'new-from-product' }))),
    toc,
    h('section', { id: 'sec-reqs' }, h('h2', null, 'Requirements'),
      h('p', { class: 'muted' }, 'Grouped by role: inbound lists who connects to the role, outbound what the role connects to. A flow between two roles appears under both.'),
      filterBar,
      h('div', { class: 'actions' }, exportCsv, exportJson, serverExport), exportNote,
      count, groups),
    h('section', { id: 'sec-roles', test: 'product-roles' }, h('h2', null, 'Roles'),
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Role', 'Kind', 'Description', 'Requirements'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, roles.map((r) => h('tr', null,
          h('td', null, h('strong', null, r.name), h('div', null, h('code', { class: 'muted' }, r.id))),
          h('td', null, r.kind || ''),
          h('td', null, r.description || '', toList(r.endpoints).length ? h('div', { class: 'small' }, 'Endpoints: ', toList(r.endpoints).join(', ')) : null),
          h('td', null, h('button', { type: 'button', class: 'link', onclick: () => { fRole.value = r.id; draw(); document.getElementById('sec-reqs').scrollIntoView(); } },
            `${reqs.filter((q) => toList(q.from).includes(r.id) || toList(q.to).includes(r.id)).length} (show)`))))))),
    features.size ? h('section', { id: 'sec-features', test: 'product-features' }, h('h2', null, 'Features'),
      h('p', { class: 'muted' }, 'Optional parts: a deployment lists the ones it runs under features:.'),
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Feature', 'Default', 'Description', 'Requirements'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, [...features.values()].map((f) => h('tr', null,
          h('td', null, h('strong', null, f.name), h('div', null, h('code', { class: 'muted' }, f.id))),
          h('td', null, f.default ? badge('on', 'ok') : badge('off', '')),
          h('td', null, f.description || ''),
          h('td', { class: 'num' }, reqs.filter((r) => r.feature === f.id).length)))))) : null,
    choices.size ? h('section', { id: 'sec-choices', test: 'product-choices' }, h('h2', null, 'Choices'),
      h('p', { class: 'muted' }, 'Alternatives a deployment picks one of (under choices:); requirements marked “when choice = option” apply only then.'),
      h('dl', { class: 'choices' }, [...choices.values()].map((c) => [
        h('dt', null, c.name, ' ', h('code', { class: 'muted' }, c.id)),
        h('dd', null, h('ul', null, toList(c.options).map((o) => h('li', null, h('code', null, o.id), ': ', o.name, o.id === c.default ? [' ', badge('default', 'ok')] : null))))]))) : null,
    params.size ? h('section', { id: 'sec-params', test: 'product-parameters' }, h('h2', null, 'Parameters'),
      h('p', { class: 'muted' }, 'Configurable ports: a requirement that names one uses the deployment\'s value, else the default.'),
      h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Parameter', 'Kind', 'Default', 'Description'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, [...params.values()].map((x) => h('tr', null,
          h('td', null, h('strong', null, x.name), h('div', null, h('code', { class: 'muted' }, x.id))),
          h('td', null, x.kind || ''),
          h('td', null, x.default !== undefined ? String(x.default) : h('span', { class: 'muted' }, 'none')),
          h('td', null, x.description || '', toList(x.allowed).length ? h('div', { class: 'small' }, 'Allowed: ', toList(x.allowed).join(', ')) : null)))))) : null,
    toList(p.notes).length ? h('section', { id: 'sec-notes', test: 'product-notes' }, h('h2', null, 'Notes'),
      h('ul', null, toList(p.notes).map((n) => h('li', null, n.text || String(n), n.source ? [' ', citation(n.source, sources)] : null)))) : null,
    said.length + errata.length ? h('section', { id: 'sec-corrections', test: 'corrections' }, h('h2', null, 'Where the vendor\'s page is wrong or unclear'),
      h('p', { class: 'muted' }, 'What the page said, next to what the catalog holds and why.'),
      said.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
        h('thead', null, h('tr', null, ['Requirement', 'The page said', 'The catalog holds', 'Why', 'Source'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, said.map((r) => h('tr', { 'data-req': r.id },
          h('td', null, h('strong', null, r.service), h('div', null, h('code', { class: 'muted' }, r.id))),
          h('td', { class: 'said-text' }, h('q', null, r.page_said.text)),
          h('td', null, `${toList(r.from).join(', ')} → ${toList(r.to).join(', ')}, ${r.protocol} ${toList(r.ports).map((x) => portText(x, params)).join(', ')}`),
          h('td', null, r.page_said.correction),
          h('td', null, citation(r.source, sources))))))) : null,
      errata.length ? [h('h3', null, 'Other lines of the pages, and what became of them'),
        h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
          h('thead', null, h('tr', null, ['The page said', 'In the catalog', 'Source'].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', null, errata.map((e) => h('tr', null,
            h('td', { class: 'said-text' }, h('q', null, e.text || '')),
            h('td', null, e.note || e.correction || '', toList(e.see).length ? h('div', { class: 'small' }, 'See: ',
              toList(e.see).map((x, i) => [i ? ', ' : '', h('button', { type: 'button', class: 'link', onclick: () => { fRole.value = ''; fText.value = x; draw(); document.getElementById('sec-reqs').scrollIntoView(); } }, x)])) : null),
            h('td', null, citation(e.source, sources)))))))] : null) : null,
    h('section', { id: 'sec-sources' }, h('h2', null, 'Sources'),
      h('ul', null, [...sources.values()].map((x) => h('li', null,
        x.url ? h('a', { href: x.url, target: '_blank', rel: 'noopener noreferrer' }, x.title) : x.title,
        ' ', h('code', { class: 'muted' }, x.file || x.id), x.read ? h('span', { class: 'muted' }, ` · read ${x.read}`) : null)))));
  draw();
  const hl = query.get('req');
  if (hl) {
    const row = groups.querySelector(`tr[data-req="${CSS.escape(hl)}"]`);
    if (row) setTimeout(() => row.scrollIntoView({ block: 'center' }), 0);
  }
}

function portMatch(r, n, params) {
  for (const x of toList(r.ports)) {
    const t = portText(x, params);
    const m = /^(\d+)(?:-(\d+))?/.exec(t);
    if (!m) continue;
    const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
    if (n >= a && n <= b) return true;
  }
  return false;
}

function jump(id) {
  return (e) => { e.preventDefault(); const t = document.getElementById(id); if (t) { t.scrollIntoView(); t.setAttribute('tabindex', '-1'); t.focus({ preventScroll: true }); } };
}

/* ------------------------------------------------------------------ */
/* Port lookup                                                         */
/* ------------------------------------------------------------------ */

function portsPage(port) {
  const input = h('input', { id: 'port-input', test: 'port-input', value: port || '', placeholder: '443, 1812/udp', autocomplete: 'off', spellcheck: 'false', inputmode: 'text' });
  const out = h('div', { test: 'port-results', 'aria-live': 'polite' });
  const page = h('section', null,
    h('h1', null, 'Port lookup'),
    h('p', { class: 'lead' }, 'Which catalog products use a port, in which direction and why, with its IANA name.'),
    h('form', { class: 'searchbar', onsubmit: (e) => { e.preventDefault(); const v = input.value.trim(); if (v) location.hash = `#/ports/${enc(v)}`; } },
      h('label', { for: 'port-input' }, 'Port (optionally /tcp or /udp)'), input,
      h('button', { type: 'submit', test: 'port-submit' }, 'Look up')),
    out);
  if (port) {
    out.append(loading());
    api('GET', `/api/ports/${enc(port)}`).then((r) => drawPort(out, r, port)).catch((e) => replace(out, errorBox(e)));
  }
  setTimeout(() => input.focus(), 0);
  return page;
}

function drawPort(out, r, asked) {
  const uses = toList(r.uses);
  const names = new Map((S.catalog || []).map((p) => [p.id, p.name]));
  const exact = uses.filter((u) => u.match !== 'range');
  const ranges = uses.filter((u) => u.match === 'range');
  const table = (list, test) => h('div', { class: 'table-wrap' }, h('table', { class: 'grid', test },
    h('thead', null, h('tr', null, ['Product', 'Service', 'From → To', 'Protocol', 'How', 'Source'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, list.map((u) => h('tr', null,
      h('td', null, link(`#/products/${enc(u.product)}`, names.get(u.product) || u.product, { test: 'product-link' })),
      h('td', null, link(`#/products/${enc(u.product)}?req=${enc(u.requirement)}`, u.service || u.requirement), h('div', null, h('code', { class: 'muted small' }, u.requirement))),
      h('td', null, `${toList(u.from).join(', ')} → ${toList(u.to).join(', ')}`),
      h('td', null, u.protocol || ''),
      h('td', null, u.how || ''),
      h('td', null, u.page || '', ' ', h('code', { class: 'fileline' }, u.source || '')))))));
  replace(out,
    h('h2', null, `Port ${r.protocol ? `${r.port}/${r.protocol}` : (asked || r.port)}`),
    toList(r.iana).length ? h('div', { test: 'port-iana' }, h('h3', null, 'IANA'), h('ul', null, toList(r.iana).map((i) => h('li', null, h('code', null, `${i.port}/${i.protocol}`), ' ', h('strong', null, i.name || ''), i.description ? ` — ${i.description}` : '')))) : h('p', { class: 'muted', test: 'port-iana' }, 'No IANA registration.'),
    h('h3', null, `Used by ${plural(new Set(exact.map((u) => u.product)).size, 'product')} (${plural(exact.length, 'requirement')})`),
    exact.length ? table(exact, 'port-uses') : h('p', { class: 'muted', test: 'port-uses' }, 'No catalog requirement names this port exactly.'),
    ranges.length ? h('details', null, h('summary', null, `${plural(ranges.length, 'more requirement')} whose port range includes it`), table(ranges, 'port-ranges')) : null);
}

/* ------------------------------------------------------------------ */
/* Deployments list and creation                                       */
/* ------------------------------------------------------------------ */

function deploymentsPage() {
  const list = h('div', null, loading());
  const page = h('section', null,
    h('div', { class: 'titlebar' }, h('h1', null, 'Deployments'),
      link('#/new', 'New deployment', { class: 'button primary', test: 'new-deployment' })),
    h('p', { class: 'lead' }, 'A deployment places the catalog\'s roles on your hosts and networks; portplan plans its firewall flows. Each save is a version.'),
    list);
  api('GET', '/api/deployments').then((r) => {
    const ds = toList(r.deployments);
    if (!ds.length) { replace(list, h('p', { test: 'deployment-list', class: 'empty' }, 'No deployment yet. ', link('#/new', 'Create the first one'), ' from the products you run.')); return; }
    replace(list, h('table', { class: 'grid', test: 'deployment-list' },
      h('thead', null, h('tr', null, ['Name', 'Version', 'Products', 'Last saved', 'By', ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, ds.map((d) => h('tr', null,
        h('td', null, link(`#/deployments/${enc(d.name)}`, d.name, { test: 'deployment-link' })),
        h('td', { class: 'num' }, `v${d.version}`),
        h('td', { class: 'num' }, d.products ?? ''),
        h('td', null, fmtTime(d.updated_at)),
        h('td', null, d.updated_by || ''),
        h('td', null, link(`#/deployments/${enc(d.name)}/audit`, 'Audit'), ' · ', link(`#/deployments/${enc(d.name)}/reports`, 'Reports')))))));
  }).catch((e) => replace(list, errorBox(e)));
  return page;
}

const NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/; // as the server checks it

function newPage(query) {
  const chosen = new Set((query.get('products') || '').split(',').map((x) => x.trim()).filter(Boolean));
  const withF = new Set((query.get('with') || '').split(',').map((x) => x.trim()).filter(Boolean));
  const name = h('input', { id: 'deployment-name', test: 'deployment-name', placeholder: 'e.g. radius-campus', autocomplete: 'off', spellcheck: 'false', required: true, pattern: NAME_RE.source, maxlength: 100 });
  const nameErr = h('div', { class: 'err-slot', 'aria-live': 'polite' });
  const filter = h('input', { type: 'search', id: 'product-filter', test: 'product-filter', placeholder: 'filter products', spellcheck: 'false' });
  const picker = h('div', { class: 'picker', test: 'product-picker', role: 'group', 'aria-label': 'Products' }, loading());
  const feats = h('div', { class: 'features-pick' });
  const skelErr = h('div', { class: 'err-slot' });
  const skelBtn = h('button', { type: 'button', test: 'skeleton', class: 'primary' }, 'Write the skeleton into the editor');
  const undoBtn = h('button', { type: 'button', hidden: true }, 'Undo (bring my text back)');
  const msg = h('input', { id: 'save-message', test: 'save-message', placeholder: 'what this version is', maxlength: 500 });
  const saveBtn = h('button', { type: 'button', class: 'primary', test: 'save' }, 'Create deployment');
  const saveErr = h('div', { class: 'err-slot', test: 'save-status', 'aria-live': 'polite' });
  const ed = makeEditor({ file: () => (name.value.trim() || 'deployment') + '.yaml' });
  let lastSkeleton = null;
  let undoText = null;

  const page = h('section', null,
    h('p', { class: 'crumbs' }, link('#/deployments', 'Deployments'), ' › new'),
    h('h1', null, 'New deployment'),
    h('ol', { class: 'steps' },
      h('li', null, h('h2', null, 'Name it'), field('Deployment name', name, 'Letters, digits, dot, dash, underscore; it names the files portplan writes.'), nameErr),
      h('li', null, h('h2', null, 'Pick the products it runs'), field('Filter', filter), picker,
        h('h3', null, 'Features to switch on'), feats,
        h('div', { class: 'actions' }, skelBtn, undoBtn), skelErr,
        h('p', { class: 'hint' }, 'The skeleton is what `portplan new` writes: every role to place on your hosts, with placeholder addresses to replace.')),
      h('li', null, h('h2', null, 'Edit it'), h('p', { class: 'hint' }, 'Checked as you type; each finding is marked at its line.'), ed.root),
      h('li', null, h('h2', null, 'Save it'), field('Message (optional)', msg),
        h('div', { class: 'actions' }, saveBtn), saveErr)));

  async function drawFeatures() {
    clear(feats);
    if (!chosen.size) { feats.append(h('p', { class: 'muted' }, 'Pick a product first.')); return; }
    for (const pid of chosen) {
      const box = h('fieldset', { class: 'feat-box' }, h('legend', null, pid), loading());
      feats.append(box);
      product(pid).then((p) => {
        const fs = toList(p.features);
        box.lastChild.remove();
        if (!fs.length) { box.append(h('p', { class: 'muted' }, 'No optional features.')); return; }
        for (const f of fs) {
          const cb = h('input', { type: 'checkbox', test: 'pick-feature', value: f.id, checked: withF.has(f.id), id: `feat-${pid}-${f.id}` });
          cb.addEventListener('change', () => { cb.checked ? withF.add(f.id) : withF.delete(f.id); });
          box.append(h('div', { class: 'check' }, cb, h('label', { for: cb.id }, f.name, ' ', h('code', { class: 'muted' }, f.id), f.default ? ' (on by default)' : '')));
        }
      }).catch((e) => { box.lastChild.remove(); box.append(errorBox(e)); });
    }
  }

  catalogList().then((ps) => {
    clear(picker);
    for (const p of ps) {
      const cb = h('input', { type: 'checkbox', test: 'pick-product', value: p.id, id: `pick-${p.id}`, checked: chosen.has(p.id) });
      cb.addEventListener('change', () => { cb.checked ? chosen.add(p.id) : chosen.delete(p.id); drawFeatures(); });
      picker.append(h('div', { class: 'check', 'data-name': `${p.id} ${p.name} ${p.vendor}`.toLowerCase() }, cb, h('label', { for: cb.id }, p.name, ' ', h('code', { class: 'muted' }, p.id))));
    }
    drawFeatures();
    if (chosen.size && !ed.getValue()) fillSkeleton();
  }).catch((e) => replace(picker, errorBox(e)));
  filter.addEventListener('input', () => {
    const t = filter.value.trim().toLowerCase();
    for (const d of picker.querySelectorAll('.check')) d.hidden = !!t && !d.dataset.name.includes(t);
  });

  async function fillSkeleton() {
    clear(skelErr);
    if (!chosen.size) { skelErr.append(errorBox({ body: { error: 'Pick at least one product.' } })); return; }
    skelBtn.disabled = true;
    try {
      const y = await api('GET', `/api/skeleton?products=${enc([...chosen].join(','))}${withF.size ? '&with=' + enc([...withF].join(',')) : ''}`);
      const cur = ed.getValue();
      if (cur.trim() && cur !== lastSkeleton) { undoText = cur; undoBtn.hidden = false; }
      lastSkeleton = String(y);
      const n = name.value.trim();
      ed.setValue(n ? lastSkeleton.replace(/^name: .*$/m, `name: ${n}`) : lastSkeleton);
      ed.check();
    } catch (e) { skelErr.append(errorBox(e)); }
    skelBtn.disabled = false;
  }
  skelBtn.addEventListener('click', fillSkeleton);
  undoBtn.addEventListener('click', () => { if (undoText !== null) { ed.setValue(undoText); ed.check(); undoText = null; undoBtn.hidden = true; } });
  name.addEventListener('change', () => {
    const n = name.value.trim();
    const v = ed.getValue();
    // Keep the file's name: line in step with the field while it is the skeleton's.
    if (n && NAME_RE.test(n) && /^name: (my-deployment|[A-Za-z0-9._-]+)\s*$/m.test(v) && (v === lastSkeleton || /^name: my-deployment\s*$/m.test(v))) {
      ed.setValue(v.replace(/^name: .*$/m, `name: ${n}`));
      lastSkeleton = ed.getValue();
      ed.check();
    }
  });

  saveBtn.addEventListener('click', async () => {
    clear(nameErr); clear(saveErr);
    const n = name.value.trim();
    if (!NAME_RE.test(n)) {
      nameErr.append(errorBox({ body: { error: n ? 'A name is letters, digits, dot, dash or underscore (up to 100), not starting with a dot.' : 'Give the deployment a name.', where: 'name' } }));
      name.focus();
      return;
    }
    if (!ed.getValue().trim()) { saveErr.append(errorBox({ body: { error: 'The deployment is empty: pick products and write the skeleton, or type YAML.' } })); return; }
    saveBtn.disabled = true;
    try {
      const r = await api('POST', '/api/deployments', { json: { name: n, yaml: ed.getValue(), message: msg.value.trim() || undefined } });
      location.hash = `#/deployments/${enc(r.name || n)}`;
    } catch (e) {
      const where = e.body && e.body.where;
      if (where === 'name' || e.status === 409) { nameErr.append(errorBox(e)); name.focus(); }
      else saveErr.append(errorBox(e, (d) => ed.gotoLine(d.line, d.column)));
      if (e.body && e.body.diagnostics) ed.setDiagnostics(e.body.diagnostics);
    }
    saveBtn.disabled = false;
  });
  S.cleanup.push(() => ed.destroy());
  return page;
}

/* ------------------------------------------------------------------ */
/* The YAML editor: a textarea with a line gutter and located findings */
/* ------------------------------------------------------------------ */

function makeEditor(opts) {
  const LH = 20; // px, as in style.css (.editor textarea, .gutter)
  const PAD = 8;
  const ta = h('textarea', { id: 'yaml-editor', test: 'yaml-editor', class: 'code-input', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', wrap: 'off', 'aria-label': 'Deployment YAML', 'aria-describedby': 'check-status' });
  const gutter = h('div', { class: 'gutter', test: 'gutter', 'aria-hidden': 'true' });
  const marks = h('div', { class: 'marks', 'aria-hidden': 'true' });
  const code = h('div', { class: 'code' }, marks, ta);
  const scroller = h('div', { class: 'editor-scroll' }, h('div', { class: 'editor-inner' }, gutter, code));
  const status = h('div', { class: 'check-status', id: 'check-status', test: 'check-status', role: 'status', 'aria-live': 'polite' }, 'Not checked yet.');
  const cursor = h('div', { class: 'cursor-info muted' });
  const list = h('div', { class: 'diag-panel' });
  const root = h('div', { class: 'editor' }, scroller, h('div', { class: 'editor-bar' }, status, cursor), list);
  let diags = [];
  let lines = 1;
  let seq = 0;
  let charW = 7.8;
  let onChange = null;

  function measure() {
    const probe = h('span', { class: 'code-probe' }, 'x'.repeat(100));
    code.append(probe);
    const w = probe.getBoundingClientRect().width / 100;
    probe.remove();
    if (w > 0) charW = w;
  }
  function layout() {
    const text = ta.value;
    const ls = text.split('\n');
    if (ls.length !== lines || gutter.childElementCount !== ls.length) {
      lines = ls.length;
      clear(gutter);
      for (let i = 1; i <= lines; i++) gutter.append(h('div', { class: 'ln', 'data-line': i }, String(i)));
      paintGutter();
    }
    const longest = ls.reduce((m, l) => Math.max(m, l.length), 0);
    // The textarea is as large as its text, so it never scrolls itself: the
    // box around it scrolls, and the gutter and the marks move with it.
    ta.style.height = `${lines * LH + 2 * PAD + 16}px`;
    const room = scroller.clientWidth - gutter.offsetWidth;
    ta.style.width = `${Math.max(room, Math.ceil((longest + 2) * charW + 2 * PAD + 24))}px`;
    drawMarks();
  }
  function paintGutter() {
    for (const d of gutter.children) { d.classList.remove('error', 'warning'); d.removeAttribute('title'); }
    for (const d of diags) {
      if (!d.line) continue;
      const g = gutter.children[d.line - 1];
      if (!g) continue;
      g.classList.add(d.severity === 'warning' && !g.classList.contains('error') ? 'warning' : 'error');
      if (d.severity !== 'warning') g.classList.remove('warning');
      g.title = (g.title ? g.title + '\n' : '') + `${d.severity}: ${d.message}`;
    }
  }
  function drawMarks() {
    clear(marks);
    const ls = ta.value.split('\n');
    const seen = new Map();
    for (const d of diags) {
      if (!d.line || d.line > ls.length) continue;
      const top = PAD + (d.line - 1) * LH;
      const cls = d.severity === 'warning' ? 'warning' : 'error';
      if (!seen.has(d.line)) {
        marks.append(h('div', { class: `band ${cls}` }));
        marks.lastChild.style.top = `${top}px`;
        marks.lastChild.style.height = `${LH}px`;
        seen.set(d.line, 0);
      }
      const k = seen.get(d.line);
      seen.set(d.line, k + 1);
      if (k > 0) continue; // one lens per line; the list holds them all
      const n = diags.filter((x) => x.line === d.line).length;
      const lens = h('div', { class: `lens ${cls}` }, `${d.message}${n > 1 ? ` (+${n - 1} more)` : ''}`);
      lens.style.top = `${top}px`;
      lens.style.left = `${PAD + (ls[d.line - 1].length + 3) * charW}px`;
      marks.append(lens);
    }
  }
  function drawList() {
    clear(list);
    if (!diags.length) return;
    const errs = diags.filter((d) => d.severity !== 'warning');
    const sorted = errs.concat(diags.filter((d) => d.severity === 'warning'));
    list.append(h('h3', { class: 'sr-only' }, 'Findings'), diagList(sorted, (d) => gotoLine(d.line, d.column)));
  }
  function setDiagnostics(ds) {
    diags = toList(ds);
    paintGutter();
    drawMarks();
    drawList();
    showCursor();
  }
  function gotoLine(line, col) {
    const ls = ta.value.split('\n');
    const l = Math.max(1, Math.min(line || 1, ls.length));
    let pos = 0;
    for (let i = 0; i < l - 1; i++) pos += ls[i].length + 1;
    pos += Math.max(0, Math.min((col || 1) - 1, ls[l - 1].length));
    ta.focus({ preventScroll: true });
    ta.setSelectionRange(pos, pos);
    const top = PAD + (l - 1) * LH;
    const vis = scroller.clientHeight;
    if (top < scroller.scrollTop || top + LH > scroller.scrollTop + vis) scroller.scrollTop = Math.max(0, top - vis / 3);
    const left = ((col || 1) - 1) * charW;
    if (left < scroller.scrollLeft || left > scroller.scrollLeft + scroller.clientWidth - 60) scroller.scrollLeft = Math.max(0, left - 40);
    if (scroller.getBoundingClientRect().top < 0 || scroller.getBoundingClientRect().top > window.innerHeight - 100) scroller.scrollIntoView({ block: 'nearest' });
    showCursor();
  }
  function cursorLine() {
    const before = ta.value.slice(0, ta.selectionStart);
    const l = before.split('\n').length;
    const c = ta.selectionStart - before.lastIndexOf('\n');
    return [l, c];
  }
  function showCursor() {
    const [l, c] = cursorLine();
    const here = diags.filter((d) => d.line === l);
    replace(cursor, `Line ${l}, column ${c}`, here.length ? [' — ', h('span', { class: here.some((d) => d.severity !== 'warning') ? 'bad-text' : 'warn-text' }, here.map((d) => d.message).join('; '))] : '');
  }
  async function check() {
    const my = ++seq;
    const text = ta.value;
    if (!text.trim()) { setDiagnostics([]); replace(status, 'Empty.'); return; }
    replace(status, h('span', { class: 'muted' }, 'Checking…'));
    try {
      const r = await api('POST', `/api/check?name=${enc(opts.file ? opts.file() : 'deployment.yaml')}`, { text, type: 'text/yaml; charset=utf-8' });
      if (my !== seq) return;
      setDiagnostics(r.diagnostics);
      const bits = [];
      if (r.ok) bits.push(h('span', { class: 'ok-text' }, '✓ No errors'));
      else bits.push(h('span', { class: 'bad-text' }, plural(r.errors, 'error')));
      if (r.warnings) bits.push(', ', h('span', { class: 'warn-text' }, plural(r.warnings, 'warning')));
      if (r.ok) bits.push(` · ${plural(r.flows || 0, 'flow')} planned`);
      replace(status, bits);
      status.dataset.ok = r.ok ? 'true' : 'false';
    } catch (e) {
      if (my === seq) replace(status, h('span', { class: 'bad-text' }, `Cannot check: ${e.message}`));
    }
  }
  const later = debounce(check, 400);
  ta.addEventListener('input', () => { layout(); later(); if (onChange) onChange(ta.value); });
  ta.addEventListener('keyup', showCursor);
  ta.addEventListener('click', showCursor);
  ta.addEventListener('keydown', (e) => {
    // Tab indents by two spaces in the editor; Escape then Tab leaves it (keyboard users are not trapped).
    if (e.key === 'Escape') { ta.dataset.escaped = '1'; return; }
    if (e.key === 'Tab' && !e.shiftKey && !ta.dataset.escaped && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      const a = ta.selectionStart, b = ta.selectionEnd;
      ta.setRangeText('  ', a, b, 'end');
      ta.dispatchEvent(new Event('input'));
    }
    if (e.key !== 'Tab') delete ta.dataset.escaped;
  });
  ta.addEventListener('scroll', () => { if (ta.scrollTop || ta.scrollLeft) { ta.scrollTop = 0; ta.scrollLeft = 0; } });
  window.addEventListener('resize', layoutSoon);
  gutter.addEventListener('click', (e) => {
    const ln = e.target.closest('.ln');
    if (ln) gotoLine(Number(ln.dataset.line), 1);
  });
  function layoutSoon() { requestAnimationFrame(() => { if (root.isConnected) layout(); }); }
  requestAnimationFrame(() => { measure(); layout(); });
  return {
    root,
    textarea: ta,
    getValue: () => ta.value,
    setValue: (v) => { ta.value = v; ta.setSelectionRange(0, 0); layout(); showCursor(); },
    setReadOnly: (ro) => { ta.readOnly = ro; },
    set onChange(f) { onChange = f; },
    setDiagnostics,
    gotoLine,
    check,
    checkLater: later,
    destroy: () => { later.cancel(); seq++; window.removeEventListener('resize', layoutSoon); },
  };
}

/* ------------------------------------------------------------------ */
/* One deployment: edit, history, plan, diagram, downloads             */
/* ------------------------------------------------------------------ */

function tabs(name, on) {
  const t = (key, href, text) => h('a', { href, test: `tab-${key}`, class: 'tab', 'aria-current': on === key ? 'page' : null }, text);
  return h('nav', { class: 'tabs', 'aria-label': `Deployment ${name}` },
    t('edit', `#/deployments/${enc(name)}`, 'Edit & plan'),
    t('audit', `#/deployments/${enc(name)}/audit`, 'Audit a ruleset'),
    t('reports', `#/deployments/${enc(name)}/reports`, 'Verification reports'));
}

function deploymentPage(name) {
  const head = h('div', { class: 'dep-head' }, h('h1', { test: 'deployment-title' }, name), loading());
  const ed = makeEditor({ file: () => `${name}.yaml` });
  const msg = h('input', { id: 'save-message', test: 'save-message', placeholder: 'what changed (optional)', maxlength: 500 });
  const saveBtn = h('button', { type: 'button', class: 'primary', test: 'save', disabled: true }, 'Save');
  const dirtyMark = h('span', { class: 'dirty', hidden: true }, 'Unsaved changes');
  const saveStatus = h('div', { class: 'err-slot', test: 'save-status', 'aria-live': 'polite' });
  const conflict = h('div', { test: 'conflict', hidden: true, class: 'conflict', role: 'alert' });
  const histBox = h('div', { test: 'history' }, loading());
  const versionView = h('div', { test: 'version-view' });
  const planBox = h('div', { test: 'plan' }, loading());
  const diagram = h('div', { test: 'diagram', class: 'diagram' }, loading());
  const files = h('div', { class: 'files' }, loading());
  const delSlot = h('div', { class: 'danger-zone' });
  let base = null; // the version the editor text starts from
  let savedText = '';
  let legend = [];

  const page = h('article', null,
    h('p', { class: 'crumbs' }, link('#/deployments', 'Deployments'), ' › ', name),
    head, tabs(name, 'edit'),
    h('nav', { class: 'toc inline', 'aria-label': 'On this page' }, h('ul', null,
      h('li', null, h('a', { href: '#', onclick: jump('sec-edit') }, 'Edit')),
      h('li', null, h('a', { href: '#', onclick: jump('sec-history') }, 'History')),
      h('li', null, h('a', { href: '#', onclick: jump('sec-plan') }, 'Plan')),
      h('li', null, h('a', { href: '#', onclick: jump('sec-diagram') }, 'Diagram')),
      h('li', null, h('a', { href: '#', onclick: jump('sec-files') }, 'Download rules')))),
    h('section', { id: 'sec-edit' }, h('h2', null, 'Deployment file'), ed.root,
      h('div', { class: 'savebar' }, field('Message', msg), saveBtn, dirtyMark), conflict, saveStatus),
    h('section', { id: 'sec-history' }, h('h2', null, 'History'), histBox, versionView),
    h('section', { id: 'sec-plan' }, h('h2', null, 'Plan'), planBox),
    h('section', { id: 'sec-diagram' }, h('h2', null, 'Diagram'), diagram),
    h('section', { id: 'sec-files' }, h('h2', null, 'Download firewall rules'), files),
    delSlot);

  function setDirty() {
    const dirty = ed.getValue() !== savedText;
    dirtyMark.hidden = !dirty;
    saveBtn.disabled = !dirty;
    if (dirty) S.drafts.set(name, { base, text: ed.getValue() }); else S.drafts.delete(name);
  }
  ed.onChange = setDirty;

  function drawHead(d) {
    replace(head, h('h1', { test: 'deployment-title' }, name),
      h('p', { class: 'meta' }, badge(`version ${d.version}`, 'ver', { test: 'version', 'data-version': d.version }),
        ' saved ', fmtTime(d.updated_at), d.updated_by ? ` by ${d.updated_by}` : '',
        d.created_at ? [' · created ', fmtTime(d.created_at), d.created_by ? ` by ${d.created_by}` : ''] : ''));
  }

  async function loadLatest(keepDraft) {
    const d = await api('GET', `/api/deployments/${enc(name)}`);
    base = d.version;
    savedText = d.yaml;
    drawHead(d);
    const draft = S.drafts.get(name);
    if (keepDraft && draft && draft.text !== d.yaml) {
      ed.setValue(draft.text);
      base = draft.base;
      banner(`Your unsaved edit (started from version ${draft.base}) is back in the editor: save it, or`, 'info', {
        label: `drop it and show version ${d.version}`,
        run: () => { S.drafts.delete(name); base = d.version; ed.setValue(d.yaml); setDirty(); ed.check(); },
      });
    } else {
      ed.setValue(d.yaml);
    }
    setDirty();
    ed.check();
    return d;
  }

  async function loadHistory() {
    try {
      const r = await api('GET', `/api/deployments/${enc(name)}/versions`);
      const vs = toList(r.versions);
      replace(histBox, h('table', { class: 'grid' },
        h('thead', null, h('tr', null, ['Version', 'Author', 'Message', 'Saved', 'Lines', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, vs.map((v) => h('tr', { 'data-version': v.version },
          h('td', { class: 'num' }, `v${v.version}`),
          h('td', null, v.author || ''),
          h('td', null, v.message || h('span', { class: 'muted' }, '—')),
          h('td', null, fmtTime(v.created_at)),
          h('td', { class: 'num' }, h('span', { class: 'ok-text' }, `+${v.lines_added ?? 0}`), ' ', h('span', { class: 'bad-text' }, `−${v.lines_removed ?? 0}`)),
          h('td', null, h('button', { type: 'button', class: 'link', test: 'history-view', onclick: () => viewVersion(v.version) }, 'View')))))));
    } catch (e) { replace(histBox, errorBox(e)); }
  }

  async function viewVersion(v) {
    replace(versionView, loading());
    try {
      const [d, prev] = await Promise.all([
        api('GET', `/api/deployments/${enc(name)}?version=${v}`),
        v > 1 ? api('GET', `/api/deployments/${enc(name)}?version=${v - 1}`).catch(() => null) : Promise.resolve(null),
      ]);
      const diffView = prev ? diffTable(prev.yaml, d.yaml, `v${v - 1}`, `v${v}`) : null;
      replace(versionView, h('div', { class: 'card' },
        h('div', { class: 'titlebar' }, h('h3', null, `Version ${d.version}`, h('span', { class: 'muted' }, ` by ${d.updated_by || d.created_by || '?'}`), ' ', fmtTime(d.updated_at || d.created_at)),
          h('div', { class: 'actions' },
            h('button', { type: 'button', onclick: () => { ed.setValue(d.yaml); setDirty(); ed.check(); msg.value = `Back to version ${d.version}`; document.getElementById('sec-edit').scrollIntoView(); } }, 'Load into the editor'),
            h('button', { type: 'button', onclick: () => clear(versionView) }, 'Close'))),
        d.message ? h('p', null, d.message) : null,
        diffView ? h('details', { open: true }, h('summary', null, `Changes from version ${v - 1}`), diffView) : null,
        h('details', { open: !diffView }, h('summary', null, 'Whole file'), h('pre', { class: 'code' }, d.yaml))));
    } catch (e) { replace(versionView, errorBox(e)); }
  }

  async function save(baseVersion) {
    clear(saveStatus);
    conflict.hidden = true;
    saveBtn.disabled = true;
    try {
      const r = await api('PUT', `/api/deployments/${enc(name)}`, { json: { yaml: ed.getValue(), base_version: baseVersion, message: msg.value.trim() || undefined } });
      base = r.version;
      savedText = ed.getValue();
      msg.value = '';
      S.drafts.delete(name);
      setDirty();
      drawHead(r);
      replace(saveStatus, h('p', { class: 'ok-text' }, `Saved as version ${r.version}.`));
      loadHistory();
      loadPlan();
    } catch (e) {
      if (e.status === 409) showConflict(e);
      else {
        saveStatus.append(errorBox(e, (d) => ed.gotoLine(d.line, d.column)));
        if (e.body && e.body.diagnostics) ed.setDiagnostics(e.body.diagnostics);
      }
      setDirty();
    }
  }
  saveBtn.addEventListener('click', () => save(base));
  ed.textarea.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); if (!saveBtn.disabled) save(base); }
  });

  async function showConflict(e) {
    const current = e.body.current_version;
    conflict.hidden = false;
    replace(conflict, h('strong', null, 'Not saved: someone else saved in the meantime.'),
      h('p', null, e.body.error || `Version ${current} was saved after version ${base}, the one your edit started from.`),
      h('p', null, 'Your text is still in the editor. Compare, then either save yours on top of theirs, or take theirs.'),
      loading());
    let theirs = null;
    try {
      const [d, vs] = await Promise.all([
        api('GET', `/api/deployments/${enc(name)}${current ? '?version=' + current : ''}`),
        api('GET', `/api/deployments/${enc(name)}/versions`).catch(() => ({ versions: [] })),
      ]);
      theirs = d;
      const newer = toList(vs.versions).filter((v) => v.version > base);
      conflict.lastChild.remove();
      conflict.append(
        newer.length ? h('ul', null, newer.map((v) => h('li', null, `v${v.version} by ${v.author || '?'} `, fmtTime(v.created_at), v.message ? ` — ${v.message}` : ''))) : null,
        h('details', null, h('summary', null, `Their version ${d.version} compared with your text`), diffTable(d.yaml, ed.getValue(), `v${d.version} (theirs)`, 'yours')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', test: 'conflict-overwrite', onclick: () => save(d.version) }, `Save mine as version ${d.version + 1}`),
          h('button', { type: 'button', test: 'conflict-reload', onclick: () => {
            conflict.hidden = true;
            S.drafts.delete(name);
            base = d.version; savedText = d.yaml; ed.setValue(d.yaml); setDirty(); ed.check(); drawHead(d); loadHistory(); loadPlan();
          } }, `Drop mine, load version ${d.version}`)));
    } catch (err) { conflict.lastChild.remove(); conflict.append(errorBox(err)); }
    return theirs;
  }

  async function loadPlan() {
    replace(planBox, loading('Planning…'));
    replace(diagram, loading('Drawing…'));
    try {
      const p = await api('GET', `/api/deployments/${enc(name)}/plan`);
      legend = toList(p.legend);
      drawPlan(planBox, p, name);
    } catch (e) {
      legend = [];
      replace(planBox, errorBox(e, (d) => ed.gotoLine(d.line, d.column)), h('p', { class: 'muted' }, 'Fix the errors above (they are marked in the editor too), save, and the plan appears here.'));
    }
    drawFiles();
    try {
      const g = await api('GET', `/api/deployments/${enc(name)}/graph`);
      drawDiagram(diagram, g, name);
    } catch (e) {
      if (e.status === 422) replace(diagram, h('p', { class: 'muted' }, 'No diagram while the deployment has errors: they are listed under Plan and marked in the editor.'));
      else replace(diagram, errorBox(e));
    }
  }

  async function drawFiles() {
    try {
      const f = await formats();
      const fmts = toList(f.render);
      const sel = h('select', { id: 'download-format', test: 'download-format' },
        h('optgroup', { label: 'Network firewalls and clouds' }, fmts.filter((x) => !x.per_host && !['mermaid', 'dot'].includes(x.name)).map((x) => h('option', { value: x.name, 'data-per-host': 'false' }, `${x.name} (.${x.extension})`))),
        h('optgroup', { label: 'Host firewalls (pick the host)' }, fmts.filter((x) => x.per_host).map((x) => h('option', { value: x.name, 'data-per-host': 'true' }, `${x.name} (.${x.extension})`))),
        h('optgroup', { label: 'Pictures' }, fmts.filter((x) => !x.per_host && ['mermaid', 'dot'].includes(x.name)).map((x) => h('option', { value: x.name, 'data-per-host': 'false' }, `${x.name} (.${x.extension})`))));
      const host = h('select', { id: 'for-host', test: 'for-host' }, h('option', { value: '' }, '(whole deployment)'),
        legend.map((l) => h('option', { value: l.name }, `${l.name}${toList(l.addresses).length ? ' — ' + toList(l.addresses).slice(0, 3).join(', ') : ''}`)));
      const hostHint = h('small', { class: 'hint' });
      const status = h('div', { test: 'download-status', 'aria-live': 'polite' });
      const preview = h('div', { test: 'download-preview' });
      const btn = h('button', { type: 'button', class: 'primary', test: 'download' }, 'Download');
      const previewBtn = h('button', { type: 'button', test: 'download-show' }, 'Show here');
      const hostErr = h('div', { class: 'err-slot' });
      const sync = () => {
        const per = sel.selectedOptions[0] && sel.selectedOptions[0].dataset.perHost === 'true';
        hostHint.textContent = per ? 'Required: a host firewall is written for one host.' : 'Optional: only the flows of this host.';
        host.classList.toggle('needed', per && !host.value);
      };
      sel.addEventListener('change', sync);
      host.addEventListener('change', sync);
      sync();
      async function fetchFile(download) {
        clear(status); clear(hostErr); clear(preview);
        const per = sel.selectedOptions[0] && sel.selectedOptions[0].dataset.perHost === 'true';
        if (per && !host.value) {
          hostErr.append(errorBox({ body: { error: `${sel.value} is a host firewall: pick the host it is for.`, where: 'for_host' } }));
          host.focus();
          return;
        }
        btn.disabled = previewBtn.disabled = true;
        try {
          const r = await api('GET', `/api/deployments/${enc(name)}/files/${enc(sel.value)}${host.value ? '?for_host=' + enc(host.value) : ''}`, { raw: true });
          const text = await r.text();
          const cd = r.headers.get('content-disposition') || '';
          const m = /filename="?([^";]+)"?/.exec(cd);
          const fname = m ? m[1] : `${name}-${sel.value}.txt`;
          const n = Number(r.headers.get('x-portplan-not-expressed') || 0);
          const items = (r.headers.get('x-portplan-not-expressed-items') || '').split(' | ').filter(Boolean);
          if (download) saveBlob(fname, text, 'text/plain');
          replace(status, h('p', null, download ? `Downloaded ${fname} ` : `${fname} `, h('span', { class: 'muted' }, `(${text.split('\n').length} lines)`), '. ',
            n ? h('span', { class: 'warn-text' }, `${plural(n, 'item')} the format cannot express (listed in the file's comments):`) : h('span', { class: 'ok-text' }, 'Everything planned is expressed.')),
            items.length ? h('ul', { class: 'small' }, items.map((x) => h('li', null, x))) : null);
          replace(preview, h('pre', { class: 'code preview' }, text));
        } catch (e) {
          const where = e.body && e.body.where;
          (where === 'for_host' ? hostErr : status).append(errorBox(e));
        }
        btn.disabled = previewBtn.disabled = false;
      }
      btn.addEventListener('click', () => fetchFile(true));
      previewBtn.addEventListener('click', () => fetchFile(false));
      replace(files,
        h('div', { class: 'filters' }, field('Format', sel), h('div', { class: 'field' }, h('label', { for: 'for-host' }, 'For host'), host, hostHint, hostErr),
          h('div', { class: 'field end' }, h('div', { class: 'actions' }, btn, previewBtn))),
        status, preview);
    } catch (e) { replace(files, errorBox(e)); }
  }

  function drawDelete() {
    const btn = h('button', { type: 'button', class: 'danger', test: 'delete' }, 'Delete this deployment…');
    const slot = h('span');
    btn.addEventListener('click', () => {
      replace(slot, ' ', h('span', null, `Delete ${name} and all its versions, audits and reports? `),
        h('button', { type: 'button', class: 'danger', test: 'delete-confirm', onclick: async () => {
          try { await api('DELETE', `/api/deployments/${enc(name)}`); S.drafts.delete(name); location.hash = '#/deployments'; } catch (e) { slot.append(errorBox(e)); }
        } }, `Yes, delete ${name}`), ' ',
        h('button', { type: 'button', onclick: () => clear(slot) }, 'Keep it'));
    });
    replace(delSlot, h('h2', null, 'Delete'), btn, slot);
  }

  loadLatest(true).then(() => { loadHistory(); loadPlan(); drawDelete(); })
    .catch((e) => {
      replace(head, h('h1', { test: 'deployment-title' }, name), errorBox(e),
        e.status === 404 ? h('p', null, link('#/deployments', 'See the deployments'), ' or ', link('#/new', 'create one')) : null);
      for (const sec of page.querySelectorAll('section, nav.toc, nav.tabs, .danger-zone')) sec.hidden = true;
    });
  S.cleanup.push(() => ed.destroy());
  return page;
}

/** A line diff (longest common subsequence), shown as a two-column table. */
function lineDiff(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  let i0 = 0;
  while (i0 < x.length && i0 < y.length && x[i0] === y[i0]) i0++;
  let e = 0;
  while (e < x.length - i0 && e < y.length - i0 && x[x.length - 1 - e] === y[y.length - 1 - e]) e++;
  const xs = x.slice(i0, x.length - e), ys = y.slice(i0, y.length - e);
  const out = [];
  for (let i = 0; i < i0; i++) out.push([' ', x[i], i + 1, i + 1]);
  if (xs.length * ys.length > 4e6) {
    xs.forEach((l, k) => out.push(['-', l, i0 + k + 1, null]));
    ys.forEach((l, k) => out.push(['+', l, null, i0 + k + 1]));
  } else {
    const n = xs.length, m = ys.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = xs[i] === ys[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) { out.push([' ', xs[i], i0 + i + 1, i0 + j + 1]); i++; j++; }
      else if (i < n && (j >= m || L[i + 1][j] >= L[i][j + 1])) { out.push(['-', xs[i], i0 + i + 1, null]); i++; }
      else { out.push(['+', ys[j], null, i0 + j + 1]); j++; }
    }
  }
  for (let k = 0; k < e; k++) out.push([' ', x[x.length - e + k], x.length - e + k + 1, y.length - e + k + 1]);
  return out;
}
function diffTable(a, b, la, lb) {
  const d = lineDiff(a, b);
  const changed = d.map((r, i) => (r[0] !== ' ' ? i : -1)).filter((i) => i >= 0);
  if (!changed.length) return h('p', { class: 'muted' }, 'No difference.');
  const keep = new Set();
  for (const i of changed) for (let k = i - 2; k <= i + 2; k++) keep.add(k);
  const rows = [];
  let gap = false;
  d.forEach((r, i) => {
    if (!keep.has(i)) { if (!gap) rows.push(h('tr', { class: 'gap' }, h('td', { colspan: 3 }, '⋯'))); gap = true; return; }
    gap = false;
    rows.push(h('tr', { class: r[0] === '+' ? 'add' : r[0] === '-' ? 'del' : '' },
      h('td', { class: 'num' }, r[2] ?? ''), h('td', { class: 'num' }, r[3] ?? ''), h('td', null, h('code', null, `${r[0]} ${r[1]}`))));
  });
  return h('table', { class: 'diff' }, h('thead', null, h('tr', null, h('th', null, la), h('th', null, lb), h('th', null, ''))), h('tbody', null, rows));
}

function drawPlan(box, p, name) {
  const flows = toList(p.flows);
  const filter = h('input', { type: 'search', id: 'plan-filter', test: 'plan-filter', placeholder: 'host, port, product…', spellcheck: 'false' });
  const tbody = h('tbody');
  const count = h('span', { class: 'muted' });
  const rowText = (f) => [f.from, f.to, f.protocol, f.ports, f.scope, f.because, toList(f.notes).join(' ')].join(' ').toLowerCase();
  function draw() {
    const t = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const rows = flows.filter((f) => t.every((w) => rowText(f).includes(w)));
    count.textContent = `${rows.length} of ${plural(flows.length, 'flow')}`;
    replace(tbody, rows.map((f) => h('tr', { test: 'plan-row', class: f.required === false ? 'optional' : '' },
      h('td', null, sideText(f.from)), h('td', null, sideText(f.to)),
      h('td', null, f.protocol || ''), h('td', { class: 'ports' }, String(f.ports ?? '')),
      h('td', null, f.scope || ''),
      h('td', null, f.required === false ? badge('optional', 'warn') : badge('required', 'ok')),
      h('td', null, toList(f.reasons).length ? h('ul', { class: 'plain' }, toList(f.reasons).map((r) => h('li', null,
        link(`#/products/${enc(r.product)}?req=${enc(r.requirement)}`, `${r.product}/${r.requirement}`), r.service ? h('span', { class: 'muted' }, ` ${r.service}`) : null,
        r.source ? h('div', null, h('code', { class: 'fileline' }, r.source)) : null))) : (f.because || ''),
        toList(f.notes).length ? h('div', { class: 'small muted' }, toList(f.notes).join(' ')) : null))));
  }
  filter.addEventListener('input', debounce(draw, 120));
  const csv = () => csvOf([['from', 'to', 'protocol', 'ports', 'scope', 'required', 'because', 'sources']].concat(flows.map((f) => [sideText(f.from), sideText(f.to), f.protocol, f.ports, f.scope, f.required === false ? 'optional' : 'required', f.because || '', toList(f.reasons).map((r) => r.source).join(' ')])));
  const diags = toList(p.diagnostics);
  replace(box,
    h('p', null, `Version ${p.version}: ${plural(flows.length, 'flow')}. `, h('span', { class: 'muted' }, 'One row per rule to open; each names the catalog requirements it comes from.')),
    diags.length ? h('details', { open: diags.some((d) => d.severity !== 'warning') }, h('summary', null, `${plural(diags.length, 'finding')} of the planner`), diagList(diags)) : null,
    h('div', { class: 'filters' }, field('Filter the flows', filter), h('div', { class: 'field end' }, h('div', { class: 'actions' }, count,
      h('button', { type: 'button', test: 'plan-export-csv', onclick: () => saveBlob(`${name}-v${p.version}-plan.csv`, csv(), 'text/csv') }, 'CSV of the plan')))),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid', test: 'plan-table' },
      h('thead', null, h('tr', null, ['From', 'To', 'Protocol', 'Ports', 'Scope', 'Required', 'Because'].map((x) => h('th', { scope: 'col' }, x)))),
      tbody)),
    toList(p.legend).length ? h('details', { test: 'legend' }, h('summary', null, 'Names and their addresses'),
      h('table', { class: 'grid compact' }, h('tbody', null, toList(p.legend).map((l) => h('tr', null, h('th', { scope: 'row' }, l.name), h('td', null, toList(l.addresses).join(', '))))))) : null);
  draw();
}
function sideText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(', ');
  if (v.labels) return toList(v.labels).join(', ') + (toList(v.addrs).length ? ` (${toList(v.addrs).join(', ')})` : '');
  return JSON.stringify(v);
}

/* ------------------------------------------------------------------ */
/* Diagram: a layered layout drawn as SVG                               */
/* ------------------------------------------------------------------ */

/**
 * A layered layout (Sugiyama, simply): cycles broken by reversing the edges
 * a depth-first search finds going back, layers by longest path, a virtual
 * node in every layer a long edge crosses (so it bends around boxes instead
 * of through them), and barycentre sweeps to cut crossings.
 * Returns the layers (lists of item indexes) and the items: real nodes
 * first (index = position in `nodes`), then virtual ones; and the routes of
 * the edges as item chains.
 */
function layoutGraph(nodes, edges) {
  const n = nodes.length;
  const idx = new Map(nodes.map((nd, i) => [nd.id, i]));
  const out = Array.from({ length: n }, () => []);
  for (const e of edges) {
    const a = idx.get(e.from), b = idx.get(e.to);
    if (a === undefined || b === undefined || a === b) continue;
    out[a].push(b);
  }
  const indeg = new Array(n).fill(0);
  for (let u = 0; u < n; u++) for (const v of out[u]) indeg[v]++;
  const state = new Uint8Array(n);
  const back = new Set();
  const visit = (u) => {
    state[u] = 1;
    for (const v of out[u]) {
      if (state[v] === 1) back.add(`${u}>${v}`);
      else if (state[v] === 0) visit(v);
    }
    state[u] = 2;
  };
  const starts = [...Array(n).keys()].sort((a, b) => indeg[a] - indeg[b] || out[b].length - out[a].length || nodes[a].name.localeCompare(nodes[b].name));
  for (const u of starts) if (!state[u]) visit(u);
  const dag = Array.from({ length: n }, () => new Set());
  for (let u = 0; u < n; u++) for (const v of out[u]) back.has(`${u}>${v}`) ? dag[v].add(u) : dag[u].add(v);
  const layer = new Array(n).fill(0);
  const seen = new Uint8Array(n);
  const topo = [];
  const tv = (u) => { seen[u] = 1; for (const v of dag[u]) if (!seen[v]) tv(v); topo.push(u); };
  for (let u = 0; u < n; u++) if (!seen[u]) tv(u);
  topo.reverse();
  for (const u of topo) for (const v of dag[u]) layer[v] = Math.max(layer[v], layer[u] + 1);
  // Then each node moves right up to the column before its nearest
  // successor, so arrows are short (a network that only reaches one
  // service sits next to it, not at the far left).
  for (const u of topo.slice().reverse()) {
    if (dag[u].size) layer[u] = Math.min(...[...dag[u]].map((v) => layer[v])) - 1;
  }
  const min = Math.min(...layer);
  for (let u = 0; u < n; u++) layer[u] -= min;

  // Items: the real nodes, then one virtual node per crossed layer per edge.
  const items = nodes.map((nd, i) => ({ real: true, i, layer: layer[i] }));
  const adj = Array.from({ length: n }, () => []);
  const routes = new Map(); // edge -> { chain: [item...], reversed }
  for (const e of edges) {
    const a = idx.get(e.from), b = idx.get(e.to);
    if (a === undefined || b === undefined) continue;
    if (a === b) { routes.set(e, { chain: [a], reversed: false, self: true }); continue; }
    const reversed = layer[a] > layer[b];
    const [lo, hi] = reversed ? [b, a] : [a, b];
    const chain = [lo];
    for (let l = layer[lo] + 1; l < layer[hi]; l++) {
      items.push({ real: false, layer: l });
      adj.push([]);
      chain.push(items.length - 1);
    }
    chain.push(hi);
    for (let k = 0; k + 1 < chain.length; k++) { adj[chain[k]].push(chain[k + 1]); adj[chain[k + 1]].push(chain[k]); }
    routes.set(e, { chain, reversed });
  }
  const nl = Math.max(0, ...items.map((x) => x.layer)) + 1;
  const layers = Array.from({ length: nl }, () => []);
  items.forEach((x, k) => layers[x.layer].push(k));
  for (const l of layers) l.sort((a, b) => (items[a].real && items[b].real ? nodes[items[a].i].name.localeCompare(nodes[items[b].i].name) : 0));
  const pos = new Array(items.length).fill(0);
  const reindex = () => layers.forEach((l) => l.forEach((k, j) => { pos[k] = j; }));
  reindex();
  const crossings = () => {
    let c = 0;
    for (let li = 0; li + 1 < layers.length; li++) {
      const es = [];
      for (const k of layers[li]) for (const m of adj[k]) if (items[m].layer === li + 1) es.push([pos[k], pos[m]]);
      for (let x = 0; x < es.length; x++) for (let y = x + 1; y < es.length; y++) if ((es[x][0] - es[y][0]) * (es[x][1] - es[y][1]) < 0) c++;
    }
    return c;
  };
  let best = layers.map((l) => l.slice());
  let bestC = crossings();
  for (let it = 0; it < 12; it++) {
    const down = it % 2 === 0;
    const seq = down ? layers.map((_, i) => i) : layers.map((_, i) => layers.length - 1 - i);
    for (const li of seq) {
      const ref = down ? li - 1 : li + 1;
      if (ref < 0 || ref >= layers.length) continue;
      const bc = new Map();
      for (const k of layers[li]) {
        const ps = adj[k].filter((m) => items[m].layer === ref).map((m) => pos[m]);
        bc.set(k, ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : pos[k]);
      }
      layers[li].sort((a, b) => bc.get(a) - bc.get(b));
      reindex();
    }
    const c = crossings();
    if (c < bestC) { bestC = c; best = layers.map((l) => l.slice()); }
  }
  best.forEach((l, i) => { layers[i] = l; });
  return { layers, items, routes };
}

function drawDiagram(box, g, name) {
  const nodes = toList(g.nodes);
  const edges = toList(g.edges);
  if (!nodes.length) { replace(box, h('p', { class: 'muted' }, 'Nothing to draw: the plan has no flows.')); return; }
  const { layers, items, routes } = layoutGraph(nodes, edges);
  const COLGAP = 210, ROWGAP = 34, LINE = 15, TOP = 24, LEFT = 24, LANE = 18;
  const nameOf = (nd) => (nd.name.length > 30 ? nd.name.slice(0, 29) + '…' : nd.name);
  const boxW = (nd) => Math.max(130, Math.min(250, nameOf(nd).length * 8 + 24, Math.max(nameOf(nd).length * 8 + 24, ...toList(nd.addresses).slice(0, 2).map((a) => Math.min(28, a.length) * 7 + 24))));
  const boxH = (nd) => 18 + LINE * (1 + Math.min(2, toList(nd.addresses).length) + (toList(nd.addresses).length > 2 ? 1 : 0));
  const size = (k) => (items[k].real ? [boxW(nodes[items[k].i]), boxH(nodes[items[k].i])] : [0, LANE]);
  const colW = layers.map((l) => Math.max(0, ...l.map((k) => size(k)[0])));
  const gapAfter = (k) => (items[k].real ? ROWGAP : 8);
  const colH = layers.map((l) => l.reduce((a, k) => a + size(k)[1] + gapAfter(k), 0) - (l.length ? gapAfter(l[l.length - 1]) : 0));
  const maxH = Math.max(...colH);
  const geo = new Array(items.length);
  let x = LEFT;
  layers.forEach((l, li) => {
    let y = TOP + (maxH - colH[li]) / 2;
    for (const k of l) {
      const [w, hh] = size(k);
      geo[k] = { x: items[k].real ? x + (colW[li] - w) / 2 : x + colW[li] / 2, y, w, h: hh, layer: li };
      y += hh + gapAfter(k);
    }
    x += colW[li] + COLGAP;
  });
  const W = x - COLGAP + LEFT + 70;
  const H = TOP * 2 + maxH + 30;
  const uid = 'd' + Math.random().toString(36).slice(2, 8);
  const svg = s('svg', { xmlns: SVGNS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-labelledby': `${uid}-t`, class: 'diagram-svg', test: 'diagram-svg' },
    s('title', { id: `${uid}-t` }, `Who talks to whom in ${name}: ${nodes.length} boxes, ${edges.length} arrows`),
    s('defs', null,
      s('marker', { id: `${uid}-a`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })),
      s('marker', { id: `${uid}-o`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead optional' }))));
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  const labelLayer = s('g', { class: 'labels' });
  svg.append(edgeLayer, nodeLayer, labelLayer);

  // Where each edge leaves and enters a box: spread along the side, in the
  // order of the other end's height, so arrows do not sit on each other.
  const right = new Map(), left = new Map();
  const yOf = (k) => geo[k].y + geo[k].h / 2;
  for (const [e, r] of routes) {
    if (r.self) continue;
    const c = r.chain;
    (right.get(c[0]) || right.set(c[0], []).get(c[0])).push([e, yOf(c[1])]);
    (left.get(c[c.length - 1]) || left.set(c[c.length - 1], []).get(c[c.length - 1])).push([e, yOf(c[c.length - 2])]);
  }
  const at = new Map();
  const spread = (m, key) => {
    for (const [k, list] of m) {
      list.sort((a, b) => a[1] - b[1]);
      const gg = geo[k];
      list.forEach(([e], j) => { const o = at.get(e) || {}; o[key] = gg.y + gg.h * (j + 1) / (list.length + 1); at.set(e, o); });
    }
  };
  spread(right, 'sy');
  spread(left, 'ty');

  const placed = [];
  for (let k = 0; k < items.length; k++) if (items[k].real) placed.push({ x: geo[k].x - 4, y: geo[k].y - 4, w: geo[k].w + 8, h: geo[k].h + 8 });
  const overlaps = (r) => placed.some((q) => r.x < q.x + q.w && q.x < r.x + r.w && r.y < q.y + q.h && q.y < r.y + r.h);
  const edgeEls = [];
  for (const e of edges) {
    const r = routes.get(e);
    if (!r) continue;
    const optional = e.required === false;
    let d, candidates;
    if (r.self) {
      const a = geo[r.chain[0]];
      const p0 = [a.x + a.w, a.y + a.h * 0.3], p3 = [a.x + a.w, a.y + a.h * 0.75];
      d = `M${p0[0]},${p0[1]} C${p0[0] + 55},${p0[1] - 22} ${p3[0] + 55},${p3[1] + 22} ${p3[0]},${p3[1]}`;
      candidates = [[a.x + a.w + 48, a.y + a.h / 2]];
    } else {
      const c = r.chain;
      const o = at.get(e);
      const pts = c.map((k, j) => {
        const gg = geo[k];
        if (j === 0) return [gg.x + gg.w, o.sy];
        if (j === c.length - 1) return [gg.x, o.ty];
        return [gg.x, gg.y + gg.h / 2];
      });
      d = `M${pts[0][0]},${pts[0][1]}`;
      candidates = [];
      for (let j = 0; j + 1 < pts.length; j++) {
        const [p, q] = [pts[j], pts[j + 1]];
        const dx = (q[0] - p[0]) * 0.5;
        d += ` C${p[0] + dx},${p[1]} ${q[0] - dx},${q[1]} ${q[0]},${q[1]}`;
        if (pts.length > 2 && j > 0) candidates.push(p);
        for (const t of [0.5, 0.35, 0.65, 0.25, 0.75]) {
          const m = 1 - t;
          const bx = m * m * m * p[0] + 3 * m * m * t * (p[0] + dx) + 3 * m * t * t * (q[0] - dx) + t * t * t * q[0];
          const by = m * m * m * p[1] + 3 * m * m * t * p[1] + 3 * m * t * t * q[1] + t * t * t * q[1];
          candidates.push([bx, by]);
        }
      }
    }
    const title = `${e.from} → ${e.to}: ${toList(e.services).join('; ') || e.label || ''}${e.scope ? ` (scope ${e.scope})` : ''}${optional ? ' — optional' : ''}`;
    const marker = `url(#${uid}-${optional ? 'o' : 'a'})`;
    const path = s('path', { d, class: `edge${optional ? ' optional' : ''}`, 'marker-end': r.reversed ? null : marker, 'marker-start': r.reversed ? marker : null, 'data-from': e.from, 'data-to': e.to }, s('title', null, title));
    edgeLayer.append(path);
    const full = e.label || toList(e.services).join(', ');
    const text = full.length > 30 ? full.slice(0, 29) + '…' : full;
    const tw = text.length * 6.3 + 10, th = 16;
    let bestR = null;
    for (const [cx, cy] of candidates) {
      const rr = { x: cx - tw / 2, y: cy - th / 2, w: tw, h: th };
      if (!bestR) bestR = rr;
      if (!overlaps(rr)) { bestR = rr; break; }
    }
    if (overlaps(bestR)) {
      // Slide it up or down off what it hides.
      for (const dy of [18, -18, 36, -36, 54, -54]) {
        const rr = Object.assign({}, bestR, { y: bestR.y + dy });
        if (!overlaps(rr)) { bestR = rr; break; }
      }
    }
    placed.push(bestR);
    const lab = s('g', { class: `elabel${optional ? ' optional' : ''}`, 'data-from': e.from, 'data-to': e.to },
      s('title', null, title),
      s('rect', { x: bestR.x, y: bestR.y, width: bestR.w, height: bestR.h, rx: 3 }),
      s('text', { x: bestR.x + bestR.w / 2, y: bestR.y + 12, 'text-anchor': 'middle' }, text));
    labelLayer.append(lab);
    edgeEls.push([e, path, lab]);
  }
  nodes.forEach((nd, i) => {
    const gg = geo[i];
    const addrs = toList(nd.addresses);
    const gEl = s('g', { class: `node${addrs.length ? '' : ' external'}`, tabindex: 0, role: 'img', 'aria-label': `${nd.name}${addrs.length ? ' (' + addrs.join(', ') + ')' : ''}`, 'data-id': nd.id, test: 'diagram-node' },
      s('title', null, `${nd.name}${addrs.length ? '\n' + addrs.join('\n') : ''}`),
      s('rect', { x: gg.x, y: gg.y, width: gg.w, height: gg.h, rx: 6 }),
      s('text', { x: gg.x + 10, y: gg.y + 21, class: 'nname' }, nameOf(nd)),
      addrs.slice(0, 2).map((a, j) => s('text', { x: gg.x + 10, y: gg.y + 21 + LINE * (j + 1), class: 'naddr' }, a.length > 28 ? a.slice(0, 27) + '…' : a)),
      addrs.length > 2 ? s('text', { x: gg.x + 10, y: gg.y + 21 + LINE * 3, class: 'naddr' }, `+${addrs.length - 2} more`) : null);
    const on = () => {
      svg.classList.add('focus');
      for (const [e, p, l] of edgeEls) {
        const hit = e.from === nd.id || e.to === nd.id;
        p.classList.toggle('hl', hit); l.classList.toggle('hl', hit);
      }
      gEl.classList.add('hl');
    };
    const off = () => { svg.classList.remove('focus'); gEl.classList.remove('hl'); for (const [, p, l] of edgeEls) { p.classList.remove('hl'); l.classList.remove('hl'); } };
    gEl.addEventListener('mouseenter', on); gEl.addEventListener('mouseleave', off);
    gEl.addEventListener('focus', on); gEl.addEventListener('blur', off);
    nodeLayer.append(gEl);
  });
  const dl = h('button', { type: 'button', test: 'diagram-download', onclick: () => {
    const css = '.edge{fill:none;stroke:#56606c;stroke-width:1.4}.edge.optional{stroke-dasharray:5 4;stroke:#9aa3ad}.arrowhead{fill:#56606c}.arrowhead.optional{fill:#9aa3ad}.node rect{fill:#eef3fb;stroke:#3b6aa8}.node.external rect{fill:#f7f2e6;stroke:#a07a2c}.nname{font:600 13px sans-serif}.naddr{font:11px monospace;fill:#4b5563}.elabel rect{fill:#fff;stroke:#d3d9e0}.elabel text{font:11px sans-serif}';
    const copy = svg.cloneNode(true);
    copy.insertBefore(s('style', null, css), copy.firstChild);
    saveBlob(`${name}-diagram.svg`, new XMLSerializer().serializeToString(copy), 'image/svg+xml');
  } }, 'Download SVG');
  const fit = h('button', { type: 'button', test: 'diagram-fit', 'aria-pressed': 'false', onclick: () => {
    const on = fit.getAttribute('aria-pressed') !== 'true';
    fit.setAttribute('aria-pressed', String(on));
    fit.textContent = on ? 'Actual size' : 'Fit to width';
    if (on) { svg.setAttribute('width', '100%'); svg.removeAttribute('height'); } else { svg.setAttribute('width', W); svg.setAttribute('height', H); }
  } }, 'Fit to width');
  replace(box,
    h('p', { class: 'muted' }, `${plural(nodes.length, 'box', 'boxes')} (hosts, networks and outside parties; outside ones in tan) and ${plural(edges.length, 'arrow')}, one per pair; dashed arrows are optional. Point at or tab to a box to pick out its arrows; point at an arrow's label for all its services.`),
    h('div', { class: 'diagram-scroll' }, svg),
    h('div', { class: 'actions' }, fit, dl));
}

/* ------------------------------------------------------------------ */
/* Audits                                                               */
/* ------------------------------------------------------------------ */

function auditPage(name, auditId) {
  const fileIn = h('input', { type: 'file', id: 'audit-upload', test: 'audit-upload' });
  const paste = h('textarea', { id: 'audit-paste', test: 'audit-paste', class: 'code-input paste', rows: 10, spellcheck: 'false', wrap: 'off', placeholder: 'or paste the ruleset here (iptables-save, nft list ruleset, show running-config, terraform, …)' });
  const fmt = h('select', { id: 'audit-format', test: 'audit-format' }, h('option', { value: 'auto' }, 'auto (recognise it)'));
  const asHost = h('select', { id: 'audit-as', test: 'audit-as' }, h('option', { value: '' }, '(a network firewall: all flows)'));
  const submit = h('button', { type: 'submit', class: 'primary', test: 'audit-submit' }, 'Audit');
  const formErr = h('div', { class: 'err-slot', 'aria-live': 'polite' });
  const result = h('div', { test: 'audit-result' });
  const hist = h('div', { test: 'audit-history' }, loading());
  const page = h('article', null,
    h('p', { class: 'crumbs' }, link('#/deployments', 'Deployments'), ' › ', link(`#/deployments/${enc(name)}`, name), ' › audit'),
    h('h1', null, `Audit a ruleset against ${name}`), tabs(name, 'audit'),
    h('p', { class: 'lead' }, 'Upload an export of a firewall\'s rules: each planned flow gets a verdict (allowed, blocked, partly, unknown) with the rule line that decides it.'),
    h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); run(); } },
      h('div', { class: 'filters' }, field('Ruleset file', fileIn), field('Format', fmt), field('Protects host (host firewalls)', asHost)),
      field('Ruleset text', paste),
      h('div', { class: 'actions' }, submit), formErr),
    result,
    h('h2', null, 'Earlier audits'), hist);

  fileIn.addEventListener('change', async () => {
    const f = fileIn.files && fileIn.files[0];
    if (f) { try { paste.value = await readFile(f); } catch (e) { formErr.append(errorBox(e)); } }
  });
  formats().then((f) => { for (const x of toList(f.rules)) if (x !== 'auto') fmt.append(h('option', { value: x }, x)); }).catch(() => {});
  api('GET', `/api/deployments/${enc(name)}/plan`).then((p) => {
    for (const l of toList(p.legend)) asHost.append(h('option', { value: l.name }, l.name));
  }).catch(() => {});

  async function run() {
    clear(formErr);
    const text = paste.value;
    if (!text.trim()) { formErr.append(errorBox({ body: { error: 'Choose a ruleset file or paste one.', where: 'rules' } })); return; }
    const f = fileIn.files && fileIn.files[0];
    const q = new URLSearchParams({ rules_format: fmt.value || 'auto' });
    if (asHost.value) q.set('as', asHost.value);
    q.set('file', f ? f.name : 'pasted-rules');
    submit.disabled = true;
    replace(result, loading('Auditing…'));
    try {
      const r = await api('POST', `/api/deployments/${enc(name)}/audits?${q}`, { text });
      drawAudit(result, r, name);
      loadHist();
      setHashQuery({});
      history.replaceState(null, '', `#/deployments/${enc(name)}/audit/${enc(r.id)}`);
    } catch (e) {
      clear(result);
      formErr.append(errorBox(e));
    }
    submit.disabled = false;
  }

  function loadHist() {
    api('GET', `/api/deployments/${enc(name)}/audits`).then((r) => {
      const as = toList(r.audits);
      if (!as.length) { replace(hist, h('p', { class: 'muted' }, 'None yet.')); return; }
      replace(hist, h('table', { class: 'grid' },
        h('thead', null, h('tr', null, ['When', 'File', 'By', 'Allowed', 'Blocked', 'Partly', 'Unknown', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, as.map((a) => h('tr', null,
          h('td', null, fmtTime(a.created_at)), h('td', null, a.file || ''), h('td', null, a.author || ''),
          h('td', { class: 'num' }, (a.summary || {}).allowed ?? ''), h('td', { class: 'num' }, (a.summary || {}).blocked ?? ''),
          h('td', { class: 'num' }, (a.summary || {}).partly ?? ''), h('td', { class: 'num' }, (a.summary || {}).unknown ?? ''),
          h('td', null, link(`#/deployments/${enc(name)}/audit/${enc(a.id)}`, 'Open', { test: 'audit-link' })))))));
    }).catch((e) => replace(hist, errorBox(e)));
  }
  loadHist();
  if (auditId) {
    replace(result, loading());
    api('GET', `/api/audits/${enc(auditId)}`).then((r) => drawAudit(result, r, name)).catch((e) => replace(result, errorBox(e)));
  }
  return page;
}

function auditById(id) {
  const box = h('div', null, loading());
  api('GET', `/api/audits/${enc(id)}`).then((r) => {
    if (r.deployment) location.replace(`#/deployments/${enc(r.deployment)}/audit/${enc(id)}`);
    else { replace(box, h('h1', null, `Audit ${id}`)); const res = h('div', { test: 'audit-result' }); box.append(res); drawAudit(res, r, ''); }
  }).catch((e) => replace(box, h('h1', null, `Audit ${id}`), errorBox(e)));
  return box;
}

const VERDICT_CLASS = { allowed: 'ok', blocked: 'bad', partly: 'warn', unknown: 'unk', not_carried: 'unk', 'not-carried': 'unk' };

function ruleRef(rr, file) {
  if (!rr) return null;
  const where = rr.line ? `${file || 'rules'}:${rr.line}` : (rr.chain ? `end of ${rr.chain}` : '');
  return h('span', { class: 'ruleref' }, h('code', { class: 'fileline' }, where), ' ', h('code', { class: 'ruletext' }, rr.text || ''),
    rr.chain && rr.line ? h('span', { class: 'muted small' }, ` (${rr.chain})`) : null);
}

function drawAudit(box, a, name) {
  const res = a.result || {};
  const rules = res.rules || {};
  // The name the file was uploaded as (the result may hold the server's temporary path).
  const file = a.file || (rules.file ? String(rules.file).split('/').pop() : '');
  const sum = res.summary || a.summary || {};
  const RANK = { blocked: 0, partly: 1, unknown: 2, not_carried: 3, 'not-carried': 3, allowed: 4 };
  // Problems first; the order of the plan otherwise.
  const flows = toList(res.flows).map((f, i) => [f, i]).sort((x, y) => ((RANK[x[0].verdict] ?? 2) - (RANK[y[0].verdict] ?? 2)) || x[1] - y[1]).map((x) => x[0]);
  const verdictFilter = h('select', { id: 'verdict-filter', test: 'verdict-filter' }, h('option', { value: '' }, 'All verdicts'),
    ['blocked', 'partly', 'unknown', 'allowed', 'not_carried'].map((v) => h('option', { value: v }, v)));
  const tbody = h('tbody');
  function draw() {
    const list = flows.filter((f) => !verdictFilter.value || f.verdict === verdictFilter.value);
    replace(tbody, list.map((f) => h('tr', { test: 'verdict-row', 'data-verdict': f.verdict, class: f.required === false ? 'optional' : '' },
      h('td', null, badge(f.verdict, VERDICT_CLASS[f.verdict] || 'unk')),
      h('td', null, f.src || ''), h('td', null, f.dst || ''),
      h('td', null, `${f.protocol || ''} ${f.ports || ''}`),
      h('td', null, f.required === false ? 'optional' : 'required', h('div', { class: 'small muted' }, toList(f.requirements).join(', '))),
      h('td', null, h('ul', { class: 'plain parts' }, toList(f.parts).map((p) => h('li', null,
        p.part ? h('span', { class: 'muted' }, `${p.part}: `) : null,
        badge(p.verdict, VERDICT_CLASS[p.verdict] || 'unk'), ' ',
        toList(p.rules).map((rr) => h('div', null, ruleRef(rr, file))),
        p.why ? h('div', { class: 'small' }, p.why) : null)))))));
  }
  verdictFilter.addEventListener('change', draw);
  const issues = toList(rules.not_understood), assumed = toList(rules.assumed);
  const counts = ['allowed', 'blocked', 'partly', 'unknown', 'not_carried'].filter((k) => sum[k] !== undefined).map((k) => [badge(`${sum[k]} ${k.replace('_', ' ')}`, VERDICT_CLASS[k] || 'unk'), ' ']);
  const list = (title, items, fn, test) => items.length ? h('details', { open: true, test }, h('summary', null, `${title} (${items.length})`), h('ul', { class: 'rules-list' }, items.map((x) => h('li', null, fn(x))))) : null;
  replace(box,
    h('h2', null, 'Verdicts', a.created_at ? h('span', { class: 'muted small' }, [' · ', fmtTime(a.created_at), a.author ? ` by ${a.author}` : '']) : null),
    h('p', { test: 'audit-summary' }, `${file}${rules.format ? ' (' + rules.format + ')' : ''}${res.as ? ', as ' + res.as : ''}${a.version ? `, against version ${a.version}` : ''}: `, counts,
      sum.loopback_not_audited ? h('span', { class: 'muted' }, `${sum.loopback_not_audited} loopback flows not audited`) : null),
    toList(a.messages).length ? h('details', null, h('summary', null, `Messages of the audit (${toList(a.messages).length})`), h('ul', { class: 'small' }, toList(a.messages).map((m) => h('li', null, h('code', null, m))))) : null,
    h('div', { test: 'reader-issues', class: issues.length ? 'issues warnbox' : 'issues' },
      h('h3', null, 'What the reader made of the file'),
      issues.length ? h('div', null, h('p', null, h('strong', null, `${plural(issues.length, 'construct')} not understood`), ': verdicts they touch are unknown.'),
        h('ul', null, issues.map((i) => h('li', null, h('code', { class: 'fileline' }, `${file}:${i.line}`), ' ', h('code', { class: 'ruletext' }, i.text || ''), ' — ', i.message || '')))) : h('p', { class: 'ok-text' }, 'Every line was understood.'),
      assumed.length ? h('div', null, h('p', null, h('strong', null, 'Assumed:')), h('ul', null, assumed.map((i) => h('li', null, h('code', { class: 'fileline' }, `${file}:${i.line}`), ' ', h('code', { class: 'ruletext' }, i.text || ''), ' — ', i.message || '')))) : null),
    h('div', { class: 'filters' }, field('Show', verdictFilter)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid', test: 'verdicts' },
      h('thead', null, h('tr', null, ['Verdict', 'From', 'To', 'Service', 'Needed', 'Decided by (file:line)'].map((x) => h('th', { scope: 'col' }, x)))),
      tbody)),
    list('Permits more than the plan needs', toList(res.beyond_plan), (b) => [ruleRef(b.rule, file), h('div', { class: 'small' }, `also: ${toList(b.beyond).join('; ')}${b.more ? ` and ${b.more} more` : ''}`)], 'beyond-plan'),
    list('Accepts by policy what no rule decides', toList(res.open_policies), (p) => ruleRef(p, file), 'open-policies'),
    list('Never decide anything (shadowed or empty)', toList(res.shadowed), (x) => [ruleRef(x.rule, file), h('div', { class: 'small' }, toList(x.by).length ? ['shadowed by ', toList(x.by).map((b, i) => [i ? ', ' : '', h('code', { class: 'fileline' }, b.line ? `${file}:${b.line}` : b.chain)]), x.conflict ? ' (which decide the opposite)' : ''] : 'matches nothing')], 'shadowed'),
    list('No planned flow reaches', toList(res.unused), (u) => ruleRef(u, file), 'unused'));
  draw();
}

/* ------------------------------------------------------------------ */
/* Verification reports                                                 */
/* ------------------------------------------------------------------ */

function reportsPage(name) {
  const fileIn = h('input', { type: 'file', id: 'report-upload', test: 'report-upload', accept: '.json,application/json' });
  const source = h('input', { id: 'report-source', test: 'report-source', placeholder: 'e.g. ci-nightly, fleet-run', maxlength: 100 });
  const submit = h('button', { type: 'submit', class: 'primary', test: 'report-submit' }, 'Upload');
  const formErr = h('div', { class: 'err-slot', 'aria-live': 'polite' });
  const result = h('div', { test: 'report-result', 'aria-live': 'polite' });
  const latest = h('div');
  const hist = h('div', { test: 'report-history' }, loading());
  const page = h('article', null,
    h('p', { class: 'crumbs' }, link('#/deployments', 'Deployments'), ' › ', link(`#/deployments/${enc(name)}`, name), ' › reports'),
    h('h1', null, `Verification reports of ${name}`), tabs(name, 'reports'),
    h('p', { class: 'lead' }, 'Upload what `portplan report -f json` (or one host\'s `portplan verify -f json`) wrote; each upload is compared with the one before.'),
    h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); upload(); } },
      h('div', { class: 'filters' }, field('Report file (JSON)', fileIn), field('Source (who ran it)', source)),
      h('div', { class: 'actions' }, submit), formErr),
    result,
    latest,
    h('h2', null, 'History'), hist);

  async function upload() {
    clear(formErr);
    const f = fileIn.files && fileIn.files[0];
    if (!f) { formErr.append(errorBox({ body: { error: 'Choose the report file first.', where: 'file' } })); fileIn.focus(); return; }
    submit.disabled = true;
    try {
      const text = await readFile(f);
      const q = source.value.trim() ? `?source=${enc(source.value.trim())}` : `?source=${enc(f.name)}`;
      const r = await api('POST', `/api/deployments/${enc(name)}/reports${q}`, { text, type: 'application/json' });
      clear(latest);
      replace(result, h('div', { class: 'card' },
        h('h2', null, 'Received ', link(`#/reports/${enc(r.id)}`, `report ${r.id}`, { test: 'report-link' })),
        summaryLine(r.summary),
        h('h3', null, 'What changed since the last run'),
        known === 0 ? h('p', { class: 'muted', test: 'changes' }, 'This is the first report of this deployment: the next one is compared with it.') : changesTable(r.changes, true)));
      fileIn.value = '';
      loadHist(false);
    } catch (e) { formErr.append(errorBox(e)); }
    submit.disabled = false;
  }

  let known = null; // how many reports the deployment had before this upload
  function loadHist(showLatest) {
    api('GET', `/api/deployments/${enc(name)}/reports`).then((r) => {
      const rs = toList(r.reports);
      known = rs.length;
      if (!rs.length) { replace(hist, h('p', { class: 'muted' }, 'No report yet.')); return; }
      replace(hist, h('table', { class: 'grid' },
        h('thead', null, h('tr', null, ['Received', 'Source', 'By', 'Paths', 'Passed', 'Required failed', 'Not verified', 'Proven', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, rs.map((x) => {
          const sm = x.summary || {};
          return h('tr', null,
            h('td', null, fmtTime(x.received_at)), h('td', null, x.source || ''), h('td', null, x.author || ''),
            h('td', { class: 'num' }, sm.paths ?? ''), h('td', { class: 'num' }, sm.passed ?? ''),
            h('td', { class: 'num' }, sm.required_failed ? h('span', { class: 'bad-text' }, sm.required_failed) : (sm.required_failed ?? '')),
            h('td', { class: 'num' }, sm.not_verified ?? ''),
            h('td', null, sm.proven === true ? badge('proven', 'ok') : sm.proven === false ? badge('not proven', 'bad') : ''),
            h('td', null, link(`#/reports/${enc(x.id)}`, 'Open', { test: 'report-link' })));
        }))));
      if (showLatest) {
        api('GET', `/api/reports/${enc(rs[0].id)}`).then((rep) => {
          replace(latest, h('h2', null, 'What changed in the last run'),
            h('p', { class: 'muted' }, 'Report received ', fmtTime(rep.received_at), ` from ${rep.source || '?'}, against the report before it.`),
            rs.length > 1 ? changesTable(rep.changes, true) : h('p', { class: 'muted', test: 'changes' }, 'This is the first report: nothing to compare with yet.'));
        }).catch((e) => replace(latest, errorBox(e)));
      }
    }).catch((e) => replace(hist, errorBox(e)));
  }
  loadHist(true);
  return page;
}

function summaryLine(sm) {
  sm = sm || {};
  const bits = [];
  if (sm.paths !== undefined) bits.push(`${sm.paths} paths probed`);
  if (sm.passed !== undefined) bits.push(`${sm.passed} passed`);
  if (sm.required_failed !== undefined) bits.push(`${sm.required_failed} required failed`);
  if (sm.optional_failed) bits.push(`${sm.optional_failed} optional failed`);
  if (sm.not_verified !== undefined) bits.push(`${sm.not_verified} not verified`);
  if (sm.hosts_with_problems) bits.push(`${sm.hosts_with_problems} hosts with problems`);
  return h('p', { test: 'report-summary' }, sm.proven === true ? badge('proven', 'ok') : sm.proven === false ? badge('not proven', 'bad') : null, ' ', bits.join(', '),
    sm.states ? h('span', { class: 'muted' }, ` (states: ${Object.entries(sm.states).map(([k, v]) => `${v} ${k}`).join(', ')})`) : null);
}

function changesTable(changes, withTest) {
  const cs = toList(changes);
  if (!cs.length) return h('p', { class: 'muted', test: withTest ? 'changes' : null }, 'No path changed state since the report before (or there is no report before).');
  return h('table', { class: 'grid', test: withTest ? 'changes' : null },
    h('thead', null, h('tr', null, ['Path', 'Before', 'Now'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, cs.map((c) => h('tr', { test: 'change-row' },
      h('td', null, h('code', null, c.path)),
      h('td', null, c.before === null || c.before === undefined ? badge('new', 'unk') : stateBadge(c.before)),
      h('td', null, c.after === null || c.after === undefined ? badge('gone', 'unk') : stateBadge(c.after))))));
}
const GOOD_STATES = new Set(['open', 'verified', 'answered', 'closed-as-expected', 'passed']);
function stateBadge(st) { return badge(String(st), GOOD_STATES.has(st) ? 'ok' : /filter|refus|unreach|timeout|impostor|fail|unresolved/.test(st) ? 'bad' : 'unk'); }

function reportPage(id) {
  const box = h('article', null, loading());
  api('GET', `/api/reports/${enc(id)}`).then((r) => {
    const rep = r.report || {};
    const results = toList(rep.results);
    const gaps = toList(rep.not_verified);
    const hosts = toList(rep.hosts).filter((x) => toList(x.problems).length);
    const only = h('select', { id: 'results-filter', test: 'results-filter' }, h('option', { value: '' }, 'All paths'), h('option', { value: 'failed' }, 'Failed only'));
    const tbody = h('tbody');
    const draw = () => replace(tbody, results.filter((p) => !only.value || p.passed === false).map((p) => h('tr', { class: p.passed === false ? 'failed' : '' },
      h('td', null, `${p.src} → ${p.dst}`), h('td', null, p.host || '', p.address && p.address !== p.host ? h('div', { class: 'small muted' }, p.address) : null),
      h('td', null, `${p.protocol}/${p.port}`), h('td', null, stateBadge(p.state)),
      h('td', null, p.passed ? badge('pass', 'ok') : badge('FAIL', 'bad')), h('td', null, p.required === false ? 'optional' : 'required'),
      h('td', { class: 'small' }, p.evidence || ''))));
    only.addEventListener('change', draw);
    const dep = r.deployment || (rep.deployment && rep.deployment.name) || '';
    replace(box,
      h('p', { class: 'crumbs' }, link('#/deployments', 'Deployments'), ' › ', dep ? link(`#/deployments/${enc(dep)}/reports`, `${dep} reports`) : '', ' › ', id),
      h('h1', null, `Report ${id}`),
      h('p', { class: 'meta' }, 'Received ', fmtTime(r.received_at), ` from ${r.source || '?'}`, r.author ? ` by ${r.author}` : '', dep ? [' for ', link(`#/deployments/${enc(dep)}`, dep)] : ''),
      summaryLine(Object.assign({}, rep.summary || {}, r.summary || {})),
      h('h2', null, 'What changed since the report before'), changesTable(r.changes, true),
      h('h2', null, `Paths probed (${results.length})`),
      h('div', { class: 'filters' }, field('Show', only)),
      h('div', { class: 'table-wrap' }, h('table', { class: 'grid', test: 'report-results' },
        h('thead', null, h('tr', null, ['Flow', 'Host', 'Port', 'State', 'Result', 'Needed', 'Evidence'].map((x) => h('th', { scope: 'col' }, x)))), tbody)),
      gaps.length ? h('details', { test: 'report-gaps' }, h('summary', null, `Not verified (${gaps.length})`),
        h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Flow', 'Ports', 'Needed', 'Why'].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', null, gaps.map((g) => h('tr', null, h('td', null, `${g.src} → ${g.dst}`), h('td', null, `${g.protocol} ${g.ports}`), h('td', null, g.required === false ? 'optional' : 'required'), h('td', { class: 'small' }, g.why || '')))))) : null,
      hosts.length ? h('div', null, h('h2', null, 'Hosts with problems'), h('ul', null, hosts.map((x) => h('li', null, h('strong', null, x.host), ': ', toList(x.problems).join('; '))))) : null,
      toList(rep.warnings).length ? h('div', null, h('h2', null, 'Warnings'), h('ul', null, toList(rep.warnings).map((w) => h('li', null, typeof w === 'string' ? w : JSON.stringify(w))))) : null,
      h('p', null, h('button', { type: 'button', onclick: () => saveBlob(`report-${id}.json`, JSON.stringify(rep, null, 2) + '\n', 'application/json') }, 'Download the report JSON')));
    draw();
  }).catch((e) => replace(box, h('h1', null, `Report ${id}`), errorBox(e)));
  return box;
}

/* ------------------------------------------------------------------ */
/* Start                                                                */
/* ------------------------------------------------------------------ */

async function boot() {
  setupHeader();
  window.addEventListener('hashchange', route);
  try {
    await loadSession();
  } catch (e) {
    replace(mainEl(), h('h1', null, 'portplan'), errorBox(e));
    return;
  }
  if (!S.session.auth || S.session.signed_in) catalogList().catch(() => {});
  if (!location.hash) history.replaceState(null, '', '#/catalog');
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
