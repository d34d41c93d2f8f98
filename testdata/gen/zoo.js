// zoo.js writes the TensorFlow.js Layers model zoo of models/keras:
//
//	models/keras/testdata/zoo/NAME/model.json       modelTopology + weightsManifest
//	models/keras/testdata/zoo/NAME/group1-shardKofN.bin
//	models/keras/testdata/zoo/NAME/x.npy            an input batch
//	models/keras/testdata/zoo/NAME/y.npy            model.predict(x), inference mode
//	models/keras/testdata/zoo/NAME/summary.json     each layer's name, class, output shape and parameter count
//
// Run: cd testdata/gen && npm ci && node zoo.js
//
// Each model is built with tf.layers (TensorFlow.js 4.22, cpu backend,
// float32), every weight (moving statistics included) is overwritten with
// seeded values, and the model is saved through tf.io.withSaveHandler in
// the layout tensorflowjs_converter and model.save('file://…') write:
// model.json beside binary shards holding the weights as little-endian
// float32, concatenated in manifest order and cut into shards of at most
// shardBytes bytes (a cut may fall inside a tensor, as the converter's
// does). Some models use one shard, others several. One model wraps its
// topology as {"model_config": …} the way the Python converter does.
//
// It then checks convnet's writer the other way round: for each model
// directory under models/keras/testdata/written (written by
// `go test ./models/keras -args -update`), it builds the model from
// config.json with tf.models.modelFromJSON, sets every weight by name
// from model.safetensors, and records model.predict(x.npy) as
// y_tfjs.npy.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { rand } = require('./common');

const ROOT = path.resolve(__dirname, '..', '..');
const ZOO = path.join(ROOT, 'models', 'keras', 'testdata', 'zoo');

function uniform(r, n, lo, hi) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * r());
  return out;
}

// npy encodes a float32 tensor as a NumPy v1.0 .npy file.
function npy(t) {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(new Float32Array(t.dataSync()).buffer);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}

// setWeights fills every weight of model with seeded values; variances
// stay positive.
function setWeights(model, seed) {
  const r = rand(seed);
  for (const w of model.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const [lo, hi] = w.name.includes('moving_variance') ? [0.5, 1.5] : w.name.includes('gamma') ? [0.5, 1.5] : [-0.5, 0.5];
    w.write(tf.tensor(uniform(r, n, lo, hi), w.shape));
  }
}

async function save(name, model, xShape, opts) {
  const dir = path.join(ZOO, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) fs.unlinkSync(path.join(dir, f));
  setWeights(model, opts.seed);
  // opts.inputScale widens the input range so that capped activations
  // (ReLU6) are reached.
  const s = opts.inputScale || 1;
  const x = tf.tensor(uniform(rand(opts.seed + 1), xShape.reduce((a, b) => a * b, 1), -s, s), xShape);
  const y = model.predict(x);
  let artifacts;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const wd = artifacts.weightData;
  const bytes = Buffer.concat((Array.isArray(wd) ? wd : [wd]).map((b) => Buffer.from(b)));
  const nShards = Math.max(1, Math.ceil(bytes.length / opts.shardBytes));
  const paths = [];
  for (let k = 0; k < nShards; k++) {
    const p = `group1-shard${k + 1}of${nShards}.bin`;
    fs.writeFileSync(path.join(dir, p), bytes.subarray(k * opts.shardBytes, (k + 1) * opts.shardBytes));
    paths.push(p);
  }
  const topology = opts.modelConfig ? { model_config: artifacts.modelTopology } : artifacts.modelTopology;
  const modelJSON = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJSON, null, 1) + '\n');
  fs.writeFileSync(path.join(dir, 'x.npy'), npy(x));
  fs.writeFileSync(path.join(dir, 'y.npy'), npy(y));
  const summary = model.layers.map((l) => ({
    name: l.name,
    class: l.getClassName(),
    outputShape: l.outputShape.slice(1),
    params: l.countParams(),
  }));
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ params: model.countParams(), layers: summary }) + '\n');
  console.log(`${name}: ${model.countParams()} parameters, ${bytes.length} bytes in ${nShards} shard(s), output ${y.shape}`);
}

