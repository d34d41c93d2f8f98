// pool_explicit.js writes nn/testdata/golden/pool_explicit.json: TensorFlow.js
// goldens for max and average pooling with explicit paddings (tf.nn.max_pool's
// padding=[[0,0],[pt,pb],[pl,pr],[0,0]]), forward and input gradient.
//
// Run: cd testdata/gen && npm ci && node pool_explicit.js
//
// TF pads max pooling with −∞ and leaves padded cells out of the average.
// tfjs 4.22 computes the same values by construction here, without relying
// on how (or whether) its pooling ops take explicit paddings:
//   max  = maxPool(pad(x, −∞), VALID)
//   avg  = sumPool(pad(x, 0)) / sumPool(pad(1, 0)), with
//          sumPool(t) = avgPool(t, VALID) · KH·KW (VALID has no padding, so
//          tfjs divides by the full window: the sum is exact up to rounding)
// and the gradients are tfjs' own, of sum(output · out_grad). Inputs have
// distinct values so a max gradient has one route. Every padding is smaller
// than its window, so every window holds a real cell.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { rng, distinctVals, enc } = require('./common');

const OUT = path.resolve(__dirname, '..', '..', 'nn', 'testdata', 'golden', 'pool_explicit.json');

function sumPool(t, k, s) {
  return tf.mul(tf.avgPool(t, k, s, 'valid'), k[0] * k[1]);
}

function forward(type, x, k, s, pads) {
  const p = [[0, 0], pads[0], pads[1], [0, 0]];
  if (type === 'max') return tf.maxPool(tf.pad(x, p, -Infinity), k, s, 'valid');
  const ones = tf.onesLike(x);
  return tf.div(sumPool(tf.pad(x, p, 0), k, s), sumPool(tf.pad(ones, p, 0), k, s));
}

const geometries = [
  // [input NHWC, ksize, strides, paddings per spatial dimension]
  [[1, 3, 3, 1], [3, 3], [2, 2], [[1, 1], [2, 0]]],
  [[2, 5, 6, 3], [2, 3], [1, 2], [[1, 0], [0, 2]]],
  [[1, 7, 4, 2], [3, 2], [3, 1], [[2, 2], [1, 1]]],
  [[1, 4, 4, 1], [2, 2], [2, 2], [[1, 1], [1, 1]]],
  [[1, 6, 5, 2], [4, 3], [2, 3], [[0, 3], [2, 1]]],
];

async function main() {
  await tf.setBackend('cpu');
  const cases = [];
  let seed = 7;
  for (const type of ['max', 'avg']) {
    for (const [shape, k, s, pads] of geometries) {
      const r = rng(seed++);
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(distinctVals(r, n), shape);
      const y = forward(type, x, k, s, pads);
      const g = tf.tensor(distinctVals(r, y.size), y.shape);
      const gx = tf.grad((t) => tf.sum(tf.mul(forward(type, t, k, s, pads), g)))(x);
      const p = pads.map((q) => q.join('_')).join('x');
      cases.push({
        name: `${type}/in${shape.join('x')}/k${k.join('x')}/s${s.join('x')}/p${p}`,
        op: type === 'max' ? 'max_pool' : 'avg_pool',
        ksize: k, strides: s, padding: 'EXPLICIT',
        explicit_paddings: [[0, 0], pads[0], pads[1], [0, 0]],
        input: enc(x), output: enc(y), out_grad: enc(g), grad_input: enc(gx),
      });
    }
  }
  const header = {
    generator: 'testdata/gen/pool_explicit.js (cd testdata/gen && npm ci && node pool_explicit.js)',
    source: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, float32`,
    note: 'max pads with -Infinity; avg leaves padded cells out of the divisor; distinct inputs',
    loss: 'gradients are of sum(output * out_grad) with respect to the input',
  };
  const text = `{"header":${JSON.stringify(header)},\n"cases":[\n${cases.map((c) => JSON.stringify(c)).join(',\n')}\n]}\n`;
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${cases.length} cases to ${path.relative(process.cwd(), OUT)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
