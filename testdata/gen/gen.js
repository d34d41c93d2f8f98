// gen.js writes the TensorFlow.js golden values that nn's and optim's Go
// tests compare against:
//
//	nn/testdata/golden/*.json     forward values and gradients of the nn ops
//	optim/testdata/adam_tfjs.json  a tf.train.adam trajectory
//
// Run: cd testdata/gen && npm ci && node gen.js
//
// TensorFlow.js 4.22 (pure JS, 'cpu' backend, float32) is used as the
// oracle, but TF is the spec, and tfjs departs from TF in four places; this
// script works around each one instead of recording tfjs' answer:
//
//  1. avg_pool's gradient under SAME divides by the whole window in tfjs;
//     TF divides by the number of real (unpadded) cells. avg_pool is linear,
//     so the TF gradient is Aᵀg where column i of A is the forward applied
//     to the i-th basis vector: we evaluate tfjs' forward (which does divide
//     by the real count; checked below) on every basis vector.
//  2. 3-D SAME padding is not clamped at zero in tfjs (a stride larger than
//     the window gives a negative "pad before"). For those geometries the
//     golden comes from explicit padding with TF's pads followed by VALID.
//  3. VALID with a negative output size returns a shape in tfjs instead of
//     failing: the error cases in errors.json are written by hand.
//  4. tfjs has no gradients for dilations > 1: gradients are taken with the
//     zero-inserted (dilated) filter at dilation 1, and the filter gradient
//     is read off at the taps.
//
// The goldens of the convolutions and pools are computed as "pad the input
// with TF's (before, after) split, then VALID" (zero pads for convolutions,
// −∞ for max pools, a real-cell count for average pools; the zero-inserted
// filter for dilations). Wherever tfjs can compute a case natively (SAME or
// VALID, and for gradients dilation 1) it is computed that way too, and the
// script stops if the two disagree beyond float32 rounding: this is the
// numerical check that tfjs splits SAME padding like TF (odd cell after)
// and places dilated taps like TF. EXPLICIT cases exist only in padded form.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { rng, distinctVals, short, prod } = require('./common');

const ROOT = path.resolve(__dirname, '..', '..');
const GOLDEN_DIR = path.join(ROOT, 'nn', 'testdata', 'golden');
const ADAM_FILE = path.join(ROOT, 'optim', 'testdata', 'adam_tfjs.json');

// ---------------------------------------------------------------- numbers

// vals draws n values in [-scale, scale] with three decimals and no exact
// zeros (so ReLU-like kinks are never hit); short decimals keep the JSON small.
function vals(r, n, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = Math.round((2 * r() - 1) * 1000) / 1000;
    if (v === 0) v = 0.001;
    out[i] = v * scale;
  }
  return out;
}

// enc turns a tensor (or shape + flat data) into {shape, data}.
function enc(t, shape) {
  if (t instanceof tf.Tensor) return { shape: t.shape.slice(), data: Array.from(t.dataSync(), short) };
  return { shape: shape.slice(), data: Array.from(t, (v) => short(Math.fround(v))) };
}

function maxRelErr(a, b) {
  const x = a.dataSync(), y = b.dataSync();
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]) / (1e-6 + Math.abs(y[i])));
  return m;
}

// agree stops the script when two computations of the same golden differ
// (beyond float32 rounding of different summation orders).
let agreeChecks = 0;
function agree(what, a, b) {
  if (a.shape.join() !== b.shape.join()) throw new Error(`${what}: shapes ${a.shape} vs ${b.shape}`);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i] - y[i]) > 1e-5 + 1e-5 * Math.abs(y[i])) {
      throw new Error(`${what}: element ${i}: ${x[i]} vs ${y[i]}`);
    }
  }
  agreeChecks++;
}

// ---------------------------------------------------------------- geometry

// tfAxis is TF's rule for one spatial dimension (see nn/geometry.go).
function tfAxis(inp, k, s, d, padding, explicit) {
  const ek = (k - 1) * d + 1;
  if (padding === 'SAME') {
    const out = Math.ceil(inp / s);
    const total = Math.max((out - 1) * s + ek - inp, 0);
    const raw = (out - 1) * s + ek - inp;
    return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2), raw };
  }
  if (padding === 'VALID') {
    if (inp < ek) return null;
    return { out: Math.ceil((inp - ek + 1) / s), before: 0, after: 0, raw: 0 };
  }
  const [b, a] = explicit;
  if (inp + b + a < ek) return null;
  return { out: Math.floor((inp + b + a - ek) / s) + 1, before: b, after: a, raw: b + a };
}

function axes(inSp, kSp, s, d, padding, explicit) {
  return inSp.map((v, i) => tfAxis(v, kSp[i], s[i], d[i], padding, explicit ? explicit[i] : null));
}

// expandFilter inserts d−1 zeros between the taps of the n leading
// (spatial) dimensions of a filter; taps is its inverse on gradients.
function expandFilter(data, shape, dil, n) {
  const ks = shape.slice(0, n), rest = prod(shape.slice(n));
  const es = ks.map((k, i) => (k - 1) * dil[i] + 1);
  const out = new Float32Array(prod(es) * rest);
  forTaps(ks, es, dil, (idx, eoff) => {
    for (let r = 0; r < rest; r++) out[eoff * rest + r] = data[idx * rest + r];
  });
  return { data: out, shape: [...es, ...shape.slice(n)] };
}

function taps(data, shape, kSp, dil) {
  const n = kSp.length, es = shape.slice(0, n), rest = prod(shape.slice(n));
  const out = new Float32Array(prod(kSp) * rest);
  forTaps(kSp, es, dil, (idx, eoff) => {
    for (let r = 0; r < rest; r++) out[idx * rest + r] = data[eoff * rest + r];
  });
  return { data: out, shape: [...kSp, ...shape.slice(n)] };
}

function forTaps(ks, es, dil, fn) {
  const n = ks.length, total = prod(ks), mi = new Array(n);
  for (let idx = 0; idx < total; idx++) {
    let rem = idx;
    for (let i = n - 1; i >= 0; i--) { mi[i] = rem % ks[i]; rem = Math.floor(rem / ks[i]); }
    let eoff = 0;
    for (let i = 0; i < n; i++) eoff = eoff * es[i] + mi[i] * dil[i];
    fn(idx, eoff);
  }
}

