// layers.js writes the TensorFlow.js Layers goldens of the layers package:
//
//	layers/testdata/layers_tfjs.json   every layer on one small input
//	layers/testdata/models_tfjs.json   three whole models and one Adam step
//	nn/testdata/golden/batchnorm.json  the batch-norm ops
//
// Run: cd testdata/gen && npm ci && node layers.js
//
// Every layer is made with tf.layers.* (TensorFlow.js 4.22, cpu backend,
// float32), its weights are overwritten with seeded values written to the
// file, and the file records, for an input x and an output weight g:
// the output in inference mode, and the gradients of sum(y·g) with
// respect to x and to every trainable weight. Batch normalization also
// gets a training-mode pass (output, gradients, moving statistics after
// the update). Max-pool inputs hold distinct values (no ties), and the
// inputs of ReLU-like layers stay clear of zero.
//
// tfjs departures from TF that matter here: none of the four listed in
// DESIGN.md is hit (no SAME average pooling gradient, no 3-D SAME with a
// stride above the window, no dilated gradients: dilated layers record
// their forward only).
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { rand, short, prod, enc } = require('./common');

const ROOT = path.resolve(__dirname, '..', '..');
const LAYERS_FILE = path.join(ROOT, 'layers', 'testdata', 'layers_tfjs.json');
const MODELS_FILE = path.join(ROOT, 'layers', 'testdata', 'models_tfjs.json');
const BN_FILE = path.join(ROOT, 'nn', 'testdata', 'golden', 'batchnorm.json');

// uniform draws n values in [lo, hi] rounded to three decimals, never 0.
function uniform(r, n, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = Math.round((lo + (hi - lo) * r()) * 1000) / 1000;
    if (v === 0) v = 0.001;
    out[i] = v;
  }
  return out;
}

// distinct draws n distinct values in (−1, 1) (no max-pool ties).
function distinct(r, n) {
  const pool = [];
  for (let k = -999; k <= 999; k++) if (k !== 0) pool.push(k / 1000);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return Float32Array.from(pool.slice(0, n));
}

// suffix drops the layer scope (and tfjs's uniquifying _N) from a weight
// name: "c1/kernel" → "kernel".
const suffix = (name) => name.split('/').pop().replace(/_\d+$/, '');

// setWeights fills every weight of the layers with seeded values:
// variances positive, gammas near 1, everything else in [-1, 1].
function setWeights(layers, r) {
  for (const l of layers) {
    l.setWeights(l.weights.map((w) => {
      const s = suffix(w.name);
      let v;
      if (s === 'moving_variance') v = uniform(r, prod(w.shape), 0.5, 1.5);
      else if (s === 'gamma') v = uniform(r, prod(w.shape), 0.5, 1.5);
      else v = uniform(r, prod(w.shape), -0.5, 0.5);
      return tf.tensor(v, w.shape);
    }));
  }
}

function weightList(layers) {
  const out = [];
  for (const l of layers) for (const w of l.weights) out.push({ layer: l.name, name: suffix(w.name), ...enc(w.read()) });
  return out;
}

// gradsOf returns the gradients of sum(Σ_i outs_i·gs_i) with respect to
// the inputs xs and the trainable weights of layers.
function gradsOf(f, xs, layers, gs) {
  const xv = xs.map((x) => tf.variable(x));
  const wv = [];
  for (const l of layers) for (const w of l.trainableWeights) wv.push(w.read());
  const { grads } = tf.variableGrads(() => {
    let ys = f(xv);
    if (!Array.isArray(ys)) ys = [ys];
    return ys.map((y, i) => tf.sum(tf.mul(y, gs[i]))).reduce((a, b) => tf.add(a, b));
  }, [...xv, ...wv]);
  const gx = xv.map((v) => enc(grads[v.name]));
  const gw = [];
  for (const l of layers) for (const w of l.trainableWeights) gw.push({ layer: l.name, name: suffix(w.name), ...enc(grads[w.read().name]) });
  return { grad_inputs: gx, grad_weights: gw };
}

// ---------------------------------------------------------------- layers

