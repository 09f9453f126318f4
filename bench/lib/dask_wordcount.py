"""The word count of bench:shuffle with Dask bag, for comparison (docs/benchmarks.md, bench:shuffle).

    python3 bench/lib/dask_wordcount.py <files...>

Starts a distributed LocalCluster of 2 worker processes of 1 thread each, runs
read_text(files).map(str.split).flatten().frequencies().compute() on it, and prints one JSON line:
the seconds of the compute alone (not the cluster's start and a warm-up job, which are printed apart), the words counted
and the distinct words, which the caller checks against the corpus.
"""

import json
import logging
import sys
import time

import dask.bag as db
from distributed import Client, LocalCluster


def main(files):
    started = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        # Warm-up, as bench:shuffle does for Flint's executors: both workers import what a bag task needs.
        db.from_sequence(['a b', 'b c'], npartitions=2).map(str.split).flatten().frequencies().compute()
        ready = time.perf_counter()
        counts = db.read_text(files).map(str.split).flatten().frequencies().compute()
        done = time.perf_counter()
    print(json.dumps({
        'seconds': done - ready,
        'clusterStartSeconds': ready - started,
        'words': sum(n for _, n in counts),
        'distinct': len(counts),
        'partitions': len(files),
    }))


if __name__ == '__main__':
    main(sys.argv[1:])
