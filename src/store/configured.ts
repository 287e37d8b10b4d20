import type { LoadedConfig } from '../config/load.js';
import { AirlockError } from '../core/errors.js';
import { openStore, type Store } from './store.js';

/** The store URL a config names: `store_env`'s variable when set, else `store`. */
export function configuredStoreUrl(config: Pick<LoadedConfig, 'file'>, env: NodeJS.ProcessEnv = process.env): string {
  const name = config.file.store_env;
  if (!name) return config.file.store;
  const url = env[name];
  if (!url) {
    throw new AirlockError('store_env_unset', 'invalid', `store_env names ${name}, but ${name} is not set: set it to the store URL (e.g. postgres://airlock:PASSWORD@db:5432/airlock)`);
  }
  return url;
}

/** Opens the store of a loaded config: its URL, this node's name and intents folder. */
export function openConfiguredStore(config: Pick<LoadedConfig, 'file' | 'baseDir'>, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  return openStore(configuredStoreUrl(config, env), config.baseDir, { node: config.file.node.name, intentsDir: config.file.intents_dir });
}
