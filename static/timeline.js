// The application UI's event timeline (Spark's `AllJobsPage` timeline of executors and jobs): reads
// /api/timeline and draws executors (top lanes) and jobs (below) on the page's <canvas id="timeline">, one bar
// from start to end, open bars reaching now. The tables below carry the same facts; without this script the
// canvas stays blank. It redraws every 2 s and whenever the live update replaces the page's sections (static/live.js
// keeps the canvas itself in place).

const COLORS = { executor: '#5b8def', RUNNING: '#e0a100', SUCCEEDED: '#2f9e5b', FAILED: '#d64541' };
let data;

async function load() {
  const canvas = document.getElementById('timeline');
  if (canvas === null) return;
  try {
    const response = await fetch(canvas.dataset.src, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (response.ok) data = await response.json();
  } catch {
    // the daemon is gone or restarting: keep the last drawing
  }
  draw();
}

function lanes(items, key) {
  // Greedy lane packing: an item goes to the first lane whose last bar ended before it starts.
  const ends = [];
  return items.map((item) => {
    const start = item[key];
    let lane = ends.findIndex((end) => end !== null && end < start);
    if (lane === -1) lane = ends.length;
    ends[lane] = item.end;
    return lane;
  });
}

function draw() {
  const canvas = document.getElementById('timeline');
  if (canvas === null || data === undefined) return;
  const ratio = window.devicePixelRatio || 1;
  const executors = data.executors.map((e) => ({ ...e, end: e.removedMs }));
  const jobs = data.jobs.map((j) => ({ ...j, end: j.endedMs }));
  const executorLanes = lanes(executors, 'addedMs');
  const jobLanes = lanes(jobs, 'submittedMs');
  const executorRows = Math.max(1, ...executorLanes.map((l) => l + 1));
  const jobRows = Math.max(1, ...jobLanes.map((l) => l + 1));
  const row = 14;
  // As tall as its lanes (at most 24 of each), and a line for the times. CSSOM, not a style attribute: the CSP allows it.
  canvas.style.height = `${44 + (Math.min(executorRows, 24) + Math.min(jobRows, 24)) * row}px`;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const from = data.startedMs;
  const to = Math.max(data.nowMs, from + 1000);
  const x = (ms) => 4 + ((ms - from) / (to - from)) * (width - 8);
  const text = getComputedStyle(canvas).color;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = text;
  g.fillText('Executors', 4, 10);
  executors.forEach((e, i) => {
    g.fillStyle = COLORS.executor;
    const left = x(e.addedMs);
    g.fillRect(left, 12 + executorLanes[i] * row, Math.max(2, x(e.removedMs ?? to) - left), row - 2);
  });
  const top = 24 + executorRows * row;
  g.fillStyle = text;
  g.fillText('Jobs', 4, top - 2);
  jobs.forEach((j, i) => {
    g.fillStyle = COLORS[j.state] ?? COLORS.RUNNING;
    const left = x(j.submittedMs);
    g.fillRect(left, top + jobLanes[i] * row, Math.max(2, x(j.endedMs ?? to) - left), row - 2);
  });
  g.fillStyle = text;
  const clock = (ms) => new Date(ms).toLocaleTimeString();
  g.fillText(clock(from), 4, height - 4);
  const end = clock(to);
  g.fillText(end, width - 4 - g.measureText(end).width, height - 4);
}

const main = document.querySelector('main');
if (main !== null) new window.MutationObserver(draw).observe(main, { childList: true });
window.addEventListener('resize', draw);
void load();
window.setInterval(() => void load(), 2000);
