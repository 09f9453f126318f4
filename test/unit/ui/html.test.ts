// The pages' escaping (src/ui/html.ts): whatever cluster state holds comes out as text, nested templates are
// not escaped twice, attributes stay inside their quotes, and a hostile URL goes nowhere.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SafeHtml, UNSAFE_URL, attr, escapeHtml, href, html, joinHtml, safeUrl } from '../../../src/ui/html.ts';

describe('html`…`', () => {
  test('a script in a value comes out as text', () => {
    const name = '<script>alert(1)</script>';
    assert.equal(html`<td>${name}</td>`.toString(), '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
  });

  test('escapes & < > " \' and ` and nothing else', () => {
    assert.equal(escapeHtml(`a&b<c>d"e'f\`g h/é`), 'a&amp;b&lt;c&gt;d&quot;e&#39;f&#96;g h/é');
    assert.equal(html`${'&amp;'}`.toString(), '&amp;amp;', 'an entity in a value is text too');
  });

  test('a quote in a value cannot end the attribute it is in', () => {
    const title = `" onmouseover="alert(1)`;
    assert.equal(html`<a title="${title}">x</a>`.toString(), '<a title="&quot; onmouseover=&quot;alert(1)">x</a>');
    assert.equal(html`<a title='${"' x='1"}'>`.toString(), "<a title='&#39; x=&#39;1'>");
  });

  test('a nested template is kept as markup, not escaped twice', () => {
    const cell = html`<b>${'<i>'}</b>`;
    assert.equal(html`<td>${cell}</td>`.toString(), '<td><b>&lt;i&gt;</b></td>');
  });

  test('lists are joined, null and undefined are nothing, numbers and booleans are text', () => {
    const rows = ['a<', 'b'].map((n) => html`<li>${n}</li>`);
    assert.equal(html`<ul>${rows}</ul>`.toString(), '<ul><li>a&lt;</li><li>b</li></ul>');
    assert.equal(html`${null}${undefined}${0}${false}${12n}`.toString(), '0false12');
    assert.equal(joinHtml(['<a>', html`<br>`], ', ').toString(), '&lt;a&gt;, <br>');
  });

  test('a SafeHtml cannot be made from a string by hand', () => {
    assert.throws(() => new SafeHtml('<script>', Symbol('flint.html.make')), TypeError);
    assert.ok(html`x` instanceof SafeHtml);
  });
});

describe('safeUrl, attr and href', () => {
  test('javascript:, data: and vbscript: URLs are refused, however they are spelled', () => {
    for (const url of ['javascript:alert(1)', 'JavaScript:alert(1)', ' \tjavascript:alert(1)', 'java\nscript:alert(1)', 'jav\tascript:x', '\u0001javascript:x', 'data:text/html,<script>x</script>', 'vbscript:x']) {
      assert.equal(safeUrl(url), UNSAFE_URL, JSON.stringify(url));
    }
  });

  test('http, https, mailto and relative URLs are kept', () => {
    for (const url of ['http://worker-1:8081/', 'HTTPS://node/x?y=1', 'mailto:ops@example.org', '/app/?appId=a', '?x=1', '#top', 'app/x', 'b/../x']) {
      assert.equal(safeUrl(url), url);
    }
  });

  test('attr writes one quoted, escaped attribute and sends URL attributes through safeUrl', () => {
    assert.equal(html`<a${attr('href', 'javascript:alert(1)')}>`.toString(), `<a href="${UNSAFE_URL}">`);
    assert.equal(html`<a${attr('href', '/x?a=1&b="2"')}>`.toString(), '<a href="/x?a=1&amp;b=&quot;2&quot;">');
    assert.equal(html`<td${attr('title', `"><script>`)}>`.toString(), '<td title="&quot;&gt;&lt;script&gt;">');
    assert.equal(html`<input${attr('disabled', true)}${attr('value', null)}>`.toString(), '<input disabled>');
  });

  test('attr refuses event handlers, style, srcdoc and odd names', () => {
    for (const name of ['onclick', 'onerror', 'style', 'srcdoc', 'x y', 'a"b', 'HREF']) {
      assert.throws(() => attr(name, 'x'), TypeError, name);
    }
  });

  test('href percent-encodes each value as one component', () => {
    assert.equal(href`/app/?appId=${'a b&c=d/../'}`, '/app/?appId=a%20b%26c%3Dd%2F..%2F');
    assert.equal(href`/worker/${'w/1'}/logs`, '/worker/w%2F1/logs');
  });
});