// Each spec: the tfjs factory, its config, the input shapes, how to fill
// the inputs, whether gradients are recorded.
function layerSpecs() {
  const s = [];
  const add = (name, cls, config, shapes, opt = {}) => s.push({ name, cls, config, shapes, ...opt });
  add('conv1d same stride 2', 'conv1d', { filters: 3, kernelSize: 3, strides: 2, padding: 'same' }, [[2, 7, 2]]);
  add('conv1d valid dilation 2', 'conv1d', { filters: 2, kernelSize: 2, dilationRate: 2, activation: 'tanh' }, [[2, 7, 3]], { noGrad: true });
  add('conv2d same stride 2 relu', 'conv2d', { filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }, [[2, 5, 6, 2]]);
  add('conv2d valid dilation 2 no bias', 'conv2d', { filters: 2, kernelSize: [3, 2], dilationRate: 2, useBias: false }, [[1, 7, 6, 2]], { noGrad: true });
  add('conv3d valid', 'conv3d', { filters: 2, kernelSize: 2 }, [[1, 3, 4, 4, 2]]);
  add('conv3d same stride 2', 'conv3d', { filters: 3, kernelSize: [3, 2, 2], strides: 2, padding: 'same' }, [[2, 3, 4, 5, 1]]);
  add('conv2dTranspose same stride 2', 'conv2dTranspose', { filters: 3, kernelSize: 3, strides: 2, padding: 'same' }, [[2, 3, 4, 2]]);
  add('conv2dTranspose valid stride 2', 'conv2dTranspose', { filters: 2, kernelSize: [3, 2], strides: 2, padding: 'valid' }, [[1, 3, 3, 3]]);
  add('conv2dTranspose valid kernel 1 stride 3', 'conv2dTranspose', { filters: 2, kernelSize: 1, strides: 3 }, [[1, 2, 2, 2]]);
  add('depthwiseConv2d same multiplier 2', 'depthwiseConv2d', { kernelSize: 3, depthMultiplier: 2, padding: 'same' }, [[2, 5, 4, 3]]);
  add('depthwiseConv2d valid stride 2', 'depthwiseConv2d', { kernelSize: 2, strides: 2 }, [[1, 5, 5, 2]]);
  add('separableConv2d same multiplier 2', 'separableConv2d', { filters: 3, kernelSize: 3, depthMultiplier: 2, padding: 'same' }, [[2, 4, 5, 2]]);
  add('separableConv2d valid dilation 2', 'separableConv2d', { filters: 2, kernelSize: 2, dilationRate: 2 }, [[1, 6, 6, 3]], { noGrad: true });
  add('maxPooling1d', 'maxPooling1d', { poolSize: 2 }, [[2, 7, 3]], { distinct: true });
  add('maxPooling2d same stride 2', 'maxPooling2d', { poolSize: 3, strides: 2, padding: 'same' }, [[2, 5, 6, 2]], { distinct: true });
  add('maxPooling3d', 'maxPooling3d', { poolSize: 2 }, [[1, 4, 4, 5, 2]], { distinct: true });
  add('averagePooling1d stride 1', 'averagePooling1d', { poolSize: 3, strides: 1 }, [[2, 6, 2]]);
  add('averagePooling2d', 'averagePooling2d', { poolSize: [2, 3] }, [[2, 5, 6, 2]]);
  add('averagePooling2d same forward', 'averagePooling2d', { poolSize: 3, strides: 2, padding: 'same' }, [[1, 5, 5, 2]], { noGrad: true });
  add('averagePooling3d', 'averagePooling3d', { poolSize: 2 }, [[1, 4, 4, 4, 2]]);
  add('globalAveragePooling2d', 'globalAveragePooling2d', {}, [[2, 3, 4, 5]]);
  add('globalMaxPooling2d', 'globalMaxPooling2d', {}, [[2, 3, 4, 5]], { distinct: true });
  add('batchNormalization', 'batchNormalization', {}, [[4, 3, 2, 3]], { training: true });
  add('batchNormalization momentum 0.5 epsilon 0.01', 'batchNormalization', { momentum: 0.5, epsilon: 0.01 }, [[6, 4]], { training: true });
  // Without scale and offset tfjs's training path fails (it reads gamma
  // unconditionally) and so does its batchNorm gradient: forward only.
  add('batchNormalization no center no scale', 'batchNormalization', { center: false, scale: false }, [[3, 4, 2]], { noGrad: true });
  add('dense', 'dense', { units: 4, activation: 'sigmoid' }, [[3, 5]]);
  add('dense rank 4', 'dense', { units: 3, activation: 'relu' }, [[2, 3, 2, 4]]);
  add('flatten', 'flatten', {}, [[2, 3, 2, 2]]);
  add('reshape', 'reshape', { targetShape: [3, -1] }, [[2, 3, 2, 2]]);
  add('activation relu', 'activation', { activation: 'relu' }, [[2, 7]]);
  add('activation sigmoid', 'activation', { activation: 'sigmoid' }, [[2, 7]]);
  add('activation tanh', 'activation', { activation: 'tanh' }, [[2, 7]]);
  add('activation softmax', 'activation', { activation: 'softmax' }, [[2, 7]]);
  add('reLU', 'reLU', {}, [[2, 3, 4]]);
  add('leakyReLU default alpha', 'leakyReLU', {}, [[2, 3, 4]]);
  add('leakyReLU alpha 0.1', 'leakyReLU', { alpha: 0.1 }, [[2, 3, 4]]);
  for (const a of ['relu6', 'elu', 'selu', 'gelu', 'gelu_new', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish']) {
    add(`activation ${a}`, 'activation', { activation: a }, [[2, 9]], { scale: 3 });
  }
  add('add', 'add', {}, [[2, 3, 2], [2, 3, 2], [2, 3, 2]]);
  // tfjs has no Subtract layer: the golden is tf.sub.
  add('subtract', 'subtract', {}, [[2, 3, 2], [2, 3, 2]], { fn: (xs) => tf.sub(xs[0], xs[1]) });
  add('maximum', 'maximum', {}, [[2, 3, 2], [2, 3, 2], [2, 3, 2]]);
  add('concatenate channels', 'concatenate', {}, [[2, 3, 2, 2], [2, 3, 2, 1], [2, 3, 2, 3]]);
  add('concatenate axis 1', 'concatenate', { axis: 1 }, [[2, 1, 3], [2, 2, 3]]);
  add('zeroPadding2d', 'zeroPadding2d', { padding: [[1, 2], [0, 3]] }, [[2, 2, 3, 2]]);
  // tfjs's ResizeNearestNeighbor gradient is wrong for the second example
  // of a batch (it repeats the first example's sums), so the golden is
  // the same resize written as a broadcast product, whose forward must
  // equal tfjs's layer (checked) and whose gradient is the block sum.
  add('upSampling2d nearest', 'upSampling2d', { size: [2, 3] }, [[2, 2, 3, 2]], {
    fn: (xs) => {
      const [n, h, w, c] = xs[0].shape;
      return tf.mul(tf.reshape(xs[0], [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 3, 1])).reshape([n, 2 * h, 3 * w, c]);
    },
    sameAsLayer: true,
  });
  // Keras resizes with half-pixel centres; tfjs's layer does not, so the
  // golden is tf.image.resizeBilinear with halfPixelCenters = true
  // (forward only: tfjs's ResizeBilinear gradient fails on this
  // non-square case with a wrongly shaped result).
  add('upSampling2d bilinear (Keras)', 'upSampling2d', { size: [2, 3], interpolation: 'bilinear' }, [[2, 3, 2, 2]],
    { fn: (xs) => tf.image.resizeBilinear(xs[0], [6, 6], false, true), noGrad: true });
  add('multiply', 'multiply', {}, [[2, 3, 2], [2, 3, 2]]);
  add('average', 'average', {}, [[2, 3, 2], [2, 3, 2], [2, 3, 2]]);
  return s;
}

// fnLayer stands in for a layer tfjs lacks (or computes differently from
// Keras): a weightless function with the parts of the Layer API used here.
function fnLayer(fn) {
  return { name: 'l', weights: [], trainableWeights: [], setWeights() {}, apply: (x) => fn(Array.isArray(x) ? x : [x]) };
}

function genLayers() {
  const cases = [];
  let seed = 1;
  for (const spec of layerSpecs()) {
    const r = rand(seed++);
    const config = JSON.parse(JSON.stringify(spec.config)); // tfjs may edit its argument
    const layer = spec.fn ? fnLayer(spec.fn) : tf.layers[spec.cls]({ ...spec.config, name: 'l' });
    const xs = spec.shapes.map((sh) => tf.tensor(spec.distinct ? distinct(r, prod(sh)) : uniform(r, prod(sh), -(spec.scale || 1), spec.scale || 1), sh));
    const y0 = layer.apply(xs.length === 1 ? xs[0] : xs);
    setWeights([layer], r);
    const c = { name: spec.name, class: spec.cls, config, inputs: xs.map(enc), weights: weightList([layer]) };
    const call = (ins, kw) => layer.apply(ins.length === 1 ? ins[0] : ins, kw);
    const y = call(xs, { training: false });
    c.output = enc(y);
    if (spec.sameAsLayer) {
      const want = tf.layers[spec.cls]({ ...spec.config }).apply(xs[0]);
      if (tf.max(tf.abs(tf.sub(want, y))).dataSync()[0] !== 0) throw new Error(`${spec.name}: the stand-in differs from tf.layers.${spec.cls}`);
    }
    const g = tf.tensor(uniform(r, prod(y0.shape)), y0.shape);
    c.out_grad = enc(g);
    if (!spec.noGrad) Object.assign(c, gradsOf((v) => call(v, { training: false }), xs, [layer], [g]));
    if (spec.training) {
      // The same weights; one training-mode pass updates the moving
      // statistics (once, inside gradsOf).
      const before = weightList([layer]);
      const yt = call(xs, { training: true });
      layer.setWeights(before.map((w) => tf.tensor(w.data, w.shape)));
      const gt = gradsOf((v) => call(v, { training: true }), xs, [layer], [g]);
      c.training = { output: enc(yt), ...gt, weights_after: weightList([layer]) };
    }
    cases.push(c);
  }
  return cases;
}

// ---------------------------------------------------------------- models

// Each builder returns {inputs, outputs, layers} of a functional model.
// resnet mirrors models.NewResNet (same layer names) with Stages [4, 6]
// and one block per stage: the second block downsamples and projects its
// skip connection.
function resnet() {
  const x = tf.input({ shape: [6, 6, 3], name: 'image' });
  const conv = (name, filters, k, strides) => tf.layers.conv2d({ name, filters, kernelSize: k, strides, padding: 'same', useBias: false });
  const bn = (name) => tf.layers.batchNormalization({ name });
  const relu = (name) => tf.layers.reLU({ name });
  let h = relu('stem_relu').apply(bn('stem_bn').apply(conv('stem', 4, 3, 1).apply(x)));
  let width = 4;
  [4, 6].forEach((filters, s) => {
    const p = `s${s + 1}b1_`;
    const stride = s > 0 ? 2 : 1;
    let y = relu(p + 'relu1').apply(bn(p + 'bn1').apply(conv(p + 'conv1', filters, 3, stride).apply(h)));
    y = bn(p + 'bn2').apply(conv(p + 'conv2', filters, 3, 1).apply(y));
    let skip = h;
    if (stride !== 1 || filters !== width) skip = bn(p + 'proj_bn').apply(conv(p + 'proj', filters, 1, stride).apply(h));
    h = relu(p + 'relu2').apply(tf.layers.add({ name: p + 'add' }).apply([y, skip]));
    width = filters;
  });
  const y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h);
  return { inputs: [x], outputs: [tf.layers.dense({ name: 'logits', units: 3 }).apply(y)], inShapes: [[4, 6, 6, 3]] };
}

