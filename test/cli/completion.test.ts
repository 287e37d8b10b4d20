import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airlockProgram } from '../../src/cli/program.js';
import { BIN, ROOT, runCli } from '../support/cli.js';

const run = promisify(execFile);
let dir: string;
let script: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-completion-'));
  const r = await runCli(['completion', 'bash']);
  expect(r.code, r.stderr).toBe(0);
  script = join(dir, 'airlock.bash');
  writeFileSync(script, r.stdout);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers after typing `line` and pressing Tab, by the function `complete` registered. */
async function complete(line: string): Promise<string[]> {
  const words = line.split(' ');
  const program = `source ${JSON.stringify(script)}
fn=$(complete -p airlock | sed -E 's/.*-F ([^ ]+).*/\\1/')
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE=${JSON.stringify(line)}
"$fn"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' });
  return stdout.split('\n').filter(Boolean).sort();
}

describe('airlock completion', () => {
  it('bash completes subcommands, nested subcommands, options and fixed arguments', async () => {
    expect(await complete('airlock au')).toEqual(['audit']);
    expect(await complete('airlock re')).toEqual(['release', 'request', 'requests', 'resources', 'revoke']);
    expect(await complete('airlock audit ')).toEqual(['export', 'list', 'verify']);
    expect(await complete('airlock audit list --a')).toEqual(['--action']);
    expect(await complete('airlock request orders-db --r')).toEqual(['--reason', '--role']);
    expect(await complete('airlock completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('is generated from the program, so every command completes', async () => {
    const top = airlockProgram().commands.map((c) => c.name()).sort();
    expect(await complete('airlock ')).toEqual(top);
  });

  it('has zsh and fish scripts, and refuses other shells as a usage error', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.stdout.startsWith('#compdef airlock\n')).toBe(true);
    expect(zsh.stdout).toContain('complete -o default -F _airlock airlock');
    const fish = await runCli(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c airlock -n '__fish_use_subcommand' -a audit");
    expect(fish.stdout).toContain("complete -c airlock -n '__fish_seen_subcommand_from audit; and __fish_seen_subcommand_from list' -l action -r");
    const tcsh = await runCli(['completion', 'tcsh']);
    expect(tcsh.code).toBe(2);
    expect(tcsh.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});

describe('airlock on the PATH', () => {
  it('runs as `airlock` from any folder through the package bin, as `npm link` installs it', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(join(ROOT, pkg.bin.airlock!)).toBe(BIN);
    // npm link and npm install -g put exactly this on the PATH: a symlink named after the bin.
    const bin = join(dir, 'bin');
    await run('mkdir', ['-p', bin]);
    symlinkSync(BIN, join(bin, 'airlock'));
    const { stdout } = await run('bash', ['--norc', '-c', 'cd / && airlock --version && airlock completion bash | tail -1'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(stdout).toBe('0.1.0\ncomplete -o default -F _airlock airlock\n');
  });
});
