// Reading a `.env` of `export KEY=value` lines (so `source .env` works on it too).

export interface EnvFile {
  readonly vars: Map<string, string>;
  /** 1-based numbers of the lines that are neither blank, a comment, nor `[export ]KEY=value`. */
  readonly badLines: readonly number[];
}

/** Parses `.env` text: `[export ]KEY=value`, optional quotes, `#` comments, blank lines. */
export function parseEnvFile(text: string): EnvFile {
  const vars = new Map<string, string>();
  const badLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      badLines.push(index + 1);
      return;
    }
    let value = m[2]!;
    if (value.startsWith("'")) {
      const end = value.indexOf("'", 1);
      value = end > 0 ? value.slice(1, end) : value.slice(1);
    } else if (value.startsWith('"')) {
      const end = value.indexOf('"', 1);
      value = (end > 0 ? value.slice(1, end) : value.slice(1)).replace(/\\(["\\$`])/g, '$1');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    vars.set(m[1]!, value);
  });
  return { vars, badLines };
}
