// Follow mode of the worker's log page: the <pre data-follow="/events/log?…&offset=N"> gets each `append` event's
// text added at its end, as the log grows. Loaded only by a page opened with `follow=1`; without it the page
// shows the log as of its load, and its "Load new" link fetches what came after.

const pre = document.querySelector('pre[data-follow]');
const range = document.getElementById('log-range');
const indicator = document.getElementById('log-end');

if (pre !== null && typeof EventSource === 'function') {
  let shownFrom = null;
  let source = null;
  let offset = Number(new URL(pre.dataset.follow, window.location.href).searchParams.get('offset') ?? '0');
  const open = () => {
    const url = new URL(pre.dataset.follow, window.location.href);
    url.searchParams.set('offset', String(offset)); // after a reconnect, carry on where the page is
    source = new EventSource(url.pathname + url.search);
    source.addEventListener('append', (event) => {
      const chunk = JSON.parse(event.data);
      if (chunk.startByte !== offset) return; // a chunk this page already has, or one from before a reset
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(chunk.text); // text, never markup
      offset = chunk.endByte;
      if (range !== null) {
        shownFrom ??= Number(/bytes (\d+)/.exec(range.textContent)?.[1] ?? '0');
        range.textContent = `Showing bytes ${shownFrom} – ${chunk.endByte} of ${chunk.totalLength} (following)`;
      }
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    });
    source.addEventListener('problem', (event) => {
      if (indicator !== null) indicator.textContent = `Stopped following: ${JSON.parse(event.data)}`;
      source.close();
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) setTimeout(open, 3000);
    });
  };
  open();
}