// Channels-last ↔ channels-first permutations for a rank-r tensor.
const toFirst = (r) => [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
const firstFormat = { 3: 'NCW', 4: 'NCHW', 5: 'NCDHW' };
const lastFormat = { 3: 'NWC', 4: 'NHWC', 5: 'NDHWC' };

function fullPads(ax) {
  return [[0, 0], ...ax.map((a) => [a.before, a.after]), [0, 0]];
}

// ---------------------------------------------------------------- conv ops

const convSpatial = { conv1d: 1, conv2d: 2, conv3d: 3, depthwise: 2 };

function convNative(kind, x, f, s, pad, d) {
  switch (kind) {
    case 'conv1d': return tf.conv1d(x, f, s[0], pad, 'NWC', d[0]);
    case 'conv2d': return tf.conv2d(x, f, s, pad, 'NHWC', d);
    case 'conv3d': return tf.conv3d(x, f, s, pad, 'NDHWC', d);
    case 'depthwise': return tf.depthwiseConv2d(x, f, s, pad, 'NHWC', d);
  }
  throw new Error(kind);
}

const ones = (n) => new Array(n).fill(1);

// convCase computes one golden case of a convolution: forward, and the
// gradients of sum(out · g) with respect to the input and the filter.
function convCase(kind, r, spec) {
  const n = convSpatial[kind];
  const { N, inSp, C, kSp, s, d, padding } = spec;
  const ax = axes(inSp, kSp, s, d, padding, spec.explicit);
  if (ax.some((a) => a === null)) throw new Error(`${kind}: invalid case ${JSON.stringify(spec)}`);
  const fShape = kind === 'depthwise' ? [...kSp, C, spec.M] : [...kSp, C, spec.K];
  const xShape = [N, ...inSp, C];
  const xData = vals(r, prod(xShape));
  const fData = vals(r, prod(fShape));

  return tf.tidy(() => {
    const x = tf.tensor(xData, xShape);
    const f = tf.tensor(fData, fShape);
    const fe = expandFilter(fData, fShape, d, n);
    const feT = tf.tensor(fe.data, fe.shape);
    const pads = fullPads(ax);
    // The reference path: TF's pads, then VALID at dilation 1.
    const manual = (xx, ff) => convNative(kind, tf.pad(xx, pads), ff, s, 'valid', ones(n));
    const yRef = manual(x, feT);
    const outShape = [N, ...ax.map((a) => a.out), yRef.shape[n + 1]];
    if (yRef.shape.join() !== outShape.join()) throw new Error(`${kind}: shape ${yRef.shape} vs TF ${outShape}`);
    const g = tf.tensor(vals(r, prod(outShape)), outShape);
    const [gx, gfe] = tf.grads((xx, ff) => tf.sum(tf.mul(manual(xx, ff), g)))([x, feT]);
    const gf = taps(gfe.dataSync(), gfe.shape, kSp, d);

    // tfjs' own SAME/VALID path, wherever it follows TF.
    const negative3D = n === 3 && padding === 'SAME' && ax.some((a) => a.raw < 0);
    let y = yRef;
    if (padding !== 'EXPLICIT' && !negative3D) {
      y = convNative(kind, x, f, s, padding.toLowerCase(), d);
      agree(`${spec.name} forward native vs padded`, y, yRef);
      if (d.every((v) => v === 1)) {
        const [gx2, gf2] = tf.grads((xx, ff) => tf.sum(tf.mul(convNative(kind, xx, ff, s, padding.toLowerCase(), d), g)))([x, f]);
        agree(`${spec.name} grad input native vs padded`, gx2, gx);
        agree(`${spec.name} grad filter native vs padded`, gf2, tf.tensor(gf.data, gf.shape));
      }
    }
    if (negative3D) stats.negative3D++;
    const c = {
      name: spec.name,
      strides: s, dilations: d, padding,
    };
    if (spec.explicit) c.explicit_paddings = spec.explicit;
    let tx = x, ty = y, tg = g, tgx = gx;
    if (spec.channelsFirst) {
      const p = toFirst(n + 2);
      [tx, ty, tg, tgx] = [x, y, g, gx].map((t) => tf.transpose(t, p));
      c.data_format = firstFormat[n + 2];
    } else {
      c.data_format = lastFormat[n + 2];
    }
    Object.assign(c, {
      input: enc(tx), filter: enc(fData, fShape), output: enc(ty),
      out_grad: enc(tg), grad_input: enc(tgx), grad_filter: enc(gf.data, gf.shape),
    });
    return c;
  });
}

function geomName(kind, spec) {
  const j = (v) => v.join('x');
  let s = `${kind}/${spec.padding}`;
  if (spec.explicit) s += `_${spec.explicit.map((p) => p.join('-')).join('_')}`;
  const inShape = spec.channelsFirst ? [spec.N, spec.C, ...spec.inSp] : [spec.N, ...spec.inSp, spec.C];
  s += `/in${j(inShape)}/k${j(spec.kSp)}`;
  if (spec.M) s += `m${spec.M}`;
  if (spec.K) s += `o${spec.K}`;
  s += `/s${j(spec.s)}/d${j(spec.d)}`;
  if (spec.channelsFirst) s += '/chfirst';
  return s;
}

// convSpecs enumerates geometries: every padding × (stride, dilation) pair
// × kernel, cycling through input sizes, batch and channel counts; VALID
// cases whose window does not fit are skipped (they are error cases).
function convSpecs(kind, { strideDil, kernels, inputs, extra }) {
  const specs = [];
  let i = 0;
  for (const padding of ['SAME', 'VALID']) {
    for (const [s, d] of strideDil) {
      for (const k of kernels) {
        const inSp = inputs[i % inputs.length];
        const spec = {
          padding, s, d, kSp: k, inSp,
          N: 1 + (i % 2), C: 1 + (i % 3),
        };
        if (kind === 'depthwise') spec.M = 1 + ((i + 1) % 3);
        else spec.K = 1 + ((i + 2) % 3);
        i++;
        if (axes(inSp, k, s, d, padding).some((a) => a === null)) continue;
        specs.push(spec);
      }
    }
  }
  for (const e of extra) {
    const spec = Object.assign({ N: 2, C: 2 }, e);
    if (kind === 'depthwise') spec.M = spec.M || 2; else spec.K = spec.K || 3;
    specs.push(spec);
  }
  for (const spec of specs) spec.name = geomName(kind, spec);
  return specs;
}

const stats = { negative3D: 0, avgSameFixed: 0, cases: {} };

function genConv() {
  const out = {};
  const sd1 = [[[1], [1]], [[2], [1]], [[3], [1]], [[1], [2]], [[1], [3]]];
  out.conv1d = convSpecs('conv1d', {
    strideDil: sd1,
    kernels: [[1], [2], [3], [4], [5]],
    inputs: [[7], [8], [9], [6], [10]],
    extra: [
      { padding: 'SAME', inSp: [3], kSp: [5], s: [1], d: [1] }, // kernel larger than input
      { padding: 'SAME', inSp: [2], kSp: [4], s: [2], d: [1] },
      { padding: 'SAME', inSp: [3], kSp: [2], s: [1], d: [3] },
      { padding: 'EXPLICIT', explicit: [[2, 1]], inSp: [6], kSp: [3], s: [2], d: [1] },
      { padding: 'EXPLICIT', explicit: [[0, 3]], inSp: [5], kSp: [2], s: [1], d: [2] },
      { padding: 'SAME', inSp: [9], kSp: [4], s: [2], d: [1], channelsFirst: true },
      { padding: 'VALID', inSp: [9], kSp: [3], s: [1], d: [2], channelsFirst: true },
      // Wide channels: vector loops and GEMM panels past their tails.
      { padding: 'SAME', N: 2, C: 9, K: 17, inSp: [11], kSp: [3], s: [2], d: [1] },
      { padding: 'VALID', N: 1, C: 16, K: 8, inSp: [10], kSp: [4], s: [1], d: [2] },
      // Stride 1 with ≥ 16 input channels (backprop-input can run as a
      // flipped-filter forward conv), and explicit pads wider than the window.
      { padding: 'SAME', N: 1, C: 17, K: 2, inSp: [7], kSp: [4], s: [1], d: [2] },
      { padding: 'EXPLICIT', explicit: [[4, 1]], N: 1, C: 16, K: 3, inSp: [6], kSp: [2], s: [1], d: [1] },
      { padding: 'EXPLICIT', explicit: [[1, 5]], N: 2, C: 2, K: 2, inSp: [4], kSp: [3], s: [1], d: [1] },
    ],
  });
  const sd2 = [
    [[1, 1], [1, 1]], [[2, 2], [1, 1]], [[3, 3], [1, 1]], [[2, 3], [1, 1]], [[3, 1], [1, 1]],
    [[1, 1], [2, 2]], [[1, 1], [3, 3]], [[1, 1], [2, 3]], [[1, 1], [1, 2]],
  ];
  out.conv2d = convSpecs('conv2d', {
    strideDil: sd2,
    kernels: [[1, 1], [2, 2], [3, 3], [2, 3], [4, 5]],
    inputs: [[7, 6], [5, 8], [6, 6], [8, 7], [4, 9]],
    extra: [
      { padding: 'SAME', inSp: [2, 3], kSp: [4, 5], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', inSp: [3, 2], kSp: [4, 3], s: [2, 2], d: [1, 1] },
      { padding: 'SAME', inSp: [3, 3], kSp: [2, 2], s: [1, 1], d: [3, 3] },
      { padding: 'SAME', inSp: [1, 1], kSp: [3, 3], s: [3, 2], d: [1, 1] },
      { padding: 'EXPLICIT', explicit: [[1, 2], [0, 3]], inSp: [5, 6], kSp: [3, 2], s: [2, 1], d: [1, 1] },
      { padding: 'EXPLICIT', explicit: [[2, 2], [1, 0]], inSp: [4, 5], kSp: [2, 3], s: [1, 1], d: [2, 1] },
      { padding: 'EXPLICIT', explicit: [[0, 0], [3, 1]], inSp: [6, 4], kSp: [3, 3], s: [3, 2], d: [1, 1] },
      { padding: 'SAME', inSp: [6, 7], kSp: [3, 2], s: [2, 3], d: [1, 1], channelsFirst: true },
      { padding: 'VALID', inSp: [7, 6], kSp: [2, 3], s: [1, 1], d: [2, 2], channelsFirst: true },
      { padding: 'SAME', inSp: [5, 5], kSp: [3, 3], s: [1, 1], d: [2, 1], channelsFirst: true },
      { padding: 'EXPLICIT', explicit: [[1, 0], [2, 1]], inSp: [5, 4], kSp: [2, 2], s: [2, 2], d: [1, 1], channelsFirst: true },
      // Wide channels, and the lecture's first layer (5x5 SAME, 1 → 32) on a 12x12 crop
      // and a small second layer (5x5 SAME, 8 → 16).
      { padding: 'SAME', N: 2, C: 9, K: 17, inSp: [5, 6], kSp: [3, 3], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 1, K: 32, inSp: [12, 12], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 8, K: 16, inSp: [6, 6], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      // The Winograd paths (5x5 stride 1, ≥ 8 channels): F(4x4, 5x5) on the
      // lecture's 14x14 and on sizes that leave partial tiles, F(2x2, 5x5) on
      // an image too small for 8x8 tiles, channels-first; and the direct
      // single-channel path with 64 filters, VALID and dilated.
      { padding: 'SAME', N: 1, C: 16, K: 16, inSp: [14, 14], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 2, C: 8, K: 8, inSp: [9, 11], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      { padding: 'VALID', N: 1, C: 9, K: 8, inSp: [13, 10], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 2, C: 8, K: 8, inSp: [1, 2], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 8, K: 8, inSp: [7, 6], kSp: [5, 5], s: [1, 1], d: [1, 1], channelsFirst: true },
      { padding: 'VALID', N: 2, C: 1, K: 64, inSp: [9, 8], kSp: [3, 4], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 1, K: 32, inSp: [8, 8], kSp: [3, 3], s: [1, 1], d: [2, 2] },
      { padding: 'SAME', N: 1, C: 7, K: 10, inSp: [6, 7], kSp: [3, 3], s: [1, 1], d: [2, 2] },
      { padding: 'VALID', N: 1, C: 12, K: 9, inSp: [7, 6], kSp: [2, 3], s: [2, 1], d: [1, 1], channelsFirst: true },
      // Stride 1 with ≥ 16 input channels, and explicit pads wider than the window.
      { padding: 'SAME', N: 1, C: 16, K: 3, inSp: [5, 6], kSp: [3, 2], s: [1, 1], d: [1, 1] },
      { padding: 'VALID', N: 2, C: 16, K: 4, inSp: [6, 5], kSp: [2, 3], s: [1, 1], d: [2, 1] },
      { padding: 'EXPLICIT', explicit: [[3, 0], [0, 4]], N: 1, C: 16, K: 2, inSp: [4, 4], kSp: [2, 2], s: [1, 1], d: [1, 1] },
      { padding: 'EXPLICIT', explicit: [[3, 0], [0, 4]], N: 2, C: 2, K: 2, inSp: [4, 4], kSp: [2, 2], s: [1, 1], d: [1, 1] },
      { padding: 'EXPLICIT', explicit: [[0, 2], [5, 1]], N: 1, C: 3, K: 2, inSp: [5, 3], kSp: [2, 3], s: [2, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 20, K: 3, inSp: [4, 5], kSp: [4, 4], s: [1, 1], d: [1, 1], channelsFirst: true },
      // A filter gradient summed over 4608 positions (a GEMM with a long K).
      { padding: 'SAME', N: 1, C: 1, K: 1, inSp: [64, 72], kSp: [5, 5], s: [1, 1], d: [1, 1] },
      // Large enough (6.9e5 flops) for the GEMM to run in parallel.
      { padding: 'SAME', N: 2, C: 8, K: 24, inSp: [10, 10], kSp: [3, 3], s: [1, 1], d: [1, 1] },
    ],
  });
  const sd3 = [
    [[1, 1, 1], [1, 1, 1]], [[2, 2, 2], [1, 1, 1]], [[3, 1, 2], [1, 1, 1]], [[1, 3, 3], [1, 1, 1]],
    [[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [1, 2, 3]],
  ];
  out.conv3d = convSpecs('conv3d', {
    strideDil: sd3,
    kernels: [[1, 1, 1], [2, 2, 2], [3, 3, 3], [2, 3, 1]],
    inputs: [[4, 5, 4], [5, 4, 6], [4, 4, 5], [6, 5, 4]],
    extra: [
      { N: 1, padding: 'SAME', inSp: [2, 3, 2], kSp: [3, 4, 3], s: [1, 1, 1], d: [1, 1, 1] },
      { N: 1, padding: 'SAME', inSp: [5, 5, 5], kSp: [1, 2, 1], s: [3, 3, 2], d: [1, 1, 1] },
      { N: 1, padding: 'EXPLICIT', explicit: [[1, 0], [0, 2], [1, 1]], inSp: [3, 4, 4], kSp: [2, 2, 3], s: [1, 2, 1], d: [1, 1, 1] },
      { N: 1, padding: 'SAME', inSp: [4, 5, 4], kSp: [2, 3, 2], s: [2, 1, 2], d: [1, 1, 1], channelsFirst: true },
      { N: 1, padding: 'VALID', inSp: [5, 4, 5], kSp: [2, 2, 2], s: [1, 1, 1], d: [2, 1, 2], channelsFirst: true },
      { N: 1, C: 9, K: 12, padding: 'SAME', inSp: [3, 4, 4], kSp: [2, 3, 3], s: [1, 2, 1], d: [1, 1, 1] },
      { N: 1, C: 16, K: 2, padding: 'SAME', inSp: [3, 3, 4], kSp: [2, 2, 3], s: [1, 1, 1], d: [1, 1, 1] },
      { N: 1, C: 16, K: 2, padding: 'EXPLICIT', explicit: [[2, 0], [0, 0], [3, 1]], inSp: [3, 3, 3], kSp: [1, 2, 2], s: [1, 1, 1], d: [1, 1, 1] },
    ],
  });
  out.depthwise = convSpecs('depthwise', {
    strideDil: [
      [[1, 1], [1, 1]], [[2, 2], [1, 1]], [[3, 2], [1, 1]], [[1, 3], [1, 1]],
      [[1, 1], [2, 2]], [[1, 1], [3, 1]],
    ],
    kernels: [[1, 1], [2, 2], [3, 3], [3, 2]],
    inputs: [[6, 7], [7, 5], [5, 6]],
    extra: [
      { padding: 'SAME', inSp: [2, 2], kSp: [3, 4], s: [1, 1], d: [1, 1], M: 3 },
      { padding: 'SAME', inSp: [3, 2], kSp: [2, 2], s: [1, 1], d: [3, 2], M: 2 },
      { padding: 'EXPLICIT', explicit: [[1, 2], [2, 0]], inSp: [4, 5], kSp: [3, 3], s: [2, 1], d: [1, 1], M: 2 },
      { padding: 'SAME', inSp: [6, 5], kSp: [3, 2], s: [2, 2], d: [1, 1], M: 2, channelsFirst: true },
      { padding: 'VALID', inSp: [6, 6], kSp: [2, 2], s: [1, 1], d: [2, 2], M: 3, channelsFirst: true },
      { padding: 'SAME', N: 1, C: 17, M: 2, inSp: [5, 6], kSp: [3, 3], s: [1, 1], d: [1, 1] },
      { padding: 'VALID', N: 2, C: 8, M: 1, inSp: [6, 5], kSp: [3, 2], s: [2, 2], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 9, M: 3, inSp: [5, 5], kSp: [3, 3], s: [1, 1], d: [2, 2] },
      { padding: 'SAME', N: 1, C: 11, M: 2, inSp: [5, 6], kSp: [3, 3], s: [2, 2], d: [1, 1], channelsFirst: true },
      { padding: 'SAME', N: 2, C: 17, M: 1, inSp: [5, 5], kSp: [3, 3], s: [1, 1], d: [1, 1] },
      { padding: 'SAME', N: 1, C: 16, M: 1, inSp: [6, 5], kSp: [2, 3], s: [1, 1], d: [2, 1] },
    ],
  });
  const files = {};
  for (const kind of Object.keys(out)) {
    const r = rng(hash(kind));
    files[kind] = out[kind].map((spec) => convCase(kind, r, spec));
  }
  return files;
}

function hash(s) {
  let h = 2166136261;
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

// ---------------------------------------------------------------- separable

function genSeparable() {
  const r = rng(hash('separable'));
  const specs = [
    { padding: 'SAME', inSp: [6, 7], C: 2, M: 2, K: 3, kSp: [3, 3], s: [1, 1], d: [1, 1] },
    { padding: 'SAME', inSp: [7, 6], C: 3, M: 1, K: 2, kSp: [2, 3], s: [2, 2], d: [1, 1] },
    { padding: 'SAME', inSp: [5, 8], C: 2, M: 3, K: 2, kSp: [3, 2], s: [3, 2], d: [1, 1] },
    { padding: 'SAME', inSp: [6, 6], C: 2, M: 2, K: 4, kSp: [3, 3], s: [1, 1], d: [2, 2] },
    { padding: 'SAME', inSp: [2, 3], C: 1, M: 2, K: 2, kSp: [4, 4], s: [1, 1], d: [1, 1] },
    { padding: 'VALID', inSp: [6, 7], C: 2, M: 2, K: 3, kSp: [3, 3], s: [1, 1], d: [1, 1] },
    { padding: 'VALID', inSp: [7, 7], C: 3, M: 2, K: 2, kSp: [2, 2], s: [2, 3], d: [1, 1] },
    { padding: 'VALID', inSp: [8, 6], C: 2, M: 1, K: 3, kSp: [3, 2], s: [1, 1], d: [2, 1] },
    { padding: 'VALID', inSp: [5, 5], C: 1, M: 3, K: 1, kSp: [1, 1], s: [2, 2], d: [1, 1] },
    { padding: 'SAME', inSp: [6, 5], C: 2, M: 2, K: 2, kSp: [3, 3], s: [2, 1], d: [1, 1], channelsFirst: true },
    { padding: 'SAME', inSp: [5, 6], C: 8, M: 2, K: 12, kSp: [3, 3], s: [1, 1], d: [1, 1] },
  ];
  return specs.map((spec, i) => {
    spec.N = 1 + (i % 2);
    spec.name = geomName('separable', Object.assign({}, spec, { K: undefined })) + `/p${spec.K}`;
    return tf.tidy(() => {
      const { N, inSp, C, M, K, kSp, s, d, padding } = spec;
      const ax = axes(inSp, kSp, s, d, padding);
      const xShape = [N, ...inSp, C], dwShape = [...kSp, C, M], pwShape = [1, 1, C * M, K];
      const x = tf.tensor(vals(r, prod(xShape)), xShape);
      const dwData = vals(r, prod(dwShape));
      const dw = tf.tensor(dwData, dwShape);
      const pw = tf.tensor(vals(r, prod(pwShape)), pwShape);
      const dwe = expandFilter(dwData, dwShape, d, 2);
      const dweT = tf.tensor(dwe.data, dwe.shape);
      const pads = fullPads(ax);
      const manual = (xx, a, b) => tf.conv2d(tf.depthwiseConv2d(tf.pad(xx, pads), a, s, 'valid'), b, 1, 'valid');
      const yRef = manual(x, dweT, pw);
      const y = tf.separableConv2d(x, dw, pw, s, padding.toLowerCase(), d, 'NHWC');
      agree(`${spec.name} forward native vs padded`, y, yRef);
      const g = tf.tensor(vals(r, prod(y.shape)), y.shape);
      const [gx, gdwe, gpw] = tf.grads((a, b, c) => tf.sum(tf.mul(manual(a, b, c), g)))([x, dweT, pw]);
      const gdw = taps(gdwe.dataSync(), gdwe.shape, kSp, d);
      const c = { name: spec.name, strides: s, dilations: d, padding };
      let [tx, ty, tg, tgx] = [x, y, g, gx];
      if (spec.channelsFirst) {
        [tx, ty, tg, tgx] = [x, y, g, gx].map((t) => tf.transpose(t, toFirst(4)));
        c.data_format = 'NCHW';
      } else c.data_format = 'NHWC';
      return Object.assign(c, {
        input: enc(tx), depthwise_filter: enc(dw), pointwise_filter: enc(pw), output: enc(ty),
        out_grad: enc(tg), grad_input: enc(tgx), grad_depthwise_filter: enc(gdw.data, gdw.shape),
        grad_pointwise_filter: enc(gpw),
      });
    });
  });
}

// ---------------------------------------------------------------- conv2d transpose

function genTranspose() {
  const r = rng(hash('conv2d_transpose'));
  const cases = [];
  let i = 0;
  for (const padding of ['SAME', 'VALID']) {
    for (const s of [[1, 1], [2, 2], [3, 3], [2, 3], [3, 1]]) {
      for (const k of [[1, 1], [2, 2], [3, 3], [3, 2], [4, 4]]) {
        const outSp = [[7, 6], [8, 8], [6, 7], [5, 9]][i % 4];
        const N = 1 + (i % 2), outC = 1 + (i % 3), inC = 1 + ((i + 1) % 3);
        i++;
        if ((i % 2) === 0 && k[0] > 1 && s[0] > 1) {
          // Thin the grid: half of the strided non-trivial kernels.
          continue;
        }
        const ax = axes(outSp, k, s, [1, 1], padding);
        if (ax.some((a) => a === null)) continue;
        cases.push({ padding, s, k, outSp, N, outC, inC, ax });
      }
    }
  }
  // An output size that does not come from an exact multiple of the
  // stride: conv2d maps both 7 and 8 to 4 under SAME stride 2.
  cases.push({ padding: 'SAME', s: [2, 2], k: [3, 3], outSp: [7, 8], N: 2, outC: 2, inC: 3 });
  cases.push({ padding: 'SAME', s: [2, 2], k: [5, 5], outSp: [2, 3], N: 1, outC: 2, inC: 2 });
  cases.push({ padding: 'SAME', s: [2, 2], k: [3, 3], outSp: [7, 6], N: 1, outC: 9, inC: 17 });
  cases.push({ padding: 'VALID', s: [1, 2], k: [2, 3], outSp: [5, 7], N: 2, outC: 16, inC: 8 });
  return cases.map((cs) => tf.tidy(() => {
    const { padding, s, k, outSp, N, outC, inC } = cs;
    const ax = axes(outSp, k, s, [1, 1], padding);
    const xShape = [N, ...ax.map((a) => a.out), inC];
    const fShape = [...k, outC, inC];
    const outShape = [N, ...outSp, outC];
    const x = tf.tensor(vals(r, prod(xShape)), xShape);
    const f = tf.tensor(vals(r, prod(fShape)), fShape);
    const y = tf.conv2dTranspose(x, f, outShape, s, padding.toLowerCase());
    // Cross-check: conv2d_transpose is the adjoint of conv2d, so
    // <conv2d(z, f), x> = <z, conv2d_transpose(x, f)> for any z.
    const z = tf.tensor(vals(r, prod(outShape)), outShape);
    const lhs = tf.sum(tf.mul(tf.conv2d(tf.pad(z, fullPads(ax)), f, s, 'valid'), x)).dataSync()[0];
    const rhs = tf.sum(tf.mul(z, y)).dataSync()[0];
    if (Math.abs(lhs - rhs) > 1e-4 * (1 + Math.abs(lhs))) throw new Error(`transpose adjoint ${lhs} vs ${rhs}`);
    agreeChecks++;
    const g = tf.tensor(vals(r, prod(outShape)), outShape);
    const [gx, gf] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2dTranspose(a, b, outShape, s, padding.toLowerCase()), g)))([x, f]);
    const j = (v) => v.join('x');
    return {
      name: `conv2d_transpose/${padding}/in${j(xShape)}/k${j(k)}o${outC}/s${j(s)}/out${j(outShape)}`,
      strides: s, padding, data_format: 'NHWC', output_shape: outShape,
      input: enc(x), filter: enc(f), output: enc(y), out_grad: enc(g), grad_input: enc(gx), grad_filter: enc(gf),
    };
  }));
}

// ---------------------------------------------------------------- pooling

// poolForward is TF's pooling through tfjs, for n = 1, 2, 3 spatial dims
// (1-D as 2-D with H = 1, the way tf.nn.max_pool1d does it).
function poolNative(type, n, x, k, s, pad) {
  if (n === 1) {
    const [N, W, C] = x.shape;
    const y = poolNative(type, 2, x.reshape([N, 1, W, C]), [1, k[0]], [1, s[0]], pad);
    return y.reshape([N, y.shape[2], C]);
  }
  if (n === 2) return type === 'max' ? tf.maxPool(x, k, s, pad) : tf.avgPool(x, k, s, pad);
  return type === 'max' ? tf.maxPool3d(x, k, s, pad, undefined, 'NDHWC') : tf.avgPool3d(x, k, s, pad, undefined, 'NDHWC');
}

// poolPadded is the reference: pad with TF's split, then VALID. Max pools
// pad with −∞; average pools divide the window sum by the count of real
// cells, counted by pooling a padded tensor of ones.
function poolPadded(type, n, x, k, s, pads) {
  if (type === 'max') return poolNative('max', n, tf.pad(x, pads, -Infinity), k, s, 'valid');
  const sum = poolNative('avg', n, tf.pad(x, pads), k, s, 'valid');
  const cnt = poolNative('avg', n, tf.pad(tf.onesLike(x), pads), k, s, 'valid');
  return tf.div(sum, cnt);
}

// avgPoolGradTF is TF's AvgPoolGrad: Aᵀg, where A (one channel of one
// example) is read column by column from the forward on basis vectors.
function avgPoolGradTF(forward, xShape, g) {
  const n = xShape.length - 2;
  const sp = xShape.slice(1, n + 1), P = prod(sp);
  const [N, C] = [xShape[0], xShape[n + 1]];
  const basis = tf.tidy(() => {
    const eye = tf.eye(P).reshape([P, ...sp, 1]);
    return forward(eye);
  });
  const Q = prod(basis.shape.slice(1, n + 1));
  const A = basis.dataSync(); // A[p*Q + q] = d out_q / d in_p
  const gd = g.dataSync();
  const dx = new Float64Array(N * P * C);
  for (let b = 0; b < N; b++) {
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        const a = A[p * Q + q];
        if (a === 0) continue;
        for (let c = 0; c < C; c++) dx[(b * P + p) * C + c] += a * gd[(b * Q + q) * C + c];
      }
    }
  }
  basis.dispose();
  return tf.tensor(Float32Array.from(dx), xShape);
}

function genPool() {
  const r = rng(hash('pool'));
  const specs = [];
  const grid = {
    1: { k: [[1], [2], [3], [4]], s: [[1], [2], [3]], in: [[7], [8], [5], [9]] },
    2: {
      k: [[1, 1], [2, 2], [3, 3], [2, 3], [4, 1]],
      s: [[1, 1], [2, 2], [3, 3], [1, 2], [3, 2]],
      in: [[6, 7], [7, 5], [5, 6], [8, 8]],
    },
    3: {
      k: [[1, 1, 1], [2, 2, 2], [3, 2, 2], [2, 1, 3]],
      s: [[1, 1, 1], [2, 2, 2], [3, 1, 2]],
      in: [[4, 5, 4], [5, 4, 4], [4, 4, 5]],
    },
  };
  let i = 0;
  for (const type of ['max', 'avg']) {
    for (const n of [1, 2, 3]) {
      for (const padding of ['SAME', 'VALID']) {
        for (const k of grid[n].k) {
          for (const s of grid[n].s) {
            const inSp = grid[n].in[i % grid[n].in.length];
            const N = n === 3 ? 1 : 1 + (i % 2), C = 1 + ((i + 1) % 3);
            i++;
            if (n === 2 && k[0] === 1 && s[0] === 1) continue; // the identity window once is enough
            specs.push({ type, n, padding, k, s, inSp, N, C });
          }
        }
      }
      // Windows larger than the input (SAME) and strides larger than the window.
      const big = { 1: [[3], [5], [2]], 2: [[2, 3], [4, 4], [1, 1]], 3: [[2, 2, 3], [3, 3, 3], [1, 1, 1]] }[n];
      specs.push({ type, n, padding: 'SAME', k: big[1], s: big[2], inSp: big[0], N: 2, C: 2 });
      specs.push({ type, n, padding: 'SAME', k: big[1], s: big[1], inSp: big[0], N: 1, C: 3 });
      const chf = { 1: [[8], [3], [2]], 2: [[6, 7], [3, 2], [2, 2]], 3: [[4, 5, 4], [2, 2, 2], [2, 1, 2]] }[n];
      specs.push({ type, n, padding: 'SAME', k: chf[1], s: chf[2], inSp: chf[0], N: 2, C: 2, channelsFirst: true });
      specs.push({ type, n, padding: 'VALID', k: chf[1], s: chf[2], inSp: chf[0], N: 1, C: 3, channelsFirst: true });
      // Wide channels (vector loops past their tails).
      const wide = { 1: [[9], [3], [2]], 2: [[5, 6], [3, 3], [2, 2]], 3: [[3, 4, 4], [2, 2, 2], [1, 2, 2]] }[n];
      specs.push({ type, n, padding: 'SAME', k: wide[1], s: wide[2], inSp: wide[0], N: 1, C: 19 });
      specs.push({ type, n, padding: 'VALID', k: wide[1], s: wide[2], inSp: wide[0], N: 1, C: 16, channelsFirst: n === 2 });
    }
    // The lecture's 2x2/2 SAME max pool (and its average twin) on 32 channels.
    specs.push({ type, n: 2, padding: 'SAME', k: [2, 2], s: [2, 2], inSp: [7, 7], N: 1, C: 32 });
  }
  const cases = [];
  for (const spec of specs) {
    const { type, n, padding, k, s, inSp, N, C } = spec;
    const ax = axes(inSp, k, s, ones(n), padding);
    if (ax.some((a) => a === null)) continue;
    const xShape = [N, ...inSp, C];
    const xData = type === 'max' ? distinctVals(r, prod(xShape)) : vals(r, prod(xShape));
    cases.push(tf.tidy(() => {
      const x = tf.tensor(xData, xShape);
      const pads = fullPads(ax);
      const yRef = poolPadded(type, n, x, k, s, pads);
      const negative3D = n === 3 && padding === 'SAME' && ax.some((a) => a.raw < 0);
      if (negative3D) stats.negative3D++;
      let y = yRef;
      if (!negative3D) {
        y = poolNative(type, n, x, k, s, padding.toLowerCase());
        agree(`${type}pool ${JSON.stringify(spec)} forward native vs padded`, y, yRef);
      }
      const g = tf.tensor(vals(r, prod(y.shape)), y.shape);
      let gx;
      const fwd = negative3D ? (t) => poolPadded(type, n, t, k, s, pads) : (t) => poolNative(type, n, t, k, s, padding.toLowerCase());
      if (type === 'max') {
        gx = tf.grad((t) => tf.sum(tf.mul(poolPadded('max', n, t, k, s, pads), g)))(x);
        if (!negative3D) agree(`maxpool ${JSON.stringify(spec)} grad native vs padded`, tf.grad((t) => tf.sum(tf.mul(fwd(t), g)))(x), gx);
      } else {
        gx = avgPoolGradTF(fwd, xShape, g);
        const tfjsGrad = tf.grad((t) => tf.sum(tf.mul(poolNative('avg', n, t, k, s, padding.toLowerCase()), g)))(x);
        if (padding === 'VALID') agree(`avgpool ${JSON.stringify(spec)} grad tfjs vs basis`, tfjsGrad, gx);
        else if (!negative3D && maxRelErr(tfjsGrad, gx) > 1e-4) stats.avgSameFixed++;
      }
      const j = (v) => v.join('x');
      const c = {
        name: `${type}pool${n}d/${padding}/in${j(spec.channelsFirst ? [N, C, ...inSp] : xShape)}/k${j(k)}/s${j(s)}${spec.channelsFirst ? '/chfirst' : ''}`,
        ksize: k, strides: s, padding,
      };
      let [tx, ty, tg, tgx] = [x, y, g, gx];
      if (spec.channelsFirst) {
        [tx, ty, tg, tgx] = [x, y, g, gx].map((t) => tf.transpose(t, toFirst(n + 2)));
        c.data_format = firstFormat[n + 2];
      } else c.data_format = lastFormat[n + 2];
      return Object.assign(c, { input: enc(tx), output: enc(ty), out_grad: enc(tg), grad_input: enc(tgx) });
    }));
  }
  // Check once that tfjs' SAME avg pool forward divides by the real count.
  tf.tidy(() => {
    const y = tf.avgPool(tf.ones([1, 5, 5, 1]), [3, 3], [2, 2], 'same');
    if (y.dataSync().some((v) => Math.abs(v - 1) > 1e-6)) throw new Error('tfjs avg_pool SAME forward does not divide by the real count');
  });
  return { max: cases.filter((c) => c.name.startsWith('max')), avg: cases.filter((c) => c.name.startsWith('avg')) };
}

// ---------------------------------------------------------------- dense ops

function genMatMul() {
  const r = rng(hash('matmul'));
  const cases = [];
  for (const [M, K, N] of [[1, 1, 1], [2, 3, 4], [5, 7, 3], [4, 16, 6], [3, 1, 5], [1, 9, 1], [17, 33, 9], [1, 37, 45], [3, 24, 40], [37, 29, 41], [72, 40, 56]]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        // Thin the big ones: [37,29,41] with equal transposes, and
        // [72,40,56] (3.2e5 flops: a parallel GEMM) plain only.
        if (M * K * N > 5000 && ta !== tb) continue;
        if (M * K * N > 100000 && ta) continue;
        cases.push(tf.tidy(() => {
          const aShape = ta ? [K, M] : [M, K], bShape = tb ? [N, K] : [K, N];
          const a = tf.tensor(vals(r, prod(aShape)), aShape), b = tf.tensor(vals(r, prod(bShape)), bShape);
          const y = tf.matMul(a, b, ta, tb);
          const g = tf.tensor(vals(r, M * N), [M, N]);
          const [ga, gb] = tf.grads((p, q) => tf.sum(tf.mul(tf.matMul(p, q, ta, tb), g)))([a, b]);
          return {
            name: `matmul/${M}x${K}x${N}/ta=${ta}/tb=${tb}`, transpose_a: ta, transpose_b: tb,
            a: enc(a), b: enc(b), output: enc(y), out_grad: enc(g), grad_a: enc(ga), grad_b: enc(gb),
          };
        }));
      }
    }
  }
  return cases;
}

