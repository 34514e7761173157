// The race replay (gr.HTML js_on_load): PASTA and sequential decoding side by side, replayed
// from the timestamps their events carried, at 1×, 0.25× or 0.1× — the classroom race.
// Gradio gives `element` (this component's root), `props` (props.value = the recording JSON
// written by ui/lanes.py `recording`: pasta_core.view's ReplayRun records, fields read by
// name) and `watch`. Lanes use the same CSS classes as the
// live lanes (assets/pasta.css).
const stage = element.querySelector('.rp-stage');
const clock = element.querySelector('.rp-clock');
const playBtn = element.querySelector('[data-act="play"]');
let rec = null, raw = null, speed = 0.25, raf = 0, t0 = 0, runs = [], played = false;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => (
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const STATE = { queued: 'queued', running: 'running', waiting: 'waiting at sync', done: 'done' };

const hasLanes = (r) => (r.lanes !== undefined ? r.lanes : r.run === 'pasta');

function mkLane(run, th, isMain) {
  const el = document.createElement('article');
  el.className = 'lane st-running' + (isMain ? ' lane-main' : '');
  el.style.setProperty('--c', th.color);
  const title = isMain ? (run.mode === 'sot' ? 'skeleton'
    : hasLanes(run) ? 'main thread' : 'one token per step')
    : (th.topic || '(no topic)');
  el.innerHTML = `<div class='lane-head'><span class='lane-dot'></span>` +
    `<span class='lane-topic'>${esc(title)}</span><span class='lane-state'>running</span></div>` +
    `<div class='lane-meta'><span class='lane-tok'>0 tok</span>` +
    (!isMain && th.promised != null && run.mode !== 'sot'
      ? `<span class='lane-prom'>of ~${th.promised} promised</span>` : '') +
    `<span class='lane-time'>0.00 s</span></div>` +
    (isMain || run.mode === 'sot' ? '' : `<div class='lane-bar'><i style='width:0%'></i></div>`) +
    `<div class='lane-text'><div class='lane-inner'></div></div>`;
  const lane = { el, th, start: 0, end: null, tokens: 0, text: '', isMain,
    inner: el.querySelector('.lane-inner'),
    tok: el.querySelector('.lane-tok'), time: el.querySelector('.lane-time'),
    state: el.querySelector('.lane-state'), bar: el.querySelector('.lane-bar i'), node: null };
  return lane;
}

function setState(lane, s) {
  lane.el.className = lane.el.className.replace(/st-\w+/, 'st-' + s);
  lane.state.textContent = STATE[s] || s;
}

function appendText(r, lane, s) {  // text goes into the current text node of a lane
  // a chunk's first characters are the separator before its part ("\n\n"): not in its lane
  if (!lane.isMain && !lane.node) s = s.replace(/^\n+/, '');
  if (!s) return;
  if (!lane.node) {
    lane.node = document.createTextNode('');
    lane.inner.appendChild(lane.node);
  }
  lane.node.data += s;
}

function build() {
  cancelAnimationFrame(raf);
  raf = 0;
  stage.innerHTML = '';
  runs = [];
  if (!rec || !rec.runs || !rec.runs.length) {
    stage.innerHTML = "<div class='rp-empty'>Run a prompt with mode <b>Both — race</b>: the " +
      'PASTA run and the sequential run are replayed here side by side, from the times their ' +
      'tokens really arrived.</div>';
    clock.textContent = '0.00 s';
    return;
  }
  const grid = document.createElement('div');
  grid.className = 'board rp-grid board-' + (rec.mode === 'methods' ? 'methods'
    : rec.runs.length > 1 ? 'both' : rec.runs[0].run);
  for (const r of rec.runs) {
    const col = document.createElement('section');
    col.className = 'run run-' + r.run;
    col.innerHTML = `<header class='run-head'><span class='run-name'>${esc(r.label)}</span>` +
      `<span class='run-stats'><span class='rp-steps'>0 steps</span>` +
      `<span class='rp-tok'>0 tokens</span></span>` +
      `<span class='run-state rs-pending'>ready</span></header>` +
      `<div class='rp-track'><i></i></div>`;
    const chunks = document.createElement('div');
    chunks.className = 'chunks';
    const st = { r, col, chunks, i: 0, lanes: {}, ph: {}, tokens: 0, done: false,
      steps: col.querySelector('.rp-steps'), tok: col.querySelector('.rp-tok'),
      state: col.querySelector('.run-state'), track: col.querySelector('.rp-track i'),
      threads: Object.fromEntries(r.threads.map((t) => [t.id, t])) };
    if (hasLanes(r)) col.appendChild(chunks);
    grid.appendChild(col);
    runs.push(st);
  }
  stage.appendChild(grid);
  clock.textContent = '0.00 s';
}

// one replay event: {kind, t, ...} with the fields of its record in pasta_core/view.py
function apply(st, e) {
  const { kind, t } = e;
  const tid = e.thread;
  const r = st.r;
  const inline = !hasLanes(r);
  if (kind === 'start') {
    const th = st.threads[tid] || { id: tid, topic: e.topic, promised: e.promised, color: '#475569' };
    if (tid === 0) {
      const lane = mkLane(r, th, true);
      lane.start = t;
      st.lanes[0] = lane;
      st.col.insertBefore(lane.el, st.chunks.parentNode ? st.chunks : null);
    } else if (!inline) {
      const lane = mkLane(r, th, false);
      lane.start = t;
      st.lanes[tid] = lane;
      st.chunks.appendChild(lane.el);
    } else {
      st.lanes[tid] = { inline: true, start: t, tokens: 0, text: '' };
    }
  } else if (kind === 'text') {
    const lane = st.lanes[tid];
    if (!lane) return;
    lane.tokens += e.tokens;
    st.tokens += e.tokens;
    lane.text += e.text;
    if (tid === 0) appendText(st, lane, e.text);
    else if (lane.inline) { const ph = st.ph[tid]; if (ph) ph.textContent = lane.text; }
    else appendText(st, lane, e.text);
    if (lane.tok) lane.tok.textContent = lane.tokens + ' tok';
    if (lane.bar && lane.th.promised) {
      lane.bar.style.width = Math.min(100, 100 * lane.tokens / lane.th.promised) + '%';
    }
  } else if (kind === 'promise') {
    const main = st.lanes[0];
    const child = e.chunk;
    const th = st.threads[child] || { topic: '', color: '#64748b' };
    const span = document.createElement('span');
    span.style.setProperty('--c', th.color);
    span.className = inline ? 'ph ph-inline' : 'ph ph-pending';
    span.textContent = inline ? '' : '⟨' + th.topic + '⟩';
    main.inner.appendChild(span);
    main.node = null;
    st.ph[child] = span;
  } else if (kind === 'sync') {
    const main = st.lanes[0];
    const span = document.createElement('span');
    span.className = 'sync';
    span.textContent = '⇥ sync';
    main.inner.appendChild(span);
    main.node = null;
    st.lastSync = span;
  } else if (kind === 'wait') {
    setState(st.lanes[0], 'waiting');
    if (st.lastSync) st.lastSync.classList.add('sync-wait');
  } else if (kind === 'resume') {
    setState(st.lanes[0], 'running');
    if (st.lastSync) st.lastSync.classList.remove('sync-wait');
  } else if (kind === 'dequeue') {
    const lane = st.lanes[tid];
    if (lane && lane.el) setState(lane, 'running');
  } else if (kind === 'step') {
    st.steps.textContent = e.step + ' steps';
  } else if (kind === 'end') {
    const lane = st.lanes[tid];
    if (!lane) return;
    lane.end = t;
    if (lane.el) {
      setState(lane, 'done');
      if (lane.bar) lane.bar.style.width = '100%';
      lane.time.textContent = (t - lane.start).toFixed(2) + ' s';
    }
    const ph = st.ph[tid];
    if (ph && !inline) {
      ph.className = 'ph ph-filled';
      ph.textContent = lane.text;
    }
  }
}

function frame() {
  const now = (performance.now() - t0) / 1000 * speed;
  let all = true;
  for (const st of runs) {
    const ev = st.r.events;
    while (st.i < ev.length && ev[st.i].t <= now) apply(st, ev[st.i++]);
    for (const id in st.lanes) {
      const lane = st.lanes[id];
      if (lane.el && lane.end == null) lane.time.textContent = Math.max(0, now - lane.start).toFixed(2) + ' s';
    }
    st.tok.textContent = st.tokens + ' tokens';
    st.track.style.width = Math.min(100, 100 * st.tokens / Math.max(1, st.r.tokens)) + '%';
    if (!st.done && st.i >= ev.length && now >= st.r.wall_s) {
      st.done = true;
      st.state.className = 'run-state rs-done';
      const first = runs.filter((o) => o.done).length === 1 && runs.length > 1;
      st.state.textContent = (first ? '⚑ first · ' : '⚑ ') + st.r.wall_s.toFixed(2) + ' s';
      st.steps.textContent = st.r.steps + ' steps';
      for (const id in st.lanes) if (st.lanes[id].el && st.lanes[id].end == null) setState(st.lanes[id], 'done');
    } else if (!st.done && st.i > 0) {
      st.state.className = 'run-state rs-running';
      st.state.textContent = 'running';
    }
    all = all && st.done;
  }
  clock.textContent = now.toFixed(2) + ' s';
  raf = all ? 0 : requestAnimationFrame(frame);
  if (all) playBtn.textContent = '↻ Replay the race';
}

function play() {
  build();
  if (!runs.length) return;
  played = true;
  playBtn.textContent = 'Racing…';
  t0 = performance.now();
  raf = requestAnimationFrame(frame);
}

function load() {
  const v = props.value || '';
  if (v === raw) return;
  raw = v;
  try { rec = v ? JSON.parse(v) : null; } catch (err) { rec = null; }
  played = false;
  build();
  if (rec && visible()) play();
}

function visible() {
  const b = element.getBoundingClientRect();
  return b.width > 0 && b.height > 0 && b.bottom > 0 && b.top < window.innerHeight;
}

element.addEventListener('click', (ev) => {
  const b = ev.target.closest('button');
  if (!b || !element.contains(b)) return;
  if (b.dataset.speed) {
    const now = raf ? (performance.now() - t0) / 1000 * speed : 0;
    speed = parseFloat(b.dataset.speed);
    element.querySelectorAll('[data-speed]').forEach((x) => x.classList.toggle('on', x === b));
    if (raf) t0 = performance.now() - now / speed * 1000;  // keep the replay's clock continuous
  } else if (b.dataset.act === 'play') {
    play();
  }
});

// play once when the replay becomes visible (its tab opened, or scrolled into view)
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && rec && !played) play();
}).observe(element);

if (typeof watch === 'function') watch('value', load);
setInterval(load, 700);  // also catches a value set before `watch` existed
load();
