// Idle CPUs that poll instead of halting, for one measurement: a PM QoS request on /dev/cpu_dma_latency.
//
// While a process holds that file open with a latency written to it, Linux lets no CPU enter an idle state
// whose exit latency exceeds it (the kernel's PM QoS interface, Documentation/power/pm_qos_interface.rst). With
// 0, an idle CPU polls rather than halting, so waking a thread on it costs no trip through the hypervisor. This
// is what tuned's latency-performance profile does for a whole machine (docs/operations.md, "Latency on virtual
// machines"). The kernel drops the request when the file is closed, also when the process dies, so it lasts no
// longer than the measurement that holds it. Writing needs root; elsewhere `holdIdlePoll` says why it cannot.

import { closeSync, openSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

const PM_QOS_DEVICE = '/dev/cpu_dma_latency';

export type IdlePollHold = { readonly ok: true; release(): void } | { readonly ok: false; readonly reason: string };

/** Asks that idle CPUs poll (a latency of 0 µs) until `release()`. */
export function holdIdlePoll(): IdlePollHold {
  let fd: number;
  try {
    fd = openSync(PM_QOS_DEVICE, 'w');
  } catch (err) {
    return { ok: false, reason: `cannot open ${PM_QOS_DEVICE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const request = Buffer.alloc(4); // a 32-bit integer in the machine's byte order
  if (endianness() === 'LE') request.writeInt32LE(0);
  else request.writeInt32BE(0);
  try {
    writeSync(fd, request);
  } catch (err) {
    closeSync(fd);
    return { ok: false, reason: `cannot write to ${PM_QOS_DEVICE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  let held = true;
  return {
    ok: true,
    release: () => {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}
