/**
 * A small Dockerfile reader for structure tests (there is no Docker engine on the
 * test machines): instructions with their line continuations joined, grouped by
 * build stage.
 */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i]!;
    if (/^\s*(#|$)/.test(logical)) continue;
    // A continuation joins the next line; comment lines inside one are dropped, as Docker does.
    let continued = /\\\s*$/.test(logical);
    while (continued && i + 1 < lines.length) {
      logical = logical.replace(/\\\s*$/, ' ');
      const next = lines[++i]!;
      if (/^\s*#/.test(next)) continue;
      logical += next;
      continued = /\\\s*$/.test(next);
    }
    const m = /^\s*(\w+)\s+(.*)$/.exec(logical);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${logical}`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const [from, as, name] = args.split(' ');
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before FROM`);
    stage.instructions.push({ keyword, args, line: start + 1 });
  }
  return stages;
}

/** `ENV A=1 B="x y"` → { A: '1', B: 'x y' } (the key=value form only). */
export function envOf(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}
