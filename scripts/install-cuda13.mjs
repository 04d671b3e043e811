#!/usr/bin/env node
// `npm run gpu:cuda13`: puts onnxruntime's CUDA 13 execution provider next to onnxruntime-node's libonnxruntime.so.1.
//
// onnxruntime-node 1.29.0 ships a CPU-only Linux build (its own CUDA 12 download is `ONNXRUNTIME_NODE_INSTALL=cuda12
// npm ci`, see docs/gpu.md). The npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 carries
// libonnxruntime_providers_{cuda,shared}.so built from the same onnxruntime 1.29.0 against CUDA 13 + cuDNN 9; the
// core library loads them from its own folder when a session asks for the CUDA EP. The two must match exactly,
// hence the pin check.
//
// Options:
//   --dry-run           check and print what would be copied, copy nothing
//   --tarball FILE      use an already downloaded .tgz of the package (offline hosts) instead of `npm pack`
//   --target DIR        copy into DIR instead of onnxruntime-node's bin folder (it must hold libonnxruntime.so.1)
//   --keep              keep the temporary folder (prints its path)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const PROVIDER_PACKAGE = 'com.github.asus4.onnxruntime.linux-x64-gpu';
const PROVIDER_VERSION = '0.4.9';
const ORT_NODE_VERSION = '1.29.0';
const LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
const PLUGIN_DIR = 'package/Plugins/Linux/x64';

class InstallError extends Error {
  constructor(message, solutions = []) {
    super(message);
    this.solutions = solutions;
  }
}

function parseArgs(argv) {
  const options = { dryRun: false, tarball: undefined, target: undefined, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--tarball') options.tarball = resolve(argv[++i] ?? '');
    else if (arg === '--target') options.target = resolve(argv[++i] ?? '');
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    } else throw new InstallError(`unknown option ${arg}`, ['run with --help for the options']);
  }
  return options;
}

function findOrtNode() {
  const require = createRequire(join(process.cwd(), 'package.json'));
  let packageJson;
  try {
    packageJson = require.resolve('onnxruntime-node/package.json');
  } catch (error) {
    throw new InstallError('onnxruntime-node is not installed in this project', [
      'run `npm ci` first (with ONNXRUNTIME_NODE_INSTALL=skip its CPU build is kept, which is what this script extends)',
    ]);
  }
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  return { root: dirname(packageJson), version };
}

/** bin/napi-v*\/linux/x64 folders holding libonnxruntime.so.1. */
function findCoreLibraryDirs(ortRoot) {
  const bin = join(ortRoot, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((name) => name.startsWith('napi-v'))
    .map((name) => join(bin, name, 'linux', 'x64'))
    .filter((dir) => existsSync(join(dir, 'libonnxruntime.so.1')));
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function mib(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function fetchTarball(workDir) {
  const spec = `${PROVIDER_PACKAGE}@${PROVIDER_VERSION}`;
  process.stdout.write(`fetching ${spec} with npm pack (about 180 MB)…\n`);
  let output;
  try {
    output = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', workDir], {
      cwd: workDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new InstallError(`npm pack ${spec} failed: ${String(error.stderr ?? error.message).trim().split('\n').slice(-3).join(' ')}`, [
      'check that this host reaches the npm registry (npm config get registry)',
      `or download ${spec} elsewhere (npm pack ${spec}) and pass it with --tarball FILE`,
    ]);
  }
  const [info] = JSON.parse(output.slice(output.indexOf('[')));
  if (info?.version !== PROVIDER_VERSION) throw new InstallError(`npm pack returned ${info?.id ?? 'nothing'}, expected ${spec}`);
  return { file: join(workDir, info.filename), integrity: info.integrity };
}

function extract(tarball, workDir) {
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', workDir, ...LIBRARIES.map((lib) => `${PLUGIN_DIR}/${lib}`), 'package/package.json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    throw new InstallError(`could not extract ${LIBRARIES.join(', ')} from ${tarball}: ${String(error.stderr ?? error.message).trim()}`, [
      `is it the ${PROVIDER_PACKAGE}@${PROVIDER_VERSION} tarball? (tar -tzf FILE | grep providers)`,
    ]);
  }
  const { name, version } = JSON.parse(readFileSync(join(workDir, 'package/package.json'), 'utf8'));
  if (name !== PROVIDER_PACKAGE || version !== PROVIDER_VERSION) {
    throw new InstallError(`the tarball holds ${name}@${version}, expected ${PROVIDER_PACKAGE}@${PROVIDER_VERSION}`);
  }
  return join(workDir, PLUGIN_DIR);
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new InstallError(`the CUDA 13 provider package is for linux-x64; this is ${process.platform}-${process.arch}`, [
      'on Windows use the DirectML or CUDA build onnxruntime-node ships; on macOS use HAIR_EP=cpu (or webgpu)',
    ]);
  }
  const ort = findOrtNode();
  if (ort.version !== ORT_NODE_VERSION) {
    throw new InstallError(`onnxruntime-node is ${ort.version}; the CUDA 13 providers in ${PROVIDER_PACKAGE}@${PROVIDER_VERSION} match ${ORT_NODE_VERSION} only`, [
      `pin "onnxruntime-node": "${ORT_NODE_VERSION}" in package.json and run npm ci`,
      'or use the CUDA 12 build instead: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci (docs/gpu.md)',
    ]);
  }
  const targets = options.target ? [options.target] : findCoreLibraryDirs(ort.root);
  if (targets.length === 0) {
    throw new InstallError(`no libonnxruntime.so.1 under ${join(ort.root, 'bin')}/napi-v*/linux/x64`, [
      'reinstall onnxruntime-node (npm ci); the script puts the providers next to that file',
    ]);
  }
  for (const dir of targets) {
    if (!existsSync(join(dir, 'libonnxruntime.so.1'))) throw new InstallError(`${dir} holds no libonnxruntime.so.1`, ['pass the folder of onnxruntime-node\'s libonnxruntime.so.1 to --target']);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'hair-cuda13-'));
  try {
    const tarball = options.tarball ?? fetchTarball(workDir).file;
    if (!existsSync(tarball)) throw new InstallError(`${tarball} does not exist`);
    const from = extract(tarball, workDir);
    for (const dir of targets) {
      for (const lib of LIBRARIES) {
        const source = join(from, lib);
        const destination = join(dir, lib);
        const size = statSync(source).size;
        if (options.dryRun) {
          process.stdout.write(`would copy ${lib} (${mib(size)}) → ${destination}\n`);
          continue;
        }
        copyFileSync(source, destination);
        chmodSync(destination, 0o755);
        process.stdout.write(`installed ${destination} (${mib(size)}, sha256 ${sha256(destination).slice(0, 16)}…)\n`);
      }
    }
    process.stdout.write(
      options.dryRun
        ? 'dry run: nothing copied\n'
        : 'done. The CUDA EP needs CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH; then start with HAIR_EP=cuda (or auto) and look for "worker ready: cuda" in the log.\n',
    );
  } finally {
    if (options.keep) process.stdout.write(`kept ${workDir}\n`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof InstallError)) throw error;
  process.stderr.write(`gpu:cuda13: ${error.message}\n`);
  if (error.solutions.length > 0) process.stderr.write(`Possible solutions:\n${error.solutions.map((s) => `  - ${s}`).join('\n')}\n`);
  process.exit(1);
}
