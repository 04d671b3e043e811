/**
 * MediaPipe's web solutions ship their models inside one Emscripten `*_packed_assets.data` file; the matching
 * `*_loader.js` calls `loadPackage({"files": [{filename, start, end}, ...], ...})`. We read that object from the
 * loader's source (as JSON, never by running the script) and slice the file we want out of the data.
 */
export interface PackedFile {
  filename: string;
  start: number;
  end: number;
}

/** The `files` table of a packed-assets loader script. */
export function packedFiles(loaderSource: string): PackedFile[] {
  const at = loaderSource.indexOf('loadPackage({');
  if (at < 0) throw new Error('Expected a loadPackage({...}) call in the packed-assets loader');
  const open = at + 'loadPackage('.length;
  let depth = 0;
  let inString = false;
  let end = -1;
  for (let i = open; i < loaderSource.length && end < 0; i++) {
    const c = loaderSource[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) end = i + 1;
  }
  if (end < 0) throw new Error('Unterminated loadPackage({...}) object in the packed-assets loader');
  const metadata = JSON.parse(loaderSource.slice(open, end)) as { files?: unknown };
  if (!Array.isArray(metadata.files)) throw new Error('Expected a files array in the packed-assets metadata');
  return metadata.files.map((f: Partial<PackedFile>) => {
    if (typeof f.filename !== 'string' || !Number.isInteger(f.start) || !Number.isInteger(f.end) || f.end! < f.start!) {
      throw new Error(`Malformed packed-assets entry ${JSON.stringify(f)}`);
    }
    return { filename: f.filename, start: f.start!, end: f.end! };
  });
}

/** The bytes of one packed file, found by its full name or by the last path segment. */
export function extractPackedFile(loaderSource: string, data: Uint8Array, name: string): Uint8Array {
  const files = packedFiles(loaderSource);
  const file = files.find((f) => f.filename === name || f.filename.endsWith(`/${name}`));
  if (!file) throw new Error(`Expected ${name} in the packed assets; found ${files.map((f) => f.filename).join(', ')}`);
  if (file.end > data.length) throw new Error(`Packed file ${file.filename} ends at ${file.end} but the data has ${data.length} bytes`);
  return data.subarray(file.start, file.end);
}
