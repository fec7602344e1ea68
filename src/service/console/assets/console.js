// remedy console: the little JavaScript the pages need. Live updates (the runs list, the run's
// status and approval panel, the timeline over Server-Sent Events) and the buttons that post to
// the API with the session's CSRF token. No framework, no build step, nothing from a CDN.
'use strict';
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute('content') : '';

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try { json = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) throw new Error((json && json.error) || res.status + ' ' + res.statusText);
    return json;
  }

  function every(ms, fn) {
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      try { if ((await fn()) === false) { stopped = true; return; } } catch (_) { /* try again next tick */ }
      setTimeout(tick, ms);
    };
    setTimeout(tick, ms);
  }

  // Runs list: fetched again every 3 s with the same filters.
  const list = document.querySelector('[data-live-list]');
  if (list) {
    every(3000, async () => {
      const url = new URL(location.href);
      url.searchParams.set('part', 'list');
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) return;
      const text = await res.text();
      if (text !== list.innerHTML) list.innerHTML = text;
    });
  }

  // Run page.
  const runEl = document.querySelector('[data-run]');
  if (runEl) {
    const id = runEl.getAttribute('data-run');
    const timeline = document.getElementById('timeline');
    const hhmmss = (iso) => (iso || '').slice(11, 19);
    const hosts = (h) => (h && h.length ? ' on ' + h.join(', ') : '');
    const describe = (e) => {
      switch (e.type) {
        case 'run-start': return (e.resumedFrom ? 'resumed ' : 'started ') + e.runbook + ' (' + e.mode + ', plan ' + e.planHash + ')' + hosts(e.hosts);
        case 'step-start': return 'step ' + e.step + ': ' + e.name + (e.batch ? ' · batch ' + e.batch + '/' + e.batches : '') + hosts(e.hosts);
        case 'step-skip': return 'skipped ' + e.step + ': ' + e.reason;
        case 'host-start': return e.host + ': ' + (e.phase === 'verify' ? 'verify ' : '') + e.step + (e.attempt > 1 ? ' (attempt ' + e.attempt + ')' : '');
        case 'host-end': return e.host + ': ' + e.step + (e.phase === 'verify' ? ' (verify)' : '') + ' → ' + e.status + (e.exitCode !== null && e.exitCode !== undefined ? ' (exit ' + e.exitCode + ')' : '') + (e.error ? ': ' + e.error : '') + (e.reason ? ': ' + e.reason : '');
        case 'step-end': return 'step ' + e.step + ' ' + e.status;
        case 'decision': return 'decided cause ' + e.cause + (e.evidence && e.evidence.condition ? ' because ' + e.evidence.condition : '');
        case 'approval': return e.decision + ' by ' + e.operator + ' (' + e.source + ')' + ' step ' + e.step + (e.batch ? ' batch ' + e.batch : '') + hosts(e.hosts) + ' · plan ' + e.planHash;
        case 'outcome': return e.status + ': ' + e.message;
        case 'lock': return 'lock ' + e.action + ' on ' + e.host + (e.detail ? ': ' + e.detail : '');
        case 'warning': return 'warning: ' + e.message;
        case 'rollback': return 'rollback ' + e.step + ' on ' + e.host + ': ' + e.reason;
        case 'bundle': return 'bundle ' + e.path + ' (' + e.files + ' files)';
        case 'run-end': return 'run ended ' + e.outcome + (e.cause ? ' (cause ' + e.cause + ')' : '') + ', exit ' + e.exitCode + (e.message ? ': ' + e.message : '');
        default: return e.type;
      }
    };
    let stream = null;
    let ended = false;
    if (timeline && window.EventSource) {
      stream = new EventSource('/api/runs/' + encodeURIComponent(id) + '/events');
      const add = (msg) => {
        const e = JSON.parse(msg.data);
        if (e.type === 'host-output') return;
        const li = document.createElement('li');
        li.className = 'k-' + e.type;
        li.dataset.type = e.type;
        if (e.type === 'approval') li.dataset.operator = e.operator;
        const t = document.createElement('span');
        t.className = 't';
        t.textContent = hhmmss(e.time);
        const text = document.createElement('span');
        text.textContent = describe(e);
        li.append(t, text);
        // The command as sent, folded: long probe scripts would bury the timeline.
        if (e.type === 'host-start' && e.command) {
          const d = document.createElement('details');
          const sm = document.createElement('summary');
          sm.textContent = 'command';
          const pre = document.createElement('pre');
          pre.textContent = e.command;
          d.append(sm, pre);
          text.append(' ', d);
        }
        timeline.append(li);
        if (e.type === 'run-end') { ended = true; stream.close(); }
      };
      for (const type of ['run-start', 'step-start', 'step-skip', 'host-start', 'host-end', 'step-end', 'decision', 'approval', 'outcome', 'lock', 'warning', 'rollback', 'bundle', 'run-end']) stream.addEventListener(type, add);
      // The server ends the stream of a run that is over; do not reconnect then.
      stream.addEventListener('error', () => { if (ended || stream.readyState === EventSource.CLOSED) stream.close(); });
    }

    const live = () => document.getElementById('live');
    const panel = () => document.getElementById('panel');
    every(1500, async () => {
      const current = panel() ? panel().getAttribute('data-key') : '';
      const res = await fetch('/runs/' + encodeURIComponent(id) + '/live?panel=' + encodeURIComponent(current || ''), { credentials: 'same-origin' });
      if (!res.ok) return;
      const s = await res.json();
      const l = live();
      if (l && l.outerHTML !== s.live) l.outerHTML = s.live;
      // The panel is replaced only when the run waits for something else: a half-filled form stays.
      if (s.panel !== null && panel()) {
        panel().outerHTML = s.panel;
        wirePanel();
      }
      if (s.final) {
        if (stream && !ended) setTimeout(() => stream.close(), 5000);
        return false;
      }
    });

    function wirePanel() {
      const form = document.querySelector('form.approve');
      if (!form) return;
      let pressed = null;
      form.querySelectorAll('button[name="decision"]').forEach((b) => b.addEventListener('click', () => { pressed = b.value; }));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const out = form.querySelector('.result');
        const choice = pressed || 'approved';
        const hostsChecked = [...form.querySelectorAll('input[name="host"]:checked')].map((i) => i.value);
        const comment = form.querySelector('textarea[name="comment"]').value.trim();
        if (choice === 'refused' && comment === '') { out.textContent = 'Say why you deny it (comment).'; form.querySelector('textarea').focus(); return; }
        if (choice.startsWith('approved') && hostsChecked.length === 0) { out.textContent = 'Select at least one host, or skip the step.'; return; }
        const body = {
          step: form.dataset.step,
          planHash: form.dataset.planHash,
          decision: choice === 'approved-remaining' ? 'approved' : choice,
          hosts: choice.startsWith('approved') ? hostsChecked : undefined,
          comment: comment || undefined,
          remaining: choice === 'approved-remaining' ? true : undefined,
        };
        form.querySelectorAll('button').forEach((b) => (b.disabled = true));
        try {
          const r = await api('POST', '/api/runs/' + encodeURIComponent(form.dataset.run) + '/approvals', body);
          out.textContent = 'Recorded: ' + r.decision + ' by ' + r.operator + '.';
          form.dataset.sent = 'yes';
        } catch (err) {
          out.textContent = 'Refused: ' + err.message;
          form.querySelectorAll('button').forEach((b) => (b.disabled = false));
        }
      });
    }
    wirePanel();
  }

  // Policy page: breaker reset (admin).
  document.querySelectorAll('[data-reset-breaker]').forEach((b) => b.addEventListener('click', async () => {
    const out = b.parentElement.querySelector('.result');
    b.disabled = true;
    try {
      await api('POST', '/api/breakers/' + encodeURIComponent(b.dataset.resetBreaker) + '/reset');
      out.textContent = ' Reset.';
    } catch (err) {
      out.textContent = ' ' + err.message;
      b.disabled = false;
    }
  }));

  // Runbook page: probe or start a run through the API, then open it.
  const start = document.querySelector('form.startrun');
  if (start) {
    let mode = null;
    start.querySelectorAll('button[name="mode"]').forEach((b) => b.addEventListener('click', () => { mode = b.value; }));
    start.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const out = start.querySelector('.result');
      const body = { runbook: start.dataset.runbook, route: start.dataset.route, params: JSON.parse(start.dataset.params || '{}'), mode: mode || 'plan' };
      if (start.dataset.limit) body.limit = start.dataset.limit;
      try {
        const run = await api('POST', '/api/runs', body);
        location.href = '/runs/' + encodeURIComponent(run.id);
      } catch (err) {
        out.textContent = 'Refused: ' + err.message;
      }
    });
  }

  // Runbook page: the decision graph, drawn by the mermaid bundle served from this server.
  if (window.mermaid && document.querySelector('pre.mermaid')) {
    window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', flowchart: { useMaxWidth: false } });
    window.mermaid.run({ querySelector: 'pre.mermaid' }).then(() => document.body.setAttribute('data-graph', 'drawn'), (err) => {
      document.body.setAttribute('data-graph', 'failed');
      const p = document.createElement('p');
      p.className = 'error';
      p.textContent = 'The graph could not be drawn: ' + err.message;
      document.querySelector('.graph').append(p);
    });
  }
})();
