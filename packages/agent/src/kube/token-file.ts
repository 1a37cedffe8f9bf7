import { readFile, stat } from "node:fs/promises";

/** How long a token read from a file is used without looking at the file again (client-go's period). */
const RECHECK_MS = 60_000;

/**
 * A bearer token kept in a file that is replaced while the agent runs: a pod's projected service
 * account token is rotated by the kubelet (an atomic swap of the mounted file, so the inode and mtime
 * change) well before it expires. The file is read again when it changed, at the latest every minute,
 * and at once after the API server answered 401 (`reread`).
 */
export class TokenFile {
  private token: string | undefined;
  private version = "";
  private readAt = 0;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token, read again if the file changed since it was last read. */
  async current(): Promise<string> {
    const s = await stat(this.path);
    const version = `${s.ino}:${s.mtimeMs}:${s.size}`;
    if (this.token === undefined || version !== this.version || this.now() - this.readAt > RECHECK_MS) {
      await this.read(version);
    }
    return this.token!;
  }

  /** Reads the file now, whatever it looks like (the server refused the token it had). */
  async reread(): Promise<string> {
    const s = await stat(this.path);
    await this.read(`${s.ino}:${s.mtimeMs}:${s.size}`);
    return this.token!;
  }

  private async read(version: string): Promise<void> {
    this.token = (await readFile(this.path, "utf8")).trim();
    this.version = version;
    this.readAt = this.now();
  }
}
