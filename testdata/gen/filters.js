// filters.js writes imagefilter/testdata/filters_tfjs.json: the float32
// results of every built-in imagefilter kernel (and a few custom ones) on a
// small RGB image, computed by TensorFlow.js 4.22 the way the CS20 lecture
// computes them with TensorFlow:
//
//	rgb   tf.depthwiseConv2d(x, filter [KH,KW,3,1])  (the kernel per channel)
//	gray  tf.conv2d(tf.image.rgbToGrayscale(x), filter [KH,KW,1,1])
//	mix   tf.conv2d(x, filter [KH,KW,3,3] = k_ij at every channel pair)
//
// with x = pixels·(1/255) of shape [1,H,W,3]. Values are before clamping.
// The kernel weights are typed here independently of the Go table, and
// written next to each case so the Go test checks the weights too.
//
// Run: cd testdata/gen && npm ci && node filters.js
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const OUT = path.resolve(__dirname, '..', '..', 'imagefilter', 'testdata', 'filters_tfjs.json');

// A 9 wide, 7 high RGB image with values spread over 0..255.
const H = 7;
const W = 9;
const pixels = [];
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    pixels.push((x * 53 + y * 97 + 11) % 256);
    pixels.push((x * 29 + y * y * 41 + 200) % 256);
    pixels.push((x * x * 17 + y * 13 + 90) % 256);
  }
}

function gaussian(n, sigma) {
  const c = (n - 1) / 2;
  const w = [];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (2 * sigma * sigma));
      w.push(v);
      sum += v;
    }
  }
  return { size: [n, n], weights: w.map((v) => v / sum) };
}

function box(n) {
  return { size: [n, n], weights: new Array(n * n).fill(1 / (n * n)) };
}

function k3(rows) {
  return { size: [3, 3], weights: rows.flat() };
}

const KERNELS = {
  identity: k3([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
  blur: k3([[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]]),
  box: box(3),
  gaussian: gaussian(5, 1),
  sharpen: k3([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
  edge: k3([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
  edge8: k3([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
  top_sobel: k3([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
  bottom_sobel: k3([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
  left_sobel: k3([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
  right_sobel: k3([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
  emboss: k3([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
  'box:5': box(5),
  'gaussian:4:0.8': gaussian(4, 0.8),
  // Custom kernels, named by the text ParseKernel reads.
  '1,2;3,-4': { size: [2, 2], weights: [1, 2, 3, -4] },
  '1,-2,1': { size: [1, 3], weights: [1, -2, 1] },
};

function filterFor(mode, k) {
  const [kh, kw] = k.size;
  const w = Float32Array.from(k.weights);
  if (mode === 'gray') return tf.tensor4d(w, [kh, kw, 1, 1]);
  if (mode === 'rgb') {
    const f = [];
    for (const v of w) f.push(v, v, v);
    return tf.tensor4d(f, [kh, kw, 3, 1]);
  }
  const f = [];
  for (const v of w) for (let i = 0; i < 9; i++) f.push(v);
  return tf.tensor4d(f, [kh, kw, 3, 3]);
}

function run(x, mode, k, stride, padding) {
  const f = filterFor(mode, k);
  if (mode === 'rgb') return tf.depthwiseConv2d(x, f, stride, padding);
  const input = mode === 'gray' ? tf.image.rgbToGrayscale(x) : x;
  return tf.conv2d(input, f, stride, padding);
}

// f32 lists float32 values with 9 significant digits, enough to read each
// one back exactly.
function f32(a) {
  return Array.from(a, (v) => Number(v.toPrecision(9)));
}

function main() {
  tf.setBackend('cpu');
  const x = tf.tensor4d(pixels, [1, H, W, 3], 'float32').mul(tf.scalar(1 / 255));
  const cases = [];
  const add = (name, mode, stride, padding) => {
    const k = KERNELS[name];
    const y = run(x, mode, k, stride, padding);
    cases.push({
      kernel: name,
      size: k.size,
      weights: f32(Float32Array.from(k.weights)),
      mode,
      stride,
      padding,
      shape: y.shape,
      values: f32(y.dataSync()),
    });
  };
  for (const name of Object.keys(KERNELS)) {
    for (const mode of ['rgb', 'gray', 'mix']) add(name, mode, 1, 'same');
  }
  for (const name of ['blur', 'top_sobel', '1,2;3,-4', 'gaussian:4:0.8']) {
    for (const mode of ['rgb', 'gray', 'mix']) {
      add(name, mode, 2, 'valid');
      add(name, mode, 2, 'same');
      add(name, mode, 3, 'same');
    }
  }
  const gray = f32(tf.image.rgbToGrayscale(x).dataSync());
  const doc = {
    generator: 'testdata/gen/filters.js with @tensorflow/tfjs ' + tf.version.tfjs,
    height: H,
    width: W,
    pixels,
    gray,
    cases,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(doc) + '\n');
  console.log(`wrote ${cases.length} cases to ${path.relative(process.cwd(), OUT)}`);
}

main();
