// Runs an ONNX model in onnxruntime-web (WebAssembly, one thread) for
// models/onnx's tests:
//
//   node run.js MODEL.onnx IN.npy OUT.npy [MODEL.onnx IN.npy OUT.npy …]
//
// For each triple, IN.npy feeds the graph's first input and OUT.npy
// receives its first output.
// Both are NumPy v1 .npy files of little-endian float32 in C order.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-web');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY' || b[6] !== 1) throw new Error(`${path}: not a version 1 .npy file`);
  const hlen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'") || !header.includes('False')) throw new Error(`${path}: want '<f4' in C order, header ${header}`);
  const dims = header.match(/\(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(10 + hlen + 4 * i);
  return { dims, data };
}

function writeNpy(path, dims, data) {
  let shape = dims.join(', ');
  if (dims.length === 1) shape += ',';
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape}), }`;
  h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
  const b = Buffer.alloc(10 + h.length + 4 * data.length);
  b.write('\x93NUMPY', 0, 'latin1');
  b[6] = 1; b[7] = 0;
  b.writeUInt16LE(h.length, 8);
  b.write(h, 10, 'latin1');
  for (let i = 0; i < data.length; i++) b.writeFloatLE(data[i], 10 + h.length + 4 * i);
  fs.writeFileSync(path, b);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0 || args.length % 3 !== 0) throw new Error('usage: node run.js MODEL.onnx IN.npy OUT.npy [...]');
  ort.env.wasm.numThreads = 1;
  for (let i = 0; i < args.length; i += 3) {
    const [model, inPath, outPath] = args.slice(i, i + 3);
    const session = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'] });
    const x = readNpy(inPath);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
    const out = await session.run(feeds);
    const y = out[session.outputNames[0]];
    writeNpy(outPath, y.dims, y.data);
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
