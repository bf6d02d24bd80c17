#!/usr/bin/env node
// ort_run.js — run an ONNX model with ONNX Runtime (onnxruntime-node) on .npy inputs.
// edgepack's outside oracle: a test/bench helper only, never linked into edgepack.
//
// Usage:
//   node scripts/ort/ort_run.js MODEL.onnx --input NAME=FILE.npy [--input ...] [options]
//
// Options:
//   --input NAME=FILE.npy  graph input (repeatable). dtypes: f32, f64, i64, i32, i8, u8, bool.
//   -o, --output DIR       write every output as DIR/<output name>.npy (directory is created;
//                          characters outside [A-Za-z0-9._-] in names become '_').
//   --opt LEVEL            graph optimization level: disabled | basic | extended | all (default all).
//   --threads N            intra-op thread count (default 1; inter-op is always 1, sequential).
//   --repeat N             time N warm runs after one untimed warm-up run (default 0: one run).
//   --json                 print a JSON summary on stdout: ort version, options, outputs (name,
//                          dtype, shape), and with --repeat the per-run and median wall latency
//                          (times_ms, median_ms) and process CPU time, all threads (cpu_ms,
//                          median_cpu_ms), in ms.
//   -h, --help             this text.
//
// Exit codes: 0 ok, 2 bad command line, 3 unreadable model or .npy, 5 runtime failure.
// Example:
//   node scripts/ort/ort_run.js m.onnx --input x=in.npy -o out --threads 2 --repeat 20 --json
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE = fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n');

class CliError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// ---- .npy (format 1.0/2.0/3.0, little-endian, C order) ------------------------------------------

const NPY_TYPES = {
  '<f4': { ort: 'float32', array: Float32Array, size: 4 },
  '<f8': { ort: 'float64', array: Float64Array, size: 8 },
  '<i8': { ort: 'int64', array: BigInt64Array, size: 8 },
  '<i4': { ort: 'int32', array: Int32Array, size: 4 },
  '|i1': { ort: 'int8', array: Int8Array, size: 1 },
  '|u1': { ort: 'uint8', array: Uint8Array, size: 1 },
  '|b1': { ort: 'bool', array: Uint8Array, size: 1 },
};

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new CliError(`${file}: cannot read: ${e.message}`, 3);
  }
  const bad = (why) => new CliError(`${file}: not a supported .npy file: ${why}`, 3);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad('missing magic');
  const major = buf[6];
  let headerLen, offset;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw bad('truncated header');
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else throw bad(`version ${major}`);
  if (offset + headerLen > buf.length) throw bad('truncated header');
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', offset, offset + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shapeMatch) throw bad('header lacks descr, fortran_order or shape');
  if (order[1] === 'True') throw bad('fortran_order arrays are not supported');
  const type = NPY_TYPES[descr[1]];
  if (!type) throw bad(`dtype '${descr[1]}' (supported: ${Object.keys(NPY_TYPES).join(', ')})`);
  const shape = shapeMatch[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad('bad shape');
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  if (buf.length - start !== count * type.size) throw bad(`expected ${count * type.size} data bytes, found ${buf.length - start}`);
  const bytes = new Uint8Array(count * type.size);
  bytes.set(buf.subarray(start));  // copy: typed arrays need an aligned buffer
  let data = new type.array(bytes.buffer, 0, count);
  if (type.ort === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { type: type.ort, data, shape };
}

function writeNpy(file, tensor) {
  const entry = Object.entries(NPY_TYPES).find(([, t]) => t.ort === tensor.type);
  if (!entry) throw new CliError(`output type ${tensor.type} cannot be written as .npy`, 5);
  const [descr, type] = entry;
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.length * type.size);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}

// ---- command line ---------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = { model: null, inputs: [], output: null, opt: 'all', threads: 1, repeat: 0, json: false };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new CliError(`${flag} needs a value`, 2);
    return argv[i + 1];
  };
  const positiveInt = (s, flag, min) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new CliError(`${flag} must be an integer >= ${min}, got '${s}'`, 2);
    return n;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (a === '--input') {
      const spec = value(i++, a);
      const eq = spec.indexOf('=');
      if (eq <= 0) throw new CliError(`--input '${spec}' must be NAME=FILE.npy`, 2);
      args.inputs.push([spec.slice(0, eq), spec.slice(eq + 1)]);
    } else if (a === '-o' || a === '--output') args.output = value(i++, a);
    else if (a === '--opt') {
      args.opt = value(i++, a);
      if (!['disabled', 'basic', 'extended', 'all'].includes(args.opt)) throw new CliError(`--opt must be disabled, basic, extended or all, got '${args.opt}'`, 2);
    } else if (a === '--threads') args.threads = positiveInt(value(i++, a), a, 1);
    else if (a === '--repeat') args.repeat = positiveInt(value(i++, a), a, 0);
    else if (a === '--json') args.json = true;
    else if (a.startsWith('-')) throw new CliError(`unknown option '${a}' (see --help)`, 2);
    else if (args.model === null) args.model = a;
    else throw new CliError(`unexpected argument '${a}'`, 2);
  }
  if (args.model === null) throw new CliError('give MODEL.onnx (see --help)', 2);
  return args;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  const feeds = {};
  for (const [name, file] of args.inputs) {
    const t = readNpy(file);
    feeds[name] = new ort.Tensor(t.type, t.data, t.shape);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, {
      graphOptimizationLevel: args.opt,
      intraOpNumThreads: args.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      executionProviders: ['cpu'],
    });
  } catch (e) {
    throw new CliError(`${args.model}: ONNX Runtime cannot load it: ${e.message}`, 3);
  }
  for (const name of session.inputNames)
    if (!(name in feeds)) throw new CliError(`graph input '${name}' was not given (inputs: ${session.inputNames.join(', ')})`, 2);
  for (const name of Object.keys(feeds))
    if (!session.inputNames.includes(name)) throw new CliError(`--input '${name}' is not an input of the model (inputs: ${session.inputNames.join(', ')})`, 2);

  const runOnce = async () => {
    try {
      return await session.run(feeds);
    } catch (e) {
      throw new CliError(`${args.model}: run failed: ${e.message}`, 5);
    }
  };
  let outputs = await runOnce();
  const times = [], cpuTimes = [];
  for (let r = 0; r < args.repeat; ++r) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    outputs = await runOnce();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1e3);
  }
  const summary = { ort_version: ort.env.versions.common, model: args.model, opt: args.opt, threads: args.threads, outputs: [] };
  if (args.output !== null) fs.mkdirSync(args.output, { recursive: true });
  for (const name of session.outputNames) {
    const t = outputs[name];
    summary.outputs.push({ name, dtype: t.type, shape: t.dims });
    if (args.output !== null) {
      const file = path.join(args.output, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy');
      writeNpy(file, t);
      if (!args.json) process.stderr.write(`wrote ${file} [${t.dims.join(', ')}]\n`);
    }
  }
  if (args.repeat > 0) {
    summary.repeat = args.repeat;
    summary.times_ms = times;
    summary.median_ms = median(times);
    summary.cpu_ms = cpuTimes;
    summary.median_cpu_ms = median(cpuTimes);
    if (!args.json) process.stderr.write(`median ${summary.median_ms.toFixed(3)} ms over ${args.repeat} runs (${args.threads} thread(s), opt ${args.opt})\n`);
  }
  if (args.json) process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(e instanceof CliError ? e.code : 5);
});