function separable() {
  const x = tf.input({ shape: [6, 5, 3], name: 'image' });
  const a = tf.layers.separableConv2d({ name: 'sep', filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }).apply(x);
  const b = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same' }).apply(x);
  let y = tf.layers.concatenate({ name: 'cat' }).apply([a, b]);
  y = tf.layers.conv2d({ name: 'mix', filters: 3, kernelSize: 1 }).apply(y);
  y = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(y);
  y = tf.layers.flatten({ name: 'flat' }).apply(y);
  return { inputs: [x], outputs: [tf.layers.dense({ name: 'logits', units: 2 }).apply(y)], inShapes: [[2, 6, 5, 3]] };
}

function transpose() {
  const x = tf.input({ shape: [5, 5, 2], name: 'image' });
  let y = tf.layers.conv2d({ name: 'dil', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }).apply(x);
  y = tf.layers.conv2d({ name: 'down', filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(y);
  y = tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 3, strides: 2, padding: 'valid', activation: 'tanh' }).apply(y);
  y = tf.layers.averagePooling2d({ name: 'pool', poolSize: 2 }).apply(y);
  y = tf.layers.flatten({ name: 'flat' }).apply(y);
  return { inputs: [x], outputs: [tf.layers.dense({ name: 'logits', units: 3 }).apply(y)], inShapes: [[2, 5, 5, 2]] };
}