function genBiasAdd() {
  const r = rng(hash('bias_add'));
  const specs = [
    { shape: [3, 5], format: '' }, { shape: [2, 4, 3], format: 'NHWC' }, { shape: [2, 3, 4, 5], format: 'NHWC' },
    { shape: [2, 3, 4, 5], format: '' }, { shape: [2, 3, 4, 5], format: 'NCHW' }, { shape: [1, 2, 3, 3, 4], format: 'NHWC' },
    { shape: [2, 3, 2, 2, 3], format: 'NCHW' }, { shape: [4, 1], format: 'NCHW' },
    { shape: [3, 5, 5, 19], format: 'NHWC' }, { shape: [2, 19, 3, 3], format: 'NCHW' },
  ];
  return specs.map(({ shape, format }) => tf.tidy(() => {
    const cAxis = format === 'NCHW' ? 1 : shape.length - 1;
    const C = shape[cAxis];
    const x = tf.tensor(vals(r, prod(shape)), shape);
    const b = tf.tensor(vals(r, C), [C]);
    const bShape = shape.map((v, i) => (i === cAxis ? C : 1));
    const y = tf.add(x, b.reshape(bShape));
    const g = tf.tensor(vals(r, prod(shape)), shape);
    const [gx, gb] = tf.grads((p, q) => tf.sum(tf.mul(tf.add(p, q.reshape(bShape)), g)))([x, b]);
    // The fused bias_add + relu, and its gradients.
    const fused = (p, q) => tf.relu(tf.add(p, q.reshape(bShape)));
    const [rgx, rgb] = tf.grads((p, q) => tf.sum(tf.mul(fused(p, q), g)))([x, b]);
    return {
      name: `bias_add/${shape.join('x')}/${format || 'default'}`, data_format: format,
      value: enc(x), bias: enc(b), output: enc(y), out_grad: enc(g), grad_value: enc(gx), grad_bias: enc(gb),
      relu_output: enc(fused(x, b)), relu_grad_value: enc(rgx), relu_grad_bias: enc(rgb),
    };
  }));
}


