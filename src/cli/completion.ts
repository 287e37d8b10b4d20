import type { Command } from 'commander';

/**
 * Shell completion scripts written from the commander program itself, so a
 * new command or option completes without anyone editing a script.
 */

interface Node {
  /** Subcommand words leading here, e.g. `audit list`; '' for the top. */
  readonly path: string;
  readonly subcommands: readonly { name: string; description: string }[];
  readonly options: readonly { flag: string; description: string; takesValue: boolean }[];
}

function walk(cmd: Command, path = ''): Node[] {
  const visible = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
  const node: Node = {
    path,
    // A command's fixed argument values (`completion bash|zsh|fish`) complete like subcommands.
    subcommands: [
      ...visible.map((c) => ({ name: c.name(), description: c.description() })),
      ...cmd.registeredArguments.flatMap((a) => (a.argChoices ?? []).map((v) => ({ name: v, description: a.description }))),
    ],
    options: cmd.options
      .filter((o) => o.long && !o.hidden)
      .map((o) => ({ flag: o.long!, description: o.description, takesValue: o.required || o.optional })),
  };
  return [node, ...visible.flatMap((c) => walk(c, path ? `${path} ${c.name()}` : c.name()))];
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(program: Command): string {
  const nodes = walk(program);
  const name = program.name();
  const cases = (pick: (n: Node) => string[]) =>
    nodes.map((n) => `    ${sq(n.path)}) echo ${sq(pick(n).join(' '))} ;;`).join('\n');
  return `# ${name} completion for bash; load it with: source <(${name} completion bash)
_${name}_words() {
  case "$1" in
${cases((n) => n.subcommands.map((s) => s.name))}
  esac
}
_${name}_options() {
  case "$1" in
${cases((n) => [...n.options.map((o) => o.flag), '--help'])}
  esac
}
_${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' word i subs
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    subs=" $(_${name}_words "$path") "
    [[ "$subs" == *" $word "* ]] && path="\${path:+$path }$word"
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_${name}_options "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_${name}_words "$path")" -- "$cur"))
  fi
}
complete -o default -F _${name} ${name}
`;
}

/** zsh reads the bash script through its own bashcompinit layer. */
export function zshCompletion(program: Command): string {
  return `#compdef ${program.name()}
# ${program.name()} completion for zsh; load it with: source <(${program.name()} completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}

export function fishCompletion(program: Command): string {
  const name = program.name();
  const lines = [`# ${name} completion for fish; load it with: ${name} completion fish | source`, `complete -c ${name} -f`];
  for (const n of walk(program)) {
    const words = n.path ? n.path.split(' ') : [];
    const seen = words.map((w) => `__fish_seen_subcommand_from ${w}`);
    const here = n.path ? seen.join('; and ') : '__fish_use_subcommand';
    const notDeeper = n.subcommands.length && n.path ? `; and not __fish_seen_subcommand_from ${n.subcommands.map((s) => s.name).join(' ')}` : '';
    for (const s of n.subcommands) lines.push(`complete -c ${name} -n ${sq(here + notDeeper)} -a ${s.name} -d ${sq(s.description.slice(0, 80))}`);
    for (const o of n.options) {
      lines.push(`complete -c ${name} -n ${sq(here)} -l ${o.flag.replace(/^--/, '')}${o.takesValue ? ' -r' : ''} -d ${sq(o.description.slice(0, 80))}`);
    }
  }
  return lines.join('\n') + '\n';
}
