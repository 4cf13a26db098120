// A reader for action.yml's simple structure (maps of maps of scalars, 2-space indents, quoted or
// plain scalars, `>-` folded blocks), so the tests need no YAML dependency. It refuses what it
// does not understand rather than guess.

import { readFileSync } from 'node:fs';

export type YamlValue = string | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export interface ActionInput {
  readonly description: string;
  readonly required: boolean;
  /** The `default:` text, or null when the input has none. */
  readonly default: string | null;
}

export interface ActionMetadata {
  readonly name: string;
  readonly description: string;
  readonly inputs: ReadonlyMap<string, ActionInput>;
  readonly outputs: ReadonlyMap<string, string>;
  readonly runs: Readonly<Record<string, string>>;
  readonly branding: Readonly<Record<string, string>>;
}

export function parseSimpleYaml(text: string): YamlMap {
  const root: YamlMap = {};
  const stack: { indent: number; map: YamlMap }[] = [{ indent: -1, map: root }];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const m = /^([A-Za-z0-9_-]+):(?:\s+(.*))?$/.exec(raw.trim());
    if (!m) throw new Error(`action.yml line ${i + 1}: cannot read ${JSON.stringify(raw)}`);
    while (stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1)!.map;
    const key = m[1]!;
    const value = m[2] ?? '';
    if (key in parent) throw new Error(`action.yml line ${i + 1}: duplicate key ${key}`);
    if (value === '') {
      const child: YamlMap = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else if (value === '>-' || value === '>' || value === '|') {
      const block: string[] = [];
      while (
        i + 1 < lines.length &&
        (lines[i + 1]!.trim() === '' || lines[i + 1]!.length - lines[i + 1]!.trimStart().length > indent)
      ) {
        block.push(lines[i + 1]!.trim());
        i += 1;
      }
      parent[key] = value === '|' ? block.join('\n') : block.join(' ').trim();
    } else {
      parent[key] = scalar(value, i + 1);
    }
  }
  return root;
}

function scalar(text: string, line: number): string {
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`action.yml line ${line}: bad single-quoted scalar`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('"')) {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'string') throw new Error(`action.yml line ${line}: bad double-quoted scalar`);
    return value;
  }
  if (/\s#/.test(text)) throw new Error(`action.yml line ${line}: trailing comments are not supported`);
  return text;
}

function map(value: YamlValue | undefined, what: string): YamlMap {
  if (typeof value !== 'object') throw new Error(`action.yml: ${what} must be a map`);
  return value;
}

function text(value: YamlValue | undefined, what: string): string {
  if (typeof value !== 'string') throw new Error(`action.yml: ${what} must be text`);
  return value;
}

export function readActionMetadata(path = 'action.yml'): ActionMetadata {
  const doc = parseSimpleYaml(readFileSync(path, 'utf8'));
  const inputs = new Map<string, ActionInput>();
  for (const [name, value] of Object.entries(map(doc.inputs, 'inputs'))) {
    const input = map(value, `inputs.${name}`);
    inputs.set(name, {
      description: text(input.description, `inputs.${name}.description`),
      required: input.required === 'true',
      default: input.default === undefined ? null : text(input.default, `inputs.${name}.default`),
    });
  }
  const outputs = new Map<string, string>();
  for (const [name, value] of Object.entries(map(doc.outputs, 'outputs'))) {
    outputs.set(name, text(map(value, `outputs.${name}`).description, `outputs.${name}.description`));
  }
  const strings = (value: YamlValue | undefined, what: string) =>
    Object.fromEntries(Object.entries(map(value, what)).map(([k, v]) => [k, text(v, `${what}.${k}`)]));
  return {
    name: text(doc.name, 'name'),
    description: text(doc.description, 'description'),
    inputs,
    outputs,
    runs: strings(doc.runs, 'runs'),
    branding: strings(doc.branding, 'branding'),
  };
}
