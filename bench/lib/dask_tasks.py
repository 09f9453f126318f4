"""The no-op task throughput of bench:tasks with Dask distributed, for comparison (docs/benchmarks.md, bench:tasks).

    python3 bench/lib/dask_tasks.py <tasks>

Starts a distributed LocalCluster of 2 worker processes of 1 thread each (bench:tasks's 2 executors x 1 core),
runs a warm-up of 2,000 no-op tasks, then times client.map(noop, range(tasks)) and client.gather of the results,
as Flint's range(0, tasks, 1, tasks).map(noop).count() runs one task per element, and prints one JSON line: the
seconds of the timed job, the tasks and the sum of the results (the caller checks it).
"""

import json
import logging
import sys
import time

from distributed import Client, LocalCluster


def noop(x):
    return x


def run(client, n, prefix):
    # Distinct keys per job, so Dask computes every task rather than reusing a result it holds.
    futures = client.map(noop, range(n), key=[f'{prefix}-{i}' for i in range(n)])
    return client.gather(futures)


def main(tasks):
    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        run(client, 2000, 'warm')
        ready = time.perf_counter()
        results = run(client, tasks, 'timed')
        done = time.perf_counter()
    print(json.dumps({
        'seconds': done - ready,
        'clusterStartSeconds': ready - started,
        'tasks': len(results),
        'sum': sum(results),
    }))


if __name__ == '__main__':
    main(int(sys.argv[1]))
