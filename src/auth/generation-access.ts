import type { Gateway } from '../federation/gateway';
import { AccessModel } from './access-model';
import { applyMasks } from './masking';

const models = new WeakMap<Gateway, AccessModel>();

/**
 * The access model of one generation, compiled once (when the generation is built, so that a
 * malformed declaration refuses the generation), with the masks applied to its stitched schema.
 */
export function accessModelOf(generation: Gateway): AccessModel {
  let model = models.get(generation);
  if (!model) {
    model = AccessModel.forGateway(generation);
    applyMasks(generation.schema, model);
    models.set(generation, model);
  }
  return model;
}