function genActivations() {
  const r = rng(hash('activation'));
  const ops = [
    { op: 'relu', f: (x) => tf.relu(x) },
    { op: 'leaky_relu', alpha: 0.2, f: (x) => tf.leakyRelu(x, 0.2) },
    { op: 'leaky_relu', alpha: 0.01, f: (x) => tf.leakyRelu(x, 0.01) },
    { op: 'sigmoid', f: (x) => tf.sigmoid(x) },
    { op: 'tanh', f: (x) => tf.tanh(x) },
  ];
  const cases = [];
  for (const { op, alpha, f } of ops) {
    for (const [shape, scale] of [[[7], 1], [[3, 5], 3], [[2, 3, 4], 12], [[67], 6], [[3, 33], 2]]) {
      cases.push(tf.tidy(() => {
        const x = tf.tensor(vals(r, prod(shape), scale), shape);
        const y = f(x);
        const g = tf.tensor(vals(r, prod(shape)), shape);
        const gx = tf.grad((t) => tf.sum(tf.mul(f(t), g)))(x);
        const c = { name: `${op}${alpha !== undefined ? '_' + alpha : ''}/${shape.join('x')}/scale${scale}`, op };
        if (alpha !== undefined) c.alpha = alpha;
        return Object.assign(c, { x: enc(x), output: enc(y), out_grad: enc(g), grad_x: enc(gx) });
      }));
    }
  }
  return cases;
}

