#!/usr/bin/env bash
# A worker's GPU discovery script (docs/resources.md), as Spark's examples/src/main/scripts/getGpusResources.sh:
# prints {"name": "gpu", "addresses": ["0", "1", …]}, one address per GPU index nvidia-smi lists.
#   flint.worker.resource.gpu.amount=<n>
#   flint.worker.resource.gpu.discoveryScript=/path/to/getGpusResources.sh
set -euo pipefail
ADDRS=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n/","/g')
echo "{\"name\": \"gpu\", \"addresses\": [\"$ADDRS\"]}"