// resnet: a functional residual network with batch normalization.
function resnet() {
  const L = tf.layers;
  const x = tf.input({ shape: [8, 8, 3], name: 'image' });
  let h = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem' }).apply(x);
  h = L.batchNormalization({ name: 'stem_bn' }).apply(h);
  h = L.reLU({ name: 'stem_relu' }).apply(h);
  let b = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'block_conv1' }).apply(h);
  b = L.batchNormalization({ name: 'block_bn1', epsilon: 0.001, momentum: 0.9 }).apply(b);
  b = L.activation({ activation: 'relu', name: 'block_relu' }).apply(b);
  b = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'block_conv2' }).apply(b);
  b = L.batchNormalization({ name: 'block_bn2' }).apply(b);
  let s = L.add({ name: 'block_add' }).apply([h, b]);
  s = L.activation({ activation: 'relu', name: 'block_out' }).apply(s);
  s = L.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'down' }).apply(s);
  s = L.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(s);
  s = L.globalAveragePooling2d({ name: 'gap' }).apply(s);
  s = L.dense({ units: 5, activation: 'softmax', name: 'logits' }).apply(s);
  return tf.model({ inputs: x, outputs: s, name: 'resnet' });
}

// separable: depthwise-separable branches joined by Concatenate.
function separable() {
  const L = tf.layers;
  const x = tf.input({ shape: [9, 9, 4], name: 'image' });
  let a = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x);
  a = L.reLU({ name: 'dw_relu' }).apply(a);
  a = L.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', depthMultiplier: 1, name: 'sep' }).apply(a);
  const c = L.conv2d({ filters: 4, kernelSize: 1, name: 'pointwise' }).apply(x);
  const d = L.separableConv2d({ filters: 3, kernelSize: [3, 2], padding: 'same', useBias: false, name: 'sep_nobias' }).apply(x);
  let h = L.concatenate({ axis: -1, name: 'concat' }).apply([a, c, d]);
  h = L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'avg' }).apply(h);
  h = L.batchNormalization({ name: 'bn' }).apply(h);
  h = L.flatten({ name: 'flat' }).apply(h);
  h = L.dropout({ rate: 0.25, name: 'drop' }).apply(h);
  h = L.dense({ units: 4, activation: 'tanh', name: 'out' }).apply(h);
  return tf.model({ inputs: x, outputs: h, name: 'separable' });
}

// transpose: a Sequential with dilated convolutions and Conv2DTranspose.
function transpose() {
  const L = tf.layers;
  const m = tf.sequential({ name: 'transpose' });
  m.add(L.conv2d({ inputShape: [7, 7, 2], filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', name: 'dilated' }));
  m.add(L.conv2d({ filters: 5, kernelSize: 2, dilationRate: [2, 1], padding: 'valid', name: 'dilated_valid' }));
  m.add(L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', name: 'up' }));
  m.add(L.leakyReLU({ alpha: 0.2, name: 'leaky' }));
  m.add(L.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [1, 2], padding: 'valid', activation: 'sigmoid', name: 'up_valid' }));
  m.add(L.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'pad' }));
  m.add(L.upSampling2d({ size: [2, 1], name: 'upsample' }));
  m.add(L.maxPooling2d({ poolSize: [3, 3], strides: [2, 2], padding: 'same', name: 'maxpool' }));
  m.add(L.conv2d({ filters: 2, kernelSize: 1, name: 'head' }));
  m.add(L.reshape({ targetShape: [-1, 2], name: 'rows' }));
  return m;
}

// dense: a small Sequential of 1-D data through Conv1D and Dense.
function dense1d() {
  const L = tf.layers;
  const m = tf.sequential({ name: 'dense1d' });
  m.add(L.conv1d({ inputShape: [10, 3], filters: 4, kernelSize: 3, strides: 1, activation: 'elu', name: 'c1' }));
  m.add(L.maxPooling1d({ poolSize: 2, name: 'p1' }));
  m.add(L.flatten({ name: 'f' }));
  m.add(L.dense({ units: 6, activation: 'relu', name: 'd1' }));
  m.add(L.dense({ units: 2, useBias: false, name: 'd2' }));
  return m;
}

