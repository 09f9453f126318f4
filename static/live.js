// Live pages for Flint's web UIs: the page's <main data-live="/events/…"> is brought up to date with each `update`
// the server sends over one server-sent-events stream. The page works without this script; with it, it follows
// the cluster. An update changes only what differs (morph): an element whose tag and id are unchanged stays in
// place with its attributes and text updated, so a button stays under the pointer while its row's figures
// change, a focused filter box keeps its caret, an opened <details> stays open, and a <canvas> keeps its drawing
// (the page's own script owns it). The scroll position survives too.

const main = document.querySelector('main[data-live]');
const indicator = document.getElementById('live-state');

function setState(state, title) {
  if (indicator === null) return;
  indicator.dataset.state = state;
  indicator.title = title;
}

const ELEMENT_NODE = 1; // Node.ELEMENT_NODE

/** Makes `have`'s attributes those of `want`, but leaves a <details> open or closed as the reader left it. */
function morphAttributes(have, want) {
  for (const { name } of [...have.attributes]) {
    if (!want.hasAttribute(name) && !(name === 'open' && have.tagName === 'DETAILS')) have.removeAttribute(name);
  }
  for (const { name, value } of [...want.attributes]) {
    if (name === 'open' && have.tagName === 'DETAILS') continue;
    if (have.getAttribute(name) !== value) have.setAttribute(name, value);
  }
}

/**
 * Makes `target`'s children match `source`'s (a parsed update), node by node, keeping what is the same kind. Ids are
 * read as attributes: a form's `.id` is its control named "id" when it has one (the kill forms do), a new element
 * every update, which made every kill form look changed and be replaced.
 */
function morphChildren(target, source) {
  const wanted = [...source.childNodes];
  wanted.forEach((want, i) => {
    const have = target.childNodes[i];
    if (have === undefined) {
      target.appendChild(want);
    } else if (have.nodeType !== want.nodeType || (have.nodeType === ELEMENT_NODE && (have.tagName !== want.tagName || have.getAttribute('id') !== want.getAttribute('id')))) {
      target.replaceChild(want, have);
    } else if (have.nodeType === ELEMENT_NODE) {
      if (have.tagName === 'CANVAS') return;
      morphAttributes(have, want);
      morphChildren(have, want);
    } else if (have.nodeValue !== want.nodeValue) {
      have.nodeValue = want.nodeValue;
    }
  });
  while (target.childNodes.length > wanted.length) target.removeChild(target.lastChild);
}

if (main !== null && typeof EventSource === 'function') {
  const source = new EventSource(main.dataset.live + window.location.search);
  source.addEventListener('open', () => setState('live', 'Updates as the cluster changes'));
  source.addEventListener('error', () => setState('down', 'Lost the connection to the daemon; retrying'));
  source.addEventListener('update', (event) => {
    const active = document.activeElement;
    const activeId = active !== null && main.contains(active) ? active.id : '';
    const caret = activeId !== '' && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd, active.value] : undefined;
    const update = document.createElement('template');
    update.innerHTML = JSON.parse(event.data); // the server's render of this <main>, escaped there
    morphChildren(main, update.content);
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
