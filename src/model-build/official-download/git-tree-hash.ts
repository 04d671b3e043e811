import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Git's tree hash (`git write-tree` of the same files) of a directory: how an unpacked source tarball is checked
 * against the commit it claims to be (GitHub's tarballs carry no published checksum, and their gzip bytes may
 * change; the tree of a commit never does). Empty directories do not count, as in git.
 */
export function gitTreeHash(dir: string): string {
  const tree = treeOf(dir);
  if (!tree) throw new TypeError(`Expected a directory with files for dir but received an empty one: ${dir}`);
  return tree;
}

function object(type: 'blob' | 'tree', body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

function treeOf(dir: string): string | undefined {
  const entries: { name: string; mode: string; hash: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) {
      entries.push({ name, mode: '120000', hash: object('blob', Buffer.from(readlinkSync(path))) });
    } else if (stat.isDirectory()) {
      const hash = treeOf(path);
      if (hash) entries.push({ name, mode: '40000', hash });
    } else if (stat.isFile()) {
      entries.push({ name, mode: stat.mode & 0o100 ? '100755' : '100644', hash: object('blob', readFileSync(path)) });
    }
  }
  if (entries.length === 0) return undefined;
  // git orders entries by name bytes, a directory as if its name ended in '/'
  const key = (e: { name: string; mode: string }) => Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name);
  entries.sort((a, b) => Buffer.compare(key(a), key(b)));
  const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.hash, 'hex')]));
  return object('tree', body);
}
