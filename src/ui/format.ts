// How the pages write numbers, sizes, times and durations: as Spark's UI does (`Utils.megabytesToString`,
// `UIUtils.formatDate`, `UIUtils.formatDuration`), in UTC so every viewer reads the same time.

/** `512.0 MiB`, `4.0 GiB`: Spark's `Utils.megabytesToString`. */
export function formatMb(mb: number): string {
  if (mb >= 1024 * 1024) return `${(mb / 1024 / 1024).toFixed(1)} TiB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GiB`;
  return `${mb.toFixed(1)} MiB`;
}

/** Bytes for people: `812 B`, `12.4 KiB`, `3.1 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `2026/12/02 13:05:09` in UTC (Spark's `UIUtils.formatDate` pattern). */
export function formatDate(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs <= 0) return '';
  const d = new globalThis.Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** `850 ms`, `12 s`, `3.2 min`, `1.5 h`: Spark's `UIUtils.formatDuration`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 60) return `${minutes.toFixed(1)} min`;
  const hours = minutes / 60;
  if (hours < 24) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} d`;
}

/** Custom-resource addresses held: `gpu [0,1]; fpga [f0]`, or empty. */
export function resourcesText(resources: Readonly<Record<string, ReadonlyArray<string>>>): string {
  return Object.entries(resources).map(([name, addresses]) => `${name} [${addresses.join(',')}]`).join('; ');
}

/**
 * A worker's custom resources as free/total per resource, with the free addresses: `gpu 2/4 free [2,3]`
 * (Spark's worker table shows "Resources" as used/total). Empty when it has none.
 */
export function resourcesFreeText(all: Readonly<Record<string, ReadonlyArray<string>>>, used: Readonly<Record<string, ReadonlyArray<string>>>): string {
  return Object.entries(all)
    .map(([name, addresses]) => {
      const held = new Set(used[name] ?? []);
      const free = addresses.filter((address) => !held.has(address));
      return `${name} ${free.length}/${addresses.length} free${free.length === 0 ? '' : ` [${free.join(',')}]`}`;
    })
    .join('; ');
}
