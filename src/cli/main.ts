// Commands are registered in program.ts, where completion scripts read them too.
import { airlockProgram } from './program.js';

await airlockProgram().parseAsync(process.argv);