function genSoftmax() {
  const r = rng(hash('softmax'));
  const cases = [];
  for (const op of ['softmax', 'log_softmax']) {
    const f = op === 'softmax' ? (x) => tf.softmax(x) : (x) => tf.logSoftmax(x);
    for (const [shape, scale, offset] of [[[1, 1], 1, 0], [[3, 5], 1, 0], [[4, 10], 6, 0], [[2, 3, 4], 2, 0], [[2, 6], 3, 100], [[6], 1, -50], [[3, 37], 4, 0], [[2, 257], 3, 0]]) {
      cases.push(tf.tidy(() => {
        const x = tf.add(tf.tensor(vals(r, prod(shape), scale), shape), offset);
        const y = f(x);
        const g = tf.tensor(vals(r, prod(shape)), shape);
        const gx = tf.grad((t) => tf.sum(tf.mul(f(t), g)))(x);
        return {
          name: `${op}/${shape.join('x')}/scale${scale}/offset${offset}`, op,
          logits: enc(x), output: enc(y), out_grad: enc(g), grad_logits: enc(gx),
        };
      }));
    }
  }
  return cases;
}

// oneHot is a float32 [N, C] one-hot matrix (tf.oneHot refuses C = 1).
function oneHot(labels, C) {
  const d = new Float32Array(labels.length * C);
  labels.forEach((l, i) => { d[i * C + l] = 1; });
  return tf.tensor(d, [labels.length, C]);
}

