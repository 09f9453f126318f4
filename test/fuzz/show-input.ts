// Prints fuzz inputs in readable form, to study a finding: node test/fuzz/show-input.ts <seed> <from> [count] [target]
import { Decoder } from '@msgpack/msgpack';
import { generateInput } from './inputs.ts';

const [seed, from, count = '1', only] = process.argv.slice(2).map((a) => a);
const decoder = new Decoder({ useBigInt64: true });
const short = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x instanceof Uint8Array ? `<${x.length} bytes>` : typeof x === 'string' && x.length > 80 ? `<string of ${x.length}>` : x))?.slice(0, 400) ?? String(v);
for (let i = Number(from); i < Number(from) + Number(count); i++) {
  const input = generateInput(Number(seed), i);
  if (only !== undefined && input.target !== only) continue;
  if (input.kind === 'raw') {
    console.log(`#${i} ${input.target} raw: ${input.what} (${input.bytes.length} bytes)`);
    continue;
  }
  let body: string;
  try {
    body = short(decoder.decode(input.frame.subarray(4)));
  } catch (err) {
    body = `undecodable: ${(err as Error).message}`;
  }
  console.log(`#${i} ${input.target} ${input.type}${input.fatal ? ' (fatal)' : ''}: ${body}`);
}
