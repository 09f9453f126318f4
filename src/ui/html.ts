// HTML for the web UIs' pages, escaped by construction. Spark builds its pages as Scala XML literals
// (`UIUtils.headerSparkPage`, `MasterPage.render`), where every interpolated value is escaped by the XML
// library; `html` gives our TypeScript templates the same guarantee.
//
// Every value put into html`…` is escaped unless it is itself the result of an html`…` call (a SafeHtml), so
// nested templates are not escaped twice and anything from cluster state (an application's name, a worker's
// reported URL, an error message) comes out as text. The escaping covers the five characters that can end a
// text node or a quoted attribute, & < > " ', and the backtick (old IE read it as an attribute quote). It does
// not make an unquoted attribute, an inline script or an inline style safe: the pages have none (the UI server's
// Content-Security-Policy refuses inline scripts and styles), and attributes are written quoted or with `attr`.
//
// URLs in href/src/action attributes go through `safeUrl`, which turns `javascript:`, `data:` and any other
// scheme than http, https and mailto into an inert `about:invalid` (a renderer does not fail because an
// application reported a hostile URL; the link just goes nowhere).

const kMake = Symbol('flint.html.make');

/** Markup that is safe to put in a page as is: made only by `html`, `attr` and `joinHtml`. */
export class SafeHtml {
  readonly #text: string;
  constructor(text: string, key: symbol) {
    if (key !== kMake) throw new TypeError('a SafeHtml is made by html`…`, attr() or joinHtml(), never directly');
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

/** A value a template may interpolate: text and numbers are escaped, SafeHtml is kept, lists are joined. */
export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** `text` with & < > " ' and ` replaced by character references: safe in a text node and a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  return escapeHtml(String(value));
}

/**
 * The tagged template for pages: html`<td>${app.name}</td>`. Interpolated values are escaped (see HtmlValue);
 * null and undefined render as nothing, so `${cond ? html`…` : null}` reads naturally.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out, kMake);
}

/** Items joined with `separator` (escaped unless it is SafeHtml), e.g. joinHtml(links, ', '). */
export function joinHtml(items: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  return new SafeHtml(items.map((item) => render(item)).join(render(separator)), kMake);
}

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);
/** Where a refused URL points: a page that does not exist, and a marker that says why when one looks. */
export const UNSAFE_URL = 'about:invalid#flint-unsafe-url';

/**
 * `url` when it is relative (a path, a query, a fragment) or http(s)/mailto; UNSAFE_URL for any other scheme,
 * `javascript:` above all. Browsers drop tabs and newlines inside a URL and skip leading spaces and control
 * characters before reading its scheme (WHATWG URL parsing), so the scheme is read the same way here.
 */
export function safeUrl(url: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a browser strips
  const normalized = url.replace(/^[\u0000-\u0020]+/, '').replace(/[\t\n\r]/g, '');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(normalized);
  if (scheme === null) return url;
  return SAFE_SCHEMES.has((scheme[1] as string).toLowerCase()) ? url : UNSAFE_URL;
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9-]*$/;
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'poster', 'cite']);

/**
 * One attribute, quoted and escaped: html`<a${attr('href', link)}>`. URL attributes go through safeUrl;
 * event handlers (`on…`), `style` and `srcdoc` are refused (they run or style whatever they are given), and so
 * is a name that is not lower-case letters, digits and dashes. A null or undefined value leaves the attribute
 * out, and `true` writes it bare (`disabled`).
 */
export function attr(name: string, value: string | number | boolean | null | undefined): SafeHtml {
  if (!ATTRIBUTE_NAME.test(name) || name.startsWith('on') || name === 'style' || name === 'srcdoc') {
    throw new TypeError(`attr() refuses the attribute name ${JSON.stringify(name)}`);
  }
  if (value === null || value === undefined || value === false) return new SafeHtml('', kMake);
  if (value === true) return new SafeHtml(` ${name}`, kMake);
  const text = URL_ATTRIBUTES.has(name) ? safeUrl(String(value)) : String(value);
  return new SafeHtml(` ${name}="${escapeHtml(text)}"`, kMake);
}

/**
 * A URL path or query with each interpolated value percent-encoded as one component:
 * href`/app/?appId=${id}` → `/app/?appId=app-1%20x`. The result is a string; put it in a page with attr().
 */
export function href(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += encodeURIComponent(String(values[i])) + (strings[i + 1] ?? '');
  return out;
}
