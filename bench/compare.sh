#!/usr/bin/env bash
# Times the lecture's MNIST convnet in convnet and in PyTorch, one after the
# other in this one invocation, and prints each figure and their ratio.
#
#   bench/compare.sh [--runs N] [--rounds R]
#
# Each round runs convnet, then PyTorch as the machine has it, then PyTorch
# tuned, each timing N repetitions and reporting medians; the table gives
# the median of each figure over the R rounds (default 3), and a line per
# round shows its own ratios. Alternating rounds keep a slow spell of this
# shared machine from landing on one side only.
#
# PyTorch runs twice: as the machine has it, and tuned for its command only
# (OpenBLAS told to use the widest kernels this CPU runs — SkylakeX with
# AVX-512, else Zen or Haswell — and glibc malloc kept from returning
# memory to the system); the ratios are against the better of the two.
# Needs Debian's python3-torch and libopenblas0-pthread (installed with
# apt-get when missing) and runs /usr/bin/python3 with 2 threads.
#
# ONNX Runtime runs beside them for inference (batch 128 and batch 1, 2
# intra-op threads): the model is exported from PyTorch with torch.onnx
# (bench/pytorch_lecture.py --onnx) and timed by bench/ort/run.js in the
# native CPU library of npm's onnxruntime-node, installed from
# bench/ort's lockfile with `npm ci --ignore-scripts` when missing (needs
# node and npm; without them the ONNX Runtime column is left out).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=20
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "compare.sh: unknown argument $1 (want --runs N or --rounds R)" >&2; exit 2 ;;
  esac
done
for v in "$runs" "$rounds"; do
  case "$v" in
    ''|*[!0-9]*|0) echo "compare.sh: --runs and --rounds take a positive integer, got '$v'" >&2; exit 2 ;;
  esac
done

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/ >/dev/null 2>&1; then
  echo "installing python3-torch and libopenblas0-pthread with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi

ort=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
    echo "installing onnxruntime-node in bench/ort with npm ci --ignore-scripts" >&2
    (cd bench/ort && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
  fi
  onnx=$(mktemp --suffix=.onnx)
  trap 'rm -f "$onnx"' EXIT
  /usr/bin/python3 bench/pytorch_lecture.py --onnx "$onnx"
  ort=1
else
  echo "compare.sh: node and npm not found: no ONNX Runtime column" >&2
fi

export PATH="/usr/local/go/bin:$PATH"
go build -o /tmp/convnet-bench ./cmd/convnet
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX
elif grep -qw avx2 /proc/cpuinfo && grep -q AuthenticAMD /proc/cpuinfo; then coretype=Zen
else coretype=Haswell; fi
results=()
for ((r = 1; r <= rounds; r++)); do
  ours=$(/tmp/convnet-bench bench --json --runs "$runs")
  torch_default=$(OMP_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_lecture.py --threads 2 --runs "$runs")
  torch_tuned=$(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$coretype \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \
    OMP_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_lecture.py --threads 2 --runs "$runs")
  ort_result='{}'
  if [ "$ort" = 1 ]; then
    ort_result=$(node bench/ort/run.js "$onnx" --threads 2 --runs "$runs")
  fi
  results+=("$ours" "$torch_default" "$torch_tuned" "$ort_result")
done

/usr/bin/python3 - "$coretype" "${results[@]}" <<'PY'
import json, statistics, sys
coretype, raw = sys.argv[1], [json.loads(a) for a in sys.argv[2:]]
rounds = [raw[i:i + 3] for i in range(0, len(raw), 4)]
orts = [raw[i + 3] for i in range(0, len(raw), 4)]
rows = [("train step ms", "train_step_ms", False), ("inference images/s", "infer_images_per_second", True),
        ("batch-1 latency ms", "latency_ms", False), ("peak RSS MiB", "peak_rss_mib", False)]

def ratio(ours, dflt, tuned, key, higher):
    best = max(dflt[key], tuned[key]) if higher else min(dflt[key], tuned[key])
    return ours[key] / best if best else float('nan')

keys = [key for _, key, _ in rows]
ours, dflt, tuned = ({k: statistics.median(r[j][k] for r in rounds) for k in keys} for j in range(3))
first = rounds[0]
print(f"PyTorch tuned: OPENBLAS_CORETYPE={coretype} and glibc malloc tunables")
for i, (o, d, t) in enumerate(rounds, 1):
    print(f"round {i}: " + ", ".join(f"{label.split()[0]} {ratio(o, d, t, key, hi):.2f}x" for label, key, hi in rows))
print(f"convnet ({first[0]['impl']}, {first[0]['threads']} threads) vs {first[1]['impl']} ({first[1]['threads']} threads), "
      f"batch {first[0]['batch']}, medians over {len(rounds)} round(s)")
print(f"{'':22s}{'convnet':>12s}{'torch':>12s}{'torch tuned':>13s}{'ratio':>9s}")
for label, key, higher in rows:
    print(f"{label:22s}{ours[key]:12.2f}{dflt[key]:12.2f}{tuned[key]:13.2f}{ratio(ours, dflt, tuned, key, higher):8.2f}x")
print("ratio = convnet / the better PyTorch figure (below 1 is better for ms and MiB, above 1 for images/s)")
if orts[0]:
    ort = {k: statistics.median(o[k] for o in orts) for k in ("infer_images_per_second", "latency_ms")}
    print(f"ONNX Runtime ({orts[0]['impl']}, {orts[0]['threads']} threads, model exported by torch.onnx), "
          f"medians over {len(orts)} round(s)")
    print(f"{'':22s}{'convnet':>12s}{'onnxruntime':>13s}{'ratio':>9s}")
    for label, key in (("inference images/s", "infer_images_per_second"), ("batch-1 latency ms", "latency_ms")):
        print(f"{label:22s}{ours[key]:12.2f}{ort[key]:13.2f}{ours[key] / ort[key]:8.2f}x")
PY