function genLosses() {
  const r = rng(hash('loss'));
  const softmaxXent = [];
  for (const [N, C, scale, kind] of [[1, 2, 1, 'dist'], [4, 5, 2, 'dist'], [3, 10, 8, 'onehot'], [2, 4, 60, 'onehot'], [5, 3, 1, 'dist'], [4, 37, 3, 'dist']]) {
    softmaxXent.push(tf.tidy(() => {
      const logits = tf.tensor(vals(r, N * C, scale), [N, C]);
      let labels;
      if (kind === 'onehot') {
        labels = oneHot(Array.from({ length: N }, () => Math.floor(r() * C)), C);
      } else {
        const w = tf.tensor(Array.from({ length: N * C }, () => Math.round((r() + 0.05) * 1000) / 1000), [N, C]);
        labels = tf.div(w, tf.sum(w, -1, true));
      }
      // TF's SoftmaxCrossEntropyWithLogits: loss = −Σ labels·log_softmax(logits),
      // backprop = softmax(logits) − labels.
      const loss = tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1));
      const viaLosses = tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0, tf.Reduction.NONE);
      agree(`softmax xent ${N}x${C}: losses vs logSoftmax`, viaLosses, loss);
      const backprop = tf.sub(tf.softmax(logits), labels);
      const gl = tf.grad((t) => tf.sum(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(t)), -1))))(logits);
      agree(`softmax xent ${N}x${C}: backprop vs gradient`, gl, backprop);
      return {
        name: `softmax_xent/${N}x${C}/${kind}/scale${scale}`,
        labels: enc(labels), logits: enc(logits), loss: enc(loss), backprop: enc(backprop),
      };
    }));
  }
  const sparse = [];
  for (const [N, C, scale] of [[1, 1, 1], [4, 5, 2], [3, 10, 8], [2, 4, 60], [5, 37, 3]]) {
    sparse.push(tf.tidy(() => {
      const logits = tf.tensor(vals(r, N * C, scale), [N, C]);
      const lab = Array.from({ length: N }, () => Math.floor(r() * C));
      const onehot = oneHot(lab, C);
      const loss = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1));
      return {
        name: `sparse_softmax_xent/${N}x${C}/scale${scale}`,
        labels: lab, logits: enc(logits), loss: enc(loss), backprop: enc(tf.sub(tf.softmax(logits), onehot)),
      };
    }));
  }
  const sigmoidXent = [];
  for (const [shape, scale] of [[[5], 1], [[3, 4], 4], [[2, 3, 2], 40], [[3, 23], 3]]) {
    sigmoidXent.push(tf.tidy(() => {
      const logits = tf.tensor(vals(r, prod(shape), scale), shape);
      const labels = tf.tensor(Array.from({ length: prod(shape) }, (_, i) => (i % 3 === 0 ? i % 2 : Math.round(r() * 100) / 100)), shape);
      const f = (t) => tf.losses.sigmoidCrossEntropy(labels, t, undefined, 0, tf.Reduction.NONE);
      const loss = f(logits);
      // TF's formula: max(x, 0) − x·z + log(1 + exp(−|x|)).
      const ref = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      agree(`sigmoid xent ${shape}: losses vs formula`, loss, ref);
      const g = tf.tensor(vals(r, prod(shape)), shape);
      const gl = tf.grad((t) => tf.sum(tf.mul(f(t), g)))(logits);
      return {
        name: `sigmoid_xent/${shape.join('x')}/scale${scale}`,
        labels: enc(labels), logits: enc(logits), loss: enc(loss), out_grad: enc(g), grad_logits: enc(gl),
      };
    }));
  }
  return { softmax_xent: softmaxXent, sparse_softmax_xent: sparse, sigmoid_xent: sigmoidXent };
}

// ---------------------------------------------------------------- error cases

