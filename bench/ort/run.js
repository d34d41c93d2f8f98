// Times a model exported by bench/pytorch_lecture.py --onnx or
// bench/pytorch_resnet.py --onnx in ONNX Runtime's native CPU library (npm
// onnxruntime-node), for bench/compare.sh:
//
//   node bench/ort/run.js MODEL.onnx [--threads 2] [--batch 128] [--runs 20] [--warmup 5]
//
// It prints one JSON object with the keys of `convnet bench --json` that
// apply to inference: infer_ms (median at the batch size),
// infer_images_per_second, latency_ms (median at batch 1) and
// peak_rss_mib of the whole process. Input: NCHW float32 [N, 1, 28, 28].
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');

function parseArgs(argv) {
  const opts = { threads: 2, batch: 128, runs: 20, warmup: 5 };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      const v = Number(argv[++i]);
      if (!(key in opts) || !Number.isInteger(v) || v <= 0) {
        throw new Error(`run.js: ${a} ${argv[i]}: want --threads, --batch, --runs or --warmup with a positive integer`);
      }
      opts[key] = v;
    } else {
      rest.push(a);
    }
  }
  if (rest.length !== 1) throw new Error(`run.js: want one model file, got ${JSON.stringify(rest)}`);
  opts.model = rest[0];
  return opts;
}

async function medianMS(fn, warmup, runs) {
  for (let i = 0; i < warmup; i++) await fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  const m = t.length >> 1;
  return t.length % 2 ? t[m] : (t[m - 1] + t[m]) / 2;
}

// peakRSSMiB reads the process's high-water resident set (VmHWM).
function peakRSSMiB() {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0];
  // Inputs uniform in [0, 1) from a fixed linear congruential sequence.
  let s = 1;
  const data = new Float32Array(o.batch * 28 * 28).map(() => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32));
  const x = new ort.Tensor('float32', data, [o.batch, 1, 28, 28]);
  const x1 = new ort.Tensor('float32', data.slice(0, 28 * 28), [1, 1, 28, 28]);
  const inferMS = await medianMS(() => session.run({ [input]: x }), o.warmup, o.runs);
  const latencyMS = await medianMS(() => session.run({ [input]: x1 }), 20, Math.max(200, o.runs));
  console.log(JSON.stringify({
    impl: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    threads: o.threads,
    batch: o.batch,
    infer_ms: +inferMS.toFixed(3),
    infer_images_per_second: +(o.batch / inferMS * 1e3).toFixed(1),
    latency_ms: +latencyMS.toFixed(3),
    peak_rss_mib: +peakRSSMiB().toFixed(1),
  }));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(2);
});
