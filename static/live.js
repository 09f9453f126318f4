// Live pages for Flint's web UIs: the page's <main data-live="/events/…"> is replaced with each `update` the server
// sends over one server-sent-events stream. The page works without this script; with it, it follows the cluster.
// Focus and the caret of a filter box being typed in survive an update; so does the scroll position.

const main = document.querySelector('main[data-live]');
const indicator = document.getElementById('live-state');

function setState(state, title) {
  if (indicator === null) return;
  indicator.dataset.state = state;
  indicator.title = title;
}

if (main !== null && typeof EventSource === 'function') {
  const source = new EventSource(main.dataset.live + window.location.search);
  source.addEventListener('open', () => setState('live', 'Updates as the cluster changes'));
  source.addEventListener('error', () => setState('down', 'Lost the connection to the daemon; retrying'));
  source.addEventListener('update', (event) => {
    const active = document.activeElement;
    const activeId = active !== null && main.contains(active) ? active.id : '';
    const caret = activeId !== '' && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd, active.value] : undefined;
    main.innerHTML = JSON.parse(event.data); // the server's render of this <main>, escaped there
    setState('live', `Updated ${new Date().toLocaleTimeString()}`);
    if (activeId === '') return;
    const again = document.getElementById(activeId);
    if (again === null) return;
    again.focus();
    if (caret !== undefined && 'value' in again) {
      again.value = caret[2];
      again.setSelectionRange(caret[0], caret[1]);
    }
  });
  source.addEventListener('reload', () => window.location.reload());
}

// Forms that ask before they act (kill an application or a driver).
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