// genErrors lists inputs TF rejects. They are written by hand (tfjs accepts
// some of them, see deviation 3 above). Shapes only: the Go test builds
// tensors of those shapes. Each case names the op and the reason.
function genErrors() {
  const E = [];
  const conv = (op, name, o) => E.push(Object.assign({ name: `${op}/${name}`, op }, o));
  // conv2d
  conv('conv2d', 'strides_and_dilations', { input_shape: [1, 6, 6, 2], filter_shape: [3, 3, 2, 2], strides: [2, 2], dilations: [2, 2], padding: 'SAME' });
  conv('conv2d', 'strides_and_dilations_mixed_axes', { input_shape: [1, 6, 6, 2], filter_shape: [3, 3, 2, 2], strides: [2, 1], dilations: [1, 2], padding: 'VALID' });
  conv('conv2d', 'channel_mismatch', { input_shape: [1, 5, 5, 3], filter_shape: [3, 3, 2, 4], padding: 'SAME' });
  conv('conv2d', 'channel_mismatch_nchw', { input_shape: [1, 2, 5, 5], filter_shape: [3, 3, 5, 4], padding: 'SAME', data_format: 'NCHW' });
  conv('conv2d', 'valid_negative', { input_shape: [1, 3, 3, 1], filter_shape: [4, 4, 1, 1], padding: 'VALID' });
  conv('conv2d', 'valid_negative_one_axis', { input_shape: [1, 8, 3, 1], filter_shape: [2, 4, 1, 1], padding: 'VALID' });
  conv('conv2d', 'valid_negative_dilated', { input_shape: [1, 6, 6, 1], filter_shape: [3, 3, 1, 1], dilations: [3, 3], padding: 'VALID' });
  conv('conv2d', 'explicit_negative_output', { input_shape: [1, 2, 2, 1], filter_shape: [5, 5, 1, 1], padding: 'EXPLICIT', explicit_paddings: [[1, 0], [1, 1]] });
  conv('conv2d', 'explicit_negative_padding', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'EXPLICIT', explicit_paddings: [[-1, 0], [1, 1]] });
  conv('conv2d', 'explicit_wrong_count', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'EXPLICIT', explicit_paddings: [[1, 1], [1, 1], [1, 1]] });
  conv('conv2d', 'explicit_pads_batch', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'EXPLICIT', explicit_paddings: [[1, 0], [1, 1], [1, 1], [0, 0]] });
  conv('conv2d', 'stride_over_batch', { input_shape: [2, 5, 5, 1], filter_shape: [3, 3, 1, 1], strides: [2, 1, 1, 1], padding: 'SAME' });
  conv('conv2d', 'stride_over_channels', { input_shape: [1, 5, 5, 2], filter_shape: [3, 3, 2, 1], strides: [1, 1, 1, 2], padding: 'SAME' });
  conv('conv2d', 'dilation_over_batch', { input_shape: [2, 5, 5, 1], filter_shape: [3, 3, 1, 1], dilations: [2, 1, 1, 1], padding: 'SAME' });
  conv('conv2d', 'stride_over_channels_nchw', { input_shape: [1, 2, 5, 5], filter_shape: [3, 3, 2, 1], strides: [1, 2, 1, 1], padding: 'SAME', data_format: 'NCHW' });
  conv('conv2d', 'three_strides', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], strides: [1, 2, 2], padding: 'SAME' });
  conv('conv2d', 'zero_stride', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], strides: [0, 1], padding: 'SAME' });
  conv('conv2d', 'zero_dilation', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], dilations: [1, 0], padding: 'SAME' });
  conv('conv2d', 'input_rank3', { input_shape: [5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'SAME' });
  conv('conv2d', 'input_rank5', { input_shape: [1, 1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'SAME' });
  conv('conv2d', 'filter_rank3', { input_shape: [1, 5, 5, 1], filter_shape: [3, 1, 1], padding: 'SAME' });
  conv('conv2d', 'unknown_padding', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'FULL' });
  conv('conv2d', 'unknown_data_format', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'SAME', data_format: 'NWHC' });
  conv('conv2d', 'rank3_data_format', { input_shape: [1, 5, 5, 1], filter_shape: [3, 3, 1, 1], padding: 'SAME', data_format: 'NWC' });
  // conv2d backprops
  conv('conv2d_backprop_input', 'grad_shape_mismatch', { input_sizes: [1, 6, 6, 2], filter_shape: [3, 3, 2, 4], grad_shape: [1, 5, 6, 4], strides: [1, 1], padding: 'SAME' });
  conv('conv2d_backprop_input', 'grad_channels_mismatch', { input_sizes: [1, 6, 6, 2], filter_shape: [3, 3, 2, 4], grad_shape: [1, 6, 6, 3], padding: 'SAME' });
  conv('conv2d_backprop_input', 'input_channels_mismatch', { input_sizes: [1, 6, 6, 3], filter_shape: [3, 3, 2, 4], grad_shape: [1, 6, 6, 4], padding: 'SAME' });
  conv('conv2d_backprop_input', 'strides_and_dilations', { input_sizes: [1, 6, 6, 2], filter_shape: [3, 3, 2, 4], grad_shape: [1, 3, 3, 4], strides: [2, 2], dilations: [2, 2], padding: 'SAME' });
  conv('conv2d_backprop_input', 'valid_negative', { input_sizes: [1, 2, 2, 2], filter_shape: [3, 3, 2, 4], grad_shape: [1, 0, 0, 4], padding: 'VALID' });
  conv('conv2d_backprop_filter', 'grad_shape_mismatch', { input_shape: [1, 6, 6, 2], filter_sizes: [3, 3, 2, 4], grad_shape: [1, 3, 3, 4], strides: [1, 1], padding: 'SAME' });
  conv('conv2d_backprop_filter', 'input_channels_mismatch', { input_shape: [1, 6, 6, 3], filter_sizes: [3, 3, 2, 4], grad_shape: [1, 6, 6, 4], padding: 'SAME' });
  conv('conv2d_backprop_filter', 'batch_mismatch', { input_shape: [2, 6, 6, 2], filter_sizes: [3, 3, 2, 4], grad_shape: [1, 6, 6, 4], padding: 'SAME' });
  // conv1d / conv3d
  conv('conv1d', 'strides_and_dilations', { input_shape: [1, 9, 2], filter_shape: [3, 2, 2], strides: [2], dilations: [2], padding: 'SAME' });
  conv('conv1d', 'channel_mismatch', { input_shape: [1, 9, 2], filter_shape: [3, 3, 2], padding: 'SAME' });
  conv('conv1d', 'valid_negative', { input_shape: [1, 4, 1], filter_shape: [5, 1, 1], padding: 'VALID' });
  conv('conv1d', 'input_rank4', { input_shape: [1, 1, 9, 1], filter_shape: [3, 1, 1], padding: 'SAME' });
  conv('conv1d', 'stride_over_channels', { input_shape: [1, 9, 2], filter_shape: [3, 2, 1], strides: [1, 1, 2], padding: 'SAME' });
  conv('conv1d_backprop_input', 'grad_shape_mismatch', { input_sizes: [1, 9, 2], filter_shape: [3, 2, 2], grad_shape: [1, 8, 2], padding: 'SAME' });
  conv('conv1d_backprop_filter', 'grad_shape_mismatch', { input_shape: [1, 9, 2], filter_sizes: [3, 2, 2], grad_shape: [1, 8, 2], padding: 'SAME' });
  conv('conv3d', 'strides_and_dilations', { input_shape: [1, 6, 6, 6, 1], filter_shape: [2, 2, 2, 1, 1], strides: [1, 1, 2], dilations: [2, 1, 1], padding: 'SAME' });
  conv('conv3d', 'channel_mismatch', { input_shape: [1, 4, 4, 4, 2], filter_shape: [2, 2, 2, 3, 1], padding: 'SAME' });
  conv('conv3d', 'valid_negative', { input_shape: [1, 4, 2, 4, 1], filter_shape: [2, 3, 2, 1, 1], padding: 'VALID' });
  conv('conv3d', 'input_rank4', { input_shape: [1, 4, 4, 1], filter_shape: [2, 2, 2, 1, 1], padding: 'SAME' });
  conv('conv3d', 'stride_over_batch', { input_shape: [2, 4, 4, 4, 1], filter_shape: [2, 2, 2, 1, 1], strides: [2, 1, 1, 1, 1], padding: 'SAME' });
  conv('conv3d_backprop_input', 'grad_shape_mismatch', { input_sizes: [1, 4, 4, 4, 1], filter_shape: [2, 2, 2, 1, 1], grad_shape: [1, 4, 4, 3, 1], padding: 'SAME' });
  conv('conv3d_backprop_filter', 'grad_shape_mismatch', { input_shape: [1, 4, 4, 4, 1], filter_sizes: [2, 2, 2, 1, 1], grad_shape: [1, 3, 4, 4, 1], padding: 'SAME' });
  // depthwise / separable / transpose
  conv('depthwise', 'channel_mismatch', { input_shape: [1, 5, 5, 3], filter_shape: [3, 3, 2, 2], padding: 'SAME' });
  conv('depthwise', 'strides_and_dilations', { input_shape: [1, 6, 6, 2], filter_shape: [3, 3, 2, 2], strides: [2, 2], dilations: [2, 2], padding: 'SAME' });
  conv('depthwise', 'valid_negative', { input_shape: [1, 3, 5, 2], filter_shape: [4, 3, 2, 1], padding: 'VALID' });
  conv('depthwise', 'filter_rank3', { input_shape: [1, 5, 5, 2], filter_shape: [3, 3, 2], padding: 'SAME' });
  conv('depthwise_backprop_input', 'grad_shape_mismatch', { input_sizes: [1, 5, 5, 2], filter_shape: [3, 3, 2, 2], grad_shape: [1, 5, 5, 2], padding: 'SAME' });
  conv('depthwise_backprop_filter', 'grad_shape_mismatch', { input_shape: [1, 5, 5, 2], filter_sizes: [3, 3, 2, 2], grad_shape: [1, 5, 5, 3], padding: 'SAME' });
  conv('separable', 'pointwise_not_1x1', { input_shape: [1, 5, 5, 2], filter_shape: [3, 3, 2, 2], pointwise_shape: [2, 1, 4, 3], padding: 'SAME' });
  conv('separable', 'pointwise_channels', { input_shape: [1, 5, 5, 2], filter_shape: [3, 3, 2, 2], pointwise_shape: [1, 1, 3, 3], padding: 'SAME' });
  conv('separable', 'depthwise_channels', { input_shape: [1, 5, 5, 2], filter_shape: [3, 3, 3, 2], pointwise_shape: [1, 1, 6, 3], padding: 'SAME' });
  conv('conv2d_transpose', 'output_shape_inconsistent', { input_shape: [1, 4, 4, 3], filter_shape: [3, 3, 2, 3], output_shape: [1, 9, 8, 2], strides: [2, 2], padding: 'SAME' });
  conv('conv2d_transpose', 'channel_mismatch', { input_shape: [1, 4, 4, 2], filter_shape: [3, 3, 2, 3], output_shape: [1, 8, 8, 2], strides: [2, 2], padding: 'SAME' });
  conv('conv2d_transpose', 'output_channels_mismatch', { input_shape: [1, 4, 4, 3], filter_shape: [3, 3, 2, 3], output_shape: [1, 8, 8, 5], strides: [2, 2], padding: 'SAME' });
  conv('conv2d_transpose', 'batch_mismatch', { input_shape: [2, 4, 4, 3], filter_shape: [3, 3, 2, 3], output_shape: [1, 8, 8, 2], strides: [2, 2], padding: 'SAME' });
  // pooling
  for (const op of ['max_pool', 'avg_pool']) {
    conv(op, 'ksize_over_batch', { input_shape: [2, 5, 5, 1], ksize: [2, 2, 2, 1], strides: [1, 1, 1, 1], padding: 'SAME' });
    conv(op, 'ksize_over_channels', { input_shape: [1, 5, 5, 2], ksize: [1, 2, 2, 2], strides: [1, 1, 1, 1], padding: 'VALID' });
    conv(op, 'stride_over_channels', { input_shape: [1, 5, 5, 2], ksize: [1, 2, 2, 1], strides: [1, 1, 1, 2], padding: 'SAME' });
    conv(op, 'ksize_over_channels_nchw', { input_shape: [1, 2, 5, 5], ksize: [1, 2, 2, 2], strides: [1, 1, 1, 1], padding: 'VALID', data_format: 'NCHW' });
    conv(op, 'valid_negative', { input_shape: [1, 3, 5, 1], ksize: [4, 2], strides: [1, 1], padding: 'VALID' });
    conv(op, 'valid_negative_1d', { input_shape: [1, 3, 1], ksize: [4], strides: [1], padding: 'VALID' });
    conv(op, 'valid_negative_3d', { input_shape: [1, 3, 3, 2, 1], ksize: [2, 2, 3], strides: [1], padding: 'VALID' });
    conv(op, 'input_rank2', { input_shape: [5, 5], ksize: [2, 2], strides: [2, 2], padding: 'SAME' });
    conv(op, 'input_rank6', { input_shape: [1, 2, 2, 2, 2, 1], ksize: [2], strides: [2], padding: 'SAME' });
    conv(op, 'zero_ksize', { input_shape: [1, 5, 5, 1], ksize: [0, 2], strides: [1, 1], padding: 'SAME' });
    conv(op, 'zero_stride', { input_shape: [1, 5, 5, 1], ksize: [2, 2], strides: [0, 1], padding: 'SAME' });
    conv(op, 'three_ksize_2d', { input_shape: [1, 5, 5, 1], ksize: [2, 2, 2], strides: [1, 1], padding: 'SAME' });
    conv(op, 'unknown_padding', { input_shape: [1, 5, 5, 1], ksize: [2, 2], strides: [1, 1], padding: 'FULL' });
  }
  conv('max_pool_grad', 'grad_shape_mismatch', { input_shape: [1, 6, 6, 1], ksize: [2, 2], strides: [2, 2], padding: 'VALID', grad_shape: [1, 4, 4, 1] });
  conv('avg_pool_grad', 'grad_shape_mismatch', { input_sizes: [1, 6, 6, 1], ksize: [2, 2], strides: [2, 2], padding: 'VALID', grad_shape: [1, 3, 4, 1] });
  conv('avg_pool_grad', 'grad_channels_mismatch', { input_sizes: [1, 6, 6, 2], ksize: [2, 2], strides: [2, 2], padding: 'VALID', grad_shape: [1, 3, 3, 1] });
  // dense ops
  conv('matmul', 'inner_mismatch', { a_shape: [2, 3], b_shape: [4, 5] });
  conv('matmul', 'inner_mismatch_transpose_a', { a_shape: [2, 3], b_shape: [3, 5], transpose_a: true });
  conv('matmul', 'inner_mismatch_transpose_b', { a_shape: [2, 3], b_shape: [3, 5], transpose_b: true });
  conv('matmul', 'rank3', { a_shape: [1, 2, 3], b_shape: [3, 5] });
  conv('matmul', 'rank1', { a_shape: [2, 3], b_shape: [3] });
  conv('bias_add', 'bias_length', { value_shape: [2, 3, 3, 4], bias_shape: [3] });
  conv('bias_add', 'bias_length_nchw', { value_shape: [2, 3, 3, 4], bias_shape: [4], data_format: 'NCHW' });
  conv('bias_add', 'bias_rank2', { value_shape: [2, 4], bias_shape: [1, 4] });
  conv('bias_add', 'value_rank1', { value_shape: [4], bias_shape: [4] });
  conv('softmax', 'scalar', { logits_shape: [] });
  conv('log_softmax', 'scalar', { logits_shape: [] });
  conv('softmax_xent', 'shape_mismatch', { labels_shape: [2, 5], logits_shape: [2, 4] });
  conv('softmax_xent', 'rank3', { labels_shape: [2, 3, 4], logits_shape: [2, 3, 4] });
  conv('sparse_softmax_xent', 'label_out_of_range', { labels: [0, 5], logits_shape: [2, 5] });
  conv('sparse_softmax_xent', 'negative_label', { labels: [-1, 2], logits_shape: [2, 5] });
  conv('sparse_softmax_xent', 'label_count', { labels: [0, 1, 2], logits_shape: [2, 5] });
  conv('sigmoid_xent', 'shape_mismatch', { labels_shape: [2, 5], logits_shape: [2, 4] });
  return E;
}

// ---------------------------------------------------------------- Adam

