// drover serve: the live page. Plain JavaScript, no build and no network beyond this server.
// Every text from the wire goes into the page through text nodes (never innerHTML): agent ids,
// labels and step messages are whatever someone published.

const store = {
  agents: new Map(),
  jobs: new Map(),
  targets: new Map(),
  planRuns: new Map(),
  events: [],
  audit: new Map(),
  /** Server clock minus ours (the server stamps every message). */
  offset: 0,
};

// ---- building the DOM -------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'href') node.setAttribute('href', safeHref(value));
    else if (key === 'value' || key === 'max') node[key] = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Only this page's own routes are linked. */
function safeHref(href) {
  return String(href).startsWith('#/') ? href : '#/';
}

const pill = (state) => el('span', { class: `pill s-${state}`, 'data-state': state }, state);
const serverNow = () => Date.now() + store.offset;

function ago(ms) {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((serverNow() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : '—');

function table(headers, rows) {
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', {}, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

function countsText(counts) {
  if (!counts) return '';
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
}

// ---- views ------------------------------------------------------------------------------------

function fleetView() {
  const agents = [...store.agents.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const by = { online: 0, stale: 0, offline: 0 };
  for (const a of agents) by[a.liveness] = (by[a.liveness] || 0) + 1;
  const groups = new Map();
  for (const a of agents) {
    const key = ['cluster', 'region', 'role'].map((l) => `${l}=${a.labels[l] ?? '—'}`).join('  ');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(a);
  }
  const sections = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, list]) => {
      const down = list.filter((a) => a.liveness !== 'online').length;
      return [
        el(
          'h2',
          {},
          key,
          el('span', { class: 'muted' }, `  ${list.length} agents${down ? `, ${down} not online` : ''}`),
        ),
        table(
          ['agent', 'status', 'version', 'last seen', 'labels'],
          list.map((a) =>
            el(
              'tr',
              { 'data-agent': a.id, class: a.liveness === 'online' ? '' : a.liveness === 'stale' ? 'stale' : 'bad' },
              el('td', {}, el('code', {}, a.id)),
              el('td', {}, pill(a.liveness)),
              el('td', {}, a.version),
              el('td', {}, ago(a.lastSeen)),
              el(
                'td',
                { class: 'muted' },
                Object.entries(a.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', '),
              ),
            ),
          ),
        ),
      ];
    });
  return [
    el('h1', {}, 'Fleet'),
    el(
      'div',
      { class: 'cards' },
      el('div', { class: 'card' }, el('b', {}, agents.length), 'agents'),
      el('div', { class: 'card' }, el('b', { 'data-count': 'online' }, by.online), 'online'),
      el('div', { class: 'card' }, el('b', { 'data-count': 'stale' }, by.stale), 'stale (3 heartbeats missed)'),
      el('div', { class: 'card' }, el('b', { 'data-count': 'offline' }, by.offline), 'offline'),
    ),
    sections.length ? sections : el('p', { class: 'muted' }, 'No agents registered.'),
  ];
}

function timeline(run) {
  return el(
    'div',
    { class: 'timeline' },
    run.phases.map((phase, i) => {
      const outline = run.outline?.phases[i];
      return el(
        'div',
        { class: `phase p-${phase.state}${i === run.phase ? ' current' : ''}`, 'data-phase': phase.name },
        el('span', { class: 'name' }, `${i + 1}. ${phase.name}`),
        pill(phase.state),
        outline?.approval
          ? el('span', { class: 'muted' }, phase.approvedBy ? ` approved by ${phase.approvedBy}` : ' approval')
          : null,
      );
    }),
  );
}

function runsView() {
  const runs = [...store.planRuns.values()].sort((a, b) => b.createdAt - a.createdAt);
  return [
    el('h1', {}, 'Plan runs'),
    runs.length
      ? table(
          ['run', 'plan', 'state', 'phase', 'phases', 'created'],
          runs.map((r) =>
            el(
              'tr',
              { 'data-run': r.id },
              el('td', {}, el('a', { href: `#/run/${r.id}` }, r.id)),
              el('td', {}, r.name),
              el('td', {}, pill(r.state)),
              el('td', {}, r.phases[r.phase]?.name ?? '—'),
              el('td', {}, timeline(r)),
              el('td', {}, ago(r.createdAt)),
            ),
          ),
        )
      : el('p', { class: 'muted' }, 'No plan runs.'),
  ];
}

function targetRows(jobId) {
  const rows = [...store.targets.values()]
    .filter((t) => t.jobId === jobId)
    .sort((a, b) => (a.agentId < b.agentId ? -1 : 1));
  return rows.map((t) => {
    const p = t.progress;
    const bad = ['failed', 'rejected', 'timed-out', 'no-response'].includes(t.state);
    const bar =
      p && p.percent !== undefined
        ? el('progress', {
            max: 100,
            value: t.state === 'succeeded' ? 100 : p.percent,
            'data-percent': Math.round(p.percent),
          })
        : t.state === 'running'
          ? el('progress', {})
          : t.state === 'succeeded'
            ? el('progress', { max: 100, value: 100 })
            : null;
    return el(
      'tr',
      { 'data-key': t.key, 'data-state': t.state, class: bad ? 'bad' : '' },
      el('td', {}, el('code', {}, t.agentId)),
      el('td', {}, pill(t.state)),
      el('td', {}, bar, p?.percent !== undefined ? ` ${Math.round(p.percent)}%` : ''),
      el('td', {}, p ? p.message : ''),
      el('td', {}, t.error ? el('span', { class: 'error' }, t.error) : ''),
    );
  });
}

function targetsTable(jobId) {
  const rows = targetRows(jobId);
  return rows.length
    ? table(['agent', 'state', 'progress', 'last message', 'error'], rows)
    : el('p', { class: 'muted' }, 'No targets recorded yet.');
}

function feedTable(filter) {
  const lines = store.events.filter(filter).slice(-40).reverse();
  if (!lines.length) return el('p', { class: 'muted' }, 'No events since this page connected.');
  return el(
    'table',
    { class: 'feed' },
    el(
      'tbody',
      {},
      lines.map((e) =>
        el('tr', {}, el('td', {}, time(e.at)), el('td', {}, e.kind), el('td', {}, e.agentId), el('td', {}, e.text)),
      ),
    ),
  );
}

function runView(id) {
  const run = store.planRuns.get(id);
  if (!run) return [el('h1', {}, `Run ${id}`), el('p', { class: 'muted' }, 'Not found (yet).')];
  const current = run.phases[run.phase];
  const parts = [
    el('h1', {}, `${run.name} `, pill(run.state)),
    el(
      'p',
      { class: 'muted' },
      `run ${run.id} · created ${ago(run.createdAt)} by ${run.createdBy}`,
      run.driver ? ` · driven by ${run.driver}` : '',
      ' · ',
      el('a', { href: `#/audit/run/${run.id}` }, 'audit trail'),
    ),
    timeline(run),
  ];
  if (run.state === 'awaiting-approval' && current)
    parts.push(
      el(
        'div',
        { class: 'banner approval', 'data-approval': current.name },
        el('strong', {}, `Waiting for approval: phase ${current.name}. `),
        'Approve with ',
        el('code', {}, `drover run approve ${run.id} --phase ${current.name}`),
      ),
    );
  if (run.message && ['failed', 'rollback-failed', 'cancelled'].includes(run.state))
    parts.push(el('div', { class: 'banner failed' }, run.message));
  run.phases.forEach((phase, i) => {
    if (phase.state === 'pending' && i !== run.phase) return;
    const outline = run.outline?.phases[i];
    parts.push(el('h2', {}, `${i + 1}. ${phase.name} `, pill(phase.state)));
    for (const step of [...phase.steps, ...phase.rollback]) {
      const what = outline?.steps.find((s) => s.name === step.name);
      parts.push(
        el(
          'h3',
          {},
          `${step.kind === 'step' ? '' : `${step.kind}: `}${step.name} `,
          what ? el('span', { class: 'muted' }, `${what.step} on ${what.target} `) : '',
          pill(step.state),
          step.jobId ? el('span', {}, ' ', el('a', { href: `#/job/${step.jobId}` }, step.jobId)) : '',
          step.attempt > 1 ? el('span', { class: 'muted' }, ` attempt ${step.attempt}`) : '',
        ),
      );
      if (step.message) parts.push(el('p', { class: 'muted' }, step.message));
      if (step.jobId) parts.push(targetsTable(step.jobId));
    }
  });
  parts.push(
    el('h2', {}, 'Events'),
    feedTable((e) => e.jobId === run.id || e.jobId.startsWith(`${run.id}-`)),
  );
  return parts;
}

function jobsView() {
  const jobs = [...store.jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
  return [
    el('h1', {}, 'Jobs'),
    jobs.length
      ? table(
          ['job', 'step', 'targets', 'state', 'counts', 'created'],
          jobs.map((j) =>
            el(
              'tr',
              { 'data-job': j.id },
              el('td', {}, el('a', { href: `#/job/${j.id}` }, j.id)),
              el('td', {}, j.step),
              el('td', {}, `${j.targets} (${j.selector})`),
              el('td', {}, pill(j.state)),
              el('td', {}, countsText(j.counts)),
              el('td', {}, ago(j.createdAt)),
            ),
          ),
        )
      : el('p', { class: 'muted' }, 'No jobs.'),
  ];
}

function jobView(id) {
  const job = store.jobs.get(id);
  if (!job) return [el('h1', {}, `Job ${id}`), el('p', { class: 'muted' }, 'Not found (yet).')];
  return [
    el('h1', {}, `${job.step} `, pill(job.state)),
    el(
      'p',
      { class: 'muted' },
      `job ${job.id} · ${job.targets} targets (${job.selector}) · created ${ago(job.createdAt)} by ${job.createdBy} · `,
      el('a', { href: `#/audit/job/${job.id}` }, 'audit trail'),
    ),
    job.message ? el('p', {}, job.message) : '',
    targetsTable(job.id),
    el('h2', {}, 'Events'),
    feedTable((e) => e.jobId === id),
  ];
}

function auditView(kind, id) {
  const audit = store.audit.get(id);
  const parts = [
    el('h1', {}, `Audit trail of ${kind} ${id}`),
    el('p', {}, el('a', { href: `#/${kind}/${id}` }, `back to the ${kind}`)),
  ];
  if (!audit) return [...parts, el('p', { class: 'muted' }, 'Reading DROVER_AUDIT…')];
  if (audit.error) return [...parts, el('p', { class: 'banner failed' }, audit.error)];
  return [
    ...parts,
    table(
      ['#', 'time', 'subject', 'record'],
      audit.lines.map((l) =>
        el(
          'tr',
          {},
          el('td', {}, l.seq),
          el('td', {}, time(l.at)),
          el('td', {}, el('code', {}, l.subject)),
          el('td', {}, el('pre', {}, l.text)),
        ),
      ),
    ),
  ];
}

// ---- routing and rendering --------------------------------------------------------------------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { name: parts[0] || 'fleet', id: parts[1], extra: parts[2] };
}

function viewFor(r) {
  switch (r.name) {
    case 'runs':
      return runsView();
    case 'run':
      return runView(r.id);
    case 'jobs':
      return jobsView();
    case 'job':
      return jobView(r.id);
    case 'audit':
      return auditView(r.id === 'job' ? 'job' : 'run', r.extra);
    default:
      return fleetView();
  }
}

let renderTimer = null;
let lastRender = 0;

/** Renders soon, at most every 100 ms (every 500 ms on a big fleet's page, which takes longer to build). */
function scheduleRender() {
  if (renderTimer !== null) return;
  const r = route();
  const gap = r.name === 'fleet' && store.agents.size > 500 ? 500 : 100;
  renderTimer = setTimeout(render, Math.max(0, lastRender + gap - Date.now()));
}

function render() {
  renderTimer = null;
  lastRender = Date.now();
  const r = route();
  for (const name of ['fleet', 'runs', 'jobs']) {
    const active = r.name === name || (name === 'runs' && r.name === 'run') || (name === 'jobs' && r.name === 'job');
    document.getElementById(`nav-${name}`).classList.toggle('active', active);
  }
  document.getElementById('view').replaceChildren(...viewFor(r).flat(Number.POSITIVE_INFINITY));
}

// ---- the live feed ----------------------------------------------------------------------------

let socket = null;
let retries = 0;

function setConn(state, text) {
  const conn = document.getElementById('conn');
  conn.dataset.state = state;
  conn.textContent = text;
}

function requestAudit() {
  const r = route();
  if (r.name !== 'audit' || !r.extra || socket?.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'audit', [r.id === 'job' ? 'job' : 'run']: r.extra }));
}

