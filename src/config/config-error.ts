import { AirlockError } from '../core/errors.js';

/** A config file that is missing or does not hold together. On its own, so finding the file does not load the schema that checks it. */
export class ConfigError extends AirlockError {
  constructor(message: string) {
    super('invalid_config', 'invalid', message);
  }
}