// genAdam records tf.train.adam minimising a weighted sum of squares over
// two variables. tfjs' update (adam_optimizer.js, applyGradients) is
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//   w ← w − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε),
// i.e. ε is added to the bias-corrected sqrt(v̂), not to sqrt(v) as in TF1's
// lr_t = lr·sqrt(1−β2^t)/(1−β1^t); w ← w − lr_t·m/(sqrt(v)+ε). The two
// differ by ε·(1 − sqrt(1−β2^t)) in the denominator; the file also carries
// the TF1 form evaluated in float64 from the same gradients and the largest
// difference between the two trajectories.
function genAdam() {
  const r = rng(hash('adam'));
  const cfgs = [
    { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, steps: 10 },
    { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, steps: 10 },
  ];
  const trajectories = cfgs.map((cfg, ci) => {
    const shapes = { a: [2, 3], b: [4] };
    const init = { a: vals(r, 6, 2), b: vals(r, 4, 2) };
    const target = { a: vals(r, 6), b: vals(r, 4) };
    const weight = { a: Array.from({ length: 6 }, () => short(Math.fround(0.5 + r()))), b: Array.from({ length: 4 }, () => short(Math.fround(0.5 + r()))) };
    const vars = {
      a: tf.variable(tf.tensor(init.a, shapes.a), true, `adam${ci}/a`),
      b: tf.variable(tf.tensor(init.b, shapes.b), true, `adam${ci}/b`),
    };
    const wt = { a: tf.tensor(weight.a, shapes.a), b: tf.tensor(weight.b, shapes.b) };
    const tt = { a: tf.tensor(target.a, shapes.a), b: tf.tensor(target.b, shapes.b) };
    const lossFn = () => tf.add(
      tf.sum(tf.mul(wt.a, tf.square(tf.sub(vars.a, tt.a)))),
      tf.sum(tf.mul(wt.b, tf.square(tf.sub(vars.b, tt.b)))));
    const opt = tf.train.adam(cfg.lr, cfg.beta1, cfg.beta2, cfg.epsilon);
    const steps = [];
    // float64 TF1-form shadow state, fed the same float32 gradients.
    const tf1 = { a: Float64Array.from(init.a), b: Float64Array.from(init.b) };
    const m = { a: new Float64Array(6), b: new Float64Array(4) }, v = { a: new Float64Array(6), b: new Float64Array(4) };
    let maxDiff = 0;
    for (let t = 1; t <= cfg.steps; t++) {
      const { value, grads } = tf.variableGrads(lossFn);
      const gA = grads[vars.a.name].dataSync().slice(), gB = grads[vars.b.name].dataSync().slice();
      opt.applyGradients(grads);
      const lrT = cfg.lr * Math.sqrt(1 - Math.pow(cfg.beta2, t)) / (1 - Math.pow(cfg.beta1, t));
      for (const [k, g] of [['a', gA], ['b', gB]]) {
        for (let i = 0; i < g.length; i++) {
          m[k][i] = cfg.beta1 * m[k][i] + (1 - cfg.beta1) * g[i];
          v[k][i] = cfg.beta2 * v[k][i] + (1 - cfg.beta2) * g[i] * g[i];
          tf1[k][i] -= lrT * m[k][i] / (Math.sqrt(v[k][i]) + cfg.epsilon);
        }
      }
      const after = { a: vars.a.dataSync(), b: vars.b.dataSync() };
      for (const k of ['a', 'b']) for (let i = 0; i < after[k].length; i++) maxDiff = Math.max(maxDiff, Math.abs(after[k][i] - tf1[k][i]));
      const slots = opt.accumulatedFirstMoment.map((s) => s.variable.dataSync());
      const slots2 = opt.accumulatedSecondMoment.map((s) => s.variable.dataSync());
      steps.push({
        step: t,
        loss_before: short(value.dataSync()[0]),
        grads: { a: enc(gA, shapes.a), b: enc(gB, shapes.b) },
        params: { a: enc(after.a, shapes.a), b: enc(after.b, shapes.b) },
        m: { a: enc(slots[0], shapes.a), b: enc(slots[1], shapes.b) },
        v: { a: enc(slots2[0], shapes.a), b: enc(slots2[1], shapes.b) },
        params_tf1_float64: { a: Array.from(tf1.a), b: Array.from(tf1.b) },
      });
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    }
    return {
      config: cfg,
      loss: 'sum(weight_a·(a − target_a)²) + sum(weight_b·(b − target_b)²)',
      init: { a: enc(init.a, shapes.a), b: enc(init.b, shapes.b) },
      target: { a: enc(target.a, shapes.a), b: enc(target.b, shapes.b) },
      weight: { a: enc(weight.a, shapes.a), b: enc(weight.b, shapes.b) },
      max_abs_diff_tfjs_vs_tf1_float64: maxDiff,
      steps,
    };
  });
  return {
    header: {
      generator: 'testdata/gen/gen.js (cd testdata/gen && npm ci && node gen.js)',
      source: '@tensorflow/tfjs 4.22.0, cpu backend, float32, tf.train.adam(lr, beta1, beta2, epsilon)',
      format: 'trajectories[i]: config {lr, beta1, beta2, epsilon, steps}; loss (formula); init/target/weight {a, b} as {shape, data}; ' +
        'steps[t-1] for t = 1..steps: loss_before (loss at the parameters before step t), grads (the gradients tfjs applied at step t), ' +
        'params (tfjs parameters after step t), m and v (tfjs first and second moment slots after step t; the same quantities as TF1\'s "Adam" and "Adam_1" slots), ' +
        'params_tf1_float64 (TF1 form applied in float64 to the same grads); max_abs_diff_tfjs_vs_tf1_float64 over all steps and parameters.',
      update_rule_tfjs: 'm = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)  ' +
        '(tfjs-core adam_optimizer.js; beta powers accumulated in float32 variables; all arithmetic float32)',
      update_rule_tf1: 'lr_t = lr*sqrt(1-b2^t)/(1-b1^t); w -= lr_t * m/(sqrt(v) + eps)  (TF1 AdamOptimizer; what optim.NewAdam implements)',
      relation: 'the two rules differ only in where eps enters: tfjs = TF1 with eps replaced by eps*sqrt(1-b2^t); with eps = 1e-8 and gradients of order 1 that is below float32 rounding. ' +
        'The larger part of max_abs_diff_tfjs_vs_tf1_float64 comes from tfjs forming 1-b2^t in float32 from float32(0.999) = 0.99900001: 1-b2 = 0.00099998713, so sqrt(v-hat) is 6.4e-6 too large at t = 1 ' +
        '(replaying tfjs\' rule in float64 with float32 beta powers reproduces params to 2e-7 for both configs). Compare a float64-beta-power implementation with params within about 1e-5 absolute, or with params_tf1_float64 within float32 rounding (about 1e-6).',
    },
    trajectories,
  };
}

// ---------------------------------------------------------------- output

function writeGolden(file, op, note, cases) {
  const header = {
    generator: 'testdata/gen/gen.js (cd testdata/gen && npm ci && node gen.js)',
    source: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, float32`,
    op, note,
    loss: 'gradients are of sum(output * out_grad) with respect to each input',
  };
  const lines = cases.map((c) => JSON.stringify(c));
  const text = `{"header":${JSON.stringify(header)},\n"cases":[\n${lines.join(',\n')}\n]}\n`;
  fs.writeFileSync(path.join(GOLDEN_DIR, file), text);
  stats.cases[file] = cases.length;
}

async function main() {
  await tf.setBackend('cpu');
  tf.env().set('WEBGL_PACK', false);
  fs.mkdirSync(GOLDEN_DIR, { recursive: true });
  fs.mkdirSync(path.dirname(ADAM_FILE), { recursive: true });

  const dilNote = 'dilated gradients: zero-inserted filter at dilation 1, filter gradient read at the taps';
  const conv = genConv();
  writeGolden('conv1d.json', 'conv1d', dilNote, conv.conv1d);
  writeGolden('conv2d.json', 'conv2d', dilNote, conv.conv2d);
  writeGolden('conv3d.json', 'conv3d', dilNote + '; 3-D SAME with a negative unclamped pad computed by explicit TF padding + VALID', conv.conv3d);
  writeGolden('depthwise.json', 'depthwise_conv2d', dilNote + '; filter [KH,KW,C,M], output channel c*M+m', conv.depthwise);
  writeGolden('separable.json', 'separable_conv2d', 'depthwise with the options, then 1x1 VALID stride 1 pointwise', genSeparable());
  writeGolden('conv2d_transpose.json', 'conv2d_transpose', 'filter [KH,KW,outC,inC]; input is the tensor being transposed-convolved', genTranspose());
  const pool = genPool();
  writeGolden('max_pool.json', 'max_pool', 'inputs have distinct values (no ties); 1-D pools as 2-D with H=1', pool.max);
  writeGolden('avg_pool.json', 'avg_pool', 'grad_input is TF\'s AvgPoolGrad (divide by the real-cell count), computed from the forward on basis vectors, not tfjs\' gradient', pool.avg);
  writeGolden('matmul.json', 'matmul', '', genMatMul());
  writeGolden('bias_add.json', 'bias_add', 'computed as value + bias broadcast over the channel axis (last, or 1 for NCHW); relu_* fields are relu(value + bias) and its gradients', genBiasAdd());
  writeGolden('activation.json', 'relu, leaky_relu, sigmoid, tanh', '', genActivations());
  writeGolden('softmax.json', 'softmax, log_softmax', 'over the last axis', genSoftmax());
  const losses = genLosses();
  writeGolden('softmax_xent.json', 'softmax_cross_entropy_with_logits', 'loss = -sum(labels*log_softmax(logits)), backprop = softmax(logits) - labels (TF raw op outputs)', losses.softmax_xent);
  writeGolden('sparse_softmax_xent.json', 'sparse_softmax_cross_entropy_with_logits', 'labels are class indices', losses.sparse_softmax_xent);
  writeGolden('sigmoid_xent.json', 'sigmoid_cross_entropy_with_logits', 'tf.losses.sigmoidCrossEntropy with Reduction.NONE', losses.sigmoid_xent);
  writeGolden('errors.json', 'error cases', 'inputs TF rejects; written by hand (tfjs accepts some of them); shapes only', genErrors());

  const adam = genAdam();
  fs.writeFileSync(ADAM_FILE, JSON.stringify(adam, null, 1) + '\n');

  console.log(JSON.stringify({
    cases: stats.cases, agreement_checks: agreeChecks,
    negative_3d_same_via_explicit: stats.negative3D,
    avg_pool_same_cases_where_tfjs_gradient_differs: stats.avgSameFixed,
    adam_max_abs_diff_tfjs_vs_tf1: adam.trajectories.map((t) => t.max_abs_diff_tfjs_vs_tf1_float64),
  }, null, 1));
}

main().catch((e) => { console.error(e); process.exit(1); });
