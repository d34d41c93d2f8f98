// ops.js writes the TensorFlow.js golden values of nn's general-purpose
// ops (broadcasting arithmetic, unary math, reductions, shape ops,
// activations) to nn/testdata/golden/ops_*.json.
//
// Run: cd testdata/gen && npm ci && node ops.js   (or npm run ops)
//
// Every file shares one case format:
//
//	{name, op, inputs: [{shape, data}…], params: {…}, outputs: [{shape, data}…],
//	 out_grads: [{shape, data}…], grads: [{shape, data}…]}
//
// outputs holds one tensor (several for split); grads[i] is the gradient of
// Σ_k sum(outputs[k] · out_grads[k]) with respect to inputs[i], from tf.grads.
//
// Where tfjs departs from TF the script computes TF's answer instead, and
// says so in the file's note:
//
//  1. tf.mirrorPad's gradient in tfjs 4.22 only slices the centre out of dy
//     (the mirrored cells' gradients are dropped); TF's MirrorPadGrad adds
//     them back. Mirror pads are therefore also built from slice, reverse and
//     concat, whose gradients are right; the script checks that this
//     composition reproduces tf.mirrorPad's forward and takes its gradient.
//  2. tfjs' softmax and logSoftmax only work on the last axis: other axes are
//     moved last with a transpose and back.
//  3. tfjs' maximum and minimum gradients do not sum over broadcast dims;
//     their inputs are broadcast with add(zeros) first.
//  4. Ties: tfjs sends a max reduction's gradient to every tied element, TF
//     splits it; Relu6's gradient at exactly 6 and Abs's at 0 also differ.
//     Inputs avoid those points (values are distinct, and away from kinks).
//     Maximum/Minimum ties go to the first input in both and are included.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { rng, prod, enc } = require('./common');

const GOLDEN_DIR = path.resolve(__dirname, '..', '..', 'nn', 'testdata', 'golden');

// rand returns a tensor of shape with three-decimal values in [lo, hi],
// none closer than 0.002 to any point of avoid (kinks of the op).
function rand(r, shape, lo = -1, hi = 1, avoid = [0]) {
  const out = new Float32Array(prod(shape));
  for (let i = 0; i < out.length; i++) {
    let v;
    do {
      v = Math.round((lo + (hi - lo) * r()) * 1000) / 1000;
    } while (avoid.some((p) => Math.abs(v - p) < 0.002));
    out[i] = v;
  }
  return tf.tensor(out, shape);
}

// distinct returns a tensor of shape holding distinct values k/100 in
// [-scale, scale] (no ties for max reductions), shuffled.
function distinct(r, shape, scale = 3) {
  const n = prod(shape);
  const pool = [];
  for (let k = -scale * 100; k <= scale * 100; k++) pool.push(k / 100);
  if (n > pool.length) throw new Error(`distinct: ${n} > ${pool.length}`);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(r() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return tf.tensor(pool.slice(0, n), shape);
}

// agree stops the script when two computations of one value differ beyond
// float32 rounding.
let agreeChecks = 0;
function agree(what, a, b) {
  if (a.shape.join() !== b.shape.join()) throw new Error(`${what}: shapes ${a.shape} vs ${b.shape}`);
  const x = a.dataSync(), y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i] - y[i]) > 1e-6 + 1e-6 * Math.abs(y[i])) throw new Error(`${what}: element ${i}: ${x[i]} vs ${y[i]}`);
  }
  agreeChecks++;
}

// makeCase runs f on inputs, draws out_grads and takes the gradients of
// Σ sum(output·out_grad) with tf.grads.
function makeCase(r, name, op, inputs, params, f) {
  const wrap = (...xs) => {
    const y = f(...xs);
    return Array.isArray(y) ? y : [y];
  };
  const outs = wrap(...inputs);
  const gs = outs.map((o) => rand(r, o.shape));
  const grads = tf.grads((...xs) => {
    const ys = wrap(...xs);
    return ys.map((y, k) => tf.sum(tf.mul(y, gs[k]))).reduce((a, b) => tf.add(a, b));
  })(inputs);
  return {
    name, op,
    inputs: inputs.map(enc),
    params,
    outputs: outs.map(enc),
    out_grads: gs.map(enc),
    grads: grads.map(enc),
  };
}

// ---------------------------------------------------------------- families

