import { Argument, type Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { bashCompletion, fishCompletion, zshCompletion } from '../completion.js';
import { action } from '../run.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(airlock completion bash), or zsh; fish: airlock completion fish | source')
    .addArgument(new Argument('<shell>', 'the shell').choices(Object.keys(SHELLS)))
    .action(
      action((shell: string) => {
        const write = SHELLS[shell as keyof typeof SHELLS];
        if (!write) throw invalid('usage', `no completion for "${shell}"; choose bash, zsh or fish`);
        process.stdout.write(write(program));
      }),
    );
}
