// A small parser of the Prometheus text format (version 0.0.4), for tests that scrape Flint's metrics
// (docs/metrics.md): `# HELP` and `# TYPE` lines by family, and samples with their labels. It reads what prom-client
// writes (label values escaped with \\, \" and \n); it is not a general parser of the format.

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  help: string | undefined;
  type: string | undefined;
}

export interface Scrape {
  readonly families: Map<string, PromFamily>;
  readonly samples: PromSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Scrape {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  const family = (name: string): PromFamily => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { help: undefined, type: undefined }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      const f = family(meta[2] as string);
      if (meta[1] === 'HELP') f.help = meta[3];
      else f.type = meta[3];
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    if (Number.isNaN(value) && match[3] !== 'NaN') throw new Error(`not a sample value: ${JSON.stringify(line)}`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return { families, samples };
}

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
export function sample(scrape: Scrape, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = Object.entries(labels);
  return scrape.samples.find((s) => s.name === name && wanted.every(([k, v]) => s.labels[k] === v))?.value;
}