function genBinary() {
  const r = rng(101);
  // tfjs 4.22's maximum and minimum gradients do not sum over broadcast
  // dims (tf.grads then throws): their inputs are broadcast first by adding
  // zeros of the output shape, whose gradient does the summing.
  const bcast = (f) => (a, b) => {
    const z = tf.zeros(tf.add(a, b).shape);
    return f(tf.add(a, z), tf.add(b, z));
  };
  const fns = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: bcast(tf.maximum), minimum: bcast(tf.minimum) };
  const shapes = [
    ['same', [2, 3], [2, 3]],
    ['row vector', [2, 3, 4], [4]],
    ['row vector first', [5], [3, 5]],
    ['scalar second', [2, 3], []],
    ['scalar first', [], [3, 2]],
    ['size-1 dims both', [3, 1, 4], [2, 1]],
    ['column', [4, 3], [4, 1]],
    ['missing and size-1', [2, 1, 3, 1], [4, 1, 5]],
    ['per-channel NHWC', [2, 3, 3, 9], [1, 1, 9]],
  ];
  const cases = [];
  for (const [op, f] of Object.entries(fns)) {
    for (const [label, sa, sb] of shapes) {
      const a = rand(r, sa, -2, 2);
      // b: away from 0 for div, off a's three-decimal grid for maximum
      // and minimum (no accidental ties).
      let b = op === 'div' ? tf.mul(rand(r, sb, 0.5, 2), tf.sign(rand(r, sb))) : rand(r, sb, -2, 2);
      if (op === 'maximum' || op === 'minimum') b = tf.add(b, 0.0005);
      cases.push(makeCase(r, `${op} ${label} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, op, [a, b], {}, f));
    }
  }
  // Ties go to the first input in TF and tfjs alike.
  const a = tf.tensor([[1, 2, 3], [3, 0, -1]]), b = tf.tensor([1, 0, 3]);
  cases.push(makeCase(r, 'maximum ties', 'maximum', [a, b], {}, fns.maximum));
  cases.push(makeCase(r, 'minimum ties', 'minimum', [a, b], {}, fns.minimum));
  return cases;
}

function genUnary() {
  const r = rng(202);
  const cases = [];
  const add = (op, x, params, f) => cases.push(makeCase(r, `${op} ${JSON.stringify(params)} ${JSON.stringify(x.shape)}`, op, [x], params, f));
  for (const shape of [[7], [2, 3, 4]]) {
    add('neg', rand(r, shape, -3, 3), {}, tf.neg);
    add('abs', rand(r, shape, -3, 3), {}, tf.abs);
    add('exp', rand(r, shape, -3, 3), {}, tf.exp);
    add('log', rand(r, shape, 0.05, 5), {}, tf.log);
    add('sqrt', rand(r, shape, 0.05, 5), {}, tf.sqrt);
    add('rsqrt', rand(r, shape, 0.05, 5), {}, tf.rsqrt);
    add('square', rand(r, shape, -3, 3), {}, tf.square);
    for (const p of [2, 3, -1]) add('pow', rand(r, shape, -3, 3, [0]), { p }, (x) => tf.pow(x, tf.scalar(p)));
    for (const p of [0.5, -1.5, 2.7]) add('pow', rand(r, shape, 0.1, 3), { p }, (x) => tf.pow(x, tf.scalar(p)));
  }
  return cases;
}

function genReduce() {
  const r = rng(303);
  const fns = { sum: tf.sum, mean: tf.mean, max: tf.max };
  const specs = [
    [[2, 3, 4], null], [[2, 3, 4], [1]], [[2, 3, 4], [-1]], [[2, 3, 4], [0, 2]], [[2, 3, 4], [0]],
    [[2, 3, 4], [-3, -2]], [[2, 3, 4], []], [[5], [0]], [[3, 1, 4, 2], [1, 3]], [[2, 4, 4, 3], [1, 2]],
    [[6, 7], [1]], [[7, 6], [0]],
  ];
  const cases = [];
  for (const [op, f] of Object.entries(fns)) {
    for (const [shape, axes] of specs) {
      for (const keepDims of [false, true]) {
        const x = op === 'max' ? distinct(r, shape) : rand(r, shape, -2, 2);
        cases.push(makeCase(r, `${op} ${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keep ${keepDims}`, op, [x],
          { axes, keep_dims: keepDims }, (t) => f(t, axes === null ? null : axes, keepDims)));
      }
    }
  }
  return cases;
}

// mirror builds tf.mirrorPad from slice, reverse and concat (whose tfjs
// gradients are right), one axis at a time.
function mirror(x, paddings, mode) {
  const off = mode === 'reflect' ? 1 : 0;
  let y = x;
  paddings.forEach(([before, after], ax) => {
    const d = y.shape[ax];
    const parts = [];
    const take = (start, n) => {
      const begin = y.shape.map(() => 0), size = y.shape.slice();
      begin[ax] = start;
      size[ax] = n;
      return tf.reverse(tf.slice(y, begin, size), ax);
    };
    if (before > 0) parts.push(take(off, before));
    parts.push(y);
    if (after > 0) parts.push(take(d - off - after, after));
    y = parts.length > 1 ? tf.concat(parts, ax) : y;
  });
  return y;
}

function genShape() {
  const r = rng(404);
  const cases = [];
  for (const [shape, perm] of [[[2, 3], [1, 0]], [[2, 3, 4], null], [[2, 3, 4], [0, 2, 1]], [[2, 3, 4], [2, 0, 1]],
    [[2, 1, 3, 4], [3, 1, 0, 2]], [[2, 3, 2, 2, 3], [4, 2, 0, 3, 1]], [[4, 3, 5, 2], [0, 3, 1, 2]]]) {
    cases.push(makeCase(r, `transpose ${JSON.stringify(shape)} perm ${JSON.stringify(perm)}`, 'transpose', [rand(r, shape)],
      { perm }, (x) => tf.transpose(x, perm === null ? undefined : perm)));
  }
  for (const [shape, to] of [[[3], [2, 3]], [[2, 1], [2, 4]], [[1, 3, 1], [2, 3, 4]], [[], [2, 2]], [[4, 1, 2], [3, 4, 5, 2]]]) {
    cases.push(makeCase(r, `broadcast_to ${JSON.stringify(shape)} to ${JSON.stringify(to)}`, 'broadcast_to', [rand(r, shape)],
      { shape: to }, (x) => tf.broadcastTo(x, to)));
  }
  for (const [shapes, axis] of [[[[2, 3], [2, 2]], 1], [[[2, 3], [1, 3], [3, 3]], 0], [[[2, 1, 4], [2, 3, 4]], -2],
    [[[2, 3, 1], [2, 3, 2], [2, 3, 5]], -1], [[[4], [2]], 0]]) {
    const xs = shapes.map((s) => rand(r, s));
    cases.push(makeCase(r, `concat ${JSON.stringify(shapes)} axis ${axis}`, 'concat', xs, { axis }, (...ts) => tf.concat(ts, axis)));
  }
  for (const [shape, sizes, axis] of [[[2, 5], [2, 3], 1], [[6, 2], [1, -1, 2], 0], [[2, 3, 4], [1, 1, 2], -1], [[3, 4, 2], [0, 4], 1]]) {
    cases.push(makeCase(r, `split ${JSON.stringify(shape)} sizes ${JSON.stringify(sizes)} axis ${axis}`, 'split', [rand(r, shape)],
      { sizes, axis }, (x) => tf.split(x, sizes.slice(), axis))); // tf.split fills in a -1 in place
  }
  for (const [shape, begin, size] of [[[5], [1], [3]], [[4, 5], [1, 2], [2, -1]], [[2, 3, 4], [0, 1, 1], [-1, 2, 2]],
    [[3, 4, 5, 2], [1, 0, 2, 1], [2, 4, -1, 1]]]) {
    cases.push(makeCase(r, `slice ${JSON.stringify(shape)} begin ${JSON.stringify(begin)} size ${JSON.stringify(size)}`, 'slice',
      [rand(r, shape)], { begin, size }, (x) => tf.slice(x, begin, size)));
  }
  const padSpecs = [
    [[5], [[2, 3]]], [[3, 4], [[1, 2], [2, 0]]], [[2, 3, 4], [[0, 1], [2, 2], [3, 1]]], [[1, 4, 4, 2], [[0, 0], [1, 1], [2, 3], [0, 0]]],
  ];
  for (const [shape, paddings] of padSpecs) {
    for (const value of [0, 1.5]) {
      cases.push(makeCase(r, `pad CONSTANT ${JSON.stringify(shape)} ${JSON.stringify(paddings)} value ${value}`, 'pad', [rand(r, shape)],
        { paddings, mode: 'CONSTANT', value }, (x) => tf.pad(x, paddings, value)));
    }
    for (const mode of ['reflect', 'symmetric']) {
      const limit = mode === 'reflect' ? 1 : 0;
      const p = paddings.map(([b, a], i) => [Math.min(b, shape[i] - limit), Math.min(a, shape[i] - limit)]);
      const x = rand(r, shape);
      agree(`mirrorPad ${mode} ${JSON.stringify(shape)} forward vs composed`, mirror(x, p, mode), tf.mirrorPad(x, p, mode));
      cases.push(makeCase(r, `pad ${mode.toUpperCase()} ${JSON.stringify(shape)} ${JSON.stringify(p)}`, 'pad', [x],
        { paddings: p, mode: mode.toUpperCase(), value: 0 }, (t) => mirror(t, p, mode)));
    }
  }
  return cases;
}

// alongAxis applies a last-axis op f along axis by moving the axis last.
function alongAxis(x, axis, f) {
  const r = x.rank, a = (axis + r) % r;
  const perm = [...Array(r).keys()].filter((d) => d !== a).concat([a]);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(f(tf.transpose(x, perm)), inv);
}

function genActivation() {
  const r = rng(505);
  const sqrt2 = Math.sqrt(2);
  const fns = {
    relu6: [tf.relu6, [-2, 8, [0, 6]]],
    elu: [tf.elu, [-4, 3, [0]]],
    selu: [tf.selu, [-4, 3, [0]]],
    // tfjs-layers' hardSigmoid: clipByValue(0.2x + 0.5, 0, 1).
    hard_sigmoid: [(x) => tf.clipByValue(tf.add(0.5, tf.mul(0.2, x)), 0, 1), [-4, 4, [-2.5, 2.5]]],
    softplus: [tf.softplus, [-20, 20, []]],
    // tfjs-layers' softsign: x/(1 + |x|).
    softsign: [(x) => tf.div(x, tf.add(1, tf.abs(x))), [-4, 4, [0]]],
    swish: [(x) => tf.mul(x, tf.sigmoid(x)), [-6, 6, []]],
    // tfjs-layers' 'gelu' (erf form) and 'gelu_new' (tanh form).
    gelu: [(x) => tf.mul(x, tf.mul(0.5, tf.add(1, tf.erf(tf.div(x, sqrt2))))), [-4, 4, []]],
    gelu_tanh: [(x) => tf.mul(0.5, tf.mul(x, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))))), [-4, 4, []]],
  };
  const cases = [];
  for (const [op, [f, [lo, hi, avoid]]] of Object.entries(fns)) {
    for (const shape of [[9], [2, 3, 5]]) {
      cases.push(makeCase(r, `${op} ${JSON.stringify(shape)}`, op, [rand(r, shape, lo, hi, avoid)], {}, f));
    }
  }
  for (const [shape, axis] of [[[2, 5], -1], [[2, 5], 0], [[3, 4, 5], 1], [[2, 3, 4, 3], -3], [[2, 3, 4], 2]]) {
    for (const [op, f] of [['softmax', tf.softmax], ['log_softmax', tf.logSoftmax]]) {
      const x = rand(r, shape, -4, 4);
      cases.push(makeCase(r, `${op} ${JSON.stringify(shape)} axis ${axis}`, op, [x], { axis }, (t) => alongAxis(t, axis, (u) => f(u))));
    }
  }
  return cases;
}

// ---------------------------------------------------------------- output

const stats = {};
function write(file, family, note, cases) {
  const header = {
    generator: 'testdata/gen/ops.js (cd testdata/gen && npm ci && node ops.js)',
    source: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, float32`,
    family, note,
    loss: 'grads[i] is the gradient of sum_k sum(outputs[k] * out_grads[k]) with respect to inputs[i]',
  };
  const text = `{"header":${JSON.stringify(header)},\n"cases":[\n${cases.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`;
  fs.writeFileSync(path.join(GOLDEN_DIR, file), text);
  stats[file] = cases.length;
}

async function main() {
  await tf.setBackend('cpu');
  fs.mkdirSync(GOLDEN_DIR, { recursive: true });
  write('ops_binary.json', 'add, sub, mul, div, maximum, minimum', 'NumPy broadcasting; maximum/minimum take inputs broadcast by adding zeros (tfjs 4.22 does not reduce their gradients over broadcast dims); ties send the gradient to the first input (TF and tfjs)', genBinary());
  write('ops_unary.json', 'neg, abs, exp, log, sqrt, rsqrt, square, pow', 'pow: params.p is a scalar exponent; inputs avoid 0 (abs, pow)', genUnary());
  write('ops_reduce.json', 'sum, mean, max over axes', 'params.axes null = all axes, [] = none; max inputs are distinct (no ties)', genReduce());
  write('ops_shape.json', 'broadcast_to, transpose, concat, split, slice, pad', 'transpose perm null = reversed; mirror pads (REFLECT, SYMMETRIC) from slice/reverse/concat, checked against tf.mirrorPad forward, because tfjs 4.22\'s mirrorPad gradient drops the mirrored cells', genShape());
  write('ops_activation.json', 'relu6, elu, selu, hard_sigmoid, softplus, softsign, swish, gelu, gelu_tanh, softmax, log_softmax', 'hard_sigmoid = clip(0.2x+0.5, 0, 1) as tfjs-layers; softsign, swish, gelu as tfjs-layers compose them; softmax over params.axis via transpose (tfjs supports only the last axis); inputs avoid kinks', genActivation());
  console.log(JSON.stringify({ cases: stats, agreement_checks: agreeChecks }, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
