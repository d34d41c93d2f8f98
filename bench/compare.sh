#!/usr/bin/env bash
# Times two models in convnet and in PyTorch, one after the other in this
# one invocation, and prints each figure and their ratio: the lecture's
# MNIST convnet, and a small ResNet on the same 28x28x1 images (conv
# 3x3/16 + BN + ReLU, two residual blocks of 16, a stride-2 block of 32
# with a 1x1 projection, global average pooling, dense 10; `convnet bench
# --model resnet`, bench/pytorch_resnet.py).
#
#   bench/compare.sh [--runs N] [--rounds R] [--model lecture|resnet|all]
#
# Each round runs, for each model, convnet, then PyTorch as the machine
# has it, then PyTorch tuned, each timing N repetitions and reporting
# medians; each model's table gives the median of each figure over the R
# rounds (default 3), and a line per round shows its own ratios.
# Alternating rounds keep a slow spell of this shared machine from
# landing on one side only.
#
# Before timing the ResNet, the script checks that the two ResNets are
# one model: convnet writes its weights, an input batch and its logits
# (`convnet bench --write-check DIR`), PyTorch loads the weights and must
# give the same parameter count and the same logits within 1e-4, in eval
# and in training mode (bench/pytorch_resnet.py --check DIR); a mismatch
# stops the script.
#
# PyTorch runs twice: as the machine has it, and tuned for its command only
# (OpenBLAS told to use the widest kernels this CPU runs — SkylakeX with
# AVX-512, else Zen or Haswell — and glibc malloc kept from returning
# memory to the system); the ratios are against the better of the two.
# Needs Debian's python3-torch and libopenblas0-pthread (installed with
# apt-get when missing) and runs /usr/bin/python3 with 2 threads.
#
# ONNX Runtime runs beside them for inference (batch 128 and batch 1, 2
# intra-op threads): each model is exported from PyTorch with torch.onnx
# (bench/pytorch_lecture.py --onnx, bench/pytorch_resnet.py --onnx) and
# timed by bench/ort/run.js in the native CPU library of npm's
# onnxruntime-node, installed from bench/ort's lockfile with `npm ci
# --ignore-scripts` when missing (needs node and npm; without them the
# ONNX Runtime column is left out).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=20
rounds=3
model=all
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2-}"; shift; shift || true ;;
    --rounds) rounds="${2-}"; shift; shift || true ;;
    --model) model="${2-}"; shift; shift || true ;;
    *) echo "compare.sh: unknown argument $1 (want --runs N, --rounds R or --model lecture|resnet|all)" >&2; exit 2 ;;
  esac
done
case "$model" in
  lecture|resnet) models=("$model") ;;
  all) models=(lecture resnet) ;;
  *) echo "compare.sh: --model takes lecture, resnet or all, got '$model'" >&2; exit 2 ;;
esac
for v in "$runs" "$rounds"; do
  case "$v" in
    ''|*[!0-9]*|0) echo "compare.sh: --runs and --rounds take a positive integer, got '$v'" >&2; exit 2 ;;
  esac
done

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/ >/dev/null 2>&1; then
  echo "installing python3-torch and libopenblas0-pthread with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH="/usr/local/go/bin:$PATH"
go build -o "$tmp/convnet" ./cmd/convnet

ort=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d bench/ort/node_modules/onnxruntime-node ]; then
    echo "installing onnxruntime-node in bench/ort with npm ci --ignore-scripts" >&2
    (cd bench/ort && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
  fi
  for m in "${models[@]}"; do
    /usr/bin/python3 "bench/pytorch_$m.py" --onnx "$tmp/$m.onnx"
  done
  ort=1
else
  echo "compare.sh: node and npm not found: no ONNX Runtime column" >&2
fi

if [[ " ${models[*]} " == *" resnet "* ]]; then
  mkdir "$tmp/check"
  "$tmp/convnet" bench --model resnet --write-check "$tmp/check" >/dev/null
  if ! /usr/bin/python3 bench/pytorch_resnet.py --check "$tmp/check"; then
    echo "compare.sh: convnet's and PyTorch's ResNets differ: not timing them" >&2
    exit 1
  fi
fi
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX
elif grep -qw avx2 /proc/cpuinfo && grep -q AuthenticAMD /proc/cpuinfo; then coretype=Zen
else coretype=Haswell; fi
# results holds, per round and model, five arguments for the report:
# the model's name, then convnet's, PyTorch's, PyTorch tuned's and ONNX
# Runtime's JSON ({} without it).
results=()
for ((r = 1; r <= rounds; r++)); do
  for m in "${models[@]}"; do
    ours=$("$tmp/convnet" bench --model "$m" --json --runs "$runs")
    torch_default=$(OMP_NUM_THREADS=2 /usr/bin/python3 "bench/pytorch_$m.py" --threads 2 --runs "$runs")
    torch_tuned=$(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$coretype \
      GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296 \
      OMP_NUM_THREADS=2 /usr/bin/python3 "bench/pytorch_$m.py" --threads 2 --runs "$runs")
    ort_result='{}'
    if [ "$ort" = 1 ]; then
      ort_result=$(node bench/ort/run.js "$tmp/$m.onnx" --threads 2 --runs "$runs")
    fi
    results+=("$m" "$ours" "$torch_default" "$torch_tuned" "$ort_result")
  done
done

/usr/bin/python3 - "$coretype" "${results[@]}" <<'PY'
import json, statistics, sys
coretype, args = sys.argv[1], sys.argv[2:]
groups = {}
for i in range(0, len(args), 5):
    groups.setdefault(args[i], []).append([json.loads(a) for a in args[i + 1:i + 5]])
rows = [("train step ms", "train_step_ms", False), ("inference images/s", "infer_images_per_second", True),
        ("batch-1 latency ms", "latency_ms", False), ("peak RSS MiB", "peak_rss_mib", False)]

def ratio(ours, dflt, tuned, key, higher):
    best = max(dflt[key], tuned[key]) if higher else min(dflt[key], tuned[key])
    return ours[key] / best if best else float('nan')

keys = [key for _, key, _ in rows]
titles = {"lecture": "the lecture's convnet", "resnet": "the small ResNet (conv 3x3/16 + BN + ReLU, 2 blocks of 16, a stride-2 block of 32, GAP, dense 10)"}
print(f"PyTorch tuned: OPENBLAS_CORETYPE={coretype} and glibc malloc tunables")
for model, got in groups.items():
    rounds = [g[:3] for g in got]
    orts = [g[3] for g in got]
    ours, dflt, tuned = ({k: statistics.median(r[j][k] for r in rounds) for k in keys} for j in range(3))
    first = rounds[0]
    print()
    print(f"== {model}: {titles[model]}, {first[0]['params']:,} parameters in convnet, {first[1]['params']:,} in PyTorch")
    if first[0]['params'] != first[1]['params']:
        print("   the parameter counts differ: the two models are not the same")
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
