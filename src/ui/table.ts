// Tables that sort, filter and page on the server, with their state in the URL (`?workers.sort=cores&workers.desc=1
// &workers.q=10.0.&workers.page=2`): a link to a sorted, filtered view can be shared, the back button works, and
// nothing needs a script. Spark's `PagedTable` keeps the same state in `<table>.sort`, `.desc`, `.page` and
// `.pageSize` query parameters; Flint adds a filter. Each table of a page has its own id, so the parameters of one
// do not touch another.

import { html, joinHtml, type HtmlValue, type SafeHtml } from './html.ts';

export interface Column<R> {
  readonly key: string;
  readonly label: string;
  /** What the column sorts by and the filter matches; the cell shows it unless `cell` is given. */
  readonly value: (row: R) => string | number;
  readonly cell?: (row: R) => HtmlValue;
  readonly numeric?: boolean;
}

export interface TableSpec<R> {
  /** The table's id: the prefix of its query parameters and its element id. */
  readonly id: string;
  readonly columns: ReadonlyArray<Column<R>>;
  readonly rows: readonly R[];
  /** The page's query string (the request's), whose parameters for this table choose the view. */
  readonly query: URLSearchParams;
  /** The sort when the URL names none. */
  readonly defaultSort?: { readonly key: string; readonly desc: boolean };
  readonly pageSize?: number;
  /** Shown when there are no rows at all. */
  readonly empty: string;
}

export interface TableView {
  readonly sort: string | undefined;
  readonly desc: boolean;
  readonly q: string;
  readonly page: number;
}

export const DEFAULT_PAGE_SIZE = 100;
const MAX_FILTER_CHARS = 200;

/** The view the URL asks for; anything malformed falls back to the default (a bad link still shows the table). */
export function tableView<R>(spec: Pick<TableSpec<R>, 'id' | 'columns' | 'query' | 'defaultSort'>): TableView {
  const get = (name: string) => spec.query.get(`${spec.id}.${name}`) ?? undefined;
  const asked = get('sort');
  const sort = asked !== undefined && spec.columns.some((c) => c.key === asked) ? asked : spec.defaultSort?.key;
  const desc = asked === undefined ? (spec.defaultSort?.desc ?? false) : get('desc') === '1';
  const page = Number.parseInt(get('page') ?? '1', 10);
  return { sort, desc, q: (get('q') ?? '').slice(0, MAX_FILTER_CHARS), page: Number.isSafeInteger(page) && page >= 1 ? page : 1 };
}

/** The rows of the view: filtered (any column contains the text, case-insensitive), sorted, one page. */
export function viewRows<R>(spec: TableSpec<R>, view: TableView): { readonly rows: readonly R[]; readonly matching: number; readonly pages: number; readonly page: number } {
  const needle = view.q.trim().toLowerCase();
  let rows = needle === '' ? [...spec.rows] : spec.rows.filter((r) => spec.columns.some((c) => String(c.value(r)).toLowerCase().includes(needle)));
  const column = spec.columns.find((c) => c.key === view.sort);
  if (column !== undefined) {
    const keyed = rows.map((row) => ({ row, key: column.value(row) }));
    keyed.sort((a, b) => compare(a.key, b.key) * (view.desc ? -1 : 1));
    rows = keyed.map((k) => k.row);
  }
  const size = spec.pageSize ?? DEFAULT_PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const page = Math.min(view.page, pages);
  return { rows: rows.slice((page - 1) * size, page * size), matching: rows.length, pages, page };
}

/**
 * One collator for every sort: `localeCompare` with options builds one per call, 10x slower on 1,000 rows. Made at
 * the first sort: building it loads ICU's collation data, some 7 ms, which every driver would otherwise spend
 * before its app's first line (bench:submit).
 */
let natural: Intl.Collator | undefined;

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  natural ??= new Intl.Collator('en', { numeric: true });
  return natural.compare(String(a), String(b));
}

/** The table, with sortable headers, a filter box and page links; every link keeps the rest of the page's query. */
export function dataTable<R>(spec: TableSpec<R>): SafeHtml {
  const view = tableView(spec);
  const { rows, matching, pages, page } = viewRows(spec, view);
  const link = (changes: Record<string, string | undefined>): string => {
    const next = new URLSearchParams(spec.query);
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) next.delete(`${spec.id}.${name}`);
      else next.set(`${spec.id}.${name}`, value);
    }
    const text = next.toString();
    return `?${text}#${spec.id}`;
  };
  const header = spec.columns.map((c) => {
    const sorted = view.sort === c.key;
    const nextDesc = sorted ? !view.desc : c.numeric === true;
    const arrow = sorted ? (view.desc ? ' ▾' : ' ▴') : '';
    const ariaSort = sorted ? (view.desc ? 'descending' : 'ascending') : 'none';
    return html`<th scope="col" aria-sort="${ariaSort}"${c.numeric === true ? html` class="num"` : ''}><a href="${link({ sort: c.key, desc: nextDesc ? '1' : '0', page: undefined })}">${c.label}${arrow}</a></th>`;
  });
  const body =
    rows.length === 0
      ? html`<tr><td colspan="${spec.columns.length}" class="empty">${spec.rows.length === 0 ? spec.empty : `Nothing matches “${view.q}”.`}</td></tr>`
      : joinHtml(
          rows.map(
            (row) =>
              html`<tr>${joinHtml(spec.columns.map((c) => html`<td${c.numeric === true ? html` class="num"` : ''} data-label="${c.label}">${c.cell ? c.cell(row) : c.value(row)}</td>`))}</tr>`,
          ),
        );
  const kept = [...spec.query].filter(([name]) => name !== `${spec.id}.q` && name !== `${spec.id}.page`);
  const filter = html`<form class="filter" method="get" action="#${spec.id}" role="search">
${joinHtml(kept.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`))}
<input type="search" name="${spec.id}.q" value="${view.q}" placeholder="Filter" aria-label="Filter the table" id="${spec.id}-filter">
<button type="submit">Filter</button>
<span class="count">${matching === spec.rows.length ? `${spec.rows.length}` : `${matching} of ${spec.rows.length}`}</span>
</form>`;
  const pager =
    pages <= 1
      ? ''
      : html`<nav class="pager" aria-label="Pages">${page > 1 ? html`<a href="${link({ page: String(page - 1) })}">‹ Previous</a>` : ''}
<span>Page ${page} of ${pages}</span>${page < pages ? html`<a href="${link({ page: String(page + 1) })}">Next ›</a>` : ''}</nav>`;
  return html`<div class="table" id="${spec.id}">${filter}<div class="scroll"><table><thead><tr>${joinHtml(header)}</tr></thead><tbody>${body}</tbody></table></div>${pager}</div>`;
}
