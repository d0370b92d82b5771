import { isAbsolute, resolve } from 'node:path';
import type { VirtualizationConfig } from '../config/definition';
import { importCrosswalkCsv } from '../mapping/crosswalk-file';
import { MemoryMappingStore, type MappingStore } from '../mapping/mapping-store';
import { routeMappings } from '../mapping/routed-mapping-store';

/** A path of the configuration, resolved against the directory it is relative to. */
export function pathIn(baseDir: string): (path: string) => string {
  return (path) => (isAbsolute(path) ? path : resolve(baseDir, path));
}

/**
 * The id mappings as one store: the configuration's crosswalk files, loaded once into memory,
 * and every other mapping answered by `imported` (the pairs imported at run time, in the registry's
 * store). Without `imported`, the memory store answers those too. Every generation shares it.
 */
export async function openMappingStores(config: VirtualizationConfig, baseDir: string, imported?: MappingStore): Promise<MappingStore> {
  const at = pathIn(baseDir);
  const files = new MemoryMappingStore();
  const fromFiles = new Map<string, MappingStore>();
  for (const [name, mapping] of Object.entries(config.mappings)) {
    const via = mapping.via;
    if (via.kind !== 'crosswalk' || !via.file || !via.columns) continue;
    await importCrosswalkCsv(files, name, at(via.file), via.columns);
    fromFiles.set(name, files);
  }
  return routeMappings(fromFiles, imported ?? files);
}