// readNpy decodes a NumPy v1.0 '<f4' .npy file.
function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString('latin1');
  if (!header.includes("'descr': '<f4'")) throw new Error(`${file}: not float32`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((d) => d.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  return tf.tensor(data, shape);
}

// readSafetensors decodes a safetensors file of F32 tensors.
function readSafetensors(file) {
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32') throw new Error(`${file}: ${name} is ${e.dtype}`);
    const [start, end] = e.data_offsets;
    out[name] = tf.tensor(new Float32Array(b.buffer.slice(b.byteOffset + 8 + n + start, b.byteOffset + 8 + n + end)), e.shape);
  }
  return out;
}

// predictWritten runs a convnet-written model directory in TF.js.
async function predictWritten(dir) {
  const topology = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const model = await tf.models.modelFromJSON({ modelTopology: topology });
  const weights = readSafetensors(path.join(dir, 'model.safetensors'));
  const names = Object.keys(weights);
  if (names.length !== model.weights.length) throw new Error(`${dir}: ${names.length} weights in the file, ${model.weights.length} in the model`);
  for (const w of model.weights) {
    const t = weights[w.originalName];
    if (!t) throw new Error(`${dir}: no weight ${w.originalName} in model.safetensors`);
    w.write(t);
  }
  const y = model.predict(readNpy(path.join(dir, 'x.npy')));
  fs.writeFileSync(path.join(dir, 'y_tfjs.npy'), npy(y));
  console.log(`written/${path.basename(dir)}: TF.js loaded ${model.countParams()} parameters, output ${y.shape}`);
}

// activations: the activation layers with options (ReLU capped at 6,
// ELU, Softmax) around a small depthwise stack.
function activations() {
  const L = tf.layers;
  const m = tf.sequential({ name: 'activations' });
  m.add(L.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }));
  m.add(L.reLU({ maxValue: 6, name: 'relu6' }));
  m.add(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', name: 'dw' }));
  m.add(L.elu({ alpha: 1, name: 'elu' }));
  m.add(L.globalMaxPooling2d({ name: 'gmp' }));
  m.add(L.dense({ units: 3, name: 'logits' }));
  m.add(L.softmax({ axis: -1, name: 'probs' }));
  return m;
}

// shared: one Conv2D applied twice (a shared layer: inbound_nodes with
// two calls) and the merges Multiply, Maximum and Average (TF.js 4.22
// has no Subtract layer).
function shared() {
  const L = tf.layers;
  const x = tf.input({ shape: [6, 6, 3], name: 'image' });
  const s = L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'shared' });
  const h1 = s.apply(x);
  const h2 = s.apply(h1);
  const m1 = L.multiply({ name: 'mul' }).apply([h1, h2]);
  const m2 = L.maximum({ name: 'max' }).apply([h1, h2]);
  let h = L.average({ name: 'avg' }).apply([m1, m2, h2]);
  h = L.globalAveragePooling2d({ name: 'gap' }).apply(h);
  h = L.dense({ units: 2, name: 'out' }).apply(h);
  return tf.model({ inputs: x, outputs: h, name: 'shared' });
}

async function main() {
  await tf.setBackend('cpu');
  await save('resnet', resnet(), [2, 8, 8, 3], { seed: 11, shardBytes: 4 << 20 });
  await save('separable', separable(), [3, 9, 9, 4], { seed: 23, shardBytes: 1024, modelConfig: true });
  await save('transpose', transpose(), [2, 7, 7, 2], { seed: 37, shardBytes: 300 });
  await save('dense1d', dense1d(), [4, 10, 3], { seed: 41, shardBytes: 4 << 20 });
  await save('activations', activations(), [3, 6, 6, 3], { seed: 53, shardBytes: 4 << 20, inputScale: 8 });
  await save('shared', shared(), [2, 6, 6, 3], { seed: 59, shardBytes: 4 << 20 });
  const written = path.join(ROOT, 'models', 'keras', 'testdata', 'written');
  for (const d of fs.existsSync(written) ? fs.readdirSync(written).sort() : []) {
    await predictWritten(path.join(written, d));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
