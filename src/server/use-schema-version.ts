import type { Plugin } from 'graphql-yoga';
import type { PinnedGeneration } from '../registry/live-gateway';

/**
 * Every response says which schema version answered it (`extensions.schemaVersion`): the version
 * the request pinned when it arrived, so that a client sees exactly when a registration went live.
 */
export function useSchemaVersion(): Plugin<{ generation?: PinnedGeneration }> {
  return {
    onExecute({ args }) {
      const version = args.contextValue.generation?.version;
      if (version === undefined) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          setResult({ ...result, extensions: { ...result.extensions, schemaVersion: version } });
        },
      };
    },
  };
}
