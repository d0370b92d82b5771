/** The template forms of a lookup's body and query, filled for the keys of one call. */
import { buildPathAndQuery, fillBody, textValues, type CallValues } from '../../src/connectors/request-template';

const call = (keys: string[], valueType: 'string' | 'number' = 'string'): CallValues => ({ keys, separator: ',', valueType, properties: ['email', 'firstname'] });
const fill = (template: unknown, values: CallValues) => fillBody(template, values, textValues(values));

describe('body templates', () => {
  it('repeats an array of one element holding {value} once per key, beside fixed and templated members (HubSpot batch read)', () => {
    const template = { inputs: [{ id: '{value}' }], properties: '{properties}', idProperty: 'email', archived: false };
    expect(fill(template, call(['1', '2', '3']))).toEqual({
      inputs: [{ id: '1' }, { id: '2' }, { id: '3' }],
      properties: ['email', 'firstname'],
      idProperty: 'email',
      archived: false,
    });
  });

  it('writes numbers inside per-key objects for numeric keys, and finds {value} deep in the element', () => {
    expect(fill({ inputs: [{ ref: { id: '{value}', kind: 'contact' } }] }, call(['7', '9'], 'number'))).toEqual({ inputs: [{ ref: { id: 7, kind: 'contact' } }, { ref: { id: 9, kind: 'contact' } }] });
    expect(fill({ ids: '{values}' }, call(['7', '9'], 'number'))).toEqual({ ids: [7, 9] });
    expect(fill({ filter: [{ key: 'id:{value}' }] }, call(['7', '9'], 'number'))).toEqual({ filter: [{ key: 'id:7' }, { key: 'id:9' }] });
  });

  it('leaves arrays that are not a single element with {value} as they are', () => {
    expect(fill({ kinds: ['a', 'b'], one: ['fixed'], ids: '{values}' }, call(['1']))).toEqual({ kinds: ['a', 'b'], one: ['fixed'], ids: ['1'] });
  });
});

describe('query templates', () => {
  it('joins {values} by the separator, and repeats a parameter declared as ["{value}"] once per key', () => {
    const values = call(['a b', 'c']);
    expect(buildPathAndQuery('/contacts', { ids: '{values}', fields: 'Id,Email' }, textValues(values), values)).toBe('/contacts?ids=a+b%2Cc&fields=Id%2CEmail');
    expect(buildPathAndQuery('/contacts', { id: ['{value}'], fields: 'Id' }, textValues(values), values)).toBe('/contacts?id=a+b&id=c&fields=Id');
    expect(buildPathAndQuery('/contacts', { id: ['contact:{value}'] }, textValues(values), values)).toBe('/contacts?id=contact%3Aa+b&id=contact%3Ac');
  });
});