function upsert(map, items, key) {
  for (const item of items) map.set(item[key], item);
}

function apply(message) {
  if (typeof message.now === 'number') store.offset = message.now - Date.now();
  if (message.type === 'snapshot') {
    for (const name of ['agents', 'jobs', 'targets', 'planRuns']) store[name].clear();
    store.events = [];
  }
  if (message.type === 'snapshot' || message.type === 'patch') {
    upsert(store.agents, message.agents, 'id');
    upsert(store.jobs, message.jobs, 'id');
    upsert(store.targets, message.targets, 'key');
    upsert(store.planRuns, message.planRuns, 'id');
    if (message.removed)
      for (const name of Object.keys(message.removed)) for (const k of message.removed[name]) store[name]?.delete(k);
    store.events.push(...message.events);
    if (store.events.length > 500) store.events.splice(0, store.events.length - 500);
  } else if (message.type === 'audit') {
    store.audit.set(message.id, message);
  }
  scheduleRender();
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => {
    retries = 0;
    setConn('live', 'live');
    // Every (re)connect starts from a full snapshot: whatever happened while away is caught up.
    ws.send(JSON.stringify({ type: 'snapshot' }));
    requestAudit();
  };
  ws.onmessage = (event) => apply(JSON.parse(event.data));
  ws.onclose = () => {
    if (socket !== ws) return;
    setConn('reconnecting', 'reconnecting…');
    const delay = Math.min(5000, 250 * 2 ** retries++);
    setTimeout(connect, delay);
  };
}

window.addEventListener('hashchange', () => {
  requestAudit();
  render();
});
// Relative times ("3s ago") move on even when nothing arrives.
setInterval(scheduleRender, 1000);
connect();
render();
