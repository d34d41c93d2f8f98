#!/usr/bin/env bash
# Times the lecture's MNIST convnet in convnet and in PyTorch, one after the
# other in this one invocation, and prints each figure and their ratio.
#
#   bench/compare.sh [--runs N]
#
# PyTorch runs twice: as the machine has it, and tuned for its command only
# (OpenBLAS told to use the widest kernels this CPU runs — SkylakeX with
# AVX-512, else Zen or Haswell — and glibc malloc kept from returning
# memory to the system); the ratios are against the better of the two.
# Needs Debian's python3-torch and libopenblas0-pthread (installed with
# apt-get when missing) and runs /usr/bin/python3 with 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=20
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) echo "compare.sh: unknown argument $1 (want --runs N)" >&2; exit 2 ;;
  esac
done

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/ >/dev/null 2>&1; then
  echo "installing python3-torch and libopenblas0-pthread with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi

export PATH="/usr/local/go/bin:$PATH"
go build -o /tmp/convnet-bench ./cmd/convnet
ours=$(/tmp/convnet-bench bench --json --runs "$runs")
torch_default=$(OMP_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_lecture.py --threads 2 --runs "$runs")
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX
elif grep -qw avx2 /proc/cpuinfo && grep -q AuthenticAMD /proc/cpuinfo; then coretype=Zen
else coretype=Haswell; fi
torch_tuned=$(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$coretype \
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_lecture.py --threads 2 --runs "$runs")

/usr/bin/python3 - "$ours" "$torch_default" "$torch_tuned" "$coretype" <<'PY'
import json, sys
ours, dflt, tuned = (json.loads(a) for a in sys.argv[1:4])
print(f"PyTorch tuned: OPENBLAS_CORETYPE={sys.argv[4]} and glibc malloc tunables")
print(f"convnet ({ours['impl']}, {ours['threads']} threads) vs {dflt['impl']} ({dflt['threads']} threads), batch {ours['batch']}, medians")
rows = [("train step ms", "train_step_ms", False), ("inference images/s", "infer_images_per_second", True),
        ("batch-1 latency ms", "latency_ms", False), ("peak RSS MiB", "peak_rss_mib", False)]
print(f"{'':22s}{'convnet':>12s}{'torch':>12s}{'torch tuned':>13s}{'ratio':>9s}")
for label, key, higher in rows:
    best = max(dflt[key], tuned[key]) if higher else min(dflt[key], tuned[key])
    ratio = ours[key] / best if best else float('nan')
    print(f"{label:22s}{ours[key]:12.2f}{dflt[key]:12.2f}{tuned[key]:13.2f}{ratio:8.2f}x")
print("ratio = convnet / the better PyTorch figure (below 1 is better for ms and MiB, above 1 for images/s)")
PY
