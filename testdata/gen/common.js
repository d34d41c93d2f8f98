// common.js holds the helpers the golden generators share (gen.js, ops.js,
// layers.js, zoo.js, pool_explicit.js). The committed goldens depend on
// these exact streams and encodings: a change here changes every file the
// generators write, so regenerate them all and review the diff.
'use strict';

// rng returns a seeded uniform [0, 1) generator: a Weyl counter passed
// through a 32-bit integer hash finaliser (gen.js, ops.js, pool_explicit.js).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

// rand returns another seeded uniform [0, 1) generator, a Weyl sequence
// through a different 32-bit hash finaliser (layers.js, zoo.js). It is not
// rng: the layer and zoo goldens were drawn from this stream.
function rand(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1) >>> 0;
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

// distinctVals draws n distinct values from the non-zero multiples of
// 1/1000 in [−1, 1] (of 1/10000 from 2000 values on), shuffled by r: no
// ties inside a max-pool window, where TF and tfjs could legitimately route
// the gradient differently.
function distinctVals(r, n) {
  const pool = [];
  const den = n < 2000 ? 1000 : 10000;
  for (let k = -den; k <= den; k++) if (k !== 0) pool.push(k / den);
  if (n > pool.length) throw new Error(`distinctVals: ${n} > ${pool.length}`);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(r() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return Float32Array.from(pool.slice(0, n));
}

// short gives the shortest decimal that rounds back to the float32 x.
function short(x) {
  if (!Number.isFinite(x)) throw new Error(`non-finite value ${x}`);
  if (x === 0) return 0;
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return v;
  }
  return x;
}

const prod = (a) => a.reduce((x, y) => x * y, 1);

// enc turns a tensor into {shape, data}, each value written shortest.
const enc = (t) => ({ shape: t.shape.slice(), data: Array.from(t.dataSync(), short) });

module.exports = { rng, rand, distinctVals, short, prod, enc };
