import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { REJECTED_EXTENSION } from '../connectors/record-rejections';
import type { FederationContext } from '../federation/request-context';

/**
 * Records left out, said in the answer: when a mapping rejected records that would have been part
 * of it (a value its transform cannot map, a required field missing, ...), the answer carries
 * `extensions.rejected`, one line per source, entity and reason with the count
 * (`{ source, entity, count, reason }`; the reason names the field, its rule and the kind of value
 * found, never a value), besides the warning in the log. Absent when nothing was left out. A
 * record answered from the upstream-call cache is counted as when it was fetched (its entry keeps
 * the count). Put it before the response cache, which keeps the extension with the hot answer.
 */
export function useRejectedRecords(): Plugin {
  return {
    onExecute({ args }) {
      const tally = (args.contextValue as Partial<FederationContext>).rejected;
      if (!tally) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || tally.size === 0) return;
          setResult({ ...result, extensions: { ...result.extensions, [REJECTED_EXTENSION]: tally.entries() } });
        },
      };
    },
  };
}