function genModels() {
  const out = [];
  let seed = 100;
  for (const [name, build] of [['resnet', resnet], ['separable', separable], ['transpose', transpose]]) {
    const r = rand(seed++);
    const spec = build();
    const model = tf.model({ inputs: spec.inputs, outputs: spec.outputs, name });
    setWeights(model.layers, r);
    const xs = spec.inShapes.map((sh) => tf.tensor(uniform(r, prod(sh)), sh));
    const c = { name, inputs: xs.map(enc), weights: weightList(model.layers) };
    c.output = enc(model.apply(xs[0], { training: false }));
    if (name === 'resnet') {
      // One Adam step (lr 0.001) on softmax cross-entropy, averaged over
      // the batch, in training mode: batch statistics, moving averages
      // updated once.
      const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3).toFloat();
      c.labels = enc(labels);
      const loss = () => tf.losses.softmaxCrossEntropy(labels, model.apply(xs[0], { training: true }));
      const vars = [];
      for (const l of model.layers) for (const w of l.trainableWeights) vars.push(w.read());
      const before = weightList(model.layers);
      const { value, grads } = tf.variableGrads(loss, vars);
      c.train_loss = short(value.dataSync()[0]);
      c.train_grads = [];
      for (const l of model.layers) for (const w of l.trainableWeights) c.train_grads.push({ layer: l.name, name: suffix(w.name), ...enc(grads[w.read().name]) });
      // variableGrads ran the forward once (updating the moving
      // statistics); restore and take the step from the same start.
      for (const l of model.layers) {
        const ws = before.filter((w) => w.layer === l.name);
        if (ws.length) l.setWeights(ws.map((w) => tf.tensor(w.data, w.shape)));
      }
      const opt = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
      opt.minimize(loss, false, vars);
      c.adam = { learning_rate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weights_after: weightList(model.layers) };
    }
    out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------- nn ops

// The batch-norm ops: inference with given statistics (tf.batchNorm) and
// training with the batch's moments (biased variance), with gradients of
// sum(y·g) with respect to x, scale and offset.
function genBatchNormOps() {
  const cases = [];
  const r = rand(7);
  for (const shape of [[5, 3], [2, 3, 4, 2], [3, 2, 2, 4]]) {
    const c = shape[shape.length - 1];
    const x = tf.tensor(uniform(r, prod(shape), -2, 2), shape);
    const mean = tf.tensor(uniform(r, c), [c]);
    const variance = tf.tensor(uniform(r, c, 0.2, 2), [c]);
    const scale = tf.tensor(uniform(r, c, 0.5, 1.5), [c]);
    const offset = tf.tensor(uniform(r, c), [c]);
    const g = tf.tensor(uniform(r, prod(shape)), shape);
    const eps = 1e-3;
    const axes = shape.slice(0, -1).map((_, i) => i);
    const inf = (x, s, o) => tf.batchNorm(x, mean, variance, o, s, eps);
    const train = (x, s, o) => {
      const m = tf.moments(x, axes);
      return tf.batchNorm(x, m.mean, m.variance, o, s, eps);
    };
    const grads = (f) => tf.grads((x, s, o) => tf.sum(tf.mul(f(x, s, o), g)))([x, scale, offset]).map(enc);
    const m = tf.moments(x, axes);
    const [gi, gt] = [grads(inf), grads(train)];
    cases.push({
      epsilon: eps, x: enc(x), mean: enc(mean), variance: enc(variance), scale: enc(scale), offset: enc(offset), out_grad: enc(g),
      inference: { y: enc(inf(x, scale, offset)), grad_x: gi[0], grad_scale: gi[1], grad_offset: gi[2] },
      training: { y: enc(train(x, scale, offset)), batch_mean: enc(m.mean), batch_variance: enc(m.variance), grad_x: gt[0], grad_scale: gt[1], grad_offset: gt[2] },
    });
  }
  return cases;
}

function write(file, what, cases) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const header = { generator: 'testdata/gen/layers.js', tfjs: tf.version.tfjs, backend: tf.getBackend(), what };
  fs.writeFileSync(file, JSON.stringify({ header, cases }) + '\n');
  console.log(`${path.relative(ROOT, file)}: ${cases.length} cases`);
}

async function main() {
  await tf.setBackend('cpu');
  write(LAYERS_FILE, 'tf.layers.* forward (training false) and gradients of sum(y*out_grad); batch norm also in training mode', genLayers());
  write(MODELS_FILE, 'functional models: forward (training false); resnet: one Adam step in training mode', genModels());
  write(BN_FILE, 'tf.batchNorm with given statistics (inference) and with tf.moments of x (training); gradients of sum(y*out_grad)', genBatchNormOps());
}

main().catch((e) => { console.error(e); process.exit(1); });
