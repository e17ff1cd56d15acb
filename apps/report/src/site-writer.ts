import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument, pathOutsideSite } from './messages';

/**
 * Writes the files of a site folder. Every write goes to a temporary file in the target's
 * folder, is flushed, and is renamed over the target, so a reader never sees half a file.
 * A path that would land outside the site folder is rejected, including through a symbolic
 * link inside the folder, so a build never overwrites a file elsewhere.
 */
export class SiteWriter {
  private readonly written: string[] = [];

  private constructor(
    /** Real path of the site folder (symbolic links resolved). */
    readonly root: string,
  ) {}

  /**
   * Creates the site folder when needed and returns a writer for it.
   *
   * @param site - Path of the site folder.
   */
  static async open(site: string): Promise<SiteWriter> {
    const absolute = resolve(site);
    await mkdir(absolute, { recursive: true });
    return new SiteWriter(await realpath(absolute));
  }

  /** Absolute paths of the files written so far, in write order. */
  get files(): readonly string[] {
    return this.written;
  }

  /**
   * Writes one file atomically and returns its absolute path.
   *
   * @param relativePath - Path inside the site folder, with `/` between folders.
   * @param content - Text (written as UTF-8) or bytes.
   * @throws TypeError when the path is absolute or empty.
   * @throws Error when the path resolves outside the site folder.
   */
  async write(relativePath: string, content: string | Uint8Array): Promise<string> {
    const target = await this.resolveInside(relativePath);

    // Write a temporary file beside the target, flush it, and rename it over the target.
    const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }

    this.written.push(target);
    return target;
  }

  /** Creates the folders of a path inside the site and returns the absolute target path. */
  private async resolveInside(relativePath: string): Promise<string> {
    if (typeof relativePath !== 'string' || relativePath === '' || isAbsolute(relativePath)) {
      throw new TypeError(invalidArgument('SiteWriter.write', 'relativePath', 'a non-empty path relative to the site folder', relativePath));
    }
    const target = resolve(this.root, relativePath);
    if (!isInside(this.root, target)) {
      throw new Error(pathOutsideSite(target, this.root));
    }

    // A folder inside the site may be a symbolic link to somewhere else. Check the real path
    // of the nearest existing folder before creating anything, and the full folder after.
    const folder = dirname(target);
    await this.checkRealFolder(await nearestExistingFolder(folder), target);
    await mkdir(folder, { recursive: true });
    const realFolder = await this.checkRealFolder(folder, target);
    return join(realFolder, basename(target));
  }

  private async checkRealFolder(folder: string, target: string): Promise<string> {
    const realFolder = await realpath(folder);
    if (realFolder !== this.root && !isInside(this.root, realFolder)) {
      throw new Error(pathOutsideSite(target, this.root));
    }
    return realFolder;
  }
}

async function nearestExistingFolder(folder: string): Promise<string> {
  let current = folder;
  while (!(await exists(current))) {
    current = dirname(current);
  }
  return current;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function isInside(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return fromRoot !== '' && !fromRoot.startsWith(`..${sep}`) && fromRoot !== '..' && !isAbsolute(fromRoot);
}
