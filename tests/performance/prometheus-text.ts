/** One sample line of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One family: its HELP and TYPE lines and the samples that follow them. */
export interface Family {
  name: string;
  help: string | undefined;
  type: string | undefined;
  samples: Sample[];
}

/**
 * A strict reader of the text format 0.0.4, written independently of the renderer under test:
 * unescapes label values (`\\`, `\"`, `\n`) and fails on anything it does not understand.
 */
export function parsePrometheus(text: string): Family[] {
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  const family = (name: string) => {
    let f = byName.get(name);
    if (f === undefined) {
      f = { name, help: undefined, type: undefined, samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition does not end with \\n');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2]!);
      if (meta[1] === 'HELP') f.help = meta[3]!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else f.type = meta[3];
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment: ${line}`);
    const sample = parseSample(line);
    const owner = [...byName.values()].reverse().find((f) => ownsSample(f, sample.name));
    if (owner === undefined) throw new Error(`sample before its TYPE line: ${line}`);
    owner.samples.push(sample);
  }
  return families;
}

function ownsSample(family: Family, sample: string): boolean {
  if (sample === family.name) return true;
  if (family.type === 'histogram') {
    return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  }
  return false;
}

function parseSample(line: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`bad sample line: ${line}`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!labelMatch) throw new Error(`bad label at ${i}: ${line}`);
      i += labelMatch[0].length;
      let value = '';
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`unterminated label value: ${line}`);
        if (line[i] === '\\') {
          const next = line[i + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new Error(`bad escape \\${next}: ${line}`);
          i += 2;
        } else {
          value += line[i];
          i++;
        }
      }
      i++;
      if (labelMatch[1]! in labels) throw new Error(`duplicate label ${labelMatch[1]}: ${line}`);
      labels[labelMatch[1]!] = value;
      if (line[i] === ',') i++;
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`expected a space before the value: ${line}`);
  const raw = line.slice(i + 1);
  const value =
    raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? -Infinity : Number(raw);
  // Prometheus parses NaN case-insensitively (prom-client writes `Nan`).
  if (raw === '' || (Number.isNaN(value) && raw.toLowerCase() !== 'nan')) {
    throw new Error(`bad value: ${line}`);
  }
  return { name, labels, value };
}
